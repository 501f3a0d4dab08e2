"""Working-time arithmetic on one calendar: deadlines, elapsed time, opening hours.

Pure: no clock reads, no I/O. Callers pass aware datetimes; results are aware datetimes
in the calendar's zone. Instants are handled as integer epoch microseconds (exact).
Each local year of open intervals is built on first use and cached with running totals,
so a deadline costs two bisections plus one step per year boundary crossed.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, cast
from zoneinfo import ZoneInfo

from redmine_sla_bridge.domain.calendar.day_hours import DayHoursResolver
from redmine_sla_bridge.domain.calendar.duration import Duration, WorkingDays, WorkingMinutes
from redmine_sla_bridge.domain.calendar.production_calendar import official_data_years
from redmine_sla_bridge.domain.calendar.spec import CalendarSpec
from redmine_sla_bridge.domain.calendar.timeline import (
    US_PER_MINUTE,
    YearTimeline,
    build_year,
    from_us,
    local_instant,
    to_us,
)

FIRST_YEAR = 2000
LAST_YEAR = 2100
"""The horizon: local years a schedule can compute in. Outside it, CalendarHorizonError."""

Pause = tuple[dt.datetime, dt.datetime]
"""A half-open [from, to) span during which the clock is stopped."""


class CalendarHorizonError(ValueError):
    """A computation needs a year outside FIRST_YEAR..LAST_YEAR."""


@dataclass(frozen=True, slots=True)
class OpenPeriod:
    """One stretch of open time [start, end), aware datetimes in the calendar's zone."""

    start: dt.datetime
    end: dt.datetime


# Zones that always give an offset: the costly utcoffset() check can be skipped for them.
_ALWAYS_AWARE = (ZoneInfo, dt.timezone)


def _aware(moment: dt.datetime, what: str) -> int:
    if not isinstance(moment, dt.datetime):
        raise TypeError(f"{what} must be a datetime, got {type(moment).__name__}")
    zone = moment.tzinfo
    if zone is None or (not isinstance(zone, _ALWAYS_AWARE) and moment.utcoffset() is None):
        raise ValueError(f"{what} must be timezone-aware, got naive {moment.isoformat()}")
    return to_us(moment)


def _pauses_us(pauses: Iterable[Pause]) -> list[tuple[int, int]]:
    """Sorted, merged, non-empty pauses."""
    spans = []
    for pause in pauses:
        begin, end = _aware(pause[0], "pause start"), _aware(pause[1], "pause end")
        if end < begin:
            raise ValueError(f"pause ends before it starts: {pause[0]} .. {pause[1]}")
        if end > begin:
            spans.append((begin, end))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for begin, end in spans:
        if merged and begin <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((begin, end))
    return merged


class _Clock(Protocol):
    """Open-time arithmetic on epoch microseconds; the two kinds of calendar differ here."""

    @property
    def zone(self) -> ZoneInfo: ...

    def add(self, start: int, amount: int) -> int:
        """Earliest instant with `amount` (> 0) of open time after `start`."""
        ...

    def work(self, begin: int, end: int) -> int:
        """Open time in [begin, end), begin <= end."""
        ...

    def is_open(self, instant: int) -> bool: ...

    def next_opening(self, instant: int) -> int: ...

    def day_deadline(self, start: int, days: int) -> int:
        """Closing instant of the `days`-th working day after the one the clock starts on."""
        ...


@dataclass(frozen=True, slots=True)
class _AlwaysOpen:
    zone: ZoneInfo

    def add(self, start: int, amount: int) -> int:
        return start + amount

    def work(self, begin: int, end: int) -> int:
        return end - begin

    def is_open(self, instant: int) -> bool:
        return True

    def next_opening(self, instant: int) -> int:
        return instant

    def day_deadline(self, start: int, days: int) -> int:
        day = from_us(start, self.zone).date() + dt.timedelta(days=days)
        return local_instant(day, 1440, self.zone)


