"""A resident's reply to the agency's message in their private chat (Telegram's
reply_to_message, VK's reply): the words and photos go to the appeal's thread as details,
as «Дополнить» would send them, from whatever step the resident is at.

The agency's answers are linked to their appeal when delivered (``MessageLink`` with the
role :data:`RESIDENT_ROLE`), so the reply is routed by the message's id, never by its text.
"""

from __future__ import annotations

from handlers.desk_ops import Actor, post_to_thread, record
from handlers.dialogue.step import Turn
from handlers.dialogue.validation import clean_text
from handlers.events import MediaKind, Reply
from handlers.workflow import ADDABLE
from storage import desk as q
from storage.appeals import add_attachments

RESIDENT_ROLE = "resident"
"""``MessageLink.role`` of a message to the resident about their appeal (``storage.erasure``
deletes these links with the person)."""


async def handle(turn: Turn) -> bool:
    """True when the event was a reply to an agency's message and has been dealt with."""
    event, t = turn.event, turn.t
    if event.reply_to_message_id is None or event.payload is not None or event.command is not None:
        return False
    link = await q.find_link(
        turn.session, event.platform.value, event.chat.chat_id, event.reply_to_message_id
    )
    if link is None or link.role != RESIDENT_ROLE:
        return False
    appeal = await q.appeal_for_update(turn.session, link.appeal_id)
    if appeal is None or appeal.resident_id != turn.resident.id:
        return False
    text = clean_text(event.text or "")
    photos = tuple(m for m in event.media if m.kind is MediaKind.PHOTO)
    if not text and not photos:
        return False
    if appeal.status not in ADDABLE:
        status = t(f"status-{appeal.status}")
        turn.say(Reply(t("followup-reply-not-now", number=appeal.number, status=status)))
    else:
        ctx = turn.ctx
        add_attachments(turn.session, appeal.id, photos, source="resident", now=ctx.clock.now())
        notice = Reply(t("desk-staff-details", number=appeal.number, text=text), photos=photos)
        await post_to_thread(ctx, turn.session, appeal, notice, purpose="details")
        await record(ctx, turn.session, appeal, "details", Actor.of("resident", event), text=text or None)
        turn.say(Reply(t("followup-details-sent", number=appeal.number)))
    if turn.engine.step(turn).in_draft:
        turn.ask()  # the draft the resident was writing waits where it was
    return True
