"""VK's Callback API: VK POSTs every event to us, the counterpart of Telegram's webhook.

What VK documents (dev.vk.com, "Callback API", /ru/api/callback/getting-started): pressing
«Подтвердить» in the community's settings POSTs ``{"type": "confirmation", "group_id": …}``
and the server must answer with the community's confirmation string; every other event
carries the ``secret`` key set there, and must be answered HTTP 200 with the body ``ok``,
or VK sends it again (a server that keeps failing is paused by VK for a while).

So a worker here:

* answers the confirmation with ``VK_CONFIRMATION_CODE``, for our community only;
* refuses (403, nothing stored) an event whose ``secret`` is not ``VK_CALLBACK_SECRET``
  (compared in constant time) or that belongs to another community;
* stores the event (without its secret) and commits *before* it answers ``ok``: an event
  we did not store is sent again by VK; storing failed → HTTP 500, VK sends it again;
* recognises an event sent again by its ``event_id``: answered ``ok``, stored once.

What happens to a stored event (order per chat across workers, exactly once, crashes) is
the receiver's business: the same road the long poll's events take.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"

Receive = Callable[[Sequence[dict[str, Any]]], Awaitable[object]]
"""Stores events and commits before it returns (raises when nothing was stored)."""


class VkCallbackServer:
    """One worker's Callback API endpoint: ``await start()``, ``await stop()``."""

    def __init__(
        self,
        receive: Receive,
        *,
        group_id: int,
        confirmation_code: str,
        secret: str,
        host: str = "127.0.0.1",
        port: int = 8081,
        path: str = "/vk/callback",
    ) -> None:
        self.receive = receive
        self.group_id = group_id
        self.host = host
        self.port = port
        self.path = path
        self._confirmation = confirmation_code
        self._secret = secret.encode()
        self._runner: web.AppRunner | None = None
        self.received = 0
        """Events this worker stored or recognised (answered ``ok``)."""
        self.refused = 0
        """Requests refused for a wrong secret or another community."""

    async def start(self) -> None:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_post(self.path, self._request)
        app.router.add_get(HEALTH_PATH, self._health)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        if sockets:
            self.port = sockets[0].getsockname()[1]
        log.info("vk callback listening", extra={"host": self.host, "port": self.port, "path": self.path})

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{self.path}"

    async def _health(self, _request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def _request(self, request: web.Request) -> web.Response:
        try:
            body = json.loads(await request.read())
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("type"), str):
            return web.Response(status=400, text="not a Callback API event")
        if body.get("group_id") != self.group_id:
            self.refused += 1
            log.warning("vk callback for another community refused")
            return web.Response(status=403, text="unknown community")
        if body["type"] == "confirmation":
            log.info("vk callback server confirmation answered")
            return web.Response(text=self._confirmation)
        given = str(body.pop("secret", "")).encode()
        if not hmac.compare_digest(given, self._secret):
            self.refused += 1
            log.warning("vk callback event with a wrong or missing secret refused")
            return web.Response(status=403, text="bad secret")
        try:
            await self.receive([body])
        except Exception:
            log.exception("storing a vk callback event failed; VK will send it again")
            return web.Response(status=500, text="not stored")
        self.received += 1
        return web.Response(text="ok")
