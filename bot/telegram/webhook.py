"""Telegram in webhook mode: an aiohttp server Telegram POSTs updates to, one of several workers.

Receiving. A POST to ``webhook_path`` must carry ``X-Telegram-Bot-Api-Secret-Token`` equal
to the configured secret (compared in constant time; otherwise 401 and nothing is stored).
The body is stored as Telegram sent it (``Runtime.receive``) and committed *before* we
answer 200, so anything we did not store is redelivered by Telegram; an update id stored
before (a redelivery, or the same update reaching two workers) is answered 200 and not
stored again. A body that is not a JSON object with an ``update_id`` is refused (400); an
update aiogram's model cannot read is stored all the same and fails alone when it is
handled. ``GET /healthz`` answers 200 for the load balancer.

Handling, in order, across workers, crashes and poison updates: ``bot.runtime`` (one queue
per person or group chat, drained under a PostgreSQL advisory lock by whichever worker holds
it; every worker sweeps for stranded rows at start and every ``sweep_interval`` seconds).
"""

from __future__ import annotations

import asyncio
import hmac
import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError
from aiohttp import web

from bot.runtime import Runtime
from bot.telegram.adapter import ALLOWED_UPDATES, TelegramAdapter

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HEALTH_PATH = "/healthz"


class TelegramWebhook:
    """The Telegram channel in webhook mode: ``await start()``, ``await stop()``."""

    name = "telegram"

    def __init__(
        self,
        bot: Bot,
        runtime: Runtime,
        *,
        url: str,
        secret: str,
        host: str = "127.0.0.1",
        port: int = 8080,
        path: str = "/telegram/webhook",
    ) -> None:
        self.bot = bot
        self.runtime = runtime
        self.url = url
        self.host = host
        self.port = port
        self.path = path
        self._secret = secret.encode()
        self._runner: web.AppRunner | None = None
        self.rejected = 0
        """Requests refused for a wrong or missing secret."""

    @property
    def handled(self) -> int:
        """Updates handled by this worker since start (for tests and diagnostics)."""
        return self.runtime.handled

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        if isinstance(self.runtime.adapter, TelegramAdapter):
            await self.runtime.adapter.learn_username()
        await self.runtime.start()
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
        await self._set_webhook()

    async def stop(self, *, grace: float = 10.0) -> None:
        """Stop receiving, let updates in flight finish (up to ``grace`` seconds). The webhook
        stays set: other workers go on receiving."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.runtime.stop(grace=grace)

    async def settled(self) -> None:
        """Wait until nothing this worker received is still being handled."""
        await self.runtime.settled()

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
            raw = await request.json()
        except ValueError:
            raw = None
        update_id = raw.get("update_id") if isinstance(raw, dict) else None
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            log.warning("webhook request body is not an update")
            return web.Response(status=400)
        try:
            await self.runtime.receive([raw])
        except Exception:
            log.exception("storing a webhook update failed; Telegram will redeliver it")
            return web.Response(status=500)
        return web.Response(status=200)


def check_secret(secret: str) -> str | None:
    """Why ``secret`` cannot be Telegram's secret token (1-256 of A-Z a-z 0-9 _ -), or None."""
    if not 1 <= len(secret) <= 256:
        return "must be 1 to 256 characters long"
    if not all(c.isascii() and (c.isalnum() or c in "_-") for c in secret):
        return "may hold only A-Z, a-z, 0-9, _ and -"
    return None
