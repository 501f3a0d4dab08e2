"""When an issue's SLA state can next change by time alone: the `next_check` field.

The sweep's fast pass asks Redmine only for issues whose `next_check` date has come
(a date custom field accepts `<=` in /issues.json), so a pass costs what is due, not
what is open. The value is a date in the regulation's zone, computed from what the issue
itself says (its fields, status and journals), never from the bridge's store alone: a
full reconciliation pass recomputes and repairs it from Redmine.

Candidates, the earliest wins:
- the at-risk instant of each unmet target (the remaining working time falls to the
  at-risk threshold), while the state is still on track;
- each unmet target's due instant (breach), while not breached;
- a deferred escalation waiting for the staff's working time;
- with journals only (the event path and the sweep's auto-close step): each auto-close
  rule's close instant, and its reminder instant while still to come.

None of these: nothing changes with time alone (paused, met, closed-ish statuses) and
the value is `NEVER`, so the fast pass's "no value yet" query finds only issues never
stamped. The value depends on `now` only through "still to come", so re-computing it
on a due date before its instant gives the same date: no journal until something else
changes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Iterable, Mapping
from zoneinfo import ZoneInfo

from redmine_sla_bridge.domain.calendar.duration import WorkingMinutes
from redmine_sla_bridge.domain.calendar.schedule import CalendarHorizonError
from redmine_sla_bridge.domain.lifecycle.clock import STATE_RANK, OpenTarget, SlaState
from redmine_sla_bridge.domain.lifecycle.history import IssueHistory, Role, StatusChange
from redmine_sla_bridge.domain.lifecycle.rules import auto_close_due, idle_start
from redmine_sla_bridge.domain.policy import TargetKind
from redmine_sla_bridge.domain.processing.escalation import (
    deferred_key,
    escalation_key,
    open_target,
)
from redmine_sla_bridge.domain.processing.field_values import parse_field_time
from redmine_sla_bridge.domain.processing.rules import ProcessingRules
from redmine_sla_bridge.domain.processing.snapshot import IssueSnapshot, ListedIssue
from redmine_sla_bridge.domain.processing.update import IssueUpdate
from redmine_sla_bridge.domain.request_decision import RequestDecision, decide_request

KEY = "next_check"
NEVER = "9999-12-31"
"""Nothing changes with time alone: a value, so that "no value" means "never stamped"."""


def next_change(values: Mapping[str, str | None], status: str, decision: RequestDecision,
                rules: ProcessingRules, now: dt.datetime, *, remembered: frozenset[str] = frozenset(),
                history: IssueHistory | None = None, issue_id: int = 0) -> dt.datetime | None:
    """The earliest instant at which time alone can change the issue's SLA state, send
    a deferred escalation, a reminder or an auto-close (None: never)."""
    candidates = [*_sla_instants(values, status, decision, rules, now)]
    candidates += _escalation_instant(issue_id, values, rules, remembered, now)
    if history is not None:
        candidates += _auto_close_instants(history, rules, now)
    return min(candidates, default=None)


def next_check_value(instant: dt.datetime | None, timezone: str) -> str:
    if instant is None:
        return NEVER
    return instant.astimezone(ZoneInfo(timezone)).date().isoformat()


def open_targets(values: Mapping[str, str | None], decision: RequestDecision,
                 rules: ProcessingRules) -> list[OpenTarget]:
    """The unmet, limited targets as the fields show them (as `plan_time_step` reads them)."""
    zone = ZoneInfo(rules.timezone)
    targets = []
    for kind, key in ((TargetKind.FIRST_RESPONSE, "first_response_due"),
                      (TargetKind.RESOLUTION, "resolution_due")):
        target = decision.policy.targets.get(kind)
        due_text = values.get(key)
        if target is None or target.duration is None or not due_text:
            continue
        if kind is TargetKind.FIRST_RESPONSE and values.get("first_response_at"):
            continue
        targets.append(open_target(kind, target, parse_field_time(due_text, zone), decision.start,
                                   rules.schedules[target.calendar]))
    return targets


def at_risk_instant(target: OpenTarget, now: dt.datetime, at_risk_share: float) -> dt.datetime:
    """The earliest instant from which the remaining working time to `target.due` is at
    most the at-risk threshold (`time_driven_state`'s condition)."""
    threshold = target.allowed * (1 - at_risk_share)
    remaining = target.schedule.between(now, target.due)
    if remaining <= threshold:
        return now
    minutes = math.ceil((remaining - threshold) / dt.timedelta(minutes=1))
    try:
        return min(target.schedule.add(now, WorkingMinutes(minutes)), target.due)
    except CalendarHorizonError:
        return target.due


def _sla_instants(values: Mapping[str, str | None], status: str, decision: RequestDecision,
                  rules: ProcessingRules, now: dt.datetime) -> Iterable[dt.datetime]:
    clock = rules.clock
    state = values.get("sla_state")
    if state is None or status in clock.pause_statuses or status in clock.done_statuses:
        return
    current = SlaState(state) if state in set(SlaState) else None
    if current not in STATE_RANK:
        return
    rank = STATE_RANK[current]
    for target in open_targets(values, decision, rules):
        if rank < STATE_RANK[SlaState.AT_RISK] and target.allowed:
            yield at_risk_instant(target, now, clock.at_risk_share)
        if rank < STATE_RANK[SlaState.BREACHED]:
            # `time_driven_state` breaches once now > due: the next microsecond.
            yield target.due + dt.timedelta(microseconds=1)


def _escalation_instant(issue_id: int, values: Mapping[str, str | None], rules: ProcessingRules,
                        remembered: frozenset[str], now: dt.datetime) -> Iterable[dt.datetime]:
    """A deferred escalation waits for the staff's next opening."""
    if rules.staff_calendar is None:
        return
    state = values.get("sla_state")
    for candidate in (SlaState.AT_RISK, SlaState.BREACHED):
        if state != candidate or rules.escalation.get(candidate) is None:
            continue
        if (deferred_key(issue_id, candidate, values) in remembered
                and escalation_key(issue_id, candidate, values) not in remembered):
            yield rules.schedules[rules.staff_calendar].next_opening(now)


def _auto_close_instants(history: IssueHistory, rules: ProcessingRules,
                         now: dt.datetime) -> Iterable[dt.datetime]:
    for rule in rules.auto_close:
        schedule = rules.schedules[rule.calendar]
        due = auto_close_due(history, rule, schedule, now)
        if due is None:
            continue
        yield due
        share = rules.reminder_share(rule)
        start = idle_start(history, rule.idle_since)
        if share is None or start is None:
            continue
        minutes = math.ceil(schedule.between(start, due) * share / dt.timedelta(minutes=1))
        reminder = schedule.add(start, WorkingMinutes(minutes))
        # A reminder already due was sent by the pass that found it (or is sent with
        # the close): only one still to come is a candidate, so the value does not
        # depend on the store's memory of it.
        if reminder > now:
            yield reminder


# -- merging the value into a plan -------------------------------------------------------

def with_next_check(snap: IssueSnapshot, update: IssueUpdate, rules: ProcessingRules,
                    now: dt.datetime) -> IssueUpdate:
    """The event path's update with `next_check` recomputed from the issue as the
    update leaves it; added only when the field exists and its value changes."""
    if KEY not in snap.values or update.needs is not None or update.action in ("rejected", "skipped"):
        return update
    if snap.closed and update.status is None:
        return update
    values = {**snap.values, **update.fields}
    status = update.status or snap.status
    history = snap.history
    if update.status is not None and update.status != history.status:
        change = StatusChange(now, history.status, update.status, None, Role.BRIDGE, None)
        history = dataclasses.replace(history, status=update.status,
                                      status_changes=(*history.status_changes, change))
    decision = update.decision or decide_request(
        snap.request, rules.decision, received_at=snap.history.created_at, known_contact=True)
    # What the update records as done (a deferred escalation) is done once it is applied.
    remembered = snap.remembered | frozenset(update.remember)
    instant = next_change(values, status, decision, rules, now, remembered=remembered,
                          history=history, issue_id=snap.issue_id)
    return _merged(update, snap.values.get(KEY), next_check_value(instant, rules.timezone))


def listed_next_check(listed: ListedIssue, step: IssueUpdate | None, rules: ProcessingRules,
                      now: dt.datetime) -> IssueUpdate | None:
    """The sweep's time step with `next_check` for an issue read from a list page (no
    journals: not for statuses an auto-close rule starts from, see `snapshot_next_check`)."""
    if KEY not in listed.values:
        return step
    values = {**listed.values, **(step.fields if step is not None else {})}
    decision = (step.decision if step is not None and step.decision is not None else
                decide_request(listed.request, rules.decision, received_at=listed.created_at,
                               known_contact=True))
    remembered = listed.remembered | frozenset(step.remember if step is not None else ())
    instant = next_change(values, listed.status, decision, rules, now,
                          remembered=remembered, issue_id=listed.issue_id)
    base = step or IssueUpdate(listed.issue_id, "unchanged", "", project_id=listed.project_id)
    merged = _merged(base, listed.values.get(KEY), next_check_value(instant, rules.timezone))
    return None if merged is base and step is None else merged


def snapshot_next_check(snap: IssueSnapshot, step: IssueUpdate | None, rules: ProcessingRules,
                        now: dt.datetime) -> IssueUpdate | None:
    """The same for an issue the sweep loaded with journals (auto-close candidates)."""
    base = step or IssueUpdate(snap.issue_id, "unchanged", "")
    merged = with_next_check(snap, base, rules, now)
    return None if merged is base and step is None else merged


def _merged(update: IssueUpdate, current: str | None, wanted: str) -> IssueUpdate:
    if current == wanted:
        return update
    action = "updated" if update.action == "unchanged" else update.action
    detail = update.detail or f"next check {wanted}"
    return dataclasses.replace(update, action=action, detail=detail,
                               fields={**update.fields, KEY: wanted})
