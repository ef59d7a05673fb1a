"""Bots Long Poll that loses nothing: each batch is stored as VK sent it, with the new
``ts``, in one commit (``Runtime.receive``) before the next request acknowledges it.

``failed`` answers are handled as VK documents them: 1 (history out of date) continue with
the ``ts`` given; 2 (key expired) get a new key and keep our ``ts``; 3 (information lost)
get a new key and ``ts``. A restart resumes from the stored ``ts``, so events that queued
while the bot was down are still received (VK keeps them for a while).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bot.runtime import Runtime
from bot.supervision import Heartbeat
from bot.vk.api import VkApi, VkApiError, VkNetworkError
from storage import kv

log = logging.getLogger(__name__)

PLATFORM = "vk"


def ts_key(group_id: int) -> str:
    return f"vk:{group_id}:longpoll_ts"


class LongPoller:
    def __init__(
        self,
        api: VkApi,
        runtime: Runtime,
        group_id: int,
        *,
        wait: int = 25,
        max_backoff: float = 30.0,
    ) -> None:
        self.api = api
        self.runtime = runtime
        self.db = runtime.ctx.db
        self.group_id = group_id
        self.wait = wait
        self.max_backoff = max_backoff
        self.heartbeat = Heartbeat("vk-long-poll", expected_every=wait + 10)
        self._server: str | None = None
        self._key: str | None = None
        self._ts: str | None = None
        self.failures: dict[int, int] = {1: 0, 2: 0, 3: 0}

    async def load_ts(self) -> None:
        async with self.db.read() as session:
            self._ts = await kv.get_value(session, ts_key(self.group_id))

    async def run(self) -> None:
        await self.load_ts()
        backoff = 0.5
        while True:
            self.heartbeat.beat()
            try:
                await self.poll_once()
            except (VkApiError, VkNetworkError) as exc:
                log.warning("vk long poll failed, retrying in %.1fs: %s", backoff, exc)
            except Exception:
                # The database, say: nothing was acknowledged, the same ts is asked again.
                log.exception("vk long poll batch failed, retrying in %.1fs", backoff)
            else:
                backoff = 0.5
                continue
            self._server = None
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.max_backoff)

    async def poll_once(self) -> int:
        """One long-poll request; returns how many new events were stored (and handed on)."""
        if self._server is None or self._key is None:
            info = await self.api.call("groups.getLongPollServer", group_id=self.group_id)
            self._server, self._key = str(info["server"]), str(info["key"])
            if self._ts is None:
                self._ts = str(info["ts"])
        assert self._ts is not None
        answer = await self.api.long_poll(self._server, self._key, self._ts, self.wait)
        failed = answer.get("failed")
        if failed is not None:
            self._on_failed(int(failed), answer)
            return 0
        raw = answer.get("updates") or []
        updates: list[dict[str, Any]] = [u for u in raw if isinstance(u, dict)]
        if len(updates) < len(raw):
            log.error(
                "vk long poll returned %d item(s) that are not events; skipped", len(raw) - len(updates)
            )
        new_ts = str(answer["ts"])
        stored = await self.runtime.receive(updates, cursor=(ts_key(self.group_id), new_ts))
        self._ts = new_ts
        return stored

    def _on_failed(self, failed: int, answer: dict[str, Any]) -> None:
        self.failures[failed] = self.failures.get(failed, 0) + 1
        if failed == 1 and answer.get("ts") is not None:
            log.warning("vk long poll: event history out of date, continuing from ts %s", answer["ts"])
            self._ts = str(answer["ts"])
        elif failed == 2:
            self._server = self._key = None
        else:
            log.warning("vk long poll: information lost (failed %s), new key and ts", failed)
            self._server = self._key = self._ts = None
