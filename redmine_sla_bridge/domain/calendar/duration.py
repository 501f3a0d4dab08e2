"""Amounts of working time, the argument of every deadline calculation.

Whether time is "working" or "calendar" is decided by the calendar it is counted on:
the same `WorkingMinutes(480)` is one business day on a 09:00-18:00 calendar and
eight hours on a 24x7 one. So there is no separate calendar-time type.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class WorkingMinutes:
    """A span of open time on a schedule, in whole minutes."""

    minutes: int

    def __post_init__(self) -> None:
        if self.minutes < 0:
            raise ValueError("a working duration cannot be negative")


@dataclass(frozen=True, slots=True)
class WorkingDays:
    """A count of whole working days on a schedule (semantics: see Schedule.add)."""

    days: int

    def __post_init__(self) -> None:
        if self.days < 0:
            raise ValueError("a working duration cannot be negative")


Duration = WorkingMinutes | WorkingDays
