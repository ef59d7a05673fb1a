"""Our own getUpdates loop, because aiogram's acknowledges an update before it is handled.

Each batch is stored in the inbox and committed, with the next offset, before the next
getUpdates acknowledges it; then each stored update is handled as its own task, started in
arrival order (the core serialises one person's and one chat's events), at most
``concurrency`` at a time. On start, updates stored but not handled last time go first.
Finished updates are marked in batches. Handling one update is shared with the webhook
(``bot.telegram.pipeline``). On start the webhook, if one is set, is deleted (keeping its
pending updates), or getUpdates would be refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError
from aiogram.types import Update

from bot.telegram.pipeline import ALLOWED_UPDATES, MAX_ATTEMPTS, PLATFORM, UpdateHandler, incoming
from bot.telegram.transport import TelegramTransport
from handlers.context import Context
from handlers.core import Core
from handlers.events import Event
from storage import inbox
from storage.kv import get_value, set_value
from storage.models import InboxUpdate

log = logging.getLogger(__name__)

OFFSET_KEY = "telegram:offset"
__all__ = ["ALLOWED_UPDATES", "MAX_ATTEMPTS", "OFFSET_KEY", "PLATFORM", "TelegramPolling"]


class TelegramPolling:
    """The Telegram channel in polling mode: ``await start()``, ``await stop()``."""

    name = "telegram"

    def __init__(
        self,
        bot: Bot,
        transport: TelegramTransport,
        core: Core,
        ctx: Context,
        *,
        poll_timeout: int = 25,
        concurrency: int = 64,
        on_handled: Callable[[], None] | None = None,
        reply_attempts: int = 4,
        retry_cap: float = 30.0,
    ) -> None:
        self.bot = bot
        self.transport = transport
        self.core = core
        self.ctx = ctx
        self.poll_timeout = poll_timeout
        self.on_handled = on_handled
        self.handler = UpdateHandler(
            bot, transport, core, ctx, reply_attempts=reply_attempts, retry_cap=retry_cap
        )
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._done: set[int] = set()
        self._done_event = asyncio.Event()
        self._stopping = asyncio.Event()
        self._poller: asyncio.Task[None] | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()
        self.handled = 0
        """Updates handled since start (for tests and diagnostics)."""

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        self._flusher = asyncio.create_task(self._flush_loop(), name="telegram-inbox-flush")
        self._poller = asyncio.create_task(self._run(), name="telegram-polling")

    async def stop(self, *, grace: float = 10.0) -> None:
        """Stop polling, let updates in flight finish (up to ``grace`` seconds), record them."""
        self._stopping.set()
        if self._poller is not None:
            self._poller.cancel()
            try:
                await self._poller
            except asyncio.CancelledError:
                pass
            except Exception:  # it died before: say so, and still stop the rest
                log.exception("the polling loop had stopped on an error")
        if self._tasks:
            _done, pending = await asyncio.wait(set(self._tasks), timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        await self._flush()

    async def settled(self) -> None:
        """Wait until no update is being handled and every finished one is recorded."""
        while self._tasks or self._done:
            self._changed.clear()
            await self._changed.wait()

    # -- polling -----------------------------------------------------------------------------

    async def _run(self) -> None:
        await self._drop_webhook()
        await self.handler.identify()
        await self._resume()
        async with self.ctx.db.transaction() as session:
            stored = await get_value(session, OFFSET_KEY)
        offset = int(stored) if stored else None
        failures = 0
        while not self._stopping.is_set():
            try:
                updates = await self.bot.get_updates(
                    offset=offset,
                    timeout=self.poll_timeout,
                    allowed_updates=ALLOWED_UPDATES,
                    request_timeout=self.poll_timeout + 10,
                )
            except (TelegramNetworkError, TelegramAPIError) as error:
                failures += 1
                delay = min(30.0, 0.5 * 2 ** min(failures, 6))
                log.warning("getUpdates failed (%s); retrying in %.1fs", type(error).__name__, delay)
                await asyncio.sleep(delay)
                continue
            failures = 0
            if not updates:
                continue
            offset = max(u.update_id for u in updates) + 1
            rows = await self._store(updates, offset)
            polled = {str(u.update_id): u for u in updates}
            for row in rows:
                await self._dispatch(row, update=polled.get(row.update_key))

    async def _drop_webhook(self) -> None:
        """A webhook left from webhook mode makes getUpdates fail: remove it, keep its updates."""
        for attempt in range(5):
            try:
                await self.bot.delete_webhook(drop_pending_updates=False)
                return
            except (TelegramNetworkError, TelegramAPIError) as error:
                delay = min(30.0, 0.5 * 2**attempt)
                log.warning("deleteWebhook failed (%s); retrying in %.1fs", type(error).__name__, delay)
                await asyncio.sleep(delay)

    async def _store(self, updates: list[Update], offset: int) -> list[InboxUpdate]:
        items = [incoming(u) for u in updates]
        async with self.ctx.db.transaction() as session:
            rows = await inbox.store(session, PLATFORM, items, now=self.ctx.clock.now())
            await set_value(session, OFFSET_KEY, str(offset))
        if len(rows) < len(items):
            log.info("ignored %d update(s) seen before", len(items) - len(rows))
        return rows

    async def _resume(self) -> None:
        """Handle what was stored but not handled before the last stop.

        An attempt is counted for a row only when it is started again, so a run stopped
        early does not use up the attempts of rows it never reached; a row that keeps
        killing the process is given up after ``MAX_ATTEMPTS`` starts."""
        async with self.ctx.db.read() as session:
            rows = await inbox.pending(session, PLATFORM)
            latest = await inbox.latest_answered(
                session, PLATFORM, (row.person_key for row in rows if row.person_key)
            )
        if rows:
            log.info("resuming %d stored update(s)", len(rows))
        for row in rows:
            if row.response is not None and latest.get(row.person_key or "", row.id) != row.id:
                # Answered, and the person has moved on since: the answer is not sent again.
                self._finished(row.id)
                continue
            if row.response is None and row.attempts + 1 >= MAX_ATTEMPTS:
                async with self.ctx.db.transaction() as session:
                    await inbox.mark(session, [row.id], status=inbox.FAILED, now=self.ctx.clock.now())
                log.error("update %s failed %d times; giving up on it", row.update_key, MAX_ATTEMPTS)
                continue
            async with self.ctx.db.transaction() as session:
                await inbox.count_attempts(session, [row.id])
            await self._dispatch(row, stored=row.response)

    # -- handling ----------------------------------------------------------------------------

    async def _dispatch(
        self, row: InboxUpdate, stored: dict[str, Any] | None = None, update: Update | None = None
    ) -> None:
        """Start handling one stored update (in arrival order; waits for a free slot)."""
        event = self.handler.read(row.update_key, row.payload, update)
        if event is None:
            self._finished(row.id)
            return
        await self._slots.acquire()
        task = asyncio.create_task(
            self._handle(row.id, event, stored), name=f"telegram-update-{row.update_key}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._slots.release()
        self._changed.set()

    async def _handle(self, row_id: int, event: Event, stored: dict[str, Any] | None = None) -> None:
        await self.handler.handle(event, row_id, stored)
        self.handled += 1
        self._finished(row_id)
        if self.on_handled is not None:
            self.on_handled()

    # -- recording what is done --------------------------------------------------------------

    def _finished(self, row_id: int) -> None:
        self._done.add(row_id)
        self._done_event.set()

    async def _flush_loop(self) -> None:
        while True:
            await self._done_event.wait()
            self._done_event.clear()
            try:
                await self._flush()
            except Exception:
                log.exception("recording handled updates failed; will retry")
                await asyncio.sleep(1)
                self._done_event.set()

    async def _flush(self) -> None:
        if not self._done:
            return
        ids = set(self._done)
        async with self.ctx.db.transaction() as session:
            await inbox.mark(session, ids, now=self.ctx.clock.now())
        self._done -= ids
        self._changed.set()
