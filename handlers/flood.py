"""Flood control for residents: at most ``limits.messages_per_minute`` events a minute.

The first event over the limit gets one polite answer; the rest are dropped in silence
until the window has room again (answering every flood message would be us flooding).
State is in memory, per process, and bounded: idle people are forgotten once their window
has passed, and at most ``max_people`` are remembered at all (the longest idle go first).
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from handlers.events import PersonRef

WINDOW = timedelta(minutes=1)


class Verdict(StrEnum):
    ALLOW = "allow"
    WARN = "warn"
    """Over the limit for the first time in this window: say so, once."""
    DROP = "drop"
    """Over the limit again: handle nothing, answer nothing."""


@dataclass(slots=True)
class _Track:
    accepted: deque[datetime]
    last_seen: datetime
    warned: bool = False


class FloodGuard:
    def __init__(self, *, window: timedelta = WINDOW, max_people: int = 100_000) -> None:
        self.window = window
        self.max_people = max_people
        self._people: OrderedDict[PersonRef, _Track] = OrderedDict()

    def __len__(self) -> int:
        return len(self._people)

    def check(self, person: PersonRef, now: datetime, limit: int) -> Verdict:
        """Count one event of ``person`` at ``now`` against ``limit`` events per window."""
        self._forget_idle(now)
        track = self._people.get(person)
        if track is None or track.accepted.maxlen != limit:
            track = _Track(deque(track.accepted if track else (), maxlen=limit), now)
            self._people[person] = track
        self._people.move_to_end(person)
        track.last_seen = now
        while track.accepted and now - track.accepted[0] >= self.window:
            track.accepted.popleft()
        if len(track.accepted) < limit:
            track.accepted.append(now)
            track.warned = False
            return Verdict.ALLOW
        if track.warned:
            return Verdict.DROP
        track.warned = True
        return Verdict.WARN

    def _forget_idle(self, now: datetime) -> None:
        """People are kept in order of their last event: drop the idle ones from the front."""
        while self._people:
            person, track = next(iter(self._people.items()))
            if len(self._people) <= self.max_people and now - track.last_seen < self.window:
                break
            del self._people[person]
