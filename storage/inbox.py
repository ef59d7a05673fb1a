"""The inbox: incoming updates stored before they are acknowledged to the platform.

A poller stores each batch (ignoring updates it has already seen) and commits before it
acknowledges the batch; handlers then work through the stored rows, and finished rows are
marked in batches. A crash between storing and handling leaves rows ``pending``: the next
start handles them first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import InboxUpdate

PENDING = "pending"
HANDLED = "handled"
FAILED = "failed"
"""Given up on: it was started too many times without finishing (a poison update)."""


@dataclass(frozen=True, slots=True)
class Incoming:
    update_key: str
    person_key: str | None
    payload: dict[str, Any]


async def store(
    session: AsyncSession, platform: str, items: Sequence[Incoming], *, now: datetime | None = None
) -> list[InboxUpdate]:
    """Add ``items`` in order, skipping any already stored (by platform and update key, also
    within the batch). Returns the rows added, flushed so they have ids."""
    keys = [item.update_key for item in items]
    if not keys:
        return []
    known = set(
        (
            await session.scalars(
                select(InboxUpdate.update_key).where(
                    InboxUpdate.platform == platform, InboxUpdate.update_key.in_(keys)
                )
            )
        ).all()
    )
    added: list[InboxUpdate] = []
    for item in items:
        if item.update_key in known:
            continue
        known.add(item.update_key)
        row = InboxUpdate(
            platform=platform, update_key=item.update_key, person_key=item.person_key, payload=item.payload
        )
        if now is not None:
            row.received_at = now
        session.add(row)
        added.append(row)
    await session.flush()
    return added


async def pending(session: AsyncSession, platform: str, *, limit: int = 10_000) -> list[InboxUpdate]:
    """Stored but not handled, oldest first."""
    rows = await session.scalars(
        select(InboxUpdate)
        .where(InboxUpdate.platform == platform, InboxUpdate.status == PENDING)
        .order_by(InboxUpdate.id)
        .limit(limit)
    )
    return list(rows.all())


async def count_attempts(session: AsyncSession, ids: Iterable[int]) -> None:
    """Note that these rows are being started again (after a restart)."""
    ids = list(ids)
    if ids:
        await session.execute(
            update(InboxUpdate).where(InboxUpdate.id.in_(ids)).values(attempts=InboxUpdate.attempts + 1)
        )


async def mark(session: AsyncSession, ids: Iterable[int], *, status: str = HANDLED, now: datetime) -> None:
    """Mark many rows at once (handled, or failed)."""
    ids = sorted(set(ids))
    if ids:
        await session.execute(
            update(InboxUpdate).where(InboxUpdate.id.in_(ids)).values(status=status, handled_at=now)
        )


_SAVE_RESPONSE = (
    update(InboxUpdate)
    .where(InboxUpdate.id == bindparam("row_id"))
    .values(response=bindparam("response"))
    .execution_options(synchronize_session=False)
)
"""Built once: it runs for every update handled."""


async def save_response(session: AsyncSession, row_id: int, response: dict[str, Any]) -> None:
    """Keep the core's answer to a row, in the transaction of the change it made."""
    await session.execute(_SAVE_RESPONSE, {"row_id": row_id, "response": response})


async def latest_answered(session: AsyncSession, platform: str, person_keys: Iterable[str]) -> dict[str, int]:
    """For each person, the id of their newest row with a stored answer: only that answer is
    worth sending again after a crash (older ones were overtaken)."""
    keys = sorted(set(person_keys))
    if not keys:
        return {}
    rows = await session.execute(
        select(InboxUpdate.person_key, func.max(InboxUpdate.id))
        .where(
            InboxUpdate.platform == platform,
            InboxUpdate.person_key.in_(keys),
            InboxUpdate.response.is_not(None),
        )
        .group_by(InboxUpdate.person_key)
    )
    return {str(key): int(latest) for key, latest in rows.all()}


async def statuses(session: AsyncSession, platform: str) -> dict[str, str]:
    """update_key → status, for tests and diagnostics."""
    rows = await session.execute(
        select(InboxUpdate.update_key, InboxUpdate.status).where(InboxUpdate.platform == platform)
    )
    return {str(key): str(status) for key, status in rows.all()}
