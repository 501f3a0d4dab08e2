"""A deliberately naive second implementation of working time, to check the engine.

It walks minute by minute and decides "open?" from the spec alone: local wall time of
the minute, the `holidays` package, the shipped short-day list. It shares no code with
the engine's day resolution or its interval arrays. Only whole minutes: every boundary
of the test calendars (HH:MM hours, zone offsets of whole minutes) falls on one.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from redmine_sla_bridge.domain.calendar import RU_SHORT_DAYS, CalendarSpec

UTC = dt.UTC
Minute = int  # minutes since the Unix epoch
Pauses = list[tuple[Minute, Minute]]


def minute_of(moment: dt.datetime) -> Minute:
    seconds = moment.timestamp()
    assert seconds % 60 == 0, moment
    return int(seconds) // 60


def moment_of(minute: Minute, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.fromtimestamp(minute * 60, zone)


def _clock_minutes(value: dt.time | None) -> int:
    return 1440 if value is None else value.hour * 60 + value.minute


class Oracle:
    def __init__(self, spec: CalendarSpec) -> None:
        self.spec = spec
        self.zone = ZoneInfo(spec.timezone)
        self._day = lru_cache(maxsize=None)(self._day_uncached)

    # -- which wall-clock minutes of a local date are open -------------------------
    def _day_uncached(self, day: dt.date) -> tuple[tuple[int, int], ...]:
        spec = self.spec
        if spec.always_open:
            return ((0, 1440),)
        country = (
            holidays.country_holidays(spec.holiday_country, years=day.year)
            if spec.holiday_country
            else None
        )
        weekday_hours = spec.week[day.weekday()]
        if day in spec.extra_days_off:
            return ()
        if day in spec.extra_working_days:
            working = True
        elif country is not None and day in country:
            working = False
        elif country is not None and day in country.weekend_workdays:
            working = True
        else:
            working = bool(weekday_hours)
        if not working:
            return ()
        hours = weekday_hours
        if not hours:
            hours = spec.extra_working_day_hours or next(h for h in spec.week if h)
        minutes = [(_clock_minutes(a), _clock_minutes(b)) for a, b in hours]
        if spec.short_days is not None:
            short = day in spec.short_days
        else:
            short = spec.holiday_country == "RU" and day in RU_SHORT_DAYS.get(day.year, ())
        if short:
            cut = spec.short_day_minutes
            while cut and minutes:
                a, b = minutes.pop()
                if b - a > cut:
                    minutes.append((a, b - cut))
                    cut = 0
                else:
                    cut -= b - a
        return tuple(minutes)

    def is_open(self, minute: Minute) -> bool:
        local = moment_of(minute, self.zone)
        wall = local.hour * 60 + local.minute
        return any(a <= wall < b for a, b in self._day(local.date()))

    def _skip_to(self, minute: Minute) -> Minute:
        """The next minute worth looking at: jump over closed days and evenings."""
        local = moment_of(minute, self.zone)
        spans = self._day(local.date())
        wall = local.hour * 60 + local.minute
        if not spans or wall >= spans[-1][1]:
            tomorrow = local.date() + dt.timedelta(days=1)
            midnight = dt.datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=self.zone)
            return minute_of(midnight)
        return minute + 1

    # -- the questions -------------------------------------------------------------
    def add(self, start: Minute, minutes: int, pauses: Pauses = ()) -> Minute:
        if minutes == 0:
            return start
        counted, cursor = 0, start
        while True:
            if self.is_open(cursor) and not _paused(cursor, pauses):
                counted += 1
                if counted == minutes:
                    return cursor + 1
                cursor += 1
            else:
                cursor = self._skip_to(cursor)

    def between(self, start: Minute, end: Minute, pauses: Pauses = ()) -> int:
        counted, cursor = 0, start
        while cursor < end:
            if self.is_open(cursor) and not _paused(cursor, pauses):
                counted += 1
                cursor += 1
            else:
                cursor = self._skip_to(cursor)
        return counted

    def next_opening(self, start: Minute) -> Minute:
        cursor = start
        while not self.is_open(cursor):
            cursor = self._skip_to(cursor)
        return cursor

    def add_days(self, start: Minute, days: int) -> Minute:
        """Closing of the `days`-th working day after the day the clock starts on."""
        opening = self.next_opening(start)
        day = moment_of(opening, self.zone).date()
        while days:
            day += dt.timedelta(days=1)
            if self._day(day):
                days -= 1
        last_end = self._day(day)[-1][1]
        closing_day = day + dt.timedelta(days=last_end // 1440)
        closing = dt.datetime(
            closing_day.year, closing_day.month, closing_day.day,
            (last_end % 1440) // 60, last_end % 60, tzinfo=self.zone,
        )
        return minute_of(closing)


def _paused(minute: Minute, pauses: Pauses) -> bool:
    return any(begin <= minute < end for begin, end in pauses)
