"""Free-text first: what a person sends outside a step becomes the start of an appeal.

A text, a photo with a caption, an album or a location sent from the idle menu (or before
consenting, held while the consent question waits) goes into the draft: the text is the
description, the location the place, the photos stay. The steps they answer are marked
``prefilled`` and passed going forward, so only the missing ones are asked.

Text typed where a button was expected is kept too (:func:`keep_text`): appended to the
description, and the resident is told where it went.
"""

from __future__ import annotations

from collections.abc import Sequence

from handlers.dialogue.draft import Draft, Photo
from handlers.dialogue.step import Step, Turn
from handlers.dialogue.validation import clean_text, has_words, valid_coordinates
from handlers.events import Media, MediaKind, Reply

DESCRIPTION, PLACE, PHOTOS = "description", "place", "photos"


def _join(old: str | None, new: str) -> str:
    return f"{old}\n{new}" if old else new


def keep_text(turn: Turn, text: str, *, draft: Draft | None = None) -> str | None:
    """Add ``text`` to the description; None when it holds nothing worth keeping, else the
    text key saying where it went (appended, or the description it now is, or too long)."""
    draft = draft if draft is not None else turn.draft
    text = clean_text(text)
    if not text or not has_words(text):
        return None
    limits = turn.ctx.catalogue.limits
    joined = _join(draft.description, text)
    if len(joined) > limits.description_max:
        return "resident-kept-too-long"
    first = not draft.description
    if first and len(joined) < limits.description_min:
        return None
    draft.description = joined
    return "resident-kept-description" if first else "resident-kept-appended"


def add_photos(draft: Draft, media: Sequence[Media], limit: int) -> tuple[int, int, int]:
    """The photos among ``media`` added to the draft: (added, already there, over the limit)."""
    known = {p.key for p in draft.photos}
    added = duplicate = refused = 0
    for item in media:
        if item.kind is not MediaKind.PHOTO:
            continue
        photo = Photo(platform=item.platform.value, ref=item.ref, unique_id=item.unique_id, url=item.url)
        if photo.key in known:
            duplicate += 1
        elif len(draft.photos) >= limit:
            refused += 1
        else:
            known.add(photo.key)
            draft.photos.append(photo)
            added += 1
    return added, duplicate, refused


def take(turn: Turn, draft: Draft) -> list[str]:
    """Put what the event carries into ``draft``; the steps it answered (empty: nothing
    in it could start an appeal, e.g. a greeting or a sticker)."""
    event, catalogue = turn.event, turn.ctx.catalogue
    answered: list[str] = []
    photos = [m for m in event.media if m.kind is MediaKind.PHOTO]
    if photos and add_photos(draft, photos, catalogue.limits.photos_per_appeal)[0]:
        answered.append(PHOTOS)
    if event.text and keep_text(turn, event.text, draft=draft) in (
        "resident-kept-description",
        "resident-kept-appended",
    ):
        answered.append(DESCRIPTION)
    point, region = event.location, catalogue.region
    if (
        point is not None
        and valid_coordinates(point.latitude, point.longitude)
        and (region.bounds is None or region.bounds.contains(point.latitude, point.longitude))
    ):
        draft.set_point(point.latitude, point.longitude)
        answered.append(PLACE)
    return answered


def prefilled(draft: Draft) -> list[str]:
    """The steps a draft started from a message already answers."""
    steps = []
    if draft.description:
        steps.append(DESCRIPTION)
    if draft.point is not None or draft.address:
        steps.append(PLACE)
    if draft.photos:
        steps.append(PHOTOS)
    return steps


def kept_summary(turn: Turn, draft: Draft) -> str:
    """«описание, место, фото (2)»: what the appeal already has, for the resident."""
    t = turn.t
    parts = []
    if draft.description:
        parts.append(t("resident-kept-part-description"))
    if draft.point is not None or draft.address:
        parts.append(t("resident-kept-part-place"))
    if draft.photos:
        parts.append(t("resident-kept-part-photos", count=len(draft.photos)))
    return ", ".join(parts)


def mark(turn: Turn, step: str) -> None:
    """``step`` is answered by something sent earlier: passed going forward."""
    if step not in turn.memory.prefilled:
        turn.memory.prefilled.append(step)


def keep_photos(turn: Turn) -> int | None:
    """Photos sent where the step expects something else: kept in the draft (the photos
    step is then passed), the rest of their album too. None: the event had no photos;
    else how many the draft holds now."""
    photos = [m for m in turn.event.media if m.kind is MediaKind.PHOTO]
    if not photos:
        return None
    limit = turn.ctx.catalogue.limits.photos_per_appeal
    refused = add_photos(turn.draft, photos, limit)[2]
    if refused:
        turn.say(Reply(turn.t("resident-photo-limit", limit=limit)))
    if turn.draft.photos:
        mark(turn, PHOTOS)
    if turn.event.media_group_id is not None:
        turn.memory.album = turn.event.media_group_id
    return len(turn.draft.photos)


def keep_typed(turn: Turn) -> bool:
    """Words typed where a button was expected: into the description, and the resident
    is told where they went. False: nothing in them to keep (the step's refusal is due)."""
    key = keep_text(turn, turn.event.text or "")
    if key is None:
        return False
    if key == "resident-kept-description":
        mark(turn, DESCRIPTION)
    turn.say(Reply(turn.t(key, max=turn.ctx.catalogue.limits.description_max)))
    return True


def keep_elsewhere(turn: Turn) -> bool:
    """Text or photos (with their caption) sent to a step of the draft that takes neither:
    kept, and the resident told so. False: nothing to keep."""
    count = keep_photos(turn)
    if count is not None:
        turn.say(Reply(turn.t("resident-kept-photos", count=count)))
        if turn.event.text:
            keep_typed(turn)
        return True
    return bool(turn.event.text) and not turn.event.media and keep_typed(turn)


def album_goes_on(turn: Turn, step: Step) -> bool:
    """The other photos of the album an appeal started with arrive one by one while the
    first steps are asked: they join the draft quietly, wherever the resident is."""
    event, memory = turn.event, turn.memory
    if not (event.media and step.in_draft and memory.album and event.media_group_id == memory.album):
        return False
    limit = turn.ctx.catalogue.limits.photos_per_appeal
    if add_photos(turn.draft, event.media, limit)[2]:
        turn.say(Reply(turn.t("resident-photo-limit", limit=limit)))
    return True
