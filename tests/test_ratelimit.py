"""The client-side limiter, on a virtual clock: sleeping moves time, nothing really waits."""

from __future__ import annotations

import asyncio
import bisect
import heapq
import itertools
import math
from collections.abc import Coroutine
from typing import Any

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


class SharedTime:
    """Virtual time for concurrent tasks: once every task waits, time jumps to the earliest
    wake-up. ``late`` makes some wake-ups late, as a busy event loop does."""

    def __init__(self, late: dict[int, float] | None = None) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._count = itertools.count()
        self._late = late or {}

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        n = next(self._count)
        wake = self.now + max(seconds, 0.0) + self._late.get(n, 0.0)
        if seconds > 0:
            wake = max(wake, math.nextafter(self.now, math.inf))  # always some progress
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (wake, n, future))
        await future

    async def run(self, *jobs: Coroutine[Any, Any, None]) -> None:
        tasks = [asyncio.create_task(job) for job in jobs]
        while not all(task.done() for task in tasks):
            for _ in range(20):  # let every task run until it waits
                await asyncio.sleep(0)
            if self._sleepers:
                wake, _n, future = heapq.heappop(self._sleepers)
                self.now = max(self.now, wake)
                future.set_result(None)
        await asyncio.gather(*tasks)


def _most_in_one_second(times: list[float]) -> int:
    ordered = sorted(times)
    return max(bisect.bisect_left(ordered, t + 1.0) - i for i, t in enumerate(ordered))


async def test_late_wake_ups_never_put_more_than_the_limit_into_one_second() -> None:
    """A busy event loop wakes a sleeper late and the turns due meanwhile go at once; no
    second may hold more than VK's 20 requests all the same (VK refuses the 21st: error 6)."""
    late = dict.fromkeys(range(3, 200, 9), 0.12)
    time = SharedTime(late)
    limiter = RateLimiter(VK_LIMITS, clock=time.clock, sleep=time.sleep, margin=0.0)
    sent: list[float] = []

    async def call() -> None:
        await limiter.wait(None)
        sent.append(time.now)

    await time.run(*(call() for _ in range(120)))
    assert len(sent) == 120
    assert _most_in_one_second(sent) <= 20


async def test_a_request_counts_until_its_answer_came() -> None:
    """VK counts a request when it arrives, somewhere between our sending and its answer: a
    request made under ``request()`` holds its place until a second after the answer."""
    time = SharedTime()
    limiter = RateLimiter(VK_LIMITS, clock=time.clock, sleep=time.sleep, margin=0.0)
    spans: list[tuple[float, float]] = []

    async def call(n: int) -> None:
        async with limiter.request(None):
            began = time.now
            await time.sleep(0.05 + 0.4 * (n % 3))  # answers take their time
        spans.append((began, time.now))

    await time.run(*(call(n) for n in range(80)))
    assert len(spans) == 80
    # Wherever in its span each request arrived, no second held more than 20 of them: a
    # second [t, t + 1) may hold every request that began before t + 1 and ended at t or later.
    most = max(sum(began < t + 1.0 and end >= t for began, end in spans) for _b, t in spans)
    assert most <= 20
    # And no slower than that: the 21st request goes when the first one's second is over.
    first_end = min(end for _began, end in spans)
    assert sorted(began for began, _end in spans)[20] <= first_end + 1.0 + 1e-9
