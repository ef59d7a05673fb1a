"""Inbox queues for several workers: one queue per person (or group chat), drained in order.

Each stored update carries its queue key (``InboxUpdate.person_key``). Two locks per key:

* a *store* lock (PostgreSQL ``pg_advisory_xact_lock``, held until the storing transaction
  commits): two workers storing updates of one queue take turns, so ids grow in commit
  order and a later row never becomes visible before an earlier one;
* a *drain* lock (:class:`QueueLocks`, a session-level ``pg_advisory_lock`` on its own
  connection, held while updates are handled): only one worker handles a queue at a time,
  oldest pending row first.

On SQLite one process owns the database: the store is serialised by ``BEGIN IMMEDIATE``
and the drain lock is an in-process lock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from storage.inbox import PENDING, Incoming
from storage.models import InboxUpdate

_STORE = 1
_DRAIN = 2
"""Advisory lock namespaces (the first key of the two-key form)."""


def _is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def store_in_queue(
    session: AsyncSession, platform: str, item: Incoming, queue: str, *, now: datetime
) -> int | None:
    """Store one update at the end of ``queue``; None when it was stored before (a redelivery).

    ``item.person_key`` is replaced by ``queue``. Safe against a concurrent store of the same
    update by another worker (the unique key decides; nothing raises)."""
    postgres = _is_postgres(session)
    if postgres:
        await session.execute(
            text("SELECT pg_advisory_xact_lock(:ns, hashtext(:key))"), {"ns": _STORE, "key": queue}
        )
    return await _insert(session, platform, item, queue, now=now)


async def store_many(
    session: AsyncSession, platform: str, items: Sequence[Incoming], *, now: datetime
) -> list[tuple[int, Incoming]]:
    """Store a batch in arrival order, each item at the end of its queue (``person_key``);
    returns the rows added (a redelivered update is skipped). On PostgreSQL the store lock of
    every queue in the batch is taken first, in a fixed order."""
    if not items:
        return []
    if _is_postgres(session):
        for queue in sorted({item.person_key for item in items if item.person_key}):
            await session.execute(
                text("SELECT pg_advisory_xact_lock(:ns, hashtext(:key))"), {"ns": _STORE, "key": queue}
            )
    added = []
    for item in items:
        row_id = await _insert(session, platform, item, item.person_key, now=now)
        if row_id is not None:
            added.append((row_id, item))
    return added


async def _insert(
    session: AsyncSession, platform: str, item: Incoming, queue: str | None, *, now: datetime
) -> int | None:
    insert = pg_insert if _is_postgres(session) else sqlite_insert
    statement = (
        insert(InboxUpdate)
        .values(
            platform=platform,
            update_key=item.update_key,
            person_key=queue,
            payload=item.payload,
            status=PENDING,
            received_at=now,
            attempts=0,
        )
        .on_conflict_do_nothing(index_elements=["platform", "update_key"])
        .returning(InboxUpdate.id)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def start_attempt(session: AsyncSession, row_id: int) -> None:
    """Count one more start of a row (committed before the start, so a start that kills the
    process is counted too)."""
    await session.execute(
        update(InboxUpdate)
        .where(InboxUpdate.id == row_id)
        .values(attempts=InboxUpdate.attempts + 1)
        .execution_options(synchronize_session=False)
    )


async def next_in_queue(session: AsyncSession, platform: str, queue: str) -> InboxUpdate | None:
    """The oldest pending update of ``queue``."""
    row = await session.scalars(
        select(InboxUpdate)
        .where(
            InboxUpdate.platform == platform,
            InboxUpdate.person_key == queue,
            InboxUpdate.status == PENDING,
        )
        .order_by(InboxUpdate.id)
        .limit(1)
    )
    return row.first()


async def queues_with_pending(session: AsyncSession, platform: str, *, limit: int = 10_000) -> list[str]:
    """Queues that have pending updates, the one waiting longest first."""
    rows = await session.execute(
        select(InboxUpdate.person_key, func.min(InboxUpdate.id).label("first"))
        .where(
            InboxUpdate.platform == platform,
            InboxUpdate.status == PENDING,
            InboxUpdate.person_key.is_not(None),
        )
        .group_by(InboxUpdate.person_key)
        .order_by(text("first"))
        .limit(limit)
    )
    return [key for key, _first in rows.all() if key is not None]


class QueueLocks:
    """``async with locks.hold(queue)``: this worker alone drains ``queue`` until the block ends.

    On PostgreSQL each held lock keeps one connection of a small pool of its own (``size``):
    callers bound how many they hold at once. A lost connection releases its lock (the
    dialogue's row locks still keep one person's steps one at a time)."""

    def __init__(self, url: str, *, size: int = 8) -> None:
        self.postgres = make_url(url).get_backend_name() == "postgresql"
        self._engine: AsyncEngine | None = None
        if self.postgres:
            self._engine = create_async_engine(url, pool_size=size, max_overflow=0, pool_pre_ping=True)
        self._local: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, queue: str) -> AsyncIterator[None]:
        if self._engine is None:
            async with self._hold_local(queue):
                yield
            return
        async with self._engine.connect() as conn:
            params = {"ns": _DRAIN, "key": queue}
            await conn.execute(text("SELECT pg_advisory_lock(:ns, hashtext(:key))"), params)
            await conn.commit()
            try:
                yield
            finally:
                await conn.execute(text("SELECT pg_advisory_unlock(:ns, hashtext(:key))"), params)
                await conn.commit()

    @asynccontextmanager
    async def _hold_local(self, queue: str) -> AsyncIterator[None]:
        lock, users = self._local.get(queue, (asyncio.Lock(), 0))
        self._local[queue] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._local[queue]
            if users <= 1:
                del self._local[queue]
            else:
                self._local[queue] = (lock, users - 1)

    async def dispose(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
