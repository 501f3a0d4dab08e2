"""From targets to due dates, on whichever schedules the deployment defines."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Protocol

from redmine_sla_bridge.domain.calendar.duration import Duration
from redmine_sla_bridge.domain.policy.decision import PolicyDecision
from redmine_sla_bridge.domain.policy.targets import TargetKind


class Schedule(Protocol):
    """The one thing the policy needs from a working-time calendar."""

    def add(self, start: dt.datetime, duration: Duration) -> dt.datetime:
        """The moment `duration` of open time after `start`."""
        ...


class UnknownCalendarError(LookupError):
    """A target names a calendar that is not among the schedules given."""


def deadlines(
    decision: PolicyDecision,
    start: dt.datetime,
    schedules: Mapping[str, Schedule],
) -> dict[TargetKind, dt.datetime | None]:
    """Due moment per target kind; None where the target is not limited.

    `start` is when the clock starts (the request's registration). Raises
    UnknownCalendarError naming the calendar if a limited target's calendar is missing;
    the config loader checks calendar names up front, so this means a wiring bug.
    """
    due: dict[TargetKind, dt.datetime | None] = {}
    for kind, target in decision.targets.items():
        if target.duration is None:
            due[kind] = None
            continue
        try:
            schedule = schedules[target.calendar]
        except KeyError:
            known = ", ".join(sorted(schedules)) or "none"
            raise UnknownCalendarError(
                f"{kind} target uses calendar {target.calendar!r}, but the calendars are: {known}"
            ) from None
        due[kind] = schedule.add(start, target.duration)
    return due
