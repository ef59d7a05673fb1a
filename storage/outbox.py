"""Outbox queries: what must be delivered, written in the transaction that causes it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage


async def enqueue(
    session: AsyncSession,
    *,
    platform: str,
    chat_id: str,
    payload: dict[str, Any],
    purpose: str,
    appeal_id: int | None = None,
    link_role: str | None = None,
    report_to: tuple[str, str, str | None] | None = None,
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
) -> OutboxMessage:
    """Add a message to the outbox (flushed, not committed: the caller's unit of work commits)."""
    row = OutboxMessage(
        platform=platform,
        chat_id=chat_id,
        payload=payload,
        purpose=purpose,
        appeal_id=appeal_id,
        link_role=link_role,
        dedupe_key=dedupe_key,
    )
    if report_to is not None:
        row.report_platform, row.report_chat_id, row.report_reply_to = report_to
    if not_before is not None:
        row.next_attempt_at = not_before
    session.add(row)
    await session.flush()
    return row
