"""Working time by the Russian production calendar: weekends, the New Year holidays, a
transferred working Saturday, the catalogue's overrides."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from handlers.catalogue import EXAMPLE_PATH, CatalogueError, load_catalogue, parse_catalogue
from handlers.worktime import WorkingCalendar

MSK = ZoneInfo("Europe/Moscow")


def msk(*args: int) -> datetime:
    return datetime(*args, tzinfo=MSK)


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    return WorkingCalendar(MSK, time(9), time(18))


def test_the_production_calendar_knows_transfers(calendar: WorkingCalendar) -> None:
    assert calendar.is_working_day(date(2025, 11, 1)), "Saturday 1 November 2025 was a working day"
    assert not calendar.is_working_day(date(2025, 11, 3)), "its day off moved to Monday"
    assert not calendar.is_working_day(date(2026, 1, 9)), "Saturday 3 January 2026 moved to Friday 9"
    assert not calendar.is_working_day(date(2026, 12, 31)), "Sunday 4 January 2026 moved to 31 December"
    assert not calendar.is_working_day(date(2026, 3, 9)), "8 March 2026 is a Sunday"
    assert calendar.is_working_day(date(2026, 1, 12))
    assert not calendar.is_working_day(date(2026, 11, 28))  # an ordinary Saturday


def test_working_hours_skip_the_weekend(calendar: WorkingCalendar) -> None:
    friday_evening = msk(2026, 11, 27, 18, 0)
    assert calendar.add_working_hours(friday_evening, 8) == msk(2026, 11, 30, 17, 0)
    assert calendar.add_working_hours(msk(2026, 11, 27, 16, 0), 8) == msk(2026, 11, 30, 15, 0)
    assert calendar.add_working_hours(msk(2026, 11, 28, 3, 0), 1) == msk(2026, 11, 30, 10, 0)
    # The answer is an aware instant; UTC in, the same moment out.
    assert calendar.add_working_hours(datetime(2026, 11, 27, 15, 0, tzinfo=UTC), 8) == msk(2026, 11, 30, 17)


def test_working_hours_skip_the_new_year_holidays(calendar: WorkingCalendar) -> None:
    # 31 December 2026 is a day off (transferred), 1-11 January 2027 too (1-8, then the weekend;
    # 2027's transfers move 2 and 3 January to 5 November and 31 December).
    assert calendar.add_working_hours(msk(2026, 12, 30, 15, 0), 8) == msk(2027, 1, 11, 14, 0)
    assert calendar.working_time_between(msk(2026, 12, 30, 15, 0), msk(2027, 1, 11, 14, 0)) == timedelta(
        hours=8
    )


def test_a_transferred_working_saturday_counts(calendar: WorkingCalendar) -> None:
    # Friday 31 October 2025, 17:00: one hour that day, nine on Saturday 1 November (a working
    # day by the decree); Monday 3 November and Tuesday 4 November are days off.
    assert calendar.add_working_hours(msk(2025, 10, 31, 17, 0), 10) == msk(2025, 11, 1, 18, 0)
    assert calendar.add_working_hours(msk(2025, 10, 31, 17, 0), 11) == msk(2025, 11, 5, 10, 0)


def test_calendar_days_end_on_a_working_day(calendar: WorkingCalendar) -> None:
    assert calendar.add_calendar_days(msk(2026, 11, 24, 12, 0), 30) == msk(2026, 12, 24, 18, 0)
    # 30 days from 2 December 2026 is 1 January 2027: the term ends on the next working day.
    assert calendar.add_calendar_days(msk(2026, 12, 2, 10, 0), 30) == msk(2027, 1, 11, 18, 0)
    # Ten working days from Friday 25 December 2026: 28, 29, 30 December, 11-15, 18 and 19 January.
    assert calendar.add_working_days(msk(2026, 12, 25, 10, 0), 10) == msk(2027, 1, 19, 18, 0)


def test_the_catalogue_overrides_single_days() -> None:
    base = WorkingCalendar(MSK, time(9), time(18))
    local = WorkingCalendar(
        MSK, time(8, 30), time(17, 30), days_off=frozenset({date(2026, 11, 30)}), working_days=frozenset()
    )
    assert base.add_working_hours(msk(2026, 11, 27, 18), 1) == msk(2026, 11, 30, 10)
    assert local.add_working_hours(msk(2026, 11, 27, 18), 1) == msk(2026, 12, 1, 9, 30)
    saturday = WorkingCalendar(MSK, time(9), time(18), working_days=frozenset({date(2026, 11, 28)}))
    assert saturday.add_working_hours(msk(2026, 11, 27, 18), 1) == msk(2026, 11, 28, 10)


def test_the_catalogue_states_working_hours_and_overrides() -> None:
    example = load_catalogue(EXAMPLE_PATH)
    raw = example.model_dump(mode="json")
    raw["region"]["working_hours"] = "08:00-17:00"
    raw["calendar"] = {"days_off": ["2026-11-30"], "working_days": ["2026-11-28"]}
    catalogue = parse_catalogue(raw)
    cal = catalogue.working_calendar
    assert (cal.opens, cal.closes) == (time(8), time(17))
    assert cal.is_working_day(date(2026, 11, 28)) and not cal.is_working_day(date(2026, 11, 30))
    raw["region"]["working_hours"] = "18:00-09:00"
    with pytest.raises(CatalogueError, match=r"\[region\]: working_hours: the working day must close"):
        parse_catalogue(raw)
    raw["region"]["working_hours"] = "09:00-18:00"
    raw["calendar"] = {"days_off": ["2026-11-28"], "working_days": ["2026-11-28"]}
    with pytest.raises(CatalogueError, match="calendar: 2026-11-28 is both a day off and a working day"):
        parse_catalogue(raw)
