"""The life of an incoming update, written once for every platform and mode.

An adapter (Telegram polling, Telegram webhook, VK long poll) receives raw updates and hands
them to :meth:`Runtime.receive`; everything after that happens here:

1. **Store, then acknowledge.** ``receive`` stores the updates exactly as the platform sent
   them (raw JSON), with the adapter's cursor (the next offset, the long poll's ``ts``), and
   commits before it returns. Only then may the adapter acknowledge them (ask for the next
   batch, answer 200): an update we did not store is sent again by the platform. An update
   seen before (same key) is not stored twice.
2. **Order.** Each update goes into a queue: its group chat's, else its person's (the
   adapter says which). A queue is drained by one worker at a time, oldest row first, under
   the queue's lock (:class:`storage.queues.QueueLocks`: an in-process lock on SQLite, a
   PostgreSQL advisory lock across processes). One mechanism per database, the same for
   every road.
3. **Count, then start.** Before every start of a row one more attempt is committed, so a
   start that kills the process is counted too. A row started ``max_starts`` times without
   finishing is given up: marked failed, the person gets an apology (in private; in a group
   only when the message was meant for the bot: a reply to it or a command, never group
   noise) and the admin chats one alert naming the platform and the update's kind, never
   its content. A start that raises is retried in place after a short backoff (the queue
   waits: order is kept).
4. **One unit of work.** The core runs in one transaction with everything it causes: its
   changes, its replies written to the outbox, and the row marked handled. So an update is
   either not handled at all (and is started again) or handled once with its replies queued.
   The outbox sender is woken right after the commit (``on_committed``), so a reply costs no
   extra wait. A button press is answered (a toast, ephemeral) directly, in the background:
   it never holds up the queue.
5. **Unreadable updates.** An update the adapter cannot read is logged by its kind, marked
   failed and skipped; the rest of the batch goes on.

An adapter is small: :class:`Adapter` (identify and translate a raw update, optionally
enrich the event), a receive loop calling :meth:`Runtime.receive`, and a transport.
Nothing here imports a messenger library.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bot.supervision import Heartbeat, Supervisor
from handlers.context import Context
from handlers.delivery import PURPOSE_ALERT
from handlers.events import ChatKind, Event, Platform, Reply, Response
from handlers.outbox import send_later
from storage import inbox, kv
from storage.models import InboxUpdate
from storage.queues import QueueLocks, next_in_queue, queues_with_pending, start_attempt, store_many

log = logging.getLogger(__name__)

PURPOSE_REPLY = "reply"
"""Outbox purpose of the core's answers to the update that came in."""
MAX_STARTS = 3
"""Default number of starts after which an update is given up (a poison update)."""


@dataclass(frozen=True, slots=True)
class Identity:
    """What the runtime must know about a raw update before it can read it."""

    key: str
    """Unique per platform (Telegram's ``update_id``, VK's ``event_id``): a redelivery is
    recognised by it."""
    queue: str | None
    """Whose updates must be handled one at a time, in order (a group chat, else a person);
    None: nobody's (the update is its own queue)."""
    kind: str
    """What sort of update it is, for logs and alerts (``message``, ``callback_query``,
    ``message_new``): never its content."""


class Adapter(Protocol):
    """The platform's side of the runtime: pure functions over raw updates."""

    platform: Platform

    def identify(self, raw: dict[str, Any]) -> Identity:
        """Key, queue and kind of ``raw``; may raise for an update it cannot make sense of."""
        ...

    def to_event(self, raw: dict[str, Any]) -> Event | None:
        """The event ``raw`` stands for (None: nothing for the core); raises when unreadable."""
        ...

    async def prepare(self, event: Event) -> Event:
        """Complete the event before the core sees it (VK looks up the sender's name)."""
        ...


class Handler(Protocol):
    """The core's entry point (``handlers.core.Core``)."""

    async def handle(self, event: Event) -> Response: ...


class CallbackAnswerer(Protocol):
    async def answer_callback(self, callback_id: str, text: str | None, *, alert: bool = False) -> None: ...


def _addressed_to_us(event: Event) -> bool:
    """A group message meant for the bot (a reply to one of its messages, a command to it):
    staff who sent it wait for an answer. Other group messages are noise to the bot."""
    if event.callback_id is not None:
        return False  # the press is answered with a toast
    return event.reply_to_bot is True or event.command is not None


