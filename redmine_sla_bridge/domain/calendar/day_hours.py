"""Which wall-clock hours a calendar is open on one local date.

The precedence, strongest first (documented here because it decides disputes):
1. the calendar's `extra_days_off`: closed;
2. the calendar's `extra_working_days`: open;
3. a public holiday or moved day off of `holiday_country`: closed;
4. a working weekend day of `holiday_country` (decree transfer): open;
5. otherwise the weekday's hours.
An open day whose weekday has no hours gets `CalendarSpec.standard_day_hours`. A short
day then loses `short_day_minutes` from the end of its open time.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays

from redmine_sla_bridge.domain.calendar.production_calendar import official_short_days
from redmine_sla_bridge.domain.calendar.spec import CalendarSpec, DayHours, minute_of_day

MinuteInterval = tuple[int, int]
"""[start, end) in minutes since local midnight, end at most 1440."""


@lru_cache(maxsize=256)
def _country_year(country: str, year: int) -> tuple[frozenset[dt.date], frozenset[dt.date]]:
    # The holidays object is mutable and slow to query; freeze what we need per year.
    data = holidays.country_holidays(country, years=year)
    days_off = frozenset(day for day in data if day.year == year)
    working_weekend = frozenset(
        day for day in getattr(data, "weekend_workdays", ()) if day.year == year
    )
    return days_off, working_weekend


def _minutes(hours: DayHours) -> tuple[MinuteInterval, ...]:
    return tuple((minute_of_day(start), minute_of_day(end)) for start, end in hours)


def _shorten(intervals: tuple[MinuteInterval, ...], minutes: int) -> tuple[MinuteInterval, ...]:
    kept = list(intervals)
    while minutes and kept:
        start, end = kept.pop()
        if end - start > minutes:
            kept.append((start, end - minutes))
            break
        minutes -= end - start
    return tuple(kept)


class DayHoursResolver:
    """Open intervals of each local date of one calendar (never for a 24x7 one)."""

    def __init__(self, spec: CalendarSpec) -> None:
        self._spec = spec
        self._week = tuple(_minutes(day) for day in spec.week)
        self._standard = _minutes(spec.standard_day_hours)
        self._short_days = (
            spec.short_days
            if spec.short_days is not None
            else official_short_days(spec.holiday_country)
        )

    def is_working_day(self, day: dt.date) -> bool:
        spec = self._spec
        if day in spec.extra_days_off:
            return False
        if day in spec.extra_working_days:
            return True
        if spec.holiday_country is not None:
            days_off, working_weekend = _country_year(spec.holiday_country, day.year)
            if day in days_off:
                return False
            if day in working_weekend:
                return True
        return bool(self._week[day.weekday()])

    def hours(self, day: dt.date) -> tuple[MinuteInterval, ...]:
        """The open intervals of `day`, in local minutes since midnight."""
        if not self.is_working_day(day):
            return ()
        intervals = self._week[day.weekday()] or self._standard
        if day in self._short_days:
            intervals = _shorten(intervals, self._spec.short_day_minutes)
        return intervals
