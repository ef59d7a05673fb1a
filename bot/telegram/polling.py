"""Our own getUpdates loop, because aiogram's acknowledges an update before it is handled.

Each batch is stored in the inbox and committed, with the next offset, before the next
getUpdates acknowledges it; then each stored update is handled as its own task, started in
arrival order (the core serialises one person's and one chat's events), at most
``concurrency`` at a time. On start, updates stored but not handled last time go first.
Finished updates are marked in batches. A handler that fails is logged and the person gets
a polite error text, never silence; a button press is always answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError
from aiogram.types import Update

from bot.telegram.translate import person_key, to_event
from bot.telegram.transport import TelegramTransport
from bot.transport import DeliveryError, PermanentFailure, RetryLater, TransientFailure
from handlers.context import Context
from handlers.core import Core
from handlers.events import Event, Reply, Response
from storage import inbox
from storage.kv import get_value, set_value
from storage.models import InboxUpdate

log = logging.getLogger(__name__)

PLATFORM = "telegram"
OFFSET_KEY = "telegram:offset"
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member", "channel_post"]
MAX_ATTEMPTS = 3
"""A stored update started this many times without finishing is given up (a poison update)."""


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
        self.reply_attempts = reply_attempts
        self.retry_cap = retry_cap
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
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
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
            for row in rows:
                await self._dispatch(row)

    async def _store(self, updates: list[Update], offset: int) -> list[InboxUpdate]:
        items = [
            inbox.Incoming(
                update_key=str(u.update_id),
                person_key=person_key(u),
                payload=u.model_dump(mode="json", by_alias=True, exclude_none=True),
            )
            for u in updates
        ]
        async with self.ctx.db.transaction() as session:
            rows = await inbox.store(session, PLATFORM, items, now=self.ctx.clock.now())
            await set_value(session, OFFSET_KEY, str(offset))
        if len(rows) < len(items):
            log.info("ignored %d update(s) seen before", len(items) - len(rows))
        return rows

    async def _resume(self) -> None:
        """Handle what was stored but not handled before the last stop."""
        async with self.ctx.db.transaction() as session:
            rows = await inbox.pending(session, PLATFORM)
            poisoned = [row.id for row in rows if row.attempts + 1 >= MAX_ATTEMPTS]
            await inbox.count_attempts(session, [row.id for row in rows])
            await inbox.mark(session, poisoned, status=inbox.FAILED, now=self.ctx.clock.now())
        if rows:
            log.info("resuming %d stored update(s)", len(rows))
        for row in rows:
            if row.id in poisoned:
                log.error("update %s failed %d times; giving up on it", row.update_key, MAX_ATTEMPTS)
                continue
            await self._dispatch(row)

    # -- handling ----------------------------------------------------------------------------

    async def _dispatch(self, row: InboxUpdate) -> None:
        """Start handling one stored update (in arrival order; waits for a free slot)."""
        try:
            update = Update.model_validate(row.payload, context={"bot": self.bot})
            event = to_event(update)
        except Exception:
            log.exception("stored update %s cannot be read", row.update_key)
            event = None
        if event is None:
            self._finished(row.id)
            return
        await self._slots.acquire()
        task = asyncio.create_task(self._handle(row.id, event), name=f"telegram-update-{row.update_key}")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._slots.release()
        self._changed.set()

    async def _handle(self, row_id: int, event: Event) -> None:
        try:
            response = await self.core.handle(event)
        except Exception:
            log.exception("handling an update failed", extra={"update_id": event.update_id})
            response = Response(
                replies=[Reply(text=self.ctx.texts("app-error"))],
                toast=self.ctx.texts("app-error-toast") if event.callback_id else None,
            )
        try:
            await self._respond(event, response)
        except Exception:
            log.exception("answering an update failed", extra={"update_id": event.update_id})
        self.handled += 1
        self._finished(row_id)
        if self.on_handled is not None:
            self.on_handled()

    async def _respond(self, event: Event, response: Response) -> None:
        if event.callback_id is not None:
            try:
                await self._with_retries(
                    lambda: self.transport.answer_callback(
                        event.callback_id or "", response.toast, alert=response.alert
                    )
                )
            except DeliveryError as error:
                log.warning("callback answer failed: %s", error)
        for reply in response.replies:
            try:
                await self._with_retries(partial(self.transport.deliver, event.chat.chat_id, reply))
            except PermanentFailure as error:
                log.info("reply not delivered: %s", error.reason)
                return
            except DeliveryError as error:
                log.warning("reply not delivered after retries: %s", error)
                return

    async def _with_retries(self, send: Callable[[], Any]) -> Any:
        for attempt in range(1, self.reply_attempts + 1):
            try:
                return await send()
            except RetryLater as error:
                if attempt == self.reply_attempts:
                    raise
                await asyncio.sleep(min(error.retry_after, self.retry_cap))
            except TransientFailure:
                if attempt == self.reply_attempts:
                    raise
                await asyncio.sleep(min(0.2 * 2**attempt, self.retry_cap))
        raise AssertionError("unreachable")

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
