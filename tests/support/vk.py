"""The real VK adapter wired to the fake VK server, for tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from bot.config import Settings, VkSettings
from bot.media import MediaRegistry
from bot.ratelimit import VK_LIMITS, RateLimiter
from bot.vk.api import VkApi
from bot.vk.runner import VkRunner
from bot.vk.transport import VkTransport
from tests.fake_vk import GROUP_ID, TOKEN, FakeVk


def vk_settings(vk: FakeVk, tmp_path: Any, database_url: str = "sqlite+aiosqlite://") -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path,
        vk=VkSettings(group_token=SecretStr(TOKEN), group_id=GROUP_ID, api_base=vk.base, poll_wait=1),
    )


def vk_api(vk: FakeVk, *, limiter: RateLimiter | None = None) -> VkApi:
    return VkApi(TOKEN, api_base=vk.base, limiter=limiter if limiter is not None else RateLimiter(VK_LIMITS))


def vk_transport(
    vk: FakeVk, *, limiter: RateLimiter | None = None, media: MediaRegistry | None = None, **kwargs: Any
) -> VkTransport:
    kwargs.setdefault("too_many_pause", 0.05)
    kwargs.setdefault("flood_pause", 0.1)
    return VkTransport(vk_api(vk, limiter=limiter), media=media, **kwargs)


@dataclass
class VkBot:
    vk: FakeVk
    runner: VkRunner

    async def settle(self) -> None:
        """Wait until everything VK delivered so far has been handled and answered."""
        await self.vk.wait_until(self.vk.caught_up)
        await self.runner.idle()


@asynccontextmanager
async def running_vk_bot(
    vk: FakeVk, core: Any, db: Any, tmp_path: Any, *, transport: VkTransport | None = None, **kwargs: Any
) -> AsyncIterator[VkBot]:
    transport = transport or vk_transport(vk)
    runner = VkRunner(vk_settings(vk, tmp_path, db.url), core, db, transport, retry_base=0.02, **kwargs)
    await runner.start()
    try:
        await vk.wait_until(vk.polling)
        yield VkBot(vk, runner)
    finally:
        await runner.stop()
        await transport.api.close()
