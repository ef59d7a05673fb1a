"""What follows a delivery or a failed one, in the same transaction as the outbox update.

Delivered: the sent message ids are linked to the appeal (``link_role``), and the chat that
asked for a report (a staff answer's chat) hears that the resident got it.
Failed for good: a card's failure alerts the admin chats and goes into the appeal's history
(the status stays, so the admin can redirect the appeal); a staff answer's failure is told to
the staff chat; any other failure alerts the admins once. An alert that cannot be delivered
itself is only logged: failures never beget alerts about alerts.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.context import Context
from handlers.events import ChatRef, Platform, Reply
from handlers.outbox import send_later
from handlers.texts import Safe
from storage.models import Appeal, AppealEvent, MessageLink, OutboxMessage

log = logging.getLogger(__name__)

PURPOSE_CARD = "card"
PURPOSE_ALERT = "alert"
PURPOSE_DELETE = "delete"
"""Deleting the photos, pin and words of a resident who withdrew their data (/forget)."""
"""Admin alerts about failed deliveries: their own failure is logged, never alerted."""
PURPOSE_REPORT = "delivery_report"
"""Notices to a staff chat about whether an answer reached the resident."""

GAVE_UP = "gave_up"
"""The reason given when transient failures went on for too long."""

_QUIET_PURPOSES = frozenset({PURPOSE_ALERT, PURPOSE_REPORT})


def _chat(row: OutboxMessage) -> ChatRef | None:
    try:
        return ChatRef(Platform(row.platform), row.chat_id)
    except ValueError:
        return None


def _report_chat(row: OutboxMessage) -> tuple[ChatRef, str | None] | None:
    if not row.report_platform or not row.report_chat_id:
        return None
    try:
        return ChatRef(Platform(row.report_platform), row.report_chat_id), row.report_reply_to
    except ValueError:
        log.warning("outbox row %s reports to an unknown platform %r", row.id, row.report_platform)
        return None


async def _appeal(session: AsyncSession, row: OutboxMessage) -> Appeal | None:
    if row.appeal_id is None:
        return None
    return await session.get(Appeal, row.appeal_id)


async def on_delivered(
    ctx: Context, session: AsyncSession, row: OutboxMessage, message_ids: Sequence[str]
) -> None:
    """Link the sent messages to their appeal and report the delivery where asked."""
    if row.link_role and row.appeal_id is not None:
        for message_id in message_ids:
            session.add(
                MessageLink(
                    platform=row.platform,
                    chat_id=row.chat_id,
                    message_id=str(message_id),
                    appeal_id=row.appeal_id,
                    role=row.link_role,
                    created_at=ctx.clock.now(),
                )
            )
    report = _report_chat(row)
    if report is not None:
        appeal = await _appeal(session, row)
        if appeal is not None:
            text = ctx.texts("delivery-report-delivered", number=appeal.number, purpose=row.purpose)
        else:
            text = ctx.texts("delivery-report-delivered-no-number")
        await send_later(
            session,
            report[0],
            Reply(text=text, reply_to=report[1]),
            purpose=PURPOSE_REPORT,
            appeal_id=row.appeal_id,
            dedupe_key=f"delivery-report:{row.id}",
        )
    await session.flush()


async def on_failed(ctx: Context, session: AsyncSession, row: OutboxMessage, reason: str) -> None:
    """Tell the people who must act that ``row`` will never be delivered.

    ``reason`` is a :class:`bot.transport.PermanentFailure` reason or :data:`GAVE_UP`.
    """
    if row.purpose in _QUIET_PURPOSES:
        log.error(
            "outbox row %s (%s) to %s:%s failed and is not alerted: %s",
            row.id,
            row.purpose,
            row.platform,
            row.chat_id,
            row.last_error,
        )
        return
    if reason == "blocked" and _report_chat(row) is None:
        # A resident who blocked the bot is nothing the admins can act on; the staff hear
        # it when their answer fails (that row asks for a report).
        log.info("outbox row %s (%s): the addressee blocked the bot", row.id, row.purpose)
        return
    now = ctx.clock.now()
    appeal = await _appeal(session, row)
    why = ctx.texts("delivery-reason", reason=reason)
    chat_name = _chat_name(ctx, row)
    report = _report_chat(row)

    if row.purpose == PURPOSE_CARD:
        if appeal is not None:
            session.add(
                AppealEvent(
                    appeal_id=appeal.id,
                    at=now,
                    kind="delivery_failed",
                    actor_kind="system",
                    agency_id=appeal.agency_id,
                    text=f"{row.platform}:{row.chat_id}: {row.last_error or reason}",
                )
            )
            number = appeal.number
        else:
            number = "?"
        text = ctx.texts("delivery-alert-card", number=number, chat=chat_name, why=why)
        await _alert_admins(ctx, session, row, text)
    elif row.purpose == PURPOSE_DELETE:
        number = appeal.number if appeal is not None else "?"
        text = ctx.texts("delivery-alert-delete", number=number, chat=chat_name, why=why)
        await _alert_admins(ctx, session, row, text)
    elif report is not None:
        if appeal is not None:
            text = ctx.texts("delivery-report-failed", reason=reason, number=appeal.number, why=why)
        else:
            text = ctx.texts("delivery-report-failed-no-number", reason=reason, why=why)
        await send_later(
            session,
            report[0],
            Reply(text=text, reply_to=report[1]),
            purpose=PURPOSE_REPORT,
            appeal_id=row.appeal_id,
            dedupe_key=f"delivery-report:{row.id}",
        )
    else:
        what = ctx.texts("delivery-purpose", purpose=row.purpose)
        if appeal is not None:
            text = ctx.texts(
                "delivery-alert-message-appeal", number=appeal.number, chat=chat_name, what=what, why=why
            )
        else:
            text = ctx.texts("delivery-alert-message", chat=chat_name, what=what, why=why)
        await _alert_admins(ctx, session, row, text)
    await session.flush()


async def _alert_admins(ctx: Context, session: AsyncSession, row: OutboxMessage, text: str) -> None:
    failed = _chat(row)
    targets = [chat for chat in ctx.catalogue.admin.chats if chat != failed]
    if not targets:
        log.error("outbox row %s failed in the only admin chat; nobody to alert: %s", row.id, row.last_error)
        return
    for chat in targets:
        await send_later(
            session,
            chat,
            Reply(text=text),
            purpose=PURPOSE_ALERT,
            appeal_id=row.appeal_id,
            dedupe_key=f"delivery-alert:{row.id}:{chat}"[:128],
        )


def _chat_name(ctx: Context, row: OutboxMessage) -> str:
    """The agency's name and the chat, or just the chat (escaped: it goes into a text)."""
    chat = f"{row.platform}:{row.chat_id}"
    ref = _chat(row)
    for agency in ctx.catalogue.agencies:
        if ref is not None and ref in agency.chats:
            return Safe(ctx.texts("delivery-chat-agency", agency=agency.name, chat=chat))
    return chat
