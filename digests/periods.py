"""Periods in the region's time zone: ISO weeks, the week so far, date ranges.

A period is a half-open interval of local wall-clock time, ``[start, end)``, turned into
UTC instants for the database. Comparisons ("the week before") shift the local times by
whole days, so a daylight-saving change never moves midnight.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MAX_DAYS = 93
"""The longest period /stats accepts (a chart of more days than this says nothing)."""


class PeriodError(ValueError):
    """Input that names no period we can report on."""


@dataclass(frozen=True, slots=True)
class Period:
    start_local: datetime
    """Naive local wall-clock time of the start (inclusive)."""
    end_local: datetime
    """Naive local wall-clock time of the end (exclusive)."""
    zone: ZoneInfo
    shift_days: int
    """How far back the comparison period lies (7 for weeks and the week so far)."""
    week: str | None = None
    """``2026-W47`` when the period is a whole ISO week."""

    @property
    def start(self) -> datetime:
        return _to_utc(self.start_local, self.zone)

    @property
    def end(self) -> datetime:
        return _to_utc(self.end_local, self.zone)

    @property
    def first_day(self) -> date:
        return self.start_local.date()

    @property
    def last_day(self) -> date:
        """The last local date the period touches."""
        return (self.end_local - timedelta(microseconds=1)).date()

    def days(self) -> list[date]:
        count = (self.last_day - self.first_day).days + 1
        return [self.first_day + timedelta(days=n) for n in range(count)]

    def day_boundaries(self) -> list[datetime]:
        """UTC instants cutting the period into local days (len(days()) + 1 of them)."""
        cuts = [self.start]
        for day in self.days()[1:]:
            cuts.append(_to_utc(datetime.combine(day, time()), self.zone))
        cuts.append(self.end)
        return cuts

    def until(self, moment: datetime) -> Period:
        """This period cut at ``moment`` (a week so far), compared with the same span before."""
        end = min(
            self.end_local, max(_local(moment, self.zone), self.start_local + timedelta(microseconds=1))
        )
        return Period(self.start_local, end, self.zone, self.shift_days)

    def previous(self) -> Period:
        back = timedelta(days=self.shift_days)
        week = None
        if self.week is not None:
            year, number, _ = (self.first_day - back).isocalendar()
            week = f"{year}-W{number:02d}"
        return Period(self.start_local - back, self.end_local - back, self.zone, self.shift_days, week)

    @property
    def key(self) -> str:
        """A short name for files and dedupe keys: the ISO week or the first and last day."""
        if self.week is not None:
            return self.week
        return f"{self.first_day.isoformat()}_{self.last_day.isoformat()}"


def _to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    return local.replace(tzinfo=zone).astimezone(UTC)


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def iso_week(year: int, number: int, zone: ZoneInfo) -> Period:
    try:
        monday = date.fromisocalendar(year, number, 1)
    except ValueError:
        raise PeriodError(f"no week {number} in {year}") from None
    start = datetime.combine(monday, time())
    return Period(start, start + timedelta(days=7), zone, 7, f"{year}-W{number:02d}")


def week_of(day: date, zone: ZoneInfo) -> Period:
    year, number, _ = day.isocalendar()
    return iso_week(year, number, zone)


def last_full_week(now: datetime, zone: ZoneInfo) -> Period:
    """The Monday-to-Sunday week before the one ``now`` falls in."""
    return week_of(_local(now, zone).date() - timedelta(days=7), zone)


def week_so_far(now: datetime, zone: ZoneInfo) -> Period:
    """This week from Monday 00:00 to ``now``, compared with the same span a week earlier."""
    local_now = _local(now, zone)
    start = datetime.combine(_monday(local_now.date()), time())
    return Period(start, max(local_now, start + timedelta(microseconds=1)), zone, 7)


_WEEK = re.compile(r"(\d{4})-?W(\d{1,2})", re.IGNORECASE)


def parse_week(text: str, zone: ZoneInfo) -> Period:
    match = _WEEK.fullmatch(text.strip())
    if match is None:
        raise PeriodError(f"expected a week like 2026-W47, got {text!r}")
    return iso_week(int(match.group(1)), int(match.group(2)), zone)


def parse_period(args: str, now: datetime, zone: ZoneInfo) -> Period:
    """``""`` (this week so far), ``2026-W47``, ``2026-11-01 2026-11-15`` (both days
    included) or one date ``2026-11-01``."""
    words = args.replace("—", " ").replace("..", " ").split()
    if not words:
        return week_so_far(now, zone)
    if len(words) == 1 and _WEEK.fullmatch(words[0]):
        return parse_week(words[0], zone)
    if len(words) > 2:
        raise PeriodError(f"too many words in {args!r}")
    try:
        days = [date.fromisoformat(word) for word in words]
    except ValueError:
        raise PeriodError(f"not a date: {args!r}") from None
    first, last = days[0], days[-1]
    if last < first:
        raise PeriodError("the period ends before it starts")
    length = (last - first).days + 1
    if length > MAX_DAYS:
        raise PeriodError(f"at most {MAX_DAYS} days")
    start = datetime.combine(first, time())
    return Period(start, start + timedelta(days=length), zone, length)


def due_period(now: datetime, zone: ZoneInfo, day_of_week: str, hour: int, minute: int) -> Period:
    """The week whose digest was due most recently at or before ``now``.

    The digest is posted on ``day_of_week`` at ``hour:minute`` local time and covers the
    Monday-to-Sunday week before the week of that posting moment.
    """
    weekday = _WEEKDAYS.index(day_of_week)
    local_now = _local(now, zone)
    monday = _monday(local_now.date())
    fire = datetime.combine(monday + timedelta(days=weekday), time(hour, minute))
    if fire > local_now:
        fire -= timedelta(days=7)
    return week_of(_monday(fire.date()) - timedelta(days=7), zone)


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
