"""The SLA clock of one issue: deadlines net of pauses, and the state shown to engineers.

Pure: given the issue's history, its targets, the calendars and "now", it answers the
same every time, which is what lets the bridge rebuild any issue's SLA from Redmine.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from redmine_sla_bridge.domain.calendar import Duration, Pause
from redmine_sla_bridge.domain.lifecycle.history import IssueHistory, Role
from redmine_sla_bridge.domain.policy.targets import Target, TargetKind


class Schedule(Protocol):
    """What the clock needs of a calendar (`calendar.Schedule` is one)."""

    def add(self, start: dt.datetime, duration: Duration, pauses: Sequence[Pause] = ()) -> dt.datetime: ...

    def between(self, start: dt.datetime, end: dt.datetime, pauses: Sequence[Pause] = ()) -> dt.timedelta: ...


class SlaState(enum.StrEnum):
    ON_TRACK = "on track"
    AT_RISK = "at risk"
    BREACHED = "breached"
    PAUSED = "paused"
    MET = "met"
    # Not a running clock: ID-8 waits for the contact's earlier request; ID-1/AR-7 wait
    # for the head of support's decision. BA-7: the clock runs to the agreed new term.
    QUEUED = "queued"
    NEEDS_DECISION = "needs decision"
    EXTENDED = "extended"


@dataclass(frozen=True)
class ClockRules:
    """Which statuses stop the clock and which end it, and when a target is at risk."""

    pause_statuses: frozenset[str]
    done_statuses: frozenset[str]  # e.g. Resolved, Closed: the resolution target is met
    at_risk_share: float = 0.75


@dataclass(frozen=True)
class TargetClock:
    kind: TargetKind
    due: dt.datetime | None  # None: not limited
    met_at: dt.datetime | None
    used_share: float | None  # of the working time allowed, up to met_at or now
    # Working time from the start to met_at (or now), net of pauses, and the time the
    # target allows: what the outcome field and the report state in minutes.
    elapsed: dt.timedelta | None = None
    allowed: dt.timedelta | None = None

    def breached_at(self, now: dt.datetime) -> bool:
        return self.due is not None and self.due < (self.met_at or now)


@dataclass(frozen=True)
class ClockReading:
    state: SlaState
    targets: Mapping[TargetKind, TargetClock]
    pauses: tuple[tuple[dt.datetime, dt.datetime], ...]
    paused_since: dt.datetime | None
    # Working time in closed pauses (the resolution target's calendar), and how often a
    # done issue was taken back into work: stable between events, so the outcome field
    # written from them changes only when something happens.
    paused: dt.timedelta = dt.timedelta(0)
    reopened: int = 0

    def due(self, kind: TargetKind) -> dt.datetime | None:
        clock = self.targets.get(kind)
        return clock.due if clock else None


def pause_intervals(history: IssueHistory, rules: ClockRules,
                    now: dt.datetime) -> tuple[tuple[Pause, ...], dt.datetime | None]:
    """Closed pauses, and the start of the ongoing one (if the issue is paused now)."""
    closed: list[Pause] = []
    ongoing: dt.datetime | None = None
    for status, start, end in history.status_spans(now):
        if status in rules.pause_statuses:
            if end >= now and history.status == status:
                ongoing = start
            else:
                closed.append((start, end))
    return tuple(closed), ongoing


def _met_at(kind: TargetKind, history: IssueHistory, rules: ClockRules,
            acknowledged_at: dt.datetime | None) -> dt.datetime | None:
    if kind is TargetKind.ACKNOWLEDGEMENT:
        return acknowledged_at
    if kind is TargetKind.FIRST_RESPONSE:
        note = history.first_public_note(Role.SUPPORT)
        return note.at if note else None
    # Resolution: met while the issue sits in a done status; a reopen restarts the wait.
    if history.status in rules.done_statuses:
        return history.last_entered(rules.done_statuses)
    return None


def read_clock(history: IssueHistory, *, start: dt.datetime, targets: Mapping[TargetKind, Target],
               schedules: Mapping[str, Schedule], rules: ClockRules, now: dt.datetime,
               acknowledged_at: dt.datetime | None = None,
               extended_due: dt.datetime | None = None) -> ClockReading:
    """Deadlines and state at `now`.

    Time spent in a pause status is excluded from every target; while a pause is going
    on, deadlines are shown as if it ended now (they move on as the pause lasts).
    `extended_due` (BA-7): the resolution term agreed with the customer replaces the
    regulation's; the state is "extended" while it holds, breached once it is missed.
    """
    closed, paused_since = pause_intervals(history, rules, now)
    pauses = closed + (((paused_since, now),) if paused_since else ())
    clocks: dict[TargetKind, TargetClock] = {}
    for kind, target in targets.items():
        met_at = _met_at(kind, history, rules, acknowledged_at)
        if target.duration is None:
            elapsed = (schedules[target.calendar].between(start, met_at, pauses=pauses)
                       if met_at is not None and target.calendar in schedules else None)
            clocks[kind] = TargetClock(kind, None, met_at, None, elapsed)
            continue
        schedule = schedules[target.calendar]
        due = schedule.add(start, target.duration, pauses=pauses)
        allowed = schedule.between(start, due, pauses=pauses)
        used = schedule.between(start, min(met_at or now, now), pauses=pauses)
        share = (used / allowed) if allowed else (1.0 if (met_at or now) >= due else 0.0)
        clocks[kind] = TargetClock(kind, due, met_at, share, used, allowed)
    extended = extended_due is not None and TargetKind.RESOLUTION in targets
    if extended:
        # BA-7: the agreed term replaces the regulation's (no share: no at-risk warning).
        met_at = _met_at(TargetKind.RESOLUTION, history, rules, acknowledged_at)
        clocks[TargetKind.RESOLUTION] = TargetClock(TargetKind.RESOLUTION, extended_due, met_at, None)
    state = _state(clocks, history, rules, paused_since, now)
    if extended and state in (SlaState.ON_TRACK, SlaState.AT_RISK):
        state = SlaState.EXTENDED
    return ClockReading(state, clocks, closed, paused_since, _paused(closed, targets, schedules),
                        _reopened(history, rules.done_statuses))


def _paused(closed: Sequence[Pause], targets: Mapping[TargetKind, Target],
            schedules: Mapping[str, Schedule]) -> dt.timedelta:
    target = targets.get(TargetKind.RESOLUTION) or next(iter(targets.values()), None)
    if target is None or target.calendar not in schedules or not closed:
        return dt.timedelta(0)
    schedule = schedules[target.calendar]
    return sum((schedule.between(start, end) for start, end in closed), dt.timedelta(0))


def _reopened(history: IssueHistory, done: frozenset[str]) -> int:
    return sum(1 for c in history.status_changes if c.old in done and c.new not in done)


def _state(clocks: Mapping[TargetKind, TargetClock], history: IssueHistory, rules: ClockRules,
           paused_since: dt.datetime | None, now: dt.datetime) -> SlaState:
    limited = [c for c in clocks.values() if c.due is not None]
    if any(c.breached_at(now) for c in limited):
        return SlaState.BREACHED
    if history.status in rules.done_statuses:
        return SlaState.MET
    if paused_since is not None:
        return SlaState.PAUSED
    open_clocks = [c for c in limited if c.met_at is None]
    if any((c.used_share or 0) >= rules.at_risk_share for c in open_clocks):
        return SlaState.AT_RISK
    if limited and not open_clocks:
        return SlaState.MET
    return SlaState.ON_TRACK


STATE_RANK = {SlaState.ON_TRACK: 0, SlaState.AT_RISK: 1, SlaState.EXTENDED: 1, SlaState.BREACHED: 2}
"""How bad a running clock is; the sweep only ever moves an issue up this scale. An
agreed extension (BA-7) is as bad as "at risk": only missing the agreed term is worse."""


@dataclass(frozen=True)
class OpenTarget:
    """An unmet, limited target as the sweep sees it on the issue's fields."""

    kind: TargetKind
    due: dt.datetime
    allowed: dt.timedelta  # the target's working time (start to due, net of pauses)
    schedule: Schedule


def time_driven_state(targets: Sequence[OpenTarget], now: dt.datetime,
                      at_risk_share: float) -> SlaState:
    """What the passing of time alone does to a running clock.

    Pauses and met targets come from events (which rewrite the due fields); between
    events only time passes, so the remaining working time to each due moment, against
    the time the target allows, is all the sweep needs: no journals, no extra calls.
    """
    state = SlaState.ON_TRACK
    for target in targets:
        if now > target.due:
            return SlaState.BREACHED
        remaining = target.schedule.between(now, target.due)
        if target.allowed and remaining <= target.allowed * (1 - at_risk_share):
            state = SlaState.AT_RISK
    return state
