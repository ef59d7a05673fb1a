"""Client-side rate limits, because neither aiogram nor vkbottle has any.

Telegram (Bots FAQ): about 30 messages a second overall, about one a second in one chat
(short bursts tolerated in private chats), at most 20 a minute in one group.
VK: 20 API requests a second for a community token.

The overall pace is kept twice. Requests are spaced evenly (``1 / per_second`` apart), and
no second holds more than ``per_second`` of them, counted when they really went: a busy
event loop wakes sleepers late and lets several spaced turns go at once, which even spacing
alone would not notice. A request made under :meth:`RateLimiter.request` counts until a
second after its answer, since the platform counts it when it arrives, somewhere between
our sending and its answer: VK refuses the 21st request of a second outright (error 6).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Limits:
    per_second: float
    """Requests a second overall."""
    chat_interval: float = 0.0
    """Seconds between two messages in one chat, once its burst is spent."""
    chat_burst: int = 1
    """Messages a private chat may get back to back before ``chat_interval`` applies."""
    group_per_minute: int | None = None
    """Messages a minute in one group chat."""


TELEGRAM_LIMITS = Limits(per_second=30, chat_interval=1.0, chat_burst=3, group_per_minute=20)
VK_LIMITS = Limits(per_second=20)


@dataclass(slots=True)
class _Chat:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    tokens: float = 0.0
    refilled_at: float = 0.0
    not_before: float = 0.0
    recent: deque[float] = field(default_factory=deque)
    waiters: int = 0
    group: bool = False


class RateLimiter:
    """``await limiter.wait(chat, group=...)`` before every request to ``chat``.

    One chat's callers go one at a time; the global pace is shared by all chats, and a
    chat waiting for its own turn never holds the others up. ``hold_off`` pauses a chat
    (or everything) after the platform said "too many requests".
    """

    def __init__(
        self,
        limits: Limits,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = asyncio.sleep,
        margin: float = 0.02,
    ) -> None:
        self.limits = limits
        self._clock = clock
        self._sleep = sleep
        self._margin = margin
        self._chats: dict[str, _Chat] = {}
        self._global_next = 0.0
        self._global_not_before = 0.0
        self._calls = 0
        self._window = max(1, math.floor(limits.per_second))
        """Requests one second may hold."""
        self._ended: deque[float] = deque()
        """When the requests of the last second ended (their answer came, or they were sent)."""
        self._in_flight = 0
        self._freed = asyncio.Event()

    async def _sleep_until(self, moment: float) -> None:
        delay = moment - self._clock()
        if delay > 0:
            await self._sleep(delay)  # type: ignore[misc]

    async def wait(self, chat_key: str | None = None, *, group: bool = False) -> None:
        """Return when a request to ``chat_key`` may go; it counts as made now."""
        await self._turn(chat_key, group)
        self._end()

    @contextlib.asynccontextmanager
    async def request(self, chat_key: str | None = None, *, group: bool = False) -> AsyncIterator[None]:
        """``async with limiter.request(chat):`` make the request inside; it counts from its
        turn until a second after the block ends (when its answer came, or it failed)."""
        await self._turn(chat_key, group)
        try:
            yield
        finally:
            self._end()

    async def _turn(self, chat_key: str | None, group: bool) -> None:
        """Wait for the request's turn; on return it is in flight (``_end`` must follow)."""
        if chat_key is None:
            await self._global_turn()
            return
        chat = self._chats.get(chat_key)
        if chat is None:
            chat = self._chats[chat_key] = _Chat(
                tokens=float(self._burst(group)), refilled_at=self._clock(), group=group
            )
        self._calls += 1
        if self._calls % 512 == 0:
            self._sweep()
        chat.waiters += 1
        try:
            async with chat.lock:
                await self._chat_turn(chat, group)
                await self._global_turn()
                self._spend(chat, group)
        finally:
            chat.waiters -= 1
            if chat.waiters == 0 and self._idle(chat):
                self._chats.pop(chat_key, None)

    def hold_off(self, seconds: float, chat_key: str | None = None) -> None:
        """Send nothing to ``chat_key`` (or anywhere, when None) for ``seconds``."""
        until = self._clock() + seconds
        if chat_key is None:
            self._global_not_before = max(self._global_not_before, until)
            return
        chat = self._chats.setdefault(chat_key, _Chat(refilled_at=self._clock()))
        chat.not_before = max(chat.not_before, until)
        chat.tokens = 0.0

    # -- internals -------------------------------------------------------------------

    def _burst(self, group: bool) -> int:
        return 1 if group else max(1, self.limits.chat_burst)

    async def _chat_turn(self, chat: _Chat, group: bool) -> None:
        limits = self.limits
        while True:
            now = self._clock()
            ready = chat.not_before
            if limits.chat_interval > 0:
                burst = self._burst(group)
                chat.tokens = min(burst, chat.tokens + (now - chat.refilled_at) / limits.chat_interval)
                chat.refilled_at = now
                if chat.tokens < 1:
                    ready = max(ready, now + (1 - chat.tokens) * limits.chat_interval)
            if group and limits.group_per_minute:
                while chat.recent and chat.recent[0] <= now - 60:
                    chat.recent.popleft()
                if len(chat.recent) >= limits.group_per_minute:
                    ready = max(ready, chat.recent[0] + 60)
            if ready <= now:
                return
            await self._sleep_until(ready + self._margin)

    async def _global_turn(self) -> None:
        now = self._clock()
        slot = max(now, self._global_next, self._global_not_before)
        self._global_next = slot + 1 / self.limits.per_second
        await self._sleep_until(slot)
        # Woken late, several turns may be due at once: also hold the count of one second.
        while True:
            now = self._clock()
            while self._ended and self._ended[0] + 1.0 <= now:
                self._ended.popleft()
            if self._in_flight + len(self._ended) < self._window:
                self._in_flight += 1
                return
            if self._ended:
                await self._sleep_until(self._ended[0] + 1.0 + self._margin)
            else:  # the whole second is in flight: the first answer frees a place
                await self._freed.wait()

    def _end(self) -> None:
        self._in_flight -= 1
        self._ended.append(self._clock())
        self._freed.set()
        self._freed = asyncio.Event()

    def _spend(self, chat: _Chat, group: bool) -> None:
        now = self._clock()
        if self.limits.chat_interval > 0:
            chat.tokens -= 1
        if group and self.limits.group_per_minute:
            chat.recent.append(now)

    def _sweep(self) -> None:
        for key, chat in list(self._chats.items()):
            if chat.waiters == 0 and self._idle(chat):
                del self._chats[key]

    def _idle(self, chat: _Chat) -> bool:
        """A chat whose state no longer matters can be forgotten (bounded memory)."""
        now = self._clock()
        if chat.not_before > now or chat.recent:
            return chat.not_before <= now and all(t <= now - 60 for t in chat.recent)
        if self.limits.chat_interval <= 0:
            return True
        refilled = chat.tokens + (now - chat.refilled_at) / self.limits.chat_interval
        return refilled >= self._burst(chat.group)
