"""What one working-time calendar is made of, as plain immutable values.

A `CalendarSpec` is the checked description a `Schedule` is built from: the config
layer produces it, the tests write it by hand. The check helpers below are shared with
the config model so that an admin and a programmer get the same error for the same
mistake.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

OpenInterval = tuple[dt.time, dt.time | None]
"""Wall-clock opening hours [start, end) of one day; end None means 24:00."""

DayHours = tuple[OpenInterval, ...]
"""The opening intervals of one day, sorted and disjoint; () = closed all day."""

WeekHours = tuple[DayHours, ...]
"""Seven `DayHours`, indexed by weekday: 0 = Monday ... 6 = Sunday."""

MINUTES_PER_DAY = 24 * 60


def minute_of_day(value: dt.time | None) -> int:
    """Minutes since midnight; None (24:00) is 1440."""
    if value is None:
        return MINUTES_PER_DAY
    if value.second or value.microsecond:
        raise ValueError(f"opening hours are whole minutes, got {value.isoformat()}")
    return value.hour * 60 + value.minute


def check_day_hours(intervals: Iterable[Sequence[dt.time | None]], what: str = "day") -> DayHours:
    """Sort one day's intervals and refuse empty, reversed or overlapping ones.

    Intervals that touch (13:00-14:00, 14:00-18:00) are accepted: they are simply
    consecutive open time.
    """
    normalized: list[OpenInterval] = []
    for number, interval in enumerate(intervals, start=1):
        if len(interval) != 2:
            raise ValueError(f"{what}: interval {number} must be a pair [start, end], got {interval!r}")
        start, end = interval
        if start is None:
            raise ValueError(f"{what}: interval {number} cannot start at 24:00")
        if minute_of_day(end) <= minute_of_day(start):
            raise ValueError(
                f"{what}: interval {number} ends ({_clock(end)}) before or when it starts "
                f"({_clock(start)}); night shifts must be split at 24:00"
            )
        normalized.append((start, end))
    normalized.sort(key=lambda pair: minute_of_day(pair[0]))
    for before, after in itertools.pairwise(normalized):
        if minute_of_day(after[0]) < minute_of_day(before[1]):
            raise ValueError(
                f"{what}: intervals {_clock(before[0])}-{_clock(before[1])} and "
                f"{_clock(after[0])}-{_clock(after[1])} overlap"
            )
    return tuple(normalized)


def check_timezone(name: str) -> ZoneInfo:
    """The IANA zone `name`, or a ValueError that names it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(
            f"unknown time zone {name!r}: use an IANA name such as Europe/Moscow"
        ) from None


def check_country(code: str) -> str:
    """An ISO country code the `holidays` package knows, upper-cased."""
    normalized = code.strip().upper()
    if normalized not in holidays.list_supported_countries():
        raise ValueError(
            f"unknown holiday country {code!r}: use an ISO 3166 code the `holidays` "
            "package supports, such as RU, or none"
        )
    return normalized


def _clock(value: dt.time | None) -> str:
    return "24:00" if value is None else value.strftime("%H:%M")


_DayInput = Iterable[Sequence[dt.time | None]]
"""One day's intervals as given, before `check_day_hours`."""


def _week(value: Mapping[int, _DayInput] | Sequence[_DayInput]) -> WeekHours:
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - set(range(7)), key=repr)
        if unknown:
            raise ValueError(f"weekdays are 0 (Monday) to 6 (Sunday), got {unknown}")
        days = [value.get(weekday, ()) for weekday in range(7)]
    else:
        days = list(value)
        if len(days) != 7:
            raise ValueError(f"a week has 7 days, got {len(days)}")
    names = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
    return tuple(check_day_hours(day, names[weekday]) for weekday, day in enumerate(days))


@dataclass(frozen=True)
class CalendarSpec:
    """A working-time calendar.

    - `week`: opening hours per weekday; a mapping {0: ((09:00, 18:00),), ...} is
      accepted and stored as a 7-tuple (still indexed by weekday). Missing days are closed.
    - `always_open`: a 24x7 calendar; every other field except `timezone` is ignored.
    - `holiday_country`: ISO code for the `holidays` package (public holidays, the
      transferred days off and, through its `weekend_workdays`, working weekend days).
    - `short_days`: pre-holiday days (Labour Code art. 95); None = the data shipped for
      the country in `production_calendar` (nothing for countries other than RU).
    - `short_day_minutes`: how much earlier a short day closes; the time is taken off
      the end of the day, through earlier intervals if the last one is shorter.
    - `extra_days_off` / `extra_working_days`: this calendar's own exceptions; they win
      over the country data.
    - `extra_working_day_hours`: hours of a working day that falls on a weekday with no
      hours (a working Saturday, an extra working day). None = the standard working
      day, i.e. Monday's hours (or the first weekday that has any): a transferred working
      Saturday is by decree a full replacement of a weekday.
    """

    name: str
    timezone: str
    week: WeekHours = ((),) * 7
    always_open: bool = False
    holiday_country: str | None = None
    short_days: frozenset[dt.date] | None = None
    short_day_minutes: int = 60
    extra_days_off: frozenset[dt.date] = field(default_factory=frozenset)
    extra_working_days: frozenset[dt.date] = field(default_factory=frozenset)
    extra_working_day_hours: DayHours | None = None

    def __post_init__(self) -> None:
        # Normalise in place: the dataclass is frozen for its users, not for itself.
        set_ = object.__setattr__
        check_timezone(self.timezone)
        set_(self, "week", _week(self.week))
        if self.holiday_country is not None:
            set_(self, "holiday_country", check_country(self.holiday_country))
        if self.short_days is not None:
            set_(self, "short_days", frozenset(self.short_days))
        set_(self, "extra_days_off", frozenset(self.extra_days_off))
        set_(self, "extra_working_days", frozenset(self.extra_working_days))
        if self.extra_working_day_hours is not None:
            set_(
                self,
                "extra_working_day_hours",
                check_day_hours(self.extra_working_day_hours, "extra working day hours"),
            )
        if not 0 <= self.short_day_minutes < MINUTES_PER_DAY:
            raise ValueError(f"short_day_minutes must be 0 to 1439, got {self.short_day_minutes}")
        both = self.extra_days_off & self.extra_working_days
        if both:
            listed = ", ".join(sorted(day.isoformat() for day in both))
            raise ValueError(f"listed both as extra day off and extra working day: {listed}")
        if not self.always_open and not any(self.week) and not self.extra_working_days:
            raise ValueError("no working hours on any day: give the week some hours, or 24x7")
        if not self.always_open and self.standard_day_hours == ():
            # Only extra working days and no weekday hours: they need explicit hours.
            raise ValueError(
                "extra working days need extra_working_day_hours when no weekday has hours"
            )

    @property
    def standard_day_hours(self) -> DayHours:
        """Hours given to a working day whose weekday has none (see class docs)."""
        if self.extra_working_day_hours is not None:
            return self.extra_working_day_hours
        return next((day for day in self.week if day), ())
