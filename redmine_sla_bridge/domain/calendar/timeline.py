"""One local year of a calendar as sorted UTC instants, for bisect-speed arithmetic.

Everything is integer microseconds since the Unix epoch: exact (no float rounding on
second or microsecond inputs) and cheap to compare. Wall-clock hours are turned into
instants per local day, so 09:00 stays 09:00 on both sides of a DST change; the elapsed
(UTC) length of an interval is what counts as working time.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from redmine_sla_bridge.domain.calendar.day_hours import DayHoursResolver

US_PER_SECOND = 1_000_000
US_PER_MINUTE = 60 * US_PER_SECOND
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_US = dt.timedelta(microseconds=1)
_ONE_DAY = dt.timedelta(days=1)


def to_us(moment: dt.datetime) -> int:
    """Microseconds since the epoch of an aware datetime, exactly."""
    seconds = moment.timestamp()
    whole = int(seconds)
    if whole == seconds:
        # A whole-second timestamp() is an exact float; this path is twice as fast.
        return whole * US_PER_SECOND
    return (moment - _EPOCH) // _US


def from_us(instant: int, zone: ZoneInfo) -> dt.datetime:
    """The aware datetime in `zone` of an epoch-microsecond instant."""
    seconds, micro = divmod(instant, US_PER_SECOND)
    moment = dt.datetime.fromtimestamp(seconds, zone)
    return moment.replace(microsecond=micro) if micro else moment


def local_instant(day: dt.date, minute: int, zone: ZoneInfo) -> int:
    """The instant of wall-clock `minute` (0..1440) of local `day`.

    A wall time inside a DST gap is read with the offset before the jump (PEP 495
    fold=0), i.e. it lands after the jump; such intervals are rare and are clamped by
    the builder so that instants never go backwards.
    """
    if minute >= 1440:
        day, minute = day + _ONE_DAY, minute - 1440
    hour, minute = divmod(minute, 60)
    return to_us(dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone))


@dataclass(frozen=True, slots=True)
class YearTimeline:
    """The open intervals of one local year.

    `starts[i]`, `ends[i]`: interval i; `worked[i]`: open time from the first instant of
    the year to `ends[i]`; `day_closes[k]`: closing instant of the k-th working day.
    Intervals are sorted, disjoint and non-empty (they may touch).
    """

    starts: tuple[int, ...]
    ends: tuple[int, ...]
    worked: tuple[int, ...]
    day_closes: tuple[int, ...]
    total: int

    def position(self, instant: int) -> int:
        """Open time from the start of the year up to `instant`."""
        i = bisect_right(self.ends, instant)
        if i == len(self.ends):
            return self.total
        start = self.starts[i]
        return self.worked[i] - self.ends[i] + (instant if instant > start else start)

    def instant_at(self, position: int) -> int:
        """The earliest instant whose position is `position` (0 < position <= total)."""
        j = bisect_left(self.worked, position)
        return self.ends[j] - (self.worked[j] - position)

    def opening_at_or_after(self, instant: int) -> int | None:
        i = bisect_right(self.ends, instant)
        if i == len(self.ends):
            return None
        start = self.starts[i]
        return instant if instant > start else start

    def is_open(self, instant: int) -> bool:
        i = bisect_right(self.ends, instant)
        return i < len(self.ends) and self.starts[i] <= instant


def build_year(year: int, resolver: DayHoursResolver, zone: ZoneInfo) -> YearTimeline:
    starts: list[int] = []
    ends: list[int] = []
    worked: list[int] = []
    day_closes: list[int] = []
    total = 0
    last_end = local_instant(dt.date(year, 1, 1), 0, zone)
    day = dt.date(year, 1, 1)
    while day.year == year:
        opened = False
        for start_minute, end_minute in resolver.hours(day):
            start = max(local_instant(day, start_minute, zone), last_end)
            end = local_instant(day, end_minute, zone)
            if end <= start:
                continue
            starts.append(start)
            ends.append(end)
            total += end - start
            worked.append(total)
            last_end = end
            opened = True
        if opened:
            day_closes.append(last_end)
        day += _ONE_DAY
    return YearTimeline(tuple(starts), tuple(ends), tuple(worked), tuple(day_closes), total)
