"""The outbox sender: delivers what handlers wrote with ``send_later``, durably.

Each round leases the heads of the chats' queues (``storage.outbox.claim_due``) and sends
them concurrently, one message per chat at a time, through the platform's transport (whose
rate limiter keeps every send within the platform's limits). Then, in one transaction with
the row's new status, it applies the delivery's effects (``handlers.delivery``):

* delivered: the row is ``sent`` with its message ids;
* ``RetryLater`` (429, VK flood control): tried again after ``retry_after``, not counted;
* ``TransientFailure`` (5xx, dropped connection) or an unexpected error: tried again with
  exponential backoff and jitter (1 s, 2 s, 4 s ... at most 5 min); after 72 h of failures
  (an outage of a whole day loses nothing) the row is ``failed`` and the admins are alerted;
* ``PermanentFailure``: ``failed`` at once with the reason.

A row of a platform with no transport stays pending. A process that dies holding leases
leaves its rows to be claimed again once the leases expire; while a delivery takes long (a
rate limiter's wait) its lease is renewed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import ValidationError

from bot import fallback
from bot.supervision import Heartbeat
from bot.transport import PermanentFailure, RetryLater, TransientFailure, Transport
from handlers import delivery
from handlers.context import Context
from handlers.events import Platform, Reply, reply_from_json
from storage import kv, outbox
from storage.db import Database
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5.0


def heartbeat_key(platform: str) -> str:
    return f"outbox:sender:{platform}"


async def sender_alive(
    db: Database, platform: str, now: datetime, within: float = 3 * HEARTBEAT_SECONDS
) -> bool:
    """Whether a running bot's sender serves ``platform`` (it beat in the last ``within`` s)."""
    async with db.read() as session:
        beat = await kv.get_value(session, heartbeat_key(platform))
    if not beat:
        return False
    return now - datetime.fromisoformat(beat) <= timedelta(seconds=within)


@dataclass(slots=True)
class SenderStats:
    """What this sender has done since it started."""

    attempted: int = 0
    sent: int = 0
    rate_limited: int = 0
    transient: int = 0
    failed: int = 0


