"""The real VK adapter wired to the fake VK server, for tests."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from bot.config import Settings, VkSettings
from bot.media import MediaRegistry
from bot.ratelimit import VK_LIMITS, RateLimiter
from bot.sender import OutboxSender
from bot.vk.api import VkApi
from bot.vk.runner import VkRunner
from bot.vk.transport import VkTransport
from handlers.clock import SystemClock
from handlers.events import Platform
from tests.fake_vk import GROUP_ID, TOKEN, FakeVk, Message
from tests.support.telegram import outbox_drained


def vk_settings(
    vk: FakeVk, tmp_path: Any, database_url: str = "sqlite+aiosqlite://", *, group_id: int | None = GROUP_ID
) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path,
        vk=VkSettings(group_token=SecretStr(TOKEN), group_id=group_id, api_base=vk.base, poll_wait=1),
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
    sender: OutboxSender

    async def settle(self, outbox_timeout: float = 5.0) -> None:
        """Wait until everything VK delivered so far has been handled and answered (the
        replies sent: they go through the outbox, whose sender keeps real time)."""
        await self.vk.wait_until(self.vk.caught_up)
        await self.runner.idle()
        await outbox_drained(self.runner.db, None, outbox_timeout, platforms=["vk"])


@asynccontextmanager
async def running_vk_bot(
    vk: FakeVk,
    core: Any,
    db: Any,
    tmp_path: Any,
    *,
    transport: VkTransport | None = None,
    group_id: int | None = GROUP_ID,
    **kwargs: Any,
) -> AsyncIterator[VkBot]:
    transport = transport or vk_transport(vk)
    settings = vk_settings(vk, tmp_path, db.url, group_id=group_id)
    # The sender keeps real time (a rate limit's wait, a retry's backoff pass), whatever clock
    # the core is given.
    sending_ctx = dataclasses.replace(core.ctx, clock=SystemClock())
    sender = OutboxSender(db, {Platform.VK: transport}, sending_ctx, backoff_base=0.02, backoff_jitter=0.0)
    runner = VkRunner(settings, core, db, transport, retry_base=0.02, on_committed=sender.notify, **kwargs)
    sending = asyncio.create_task(sender.run())
    await runner.start()
    try:
        await vk.wait_until(vk.polling)
        yield VkBot(vk, runner, sender)
    finally:
        await runner.stop()
        sender.stop()
        try:
            await asyncio.wait_for(asyncio.shield(sending), 2.0)
        except TimeoutError:  # a delivery that never ends (a test's stalled transport)
            sending.cancel()
            await asyncio.gather(sending, return_exceptions=True)
        await transport.api.close()


class VkChat:
    """One VK chat as a person sees it: ``await chat.expect("текст")`` waits for the bot's
    next message containing it; later calls look after it."""

    def __init__(self, vk: FakeVk, peer_id: int, *, from_id: int | None = None) -> None:
        self.vk = vk
        self.peer_id = peer_id
        self.from_id = from_id
        self._seen = 0

    @property
    def messages(self) -> list[Message]:
        return self.vk.bot_messages(self.peer_id)

    async def expect(self, contains: str, *, within: float = 5.0) -> Message:
        found: list[Message] = []

        def look() -> bool:
            for index, message in enumerate(self.messages[self._seen :], start=self._seen):
                if contains in message.text:
                    found.append(message)
                    self._seen = index + 1
                    return True
            return False

        try:
            await self.vk.wait_until(look, within=within)
        except TimeoutError:
            unread = [m.text[:120] for m in self.messages[self._seen :]]
            raise AssertionError(
                f"no message with {contains!r} in {self.peer_id}; unread: {unread}"
            ) from None
        return found[0]

    async def labels_on_screen(self, *, settle: float = 0.3) -> list[str]:
        """Every button label from the last expected message on: a screen may take several
        messages when its buttons do not fit one keyboard. Waits ``settle`` seconds for
        the rest of the screen to arrive, and marks it read."""
        await asyncio.sleep(settle)
        start = max(self._seen - 1, 0)
        messages = self.messages[start:]
        self._seen = start + len(messages)
        return [label for message in messages for label in message.labels()]

    async def expect_edit(self, message: Message, contains: str, *, within: float = 5.0) -> None:
        try:
            await self.vk.wait_until(lambda: contains in message.text, within=within)
        except TimeoutError:
            raise AssertionError(f"message never came to say {contains!r}: {message.text!r}") from None

    async def write(self, text: str) -> Message:
        return await self.vk.user_writes(self.peer_id, text, from_id=self.from_id)

    async def press(self, label: str) -> None:
        await self.vk.user_presses(self.peer_id, label, from_id=self.from_id)