@dataclass(frozen=True, slots=True)
class _Weekly:
    zone: ZoneInfo
    resolver: DayHoursResolver
    # Epoch microseconds of local 1 January 00:00 of FIRST_YEAR .. LAST_YEAR + 1.
    year_starts: tuple[int, ...]
    # The per-year cache, indexed by year - FIRST_YEAR: filled on demand, never
    # replaced, so the schedule stays a value.
    years: list[YearTimeline | None] = field(
        default_factory=lambda: [None] * (LAST_YEAR - FIRST_YEAR + 1)
    )

    def year_of(self, instant: int) -> int:
        index = bisect_right(self.year_starts, instant) - 1
        if index < 0 or index >= len(self.year_starts) - 1:
            raise CalendarHorizonError(
                f"{from_us(instant, self.zone).isoformat()} is outside the calendar horizon "
                f"{FIRST_YEAR}-{LAST_YEAR}"
            )
        return FIRST_YEAR + index

    def year(self, year: int) -> YearTimeline:
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise CalendarHorizonError(
                f"working time after {LAST_YEAR} (or before {FIRST_YEAR}) is outside "
                "the calendar horizon"
            )
        timeline = self.years[year - FIRST_YEAR]
        if timeline is None:
            timeline = self.years[year - FIRST_YEAR] = build_year(year, self.resolver, self.zone)
        return timeline

    def add(self, start: int, amount: int) -> int:
        year = self.year_of(start)
        timeline = self.years[year - FIRST_YEAR] or self.year(year)
        target = timeline.position(start) + amount
        while target > timeline.total:
            # Carry what is left into the next year; bounded by the horizon.
            target -= timeline.total
            year += 1
            timeline = self.year(year)
        return timeline.instant_at(target)

    def work(self, begin: int, end: int) -> int:
        first, last = self.year_of(begin), self.year_of(end)
        timeline = self.year(first)
        if first == last:
            return timeline.position(end) - timeline.position(begin)
        total = timeline.total - timeline.position(begin)
        for year in range(first + 1, last):
            total += self.year(year).total
        return total + self.year(last).position(end)

    def is_open(self, instant: int) -> bool:
        return self.year(self.year_of(instant)).is_open(instant)

    def next_opening(self, instant: int) -> int:
        year = self.year_of(instant)
        while True:
            opening = self.year(year).opening_at_or_after(instant)
            if opening is not None:
                return opening
            year += 1

    def day_deadline(self, start: int, days: int) -> int:
        opening = self.next_opening(start)
        year = self.year_of(opening)
        closes = self.year(year).day_closes
        # The working day the clock starts on is day 0; bisect finds it by its close.
        index = bisect_right(closes, opening) + days
        while index >= len(closes):
            index -= len(closes)
            year += 1
            closes = self.year(year).day_closes
        return closes[index]

    def periods(self, day: dt.date) -> list[tuple[int, int]]:
        begin = local_instant(day, 0, self.zone)
        end = local_instant(day, 1440, self.zone)
        timeline = self.year(day.year)
        i = bisect_right(timeline.ends, begin)
        spans = []
        while i < len(timeline.ends) and timeline.starts[i] < end:
            spans.append((timeline.starts[i], timeline.ends[i]))
            i += 1
        return spans


