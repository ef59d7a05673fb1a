"""Loops that cannot die quietly, and a health line that says they are alive.

Every long-running loop of the bot (a poller, the outbox sender, the inbox sweeps) runs
under a :class:`Supervisor`: if it raises, or returns when it should not, the error is logged
with its traceback and the loop is started again after a backoff. A loop that keeps failing
right after each start (``max_failures`` times in a row, each within ``stable_after``
seconds) cannot go on: the supervisor sets :attr:`Supervisor.fatal`, and ``appeals run``
exits with a non-zero code so that a process supervisor (systemd, Docker) restarts it.

Each loop beats a :class:`Heartbeat` as it goes round. Every ``health_interval`` seconds the
supervisor logs one line naming each loop and how long ago it last beat; a loop silent for
longer than three times its expected period is named as stalled, at WARNING.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Heartbeat:
    """A loop's sign of life: ``beat()`` at every round."""

    name: str
    expected_every: float = 60.0
    """How often the loop goes round when all is well (seconds)."""
    last: float | None = None
    beats: int = 0

    def beat(self) -> None:
        self.last = time.monotonic()
        self.beats += 1

    def age(self) -> float | None:
        return None if self.last is None else time.monotonic() - self.last


@dataclass(slots=True)
class _Loop:
    name: str
    factory: Callable[[], Awaitable[None]]
    heartbeat: Heartbeat | None
    should_run: Callable[[], bool]
    task: asyncio.Task[None] | None = None
    restarts: int = 0


@dataclass
class Supervisor:
    """Runs loops, restarts them when they fail, logs their health; see the module docstring."""

    health_interval: float = 300.0
    base_backoff: float = 0.5
    max_backoff: float = 30.0
    max_failures: int = 10
    stable_after: float = 60.0
    fatal: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when a loop cannot be kept alive: the process should exit non-zero."""
    fatal_reason: str | None = None
    _loops: list[_Loop] = field(default_factory=list)
    _beats: list[Heartbeat] = field(default_factory=list)
    _health: asyncio.Task[None] | None = None

    def spawn(
        self,
        name: str,
        factory: Callable[[], Awaitable[None]],
        *,
        heartbeat: Heartbeat | None = None,
        should_run: Callable[[], bool] = lambda: True,
    ) -> asyncio.Task[None]:
        """Run ``factory()`` until it is cancelled, starting it again whenever it fails or
        returns while ``should_run()`` holds. Cancel the returned task to stop it."""
        loop = _Loop(name, factory, heartbeat, should_run)
        if heartbeat is not None:
            self.watch(heartbeat)
        loop.task = asyncio.create_task(self._keep(loop), name=name)
        self._loops.append(loop)
        return loop.task

    def watch(self, heartbeat: Heartbeat) -> None:
        """Name ``heartbeat`` in the health line (for loops kept alive elsewhere)."""
        if heartbeat not in self._beats:
            self._beats.append(heartbeat)

    def start_health(self) -> None:
        if self._health is None and self.health_interval > 0:
            self._health = asyncio.create_task(self._health_loop(), name="health")

    async def stop(self) -> None:
        tasks = [loop.task for loop in self._loops if loop.task is not None]
        if self._health is not None:
            tasks.append(self._health)
            self._health = None
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def health(self) -> dict[str, str]:
        """Each watched loop and how long ago it beat (``"3s"``, ``"never"``)."""
        report = {}
        for beat in self._beats:
            age = beat.age()
            report[beat.name] = "never" if age is None else f"{age:.0f}s"
        return report

    async def _keep(self, loop: _Loop) -> None:
        failures = 0
        while True:
            began = time.monotonic()
            try:
                await loop.factory()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("loop %s failed", loop.name)
            else:
                if not loop.should_run():
                    return
                log.error("loop %s ended on its own", loop.name)
            failures = 1 if time.monotonic() - began >= self.stable_after else failures + 1
            loop.restarts += 1
            if failures >= self.max_failures:
                self.fatal_reason = f"loop {loop.name} failed {failures} times in a row"
                log.critical("%s; the process must be restarted", self.fatal_reason)
                self.fatal.set()
                return
            delay = min(self.max_backoff, self.base_backoff * 2 ** (failures - 1))
            log.warning("restarting loop %s in %.1fs", loop.name, delay)
            await asyncio.sleep(delay)

    async def _health_loop(self) -> None:
        while True:
            await asyncio.sleep(self.health_interval)
            try:
                self.log_health()
            except Exception:
                log.exception("the health line failed")

    def log_health(self) -> None:
        report = self.health()
        stalled = [
            beat.name
            for beat in self._beats
            if (age := beat.age()) is None or age > 3 * max(beat.expected_every, self.health_interval / 3)
        ]
        dead = [loop.name for loop in self._loops if loop.task is not None and loop.task.done()]
        line = ", ".join(f"{name} {age} ago" for name, age in report.items()) or "no loops"
        if stalled or dead:
            log.warning("health: %s; stalled: %s", line, ", ".join(stalled + dead))
        else:
            log.info("health: all loops alive: %s", line)
