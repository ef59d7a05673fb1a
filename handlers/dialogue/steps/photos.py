"""Step: photos of the problem, up to the catalogue's limit; may be skipped."""

from __future__ import annotations

from handlers.dialogue import intake
from handlers.dialogue.draft import Photo
from handlers.dialogue.step import BACK_AND_CANCEL, Input, Nav, Step, Turn
from handlers.events import Button, MediaKind, Reply


class Photos(Step):
    name = "photos"
    accepts = Input.TEXT | Input.MEDIA
    refusal = "resident-accepts-photos"
    nav = BACK_AND_CANCEL | {Nav.SKIP, Nav.DONE}
    numbered = in_draft = True

    def ask(self, turn: Turn) -> Reply:
        limit = turn.ctx.catalogue.limits.photos_per_appeal
        return Reply(turn.t("resident-ask-photos", limit=limit), buttons=self._buttons(turn))

    def _buttons(self, turn: Turn) -> tuple[tuple[Button, ...], ...]:
        if turn.draft.photos:
            first = Button(turn.t("resident-btn-done"), "nav:done")
        else:
            first = Button(turn.t("resident-btn-skip"), "nav:skip")
        return ((first,), turn.nav_row())

    def reopen(self, turn: Turn) -> None:
        # Nothing is dropped yet: «Назад» must leave the photos as they were.
        if turn.draft.photos:
            turn.memory.replacing_photos = True
            turn.say(Reply(turn.t("resident-edit-photos-kept", count=len(turn.draft.photos))))

    async def on_button(self, turn: Turn, action: str, arg: str) -> bool:
        if action != "nav" or arg not in (Nav.SKIP, Nav.DONE):
            return False
        turn.advance()
        return True

    async def on_input(self, turn: Turn) -> bool:
        event, t = turn.event, turn.t
        if not event.media:
            # Words typed here (more details, "нет фото") join the description, said so;
            # what holds no words ("+", an emoji) points at the button that moves on.
            if intake.keep_typed(turn):
                turn.ask()
            else:
                turn.refuse("resident-photos-text-ignored", has_photos="yes" if turn.draft.photos else "no")
            return True
        if any(m.kind is not MediaKind.PHOTO for m in event.media):
            turn.refuse(self.refusal)
            return True
        if turn.memory.replacing_photos:
            turn.memory.replacing_photos = False
            turn.draft.photos = []
        limit = turn.ctx.catalogue.limits.photos_per_appeal
        photos = turn.draft.photos
        known = {p.key for p in photos}
        added = duplicate = refused = 0
        for media in event.media:
            photo = Photo(
                platform=media.platform.value, ref=media.ref, unique_id=media.unique_id, url=media.url
            )
            if photo.key in known:
                duplicate += 1
            elif len(photos) >= limit:
                refused += 1
            else:
                known.add(photo.key)
                photos.append(photo)
                added += 1
        if refused:
            turn.say(Reply(t("resident-photo-limit", limit=limit), buttons=self._buttons(turn)))
        elif added:
            text = t("resident-photo-received", count=len(photos), limit=limit)
            turn.say(Reply(text, buttons=self._buttons(turn)))
        elif duplicate:
            turn.say(Reply(t("resident-photo-duplicate"), buttons=self._buttons(turn)))
        return True
