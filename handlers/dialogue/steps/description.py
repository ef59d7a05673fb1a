"""Step: the problem in the resident's own words."""

from __future__ import annotations

from handlers.dialogue import intake
from handlers.dialogue.step import BACK_AND_CANCEL, Input, Step, Turn
from handlers.dialogue.validation import clean_text, has_words
from handlers.events import Reply


class Description(Step):
    name = "description"
    accepts = Input.TEXT | Input.MEDIA
    refusal = "resident-accepts-description"
    nav = BACK_AND_CANCEL
    numbered = in_draft = True

    def ask(self, turn: Turn) -> Reply:
        limits = turn.ctx.catalogue.limits
        text = turn.t("resident-ask-description", min=limits.description_min, max=limits.description_max)
        return Reply(text, buttons=(turn.nav_row(),))

    async def on_input(self, turn: Turn) -> bool:
        t = turn.t
        if turn.event.media:
            # A photo with a caption is how people write in messengers: the photo is kept
            # (the photos step is passed), the caption is the description.
            count = intake.keep_photos(turn)
            if count is None:
                turn.refuse(self.refusal)
                return True
            if not clean_text(turn.event.text or ""):
                turn.say(Reply(t("resident-description-photo-kept", count=count)))
                turn.ask()
                return True
        text = clean_text(turn.event.text or "")
        limits = turn.ctx.catalogue.limits
        if not text:
            turn.refuse("resident-description-empty")
        elif not has_words(text):
            turn.refuse("guard-description-no-words")
        elif len(text) < limits.description_min:
            turn.say(Reply(t("resident-description-too-short", length=len(text), min=limits.description_min)))
            turn.ask()
        elif len(text) > limits.description_max:
            turn.say(Reply(t("resident-description-too-long", length=len(text), max=limits.description_max)))
            turn.ask()
        else:
            turn.draft.description = text
            turn.advance()
        return True
