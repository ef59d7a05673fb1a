"""The client-side limiter, on a virtual clock: sleeping moves time, nothing really waits."""

from __future__ import annotations

import asyncio
import itertools

from bot.ratelimit import TELEGRAM_LIMITS, VK_LIMITS, Limits, RateLimiter


class VirtualTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)


def _limiter(limits: Limits) -> tuple[RateLimiter, VirtualTime]:
    vt = VirtualTime()
    return RateLimiter(limits, clock=vt.clock, sleep=vt.sleep, margin=0.0), vt


async def test_group_gets_at_most_twenty_a_minute_and_one_a_second() -> None:
    limiter, vt = _limiter(TELEGRAM_LIMITS)
    times = []
    for _ in range(45):
        await limiter.wait("-100", group=True)
        times.append(vt.now)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 1.0 - 1e-9
    for i in range(len(times) - 20):
        assert times[i + 20] - times[i] >= 60 - 1e-9
    # Not slower than needed: the 21st message goes right when the window allows it.
    assert times[20] - times[0] <= 60 + 1e-6


async def test_private_chat_bursts_then_paces() -> None:
    limiter, vt = _limiter(TELEGRAM_LIMITS)
    times = []
    for _ in range(6):
        await limiter.wait("42")
        times.append(vt.now)
    assert times[2] - times[0] < 0.2  # a burst of three
    # Six messages from a bucket of three refilled once a second: not before t=3.
    assert times[5] - times[0] >= 3.0 - 1e-6
    assert times[5] - times[0] <= 3.2


async def test_global_pace_holds_across_many_chats() -> None:
    limiter, vt = _limiter(VK_LIMITS)
    times = []
    for n in range(100):
        await limiter.wait(str(n))
        times.append(vt.now)
    assert times[-1] - times[0] >= 99 / 20 - 1e-6
    assert times[-1] - times[0] <= 99 / 20 + 1e-6


async def test_hold_off_pauses_one_chat_or_everything() -> None:
    limiter, vt = _limiter(TELEGRAM_LIMITS)
    limiter.hold_off(7, "-100")
    await limiter.wait("-200", group=True)
    assert vt.now < 1
    await limiter.wait("-100", group=True)
    assert vt.now >= 7
    start = vt.now
    limiter.hold_off(5)
    await limiter.wait("-300", group=True)
    assert vt.now >= start + 5


async def test_waiting_chat_does_not_block_others() -> None:
    limiter, vt = _limiter(TELEGRAM_LIMITS)
    for _ in range(20):
        await limiter.wait("-busy", group=True)
    busy = asyncio.create_task(limiter.wait("-busy", group=True))
    await asyncio.sleep(0)
    at = vt.now
    await limiter.wait("-calm", group=True)
    assert vt.now - at < 1
    await busy


async def test_idle_chats_are_forgotten() -> None:
    limiter, vt = _limiter(TELEGRAM_LIMITS)
    for n in range(600):
        await limiter.wait(str(n))
        if n == 300:
            vt.now += 120
    # Chats idle for two minutes were swept; the recent ones are still paced.
    assert 0 < len(limiter._chats) < 400
