"""Telegram in webhook mode: an aiohttp server Telegram POSTs updates to, one of several workers.

Receiving. A POST to ``webhook_path`` must carry ``X-Telegram-Bot-Api-Secret-Token`` equal
to the configured secret (compared in constant time; otherwise 401 and nothing is stored).
The update is stored in the inbox and committed *before* we answer 200, so anything we did
not store is redelivered by Telegram; an update id stored before (a redelivery, or the same
update reaching two workers) is answered 200 and not stored again. ``GET /healthz`` answers
200 for the load balancer.

Handling, in order, across workers. Several processes behind a load balancer receive
updates for the same person, so in-process locks are not enough. Each update goes into its
*queue*: the group chat's for group chats (the desk works per chat), otherwise the person's.
Storing takes the queue's store lock until commit, so within a queue inbox ids follow
commit order. After storing, the worker *drains* that queue: under the queue's drain lock
(a PostgreSQL advisory lock held on its own connection; ``storage.queues``) it handles the
oldest pending row, marks it handled, and repeats until the queue is empty. Whichever worker
holds the lock handles every pending row of the queue, its own and other workers', oldest
first; a worker that stored a row while another drains waits for the lock and then usually
finds nothing left. So one person's steps are handled one at a time, and a later update never
overtakes an earlier one, whichever worker received each. The dialogue's row locks
(``storage.residents``) remain as the second line.

Crashes. A row is marked handled right after its answer is sent, while the lock is still
held; a worker that dies mid-row leaves it pending, and its lock goes with its connection.
Every worker drains all queues with pending rows at start and then every
``sweep_interval`` seconds, so such rows are picked up by whoever is alive. A row started
:data:`MAX_ATTEMPTS` times without finishing is given up (a poison update).

Side effects (cards, deliveries, digests) go through the outbox, which several senders drain
with ``FOR UPDATE SKIP LOCKED`` (``storage.outbox``); the digest is claimed once per channel
and period (``storage.stats.claim_digest``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import Callable

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError
from aiogram.types import Update
from aiohttp import web

from bot.telegram.pipeline import ALLOWED_UPDATES, MAX_ATTEMPTS, PLATFORM, UpdateHandler, incoming, order_key
from bot.telegram.transport import TelegramTransport
from handlers.context import Context
from handlers.core import Core
from storage import inbox
from storage.queues import QueueLocks, next_in_queue, queues_with_pending, store_in_queue

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HEALTH_PATH = "/healthz"


class TelegramWebhook:
    """The Telegram channel in webhook mode: ``await start()``, ``await stop()``."""

    name = "telegram"

    def __init__(
        self,
        bot: Bot,
        transport: TelegramTransport,
        core: Core,
        ctx: Context,
        *,
        url: str,
        secret: str,
        host: str = "127.0.0.1",
        port: int = 8080,
        path: str = "/telegram/webhook",
        concurrency: int = 8,
        on_handled: Callable[[], None] | None = None,
        sweep_interval: float = 30.0,
        reply_attempts: int = 4,
        retry_cap: float = 30.0,
    ) -> None:
        self.bot = bot
        self.core = core
        self.ctx = ctx
        self.url = url
        self.host = host
        self.port = port
        self.path = path
        self.on_handled = on_handled
        self.sweep_interval = sweep_interval
        self.handler = UpdateHandler(
            bot, transport, core, ctx, reply_attempts=reply_attempts, retry_cap=retry_cap
        )
        self._secret = secret.encode()
        self._locks = QueueLocks(ctx.db.url, size=concurrency)
        self._slots = asyncio.Semaphore(concurrency)
        self._draining: set[str] = set()
        self._again: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self.handled = 0
        """Updates handled by this worker since start (for tests and diagnostics)."""
        self.rejected = 0
        """Requests refused for a wrong or missing secret."""

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_post(self.path, self._receive)
        app.router.add_get(HEALTH_PATH, self._health)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = sockets[0].getsockname()[1]
        log.info("webhook listening", extra={"host": self.host, "port": self.port, "path": self.path})
        await self.handler.identify()
        await self._set_webhook()
        self._sweeper = asyncio.create_task(self._sweep_loop(), name="telegram-webhook-sweep")

    async def stop(self, *, grace: float = 10.0) -> None:
        """Stop receiving, let updates in flight finish (up to ``grace`` seconds). The webhook
        stays set: other workers go on receiving."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        if self._tasks:
            _done, pending = await asyncio.wait(set(self._tasks), timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)
        await self._locks.dispose()

    async def settled(self) -> None:
        """Wait until nothing this worker received is still being handled."""
        while self._tasks:
            self._changed.clear()
            await self._changed.wait()

    async def _set_webhook(self) -> None:
        for attempt in range(6):
            try:
                await self.bot.set_webhook(
                    self.url,
                    secret_token=self._secret.decode(),
                    allowed_updates=ALLOWED_UPDATES,
                    drop_pending_updates=False,
                )
                return
            except (TelegramNetworkError, TelegramAPIError) as error:
                if attempt == 5:
                    raise
                delay = min(30.0, 0.5 * 2**attempt)
                log.warning("setWebhook failed (%s); retrying in %.1fs", type(error).__name__, delay)
                await asyncio.sleep(delay)

    # -- receiving ---------------------------------------------------------------------------

    async def _health(self, _request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def _receive(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            self.rejected += 1
            log.warning("webhook request with a wrong or missing secret token refused")
            return web.Response(status=401)
        try:
            update = Update.model_validate(await request.json(), context={"bot": self.bot})
        except Exception:
            log.warning("webhook request body is not an update")
            return web.Response(status=400)
        queue = order_key(update) or f"{PLATFORM}:update:{update.update_id}"
        try:
            async with self.ctx.db.transaction() as session:
                stored = await store_in_queue(
                    session, PLATFORM, incoming(update), queue, now=self.ctx.clock.now()
                )
        except Exception:
            log.exception("storing a webhook update failed; Telegram will redeliver it")
            return web.Response(status=500)
        if stored is None:
            log.info("ignored update %s seen before", update.update_id)
        else:
            self._drain_soon(queue)
        return web.Response(status=200)

    # -- draining queues ---------------------------------------------------------------------

    def _drain_soon(self, queue: str) -> None:
        """Make sure ``queue`` is drained after now (one drainer per queue in this process)."""
        if queue in self._draining:
            self._again.add(queue)
            return
        self._draining.add(queue)
        task = asyncio.create_task(self._drain_task(queue), name=f"telegram-queue-{queue}")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._changed.set()

    async def _drain_task(self, queue: str) -> None:
        try:
            while True:
                self._again.discard(queue)
                try:
                    async with self._slots, self._locks.hold(queue):
                        await self._drain(queue)
                except Exception:
                    log.exception("draining queue %s failed; the sweep will retry", queue)
                    return
                if queue not in self._again:
                    return
        finally:
            self._draining.discard(queue)
            self._again.discard(queue)

    async def _drain(self, queue: str) -> None:
        """Handle ``queue``'s pending rows oldest first (the caller holds its drain lock)."""
        while True:
            async with self.ctx.db.transaction() as session:
                row = await next_in_queue(session, PLATFORM, queue)
                if row is None:
                    return
                poisoned = row.response is None and row.attempts >= MAX_ATTEMPTS
                if poisoned:
                    await inbox.mark(session, [row.id], status=inbox.FAILED, now=self.ctx.clock.now())
                else:
                    await inbox.count_attempts(session, [row.id])
            if poisoned:
                log.error("update %s failed %d times; giving up on it", row.update_key, MAX_ATTEMPTS)
                continue
            event = self.handler.read(row.update_key, row.payload)
            if event is not None:
                await self.handler.handle(event, row.id, row.response)
            async with self.ctx.db.transaction() as session:
                await inbox.mark(session, [row.id], now=self.ctx.clock.now())
            self.handled += 1
            if self.on_handled is not None:
                self.on_handled()

    async def _sweep_loop(self) -> None:
        """Drain every queue with pending rows: at start, then every ``sweep_interval``."""
        while True:
            try:
                async with self.ctx.db.read() as session:
                    queues = await queues_with_pending(session, PLATFORM)
                for queue in queues:
                    self._drain_soon(queue)
            except Exception:
                log.exception("looking for pending updates failed")
            await asyncio.sleep(self.sweep_interval)


def check_secret(secret: str) -> str | None:
    """Why ``secret`` cannot be Telegram's secret token (1-256 of A-Z a-z 0-9 _ -), or None."""
    if not 1 <= len(secret) <= 256:
        return "must be 1 to 256 characters long"
    if not all(c.isascii() and (c.isalnum() or c in "_-") for c in secret):
        return "may hold only A-Z, a-z, 0-9, _ and -"
    return None
