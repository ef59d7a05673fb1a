"""No resident left in silence: a reply the platform refused goes out again as plain text.

Every road a reply takes to a chat (the answer to an update, an outbox row) delivers it
through :func:`deliver`. When the platform refuses it for good for a reason the bot caused
(``bad_request``: a keyboard it does not accept, a text too long, markup it cannot parse)
and the chat is a resident's, the screen is sent again in a form that cannot fail: plain
text, no keyboard, the choices as numbered lines the resident can type
(:mod:`handlers.typed_choices` remembers what each number means on the dialogue row, in
the same transaction that queues the admins' alert, once per screen and reason).

Other failures (the resident blocked the bot, a staff chat refused a card) are raised as
they were: the caller's handling of them (alerts, reports) stands.
"""

from __future__ import annotations

import logging

from bot.transport import PermanentFailure, Transport
from handlers import typed_choices
from handlers.context import Context
from handlers.events import ChatRef, PersonRef, Reply

log = logging.getLogger(__name__)


def _is_plain(reply: Reply) -> bool:
    return not (
        reply.buttons
        or reply.keyboard
        or reply.photos
        or reply.location
        or reply.edit_message_id
        or reply.delete_message_ids
    )


async def deliver(
    transport: Transport,
    ctx: Context,
    chat_id: str,
    reply: Reply,
    *,
    idempotency_key: str | None = None,
) -> list[str]:
    """``transport.deliver``, with the plain-text fallback for a resident's refused screen.

    Retryable errors (of the first try or of the fallback) are raised for the caller to
    retry; trying again repeats the refusal and the fallback, both idempotent."""
    try:
        return await transport.deliver(chat_id, reply, idempotency_key=idempotency_key)
    except PermanentFailure as failure:
        if failure.reason != "bad_request" or reply.files:
            # A file refused is no screen to redraw: words alone would hide that it is
            # missing, so the sender reports it (to the staff who sent it).
            raise
        refused = failure
    chat = ChatRef(transport.platform, chat_id)
    screen = typed_choices.plain_screen(reply, ctx)
    if _is_plain(reply) and len(screen.replies) == 1 and screen.replies[0].text == reply.text:
        raise refused  # already as plain as it gets: nothing better to send
    async with ctx.db.transaction() as session:
        resident = await typed_choices.remember(
            session, PersonRef(transport.platform, chat_id), screen.choices
        )
        if not resident:
            raise refused
        await typed_choices.alert_once(ctx, session, chat, screen.title, str(refused))
    log.warning("a screen to %s was refused (%s); sent as plain text", chat.platform.value, refused)
    ids: list[str] = []
    for index, part in enumerate(screen.replies):
        key = None if idempotency_key is None else f"{idempotency_key}#plain{index}"
        ids.extend(await transport.deliver(chat_id, part, idempotency_key=key))
    return ids