class Runtime:
    """Stores, orders and handles one platform's updates; see the module docstring.

    ``await start()`` resumes what was stored but not handled (and, every
    ``sweep_interval`` seconds, looks for rows other workers left); adapters call
    :meth:`receive`; ``await stop()`` lets rows in flight finish."""

    def __init__(
        self,
        adapter: Adapter,
        core: Handler,
        ctx: Context,
        *,
        callbacks: CallbackAnswerer | None = None,
        on_committed: Callable[[], None] | None = None,
        max_starts: int = MAX_STARTS,
        concurrency: int = 64,
        retry_base: float = 0.2,
        sweep_interval: float = 30.0,
        supervisor: Supervisor | None = None,
    ) -> None:
        if max_starts < 1:
            raise ValueError("max_starts must be at least 1")
        self.adapter = adapter
        self.platform = adapter.platform.value
        self.core = core
        self.ctx = ctx
        self.callbacks = callbacks
        self.on_committed = on_committed
        self.max_starts = max_starts
        self.retry_base = retry_base
        self.sweep_interval = sweep_interval
        self._locks = QueueLocks(ctx.db.url, size=min(concurrency, 8))
        self._slots = asyncio.Semaphore(concurrency if ctx.db.is_sqlite else min(concurrency, 8))
        self._draining: set[str] = set()
        self._again: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._side_tasks: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Event()
        self._sweeper: asyncio.Task[None] | None = None
        self.supervisor = supervisor or Supervisor()
        self.heartbeat = Heartbeat(f"{self.platform}-inbox", expected_every=sweep_interval)
        self.handled = 0
        """Rows finished by this process (handled, unreadable or given up)."""
        self.given_up = 0
        self.unreadable = 0

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Resume stored rows now, then look for stranded ones every ``sweep_interval``."""
        await self.sweep()
        self._sweeper = self.supervisor.spawn(
            f"{self.platform}-inbox", self._sweep_loop, heartbeat=self.heartbeat
        )

    async def stop(self, *, grace: float = 10.0) -> None:
        """Let rows in flight finish (up to ``grace`` seconds); the rest stay pending."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        if self._tasks:
            _done, pending = await asyncio.wait(set(self._tasks), timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)
        for task in list(self._side_tasks):
            task.cancel()
        if self._side_tasks:
            await asyncio.wait(set(self._side_tasks))
        await self._locks.dispose()

    async def settled(self) -> None:
        """Wait until nothing received by this process is still being handled."""
        while self._tasks or self._side_tasks:
            self._changed.clear()
            await self._changed.wait()

    # -- receiving ---------------------------------------------------------------------------

    async def receive(self, raws: Sequence[dict[str, Any]], *, cursor: tuple[str, str] | None = None) -> int:
        """Store ``raws`` (and ``cursor``, a key and value the adapter resumes from) in one
        commit, then start handling them. Returns how many were new. When it returns, the
        adapter may acknowledge the updates; when it raises, nothing was stored."""
        items = [self._incoming(raw) for raw in raws]
        async with self.ctx.db.transaction() as session:
            added = await store_many(session, self.platform, items, now=self.ctx.clock.now())
            if cursor is not None:
                await kv.set_value(session, cursor[0], cursor[1], now=self.ctx.clock.now())
        if len(added) < len(items):
            log.info("ignored %d %s update(s) seen before", len(items) - len(added), self.platform)
        for _row_id, item in added:
            assert item.person_key is not None
            self._drain_soon(item.person_key)
        return len(added)

    def _incoming(self, raw: dict[str, Any]) -> inbox.Incoming:
        try:
            identity = self.adapter.identify(raw)
            key, queue = identity.key, identity.queue
        except Exception:
            # Stored all the same (it fails when read, and is logged then); keyed by its
            # content, so a redelivery of it is still recognised.
            digest = hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()
            key, queue = f"unkeyed:{digest[:40]}", None
        return inbox.Incoming(
            update_key=key, person_key=queue or f"{self.platform}:update:{key}"[:80], payload=raw
        )

    # -- draining queues ---------------------------------------------------------------------

    async def sweep(self) -> None:
        """Drain every queue that has pending rows (after a restart, or another worker's crash)."""
        async with self.ctx.db.read() as session:
            queues = await queues_with_pending(session, self.platform)
        if queues:
            log.info("%s: %d queue(s) with stored updates to handle", self.platform, len(queues))
        for queue in queues:
            self._drain_soon(queue)

    async def _sweep_loop(self) -> None:
        while True:
            self.heartbeat.beat()
            await asyncio.sleep(self.sweep_interval)
            try:
                await self.sweep()
            except Exception:
                log.exception("%s: looking for stored updates failed; trying again later", self.platform)

    def _drain_soon(self, queue: str) -> None:
        """Make sure ``queue`` is drained after now (one drainer per queue in this process)."""
        if queue in self._draining:
            self._again.add(queue)
            return
        self._draining.add(queue)
        task = asyncio.create_task(self._drain_task(queue), name=f"{self.platform}-queue")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._side_tasks.discard(task)
        self._changed.set()

    async def _drain_task(self, queue: str) -> None:
        failures = 0
        try:
            while True:
                self._again.discard(queue)
                try:
                    async with self._slots, self._locks.hold(queue):
                        await self._drain(queue)
                    failures = 0
                except Exception:
                    # The database, say. The rows stay pending; this queue is tried again.
                    failures += 1
                    delay = min(30.0, self.retry_base * 2**failures)
                    log.exception("%s: draining a queue failed; again in %.1fs", self.platform, delay)
                    await asyncio.sleep(delay)
                    self._again.add(queue)
                if queue not in self._again:
                    return
        finally:
            self._draining.discard(queue)
            self._again.discard(queue)

    async def _drain(self, queue: str) -> None:
        """Handle ``queue``'s pending rows oldest first (the caller holds its lock)."""
        while True:
            async with self.ctx.db.read() as session:
                row = await next_in_queue(session, self.platform, queue)
            if row is None:
                return
            if row.attempts >= self.max_starts:
                await self._give_up(row)
                continue
            async with self.ctx.db.transaction() as session:
                await start_attempt(session, row.id)
            if not await self._start(row):
                await asyncio.sleep(self.retry_base * 2 ** (row.attempts))

    async def _start(self, row: InboxUpdate) -> bool:
        """One start of ``row``: True when it is finished (handled, or unreadable)."""
        try:
            event = self.adapter.to_event(row.payload)
        except Exception:
            await self._unreadable(row)
            return True
        if event is None:
            await self._finish(row, inbox.HANDLED)
            return True
        try:
            event = await self.adapter.prepare(event)
            async with self.ctx.db.unit_of_work() as unit:
                response = await self.core.handle(event)
                session = await unit.session()
                for reply in response.replies:
                    await send_later(session, event.chat, reply, purpose=PURPOSE_REPLY)
                await inbox.mark(session, [row.id], now=self.ctx.clock.now())
        except Exception:
            log.exception(
                "%s: handling a %s update failed (start %d of %d)",
                self.platform,
                self._kind(row.payload),
                row.attempts + 1,
                self.max_starts,
            )
            return False
        self.handled += 1
        self._committed()
        if event.callback_id is not None:
            self._answer_soon(event.callback_id, response)
        return True

    async def _finish(self, row: InboxUpdate, status: str) -> None:
        async with self.ctx.db.transaction() as session:
            await inbox.mark(session, [row.id], status=status, now=self.ctx.clock.now())
        self.handled += 1

    async def _unreadable(self, row: InboxUpdate) -> None:
        log.error(
            "%s: a %s update cannot be read; skipped", self.platform, self._kind(row.payload), exc_info=True
        )
        self.unreadable += 1
        await self._finish(row, inbox.FAILED)

    async def _give_up(self, row: InboxUpdate) -> None:
        """Mark ``row`` failed; apologise to the person in private, alert the admins once."""
        kind = self._kind(row.payload)
        log.error("%s: a %s update failed %d times; giving up on it", self.platform, kind, row.attempts)
        try:
            event = self.adapter.to_event(row.payload)
        except Exception:
            event = None
        texts = self.ctx.texts
        async with self.ctx.db.transaction() as session:
            await inbox.mark(session, [row.id], status=inbox.FAILED, now=self.ctx.clock.now())
            if event is not None and event.chat_kind is ChatKind.PRIVATE:
                await send_later(session, event.chat, Reply(text=texts("app-error")), purpose=PURPOSE_REPLY)
            elif event is not None and _addressed_to_us(event):
                apology = Reply(text=texts("app-error-group"), reply_to=event.message_id)
                await send_later(session, event.chat, apology, purpose=PURPOSE_REPLY)
            alert = texts("app-update-given-up", platform=self.platform, kind=kind, starts=row.attempts)
            for chat in self.ctx.catalogue.admin.chats:
                await send_later(session, chat, Reply(text=alert), purpose=PURPOSE_ALERT)
        self.handled += 1
        self.given_up += 1
        self._committed()
        if event is not None and event.callback_id is not None:
            self._answer_soon(event.callback_id, Response(toast=texts("app-error-toast")))

    def _kind(self, raw: dict[str, Any]) -> str:
        try:
            return self.adapter.identify(raw).kind
        except Exception:
            return "unknown"

    def _committed(self) -> None:
        if self.on_committed is not None:
            self.on_committed()

    # -- button presses ----------------------------------------------------------------------

    def _answer_soon(self, callback_id: str, response: Response) -> None:
        """Answer a button press in the background: ephemeral, it never holds the queue up."""
        if self.callbacks is None:
            return
        task = asyncio.create_task(self._answer(callback_id, response), name=f"{self.platform}-callback")
        self._side_tasks.add(task)
        task.add_done_callback(self._task_done)

    async def _answer(self, callback_id: str, response: Response, tries: int = 3) -> None:
        assert self.callbacks is not None
        for attempt in range(1, tries + 1):
            try:
                await self.callbacks.answer_callback(callback_id, response.toast, alert=response.alert)
                return
            except Exception as error:
                retry_after = float(getattr(error, "retry_after", 0.0) or 0.0)
                if attempt == tries or retry_after > 2.0:
                    log.warning("%s: a button press could not be answered: %s", self.platform, error)
                    return
                await asyncio.sleep(max(retry_after, self.retry_base * attempt))
