"""Dates and times as people read them, in the catalogue's locale and time zone.

Everything is formatted by Babel from CLDR's patterns (Russian: «02.12.2026, 15:30»,
«2 декабря»), never by hand-written ``strftime`` patterns, so another locale in the
catalogue changes every date the bot shows.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel import dates


def moment(value: datetime, zone: ZoneInfo, locale: str) -> str:
    """A moment in local time, date and time: ``02.12.2026, 15:30`` (CLDR's short)."""
    return dates.format_datetime(value, "short", tzinfo=zone, locale=locale)


def day(value: datetime | date, zone: ZoneInfo, locale: str) -> str:
    """The local day: ``02.12.2026`` (CLDR's short date)."""
    if isinstance(value, datetime):
        value = value.astimezone(zone).date()
    return dates.format_date(value, "short", locale=locale)


def day_and_month(value: date, locale: str) -> str:
    """``2 декабря``: the month declined as after a day (CLDR's format context)."""
    return dates.format_skeleton("dMMMM", value, locale=locale)


def day_month_year(value: date, locale: str) -> str:
    """``2 декабря 2026 г.`` (CLDR's long date)."""
    return dates.format_date(value, "long", locale=locale)


def short_day(value: date, locale: str) -> str:
    """``02.12``: day and month for a chart's axis."""
    return dates.format_skeleton("ddMM", value, locale=locale)


def weekday(value: date, locale: str) -> str:
    """``ср``: the abbreviated weekday (CLDR's short standalone name)."""
    return dates.format_date(value, "cccccc", locale=locale)