class OutboxSender:
    def __init__(
        self,
        db: Database,
        transports: Mapping[Platform, Transport],
        ctx: Context,
        *,
        concurrency: int = 16,
        lease_seconds: float = 15,
        poll_seconds: float = 1.0,
        backoff_base: float = 1.0,
        backoff_cap: float = 300.0,
        backoff_jitter: float = 0.2,
        give_up_after: timedelta = timedelta(hours=72),
        rng: random.Random | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.db = db
        self.transports = dict(transports)
        self.ctx = ctx
        self.concurrency = concurrency
        self.lease = timedelta(seconds=lease_seconds)
        self.poll_seconds = poll_seconds
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.backoff_jitter = backoff_jitter
        self.give_up_after = give_up_after
        self.stats = SenderStats()
        self._rng = rng or random.Random()
        self._platforms = [platform.value for platform in self.transports]
        self._wake = asyncio.Event()
        self._serving: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._unsendable_logged: set[str] = set()
        self._unsendable_checked_at: float | None = None
        self._stopping = False
        self.heartbeat = Heartbeat("outbox-sender", expected_every=poll_seconds)

    @property
    def stopping(self) -> bool:
        """``stop`` was asked: ``run`` returns once deliveries in flight are recorded."""
        return self._stopping

    # -- public ------------------------------------------------------------------------

    def notify(self) -> None:
        """Something was queued: look at the outbox now instead of at the next poll."""
        self._wake.set()

    async def drain_once(self) -> int:
        """Send everything due now (retries that become due later stay queued); return how
        many deliveries were attempted."""
        attempted = 0
        renewer = asyncio.create_task(self._renew_leases())
        try:
            while True:
                rows = await self._claim(self.concurrency)
                if not rows:
                    return attempted
                await asyncio.gather(*(self._serve(row) for row in rows))
                attempted += len(rows)
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer

    async def deliver_now(self, ids: Sequence[int]) -> int:
        """Send these rows now, if they are due and nobody holds them (``appeals digest
        --post`` with no bot running); returns how many were attempted."""
        async with self.db.transaction() as session:
            rows = await outbox.claim_rows(
                session, ids, now=self.ctx.clock.now(), lease=self.lease, platforms=self._platforms
            )
        self._serving.update(row.id for row in rows)
        renewer = asyncio.create_task(self._renew_leases())
        try:
            await asyncio.gather(*(self._serve(row) for row in rows))
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
        return len(rows)

    def stop(self) -> None:
        """Ask ``run`` to claim nothing more and return once the deliveries in flight are
        recorded (a graceful shutdown: nothing is left to be resent after the restart)."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """Drain the outbox until :meth:`stop` or cancellation. Rows in flight when it is
        cancelled keep their leases (whether they reached the chat is unknown) and are sent
        again once the leases expire."""
        self._stopping = False
        await self._release_stale_leases()
        renewer = asyncio.create_task(self._renew_leases())
        heartbeat = asyncio.create_task(self._heartbeat())
        try:
            while not self._stopping:
                self.heartbeat.beat()
                self._wake.clear()
                free = self.concurrency - len(self._tasks)
                claimed = 0
                if free > 0:
                    try:
                        rows = await self._claim(free)
                    except Exception:
                        log.exception("outbox claim failed; trying again shortly")
                        rows = []
                    claimed = len(rows)
                    for row in rows:
                        task = asyncio.create_task(self._serve(row), name=f"outbox:{row.id}")
                        self._tasks.add(task)
                        task.add_done_callback(self._finished)
                if claimed and claimed == free:
                    # Every slot is busy; a finishing delivery wakes us.
                    await self._wake.wait()
                    continue
                timeout = await self._idle_timeout()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout)
            if self._tasks:
                await asyncio.wait(set(self._tasks))
        finally:
            renewer.cancel()
            heartbeat.cancel()
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(renewer, heartbeat, *self._tasks, return_exceptions=True)
            self._tasks.clear()
            with contextlib.suppress(Exception):
                await self._beat(alive=False)

    # -- rounds ------------------------------------------------------------------------

    async def _release_stale_leases(self) -> None:
        """On SQLite one process owns the database: leases found before this sender's first
        claim were held by a process that died (killed mid-delivery). Its messages are sent
        again now instead of when the leases expire. (On PostgreSQL another worker may hold
        them: they wait for the expiry.)"""
        if not self.db.is_sqlite or self._tasks:
            return
        async with self.db.transaction() as session:
            released = await outbox.release_all(session)
        if released:
            log.info("released %d outbox lease(s) left by a stopped process", released)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._wake.set()

    async def _claim(self, limit: int) -> list[OutboxMessage]:
        await self._name_unsendable()
        now = self.ctx.clock.now()
        async with self.db.transaction() as session:
            rows = await outbox.claim_due(
                session, now=now, lease=self.lease, limit=limit, platforms=self._platforms
            )
        self._serving.update(row.id for row in rows)
        return rows

    async def _idle_timeout(self) -> float:
        """Until the next retry falls due, at most one poll interval."""
        try:
            async with self.db.read() as session:
                due = await outbox.next_due_at(session, platforms=self._platforms, after=self.ctx.clock.now())
        except Exception:
            log.exception("outbox look-ahead failed")
            return self.poll_seconds
        if due is None:
            return self.poll_seconds
        wait = (due - self.ctx.clock.now()).total_seconds()
        return max(0.0, min(self.poll_seconds, wait))

    async def _heartbeat(self) -> None:
        """Say, every few seconds, that this platform's messages are being sent: a command
        that queues something (``appeals digest --post``) then leaves it to us."""
        while True:
            try:
                await self._beat(alive=True)
            except Exception:
                log.exception("outbox sender heartbeat failed")
            await asyncio.sleep(HEARTBEAT_SECONDS)

    async def _beat(self, *, alive: bool) -> None:
        now = self.ctx.clock.now()
        async with self.db.transaction() as session:
            for platform in self._platforms:
                await kv.set_value(
                    session, heartbeat_key(platform), now.isoformat() if alive else "", now=now
                )

    async def _renew_leases(self) -> None:
        interval = max(0.05, self.lease.total_seconds() / 3)
        while True:
            await asyncio.sleep(interval)
            ids = sorted(self._serving)
            if not ids:
                continue
            try:
                async with self.db.transaction() as session:
                    await outbox.extend_leases(session, ids, until=self.ctx.clock.now() + self.lease)
            except Exception:
                log.exception("renewing %d outbox leases failed", len(ids))

    async def _name_unsendable(self) -> None:
        """Log, once per platform, that pending rows wait for a transport nobody configured."""
        moment = time.monotonic()
        if self._unsendable_checked_at is not None and moment - self._unsendable_checked_at < 60:
            return
        self._unsendable_checked_at = moment
        async with self.db.read() as session:
            platforms = await outbox.pending_platforms(session)
        for platform in sorted(platforms - set(self._platforms) - self._unsendable_logged):
            self._unsendable_logged.add(platform)
            log.warning("outbox has messages for %s but no transport is configured; they wait", platform)

    # -- one row -----------------------------------------------------------------------

    async def _serve(self, row: OutboxMessage) -> None:
        try:
            await self._attempt(row)
        except Exception:
            # A broken row or a database hiccup must not stop the other chats; the row's
            # lease expires and it is tried again.
            log.exception("outbox row %s to %s:%s could not be handled", row.id, row.platform, row.chat_id)
        finally:
            self._serving.discard(row.id)

    async def _attempt(self, row: OutboxMessage) -> None:
        transport = self.transports[Platform(row.platform)]
        try:
            reply: Reply = reply_from_json(row.payload)
        except ValidationError as exc:
            await self._failed(row, "bad_request", f"bad_request: unreadable payload: {exc}")
            return
        self.stats.attempted += 1
        try:
            message_ids = await fallback.deliver(
                transport, self.ctx, row.chat_id, reply, idempotency_key=f"outbox:{row.id}"
            )
        except RetryLater as exc:
            self.stats.rate_limited += 1
            await self._retry_later(row, exc)
        except TransientFailure as exc:
            self.stats.transient += 1
            await self._transient(row, f"transient: {exc}")
        except PermanentFailure as exc:
            await self._failed(row, exc.reason, str(exc))
        except Exception as exc:
            log.exception("transport raised an unexpected error for outbox row %s", row.id)
            self.stats.transient += 1
            await self._transient(row, f"unexpected: {type(exc).__name__}: {exc}")
        else:
            await self._delivered(row, [str(message_id) for message_id in message_ids])

    async def _delivered(self, row: OutboxMessage, message_ids: Sequence[str]) -> None:
        self.stats.sent += 1
        async with self.db.transaction() as session:
            updated = await outbox.mark_sent(
                session, row.id, now=self.ctx.clock.now(), message_ids=message_ids
            )
            if updated is None:
                log.warning("outbox row %s was delivered but is no longer pending", row.id)
                return
            try:
                async with session.begin_nested():
                    await delivery.on_delivered(self.ctx, session, updated, message_ids)
            except Exception:
                log.exception("effects of delivering outbox row %s failed; it stays sent", row.id)

    async def _retry_later(self, row: OutboxMessage, exc: RetryLater) -> None:
        at = self.ctx.clock.now() + timedelta(seconds=max(0.0, exc.retry_after))
        async with self.db.transaction() as session:
            await outbox.reschedule(session, row.id, at=at, error=f"rate limited: {exc}", counts=False)

    def backoff(self, failures: int) -> float:
        """Seconds before the next try after ``failures`` transient failures in a row."""
        nominal: float = self.backoff_base * 2.0 ** min(max(failures - 1, 0), 32)
        return min(self.backoff_cap, nominal * (1 + self.backoff_jitter * self._rng.random()))

    async def _transient(self, row: OutboxMessage, error: str) -> None:
        now = self.ctx.clock.now()
        since = row.failing_since or now
        if now - since >= self.give_up_after:
            await self._failed(row, delivery.GAVE_UP, f"{delivery.GAVE_UP}: {error}")
            return
        at = now + timedelta(seconds=self.backoff(row.attempts + 1))
        async with self.db.transaction() as session:
            await outbox.reschedule(session, row.id, at=at, error=error, counts=True, failing_since=since)

    async def _failed(self, row: OutboxMessage, reason: str, error: str) -> None:
        self.stats.failed += 1
        log.warning(
            "outbox row %s (%s) to %s:%s failed: %s", row.id, row.purpose, row.platform, row.chat_id, error
        )
        async with self.db.transaction() as session:
            updated = await outbox.mark_failed(session, row.id, error=error, now=self.ctx.clock.now())
            if updated is None:
                return
            try:
                async with session.begin_nested():
                    await delivery.on_failed(self.ctx, session, updated, reason)
            except Exception:
                log.exception("effects of the failure of outbox row %s failed", row.id)
        self.notify()