@dataclass(frozen=True)
class Schedule:
    """The opening hours of one calendar and the arithmetic on them.

    Build with `build_schedule(spec)`. Immutable to its users (a private per-year cache
    fills in on first use) and safe to share between threads.

    Conventions shared by every method:
    - times are aware datetimes (any zone); results are in the calendar's zone;
    - open time is half-open: open at 09:00, closed at 18:00; working time is elapsed
      time, so a 09:00-18:00 day is 9 hours even on a DST-change day;
    - `pauses` are [from, to) spans during which the clock is stopped (waiting for the
      customer...); they may overlap and come in any order.
    """

    spec: CalendarSpec
    _clock: _Clock = field(repr=False, compare=False)
    zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "zone", self._clock.zone)

    @property
    def name(self) -> str:
        return self.spec.name

    def add(
        self, start: dt.datetime, duration: Duration, pauses: Sequence[Pause] = ()
    ) -> dt.datetime:
        """The deadline `duration` of working time after `start`.

        `WorkingMinutes(n)`: the earliest instant T with `between(start, T) == n` minutes.
        So a start outside hours starts the clock at the next opening, and a deadline that
        uses up the last minute of a day is that day's closing time, not the next opening.
        `WorkingMinutes(0)` is `start` itself.

        `WorkingDays(n)`: the closing time of the n-th working day after the day the
        clock starts on (the day of `next_opening(start)`). This is how Russian law counts
        a period of days (Civil Code art. 191, 193-194: it runs from the day after the
        event and ends when work ends on its last day), so "within 5 working days" of a
        Monday-10:00 registration means by Monday next week at closing time. A request
        arriving after hours is registered at the next opening, exactly as for minutes.
        `WorkingDays(0)` is the closing time of the day the clock starts on. On a 24x7
        calendar a day is a calendar day and the deadline is local midnight ending it.
        With pauses, the days deadline is found first and then pushed out by the working
        time paused before it (the clock stops; the target itself does not change).

        Raises CalendarHorizonError when the answer lies beyond LAST_YEAR.
        """
        begin = _aware(start, "start")
        if isinstance(duration, WorkingMinutes):
            amount = duration.minutes * US_PER_MINUTE
        elif isinstance(duration, WorkingDays):
            deadline = self._clock.day_deadline(begin, duration.days)
            if not pauses:
                return from_us(deadline, self.zone)
            amount = self._clock.work(begin, deadline)
        else:
            raise TypeError(f"duration must be WorkingMinutes or WorkingDays, got {duration!r}")
        if amount == 0:
            return start.astimezone(self.zone)
        if not pauses:
            return from_us(self._clock.add(begin, amount), self.zone)
        return from_us(self._add_paused(begin, amount, _pauses_us(pauses)), self.zone)

    def _add_paused(self, begin: int, amount: int, pauses: list[tuple[int, int]]) -> int:
        clock = self._clock
        cursor = begin
        for pause_start, pause_end in pauses:
            if pause_end <= cursor:
                continue
            if pause_start > cursor:
                deadline = clock.add(cursor, amount)
                if deadline <= pause_start:
                    return deadline
                amount -= clock.work(cursor, pause_start)
            cursor = pause_end
        return clock.add(cursor, amount)

    def between(
        self, start: dt.datetime, end: dt.datetime, pauses: Sequence[Pause] = ()
    ) -> dt.timedelta:
        """Working time in [start, end) outside pauses; negative if end is before start."""
        begin, finish = _aware(start, "start"), _aware(end, "end")
        if finish < begin:
            return -self.between(end, start, pauses)
        worked = self._clock.work(begin, finish)
        if pauses:
            for pause_start, pause_end in _pauses_us(pauses):
                low, high = max(pause_start, begin), min(pause_end, finish)
                if low < high:
                    worked -= self._clock.work(low, high)
        return dt.timedelta(microseconds=worked)

    def in_hours(self, moment: dt.datetime) -> bool:
        """Whether the calendar is open at `moment` (open at opening, closed at closing)."""
        return self._clock.is_open(_aware(moment, "moment"))

    def next_opening(self, moment: dt.datetime) -> dt.datetime:
        """`moment` itself if open then, otherwise the next instant the calendar opens."""
        return from_us(self._clock.next_opening(_aware(moment, "moment")), self.zone)

    def open_periods(self, day: dt.date) -> tuple[OpenPeriod, ...]:
        """The open periods that start on local `day` (for display and diagnostics)."""
        if isinstance(self._clock, _AlwaysOpen):
            zone = self.zone
            return (
                OpenPeriod(
                    from_us(local_instant(day, 0, zone), zone),
                    from_us(local_instant(day, 1440, zone), zone),
                ),
            )
        clock = cast(_Weekly, self._clock)  # the only other kind of clock
        return tuple(
            OpenPeriod(from_us(begin, self.zone), from_us(end, self.zone))
            for begin, end in clock.periods(day)
        )

    def data_gaps(self, first_year: int, last_year: int) -> tuple[str, ...]:
        """Human-readable warnings for years whose official calendar data is missing.

        For a calendar on RU holidays, a year without a shipped production calendar
        (decree on transfers of days off, pre-holiday short days) is computed with the
        fixed art. 112 holidays only, which can be wrong by whole days. Print these at
        `check-config` and log them at startup; never assume silently.
        """
        spec = self.spec
        # Only Russia has decree-made calendars here; other countries' rules are
        # computed in full by the holidays package.
        if spec.always_open or spec.holiday_country != "RU":
            return ()
        known = official_data_years(spec.holiday_country)
        warnings = []
        for year in range(first_year, last_year + 1):
            if year in known:
                continue
            short = (
                "" if spec.short_days is not None else " and its pre-holiday short days"
            )
            warnings.append(
                f"calendar {spec.name!r}: no official production calendar for {year} is "
                f"shipped: the Government decree moving days off in {year}{short} are "
                "unknown, so only the fixed public holidays of Labour Code art. 112 are "
                "applied and deadlines in that year may be off by whole days; add the "
                "decree's days to extra_days_off / extra_working_days / short_days, or "
                "upgrade redmine-sla-bridge"
            )
        return tuple(warnings)


def build_schedule(spec: CalendarSpec) -> Schedule:
    """The schedule of `spec` (cheap: years are built when first used)."""
    zone = ZoneInfo(spec.timezone)
    if spec.always_open:
        return Schedule(spec, _AlwaysOpen(zone))
    year_starts = tuple(
        local_instant(dt.date(year, 1, 1), 0, zone) for year in range(FIRST_YEAR, LAST_YEAR + 2)
    )
    return Schedule(spec, _Weekly(zone, DayHoursResolver(spec), year_starts))
