"""Telegram in polling mode: our own getUpdates loop, reading Telegram's raw JSON.

aiogram's polling acknowledges an update before it is handled and parses a whole batch with
one model (one update it refuses fails the batch, and the same offset is asked forever).
So getUpdates is called here through plain HTTP to the configured Bot API server, each batch
is stored as sent with the next offset (``Runtime.receive``), and only the next getUpdates,
with that offset, acknowledges it. Each update is parsed alone when it is handled.

On start the webhook, if one is set, is deleted (keeping its pending updates), or getUpdates
would be refused. The loop never ends on its own: a failed call or a failed store is logged
and retried after a backoff (the same offset: nothing was acknowledged).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

import aiohttp
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError

from bot.runtime import Runtime
from bot.supervision import Heartbeat, Supervisor
from bot.telegram.adapter import ALLOWED_UPDATES, PLATFORM, TelegramAdapter
from storage.kv import get_value

log = logging.getLogger(__name__)

OFFSET_KEY = "telegram:offset"
__all__ = ["ALLOWED_UPDATES", "OFFSET_KEY", "PLATFORM", "PollError", "TelegramPolling"]


class PollError(Exception):
    """getUpdates did not give a batch (an error answer, a garbled body, the network)."""

    def __init__(self, detail: str, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class TelegramPolling:
    """The Telegram channel in polling mode: ``await start()``, ``await stop()``."""

    name = "telegram"

    def __init__(
        self,
        bot: Bot,
        http: aiohttp.ClientSession,
        runtime: Runtime,
        *,
        poll_timeout: int = 25,
        max_backoff: float = 30.0,
        supervisor: Supervisor | None = None,
    ) -> None:
        self.bot = bot
        self.http = http
        self.runtime = runtime
        self.ctx = runtime.ctx
        self.poll_timeout = poll_timeout
        self.max_backoff = max_backoff
        self.supervisor = supervisor or Supervisor()
        self.heartbeat = Heartbeat("telegram-polling", expected_every=poll_timeout + 10)
        self._poller: asyncio.Task[None] | None = None
        self._url = bot.session.api.api_url(token=bot.token, method="getUpdates")

    @property
    def handled(self) -> int:
        return self.runtime.handled

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        if isinstance(self.runtime.adapter, TelegramAdapter):
            await self.runtime.adapter.learn_username()
        await self.runtime.start()
        self._poller = self.supervisor.spawn("telegram-polling", self.run, heartbeat=self.heartbeat)

    async def stop(self, *, grace: float = 10.0) -> None:
        """Stop polling, let updates in flight finish (up to ``grace`` seconds)."""
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        await self.runtime.stop(grace=grace)

    async def settled(self) -> None:
        await self.runtime.settled()

    # -- polling -----------------------------------------------------------------------------

    async def run(self) -> None:
        """Poll until cancelled; every failure is logged and retried after a backoff."""
        await self._drop_webhook()
        async with self.ctx.db.read() as session:
            stored = await get_value(session, OFFSET_KEY)
        offset = int(stored) if stored else None
        failures = 0
        while True:
            self.heartbeat.beat()
            try:
                updates = await self.get_updates(offset)
                if updates:
                    ids = [u["update_id"] for u in updates if _has_id(u)]
                    following = max(ids) + 1 if ids else offset
                    cursor = None if following is None else (OFFSET_KEY, str(following))
                    await self.runtime.receive(updates, cursor=cursor)
                    offset = following  # acknowledged by the next call, only once stored
            except asyncio.CancelledError:
                raise
            except Exception as error:
                failures += 1
                retry_after = getattr(error, "retry_after", None)
                delay = (
                    float(retry_after) if retry_after else min(self.max_backoff, 0.5 * 2 ** min(failures, 6))
                )
                if isinstance(error, PollError):
                    log.warning("getUpdates failed (%s); retrying in %.1fs", error, delay)
                    if "Conflict" in str(error):
                        await self._drop_webhook()
                else:
                    log.exception("storing polled updates failed; retrying in %.1fs", delay)
                await asyncio.sleep(delay)
                continue
            failures = 0

    async def get_updates(self, offset: int | None) -> list[dict[str, Any]]:
        """One getUpdates call; the updates exactly as Telegram sent them."""
        form: dict[str, Any] = {
            "timeout": str(self.poll_timeout),
            "allowed_updates": json.dumps(ALLOWED_UPDATES),
        }
        if offset is not None:
            form["offset"] = str(offset)
        timeout = aiohttp.ClientTimeout(total=self.poll_timeout + 10)
        try:
            async with self.http.post(self._url, data=form, timeout=timeout) as response:
                text = await response.text()
        except (aiohttp.ClientError, TimeoutError) as error:
            raise PollError(f"network: {type(error).__name__}: {error}") from error
        try:
            body = json.loads(text)
        except ValueError:
            raise PollError(f"HTTP {response.status}: not JSON") from None
        if not isinstance(body, dict):
            raise PollError(f"HTTP {response.status}: not an object")
        if not body.get("ok"):
            parameters = body.get("parameters") if isinstance(body.get("parameters"), dict) else {}
            retry_after = parameters.get("retry_after") if parameters else None
            raise PollError(
                f"{body.get('error_code')}: {body.get('description')}",
                float(retry_after) if isinstance(retry_after, int | float) else None,
            )
        result = body.get("result")
        if not isinstance(result, list):
            raise PollError("the result is not a list")
        updates = [u for u in result if isinstance(u, dict)]
        if len(updates) < len(result):
            log.error(
                "getUpdates returned %d item(s) that are not updates; skipped", len(result) - len(updates)
            )
        return updates

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


def _has_id(update: dict[str, Any]) -> bool:
    update_id = update.get("update_id")
    return isinstance(update_id, int) and not isinstance(update_id, bool)
