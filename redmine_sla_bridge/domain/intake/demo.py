"""At most one demo period a year (ID-4).

The rule, precisely: a customer asks to be served as a demo user on the request date D.
- If D falls inside a demo period already granted (start <= D <= end), that period is
  simply being used: allowed.
- Otherwise, if some earlier demo period started less than `min_days` (365) days before D
  (start <= D < start + 365 days), a new period would be a second one within a year:
  refused; the next one is possible on the latest such start + 365 days.
A rolling 365 days from the START of the previous period (not its end, not the calendar
year) is used because "one demo period a year" limits how often a period may begin;
counting from the end would let a long period push the next one back, counting by
calendar year would allow a December and a January period. Periods that start after D
are ignored (the history is the past; a future period is the caller's data error).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

DemoPeriod = tuple[dt.date, dt.date]
"""(start, end) of a granted demo period, both days included."""


@dataclass(frozen=True, slots=True)
class DemoRefusal:
    """Why a new demo period is refused: the period that blocks it and when it frees."""

    previous_start: dt.date
    previous_end: dt.date
    next_allowed: dt.date


def _day(value: dt.date) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def check_demo(
    history: Iterable[DemoPeriod], on: dt.date, *, min_days: int = 365
) -> DemoRefusal | None:
    """None if a demo period may be used on `on`, else the refusal (see module doc)."""
    blocking: DemoRefusal | None = None
    for raw_start, raw_end in history:
        start, end = _day(raw_start), _day(raw_end)
        end = max(start, end)
        if start > on:
            continue
        if on <= end:
            return None
        next_allowed = start + dt.timedelta(days=min_days)
        if on < next_allowed and (blocking is None or next_allowed > blocking.next_allowed):
            blocking = DemoRefusal(start, end, next_allowed)
    return blocking
