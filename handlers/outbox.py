"""Sending later, durably: a reply addressed to some chat goes into the outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.events import ChatRef, Reply, reply_to_json
from storage import outbox
from storage.models import OutboxMessage


async def send_later(
    session: AsyncSession,
    chat: ChatRef,
    reply: Reply,
    *,
    purpose: str,
    appeal_id: int | None = None,
    link_role: str | None = None,
    report_to: tuple[ChatRef, str | None] | None = None,
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
) -> OutboxMessage:
    """Queue ``reply`` for ``chat`` in the caller's transaction.

    ``link_role`` links the sent message ids to ``appeal_id`` (cards, thread messages,
    prompts); ``report_to`` names a chat (and message to reply to) that is told whether the
    message reached its addressee.
    """
    report = None
    if report_to is not None:
        report = (report_to[0].platform.value, report_to[0].chat_id, report_to[1])
    return await outbox.enqueue(
        session,
        platform=chat.platform.value,
        chat_id=chat.chat_id,
        payload=reply_to_json(reply),
        purpose=purpose,
        appeal_id=appeal_id,
        link_role=link_role,
        report_to=report,
        dedupe_key=dedupe_key,
        not_before=not_before,
    )
