"""Working time: the Russian production calendar and the region's working hours.

Which days are working days comes from the ``holidays`` package (``holidays.RU``), which
carries the public holidays of the Labour Code (ст. 112), a holiday falling on a weekend
moved to the next working day, and the Government's yearly transfers: the days off moved
(31 December 2026) and the Saturdays made working days (1 November 2025), each year's
decree with its source. The catalogue's ``[calendar]`` section overrides single days: a
decree newer than the installed package, or a regional holiday (the package knows no
Russian regions). It does not know the pre-holiday working days shortened by an hour
(ст. 95): deadlines here ignore that hour.

All instants are aware; the arithmetic is done in the region's local time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

_MAX_DAYS = 3 * 366
"""How far a deadline may lie: a calendar with no working day in sight is a broken one."""


@dataclass(frozen=True, slots=True)
class WorkingCalendar:
    zone: ZoneInfo
    opens: time = time(9, 0)
    closes: time = time(18, 0)
    days_off: frozenset[date] = frozenset()
    """Days the catalogue makes days off, whatever the production calendar says."""
    working_days: frozenset[date] = frozenset()
    """Days the catalogue makes working days (a transferred Saturday the package lacks)."""
    _official: holidays.HolidayBase = field(
        default_factory=lambda: holidays.country_holidays("RU"), repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if self.opens >= self.closes:
            raise ValueError("the working day must close after it opens")
        if self.days_off & self.working_days:
            raise ValueError("a day cannot be both a day off and a working day")

    def is_working_day(self, day: date) -> bool:
        if day in self.working_days:
            return True
        if day in self.days_off:
            return False
        return bool(self._official.is_working_day(day))

    def local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            raise ValueError("working time needs an aware datetime")
        return moment.astimezone(self.zone)

    def _at(self, day: date, clock: time) -> datetime:
        return datetime.combine(day, clock, tzinfo=self.zone)

    def _days_from(self, day: date) -> Iterable[date]:
        for n in range(_MAX_DAYS):
            yield day + timedelta(days=n)
        raise ValueError(f"no working day within {_MAX_DAYS} days of {day}")

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """The moment ``hours`` of working time after ``start``: only working days'
        opening hours count. Started out of hours, the time runs from the next opening."""
        left = timedelta(hours=hours)
        cursor = self.local(start)
        for day in self._days_from(cursor.date()):
            if not self.is_working_day(day):
                continue
            begin = max(cursor, self._at(day, self.opens))
            end = self._at(day, self.closes)
            if begin >= end:
                continue
            if left <= end - begin:
                return begin + left
            left -= end - begin
        raise AssertionError("unreachable")  # pragma: no cover

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time from ``start`` to ``end`` (zero when ``end`` is not later)."""
        first, last = self.local(start), self.local(end)
        total = timedelta()
        for day in self._days_from(first.date()):
            if day > last.date():
                return total
            if not self.is_working_day(day):
                continue
            begin = max(first, self._at(day, self.opens))
            finish = min(last, self._at(day, self.closes))
            if finish > begin:
                total += finish - begin
        raise AssertionError("unreachable")  # pragma: no cover

    def end_of_working_day(self, day: date) -> datetime:
        """Closing time of ``day``, or of the next working day when ``day`` is a day off
        (a term ending on a day off ends on the next working day, ГК РФ ст. 193)."""
        for candidate in self._days_from(day):
            if self.is_working_day(candidate):
                return self._at(candidate, self.closes)
        raise AssertionError("unreachable")  # pragma: no cover

    def add_calendar_days(self, start: datetime, days: int) -> datetime:
        """A term of ``days`` calendar days from ``start`` (59-ФЗ ст. 12 counts so): it ends
        when the last day's working hours end."""
        return self.end_of_working_day(self.local(start).date() + timedelta(days=days))

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """A term of ``days`` working days, counted from the day after ``start``."""
        counted = 0
        for day in self._days_from(self.local(start).date() + timedelta(days=1)):
            if self.is_working_day(day):
                counted += 1
                if counted >= days:
                    return self._at(day, self.closes)
        raise AssertionError("unreachable")  # pragma: no cover
