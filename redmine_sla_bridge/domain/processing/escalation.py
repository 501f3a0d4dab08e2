"""What happens when an issue's SLA clock gets worse (at risk, breached).

One builder of the open targets, for the event path (which knows the pauses from the
journals) and the sweep (which reads only the due fields), and one set of actions, so
the same things happen whichever notices the change first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from redmine_sla_bridge.domain.calendar.duration import WorkingMinutes
from redmine_sla_bridge.domain.lifecycle.clock import OpenTarget, Schedule, SlaState
from redmine_sla_bridge.domain.notices import format_due
from redmine_sla_bridge.domain.policy.targets import Target, TargetKind
from redmine_sla_bridge.domain.processing.rules import ProcessingRules
from redmine_sla_bridge.domain.processing.update import Note

Pause = tuple[dt.datetime, dt.datetime]


def open_target(kind: TargetKind, target: Target, due: dt.datetime, start: dt.datetime,
                schedule: Schedule, pauses: Sequence[Pause] = ()) -> OpenTarget:
    """An unmet target with the working time it allows: its own duration when that is a
    span of working minutes, else the working time from start to due net of pauses."""
    if isinstance(target.duration, WorkingMinutes):
        allowed = dt.timedelta(minutes=target.duration.minutes)
    else:
        allowed = schedule.between(start, due, pauses=pauses)
    return OpenTarget(kind, due, allowed, schedule)


@dataclass(frozen=True)
class EscalationPlan:
    note: Note | None = None
    assign_to: str | None = None
    watchers: tuple[str, ...] = ()
    priority: str | None = None
    warnings: tuple[str, ...] = ()


def escalation(state: SlaState, targets: Sequence[OpenTarget], rules: ProcessingRules,
               now: dt.datetime, *, current_priority: str | None,
               priority_order: Sequence[str]) -> EscalationPlan:
    action = rules.escalation.get(state)
    if action is None:
        return EscalationPlan()
    warnings: tuple[str, ...] = ()
    if action.raise_priority is not None and action.raise_priority not in priority_order:
        warnings = (f"escalation priority unknown: {action.raise_priority!r}",)
    return EscalationPlan(
        note=Note(_note(state, targets, rules, now), private=True) if action.private_note else None,
        assign_to=action.assign_to,
        watchers=action.add_watchers,
        priority=_raised(action.raise_priority, current_priority, priority_order),
        warnings=warnings,
    )


def _note(state: SlaState, targets: Sequence[OpenTarget], rules: ProcessingRules,
          now: dt.datetime) -> str:
    zone = ZoneInfo(rules.timezone)
    texts = rules.texts
    parts = [texts.get(f"escalation.target.{t.kind.value}", due=format_due(t.due.astimezone(zone)))
             for t in targets]
    used = max((1 - t.schedule.between(now, t.due) / t.allowed for t in targets if t.allowed),
               default=1.0)
    key = "escalation.at_risk" if state is SlaState.AT_RISK else "escalation.breached"
    return texts.get(key, targets="; ".join(parts), share=round(min(used, 1.0) * 100))


def _raised(name: str | None, current: str | None, order: Sequence[str]) -> str | None:
    """Raise to `name` (Redmine lists priorities lowest first), never lower."""
    if name is None or name not in order:
        return None
    if current in order and order.index(current) >= order.index(name):
        return None
    return name


# -- escalation within the staff's working time -----------------------------------------
#
# With `staff_calendar`, a worse state met outside its working time is written at once
# (engineers' queries read it) but its actions wait. Two effect keys per state and
# clock: `...:deferred` when the state was written without its actions, the bare key
# once the actions were done. An escalation is pending while the issue is still in that
# state with the same due values, deferred and not done; issues escalated before the
# calendar was configured have no deferred key, so switching it on re-escalates nothing.

def escalation_key(issue_id: int, state: SlaState, values: Mapping[str, str | None]) -> str:
    """One state of one run of the clock: the due values tell a later run (a reopen, a
    resumed pause moves them) from this one."""
    dues = "/".join(values.get(k) or "-" for k in ("first_response_due", "resolution_due"))
    return f"escalation:{issue_id}:{state.name.lower()}:{dues}"


def deferred_key(issue_id: int, state: SlaState, values: Mapping[str, str | None]) -> str:
    return escalation_key(issue_id, state, values) + ":deferred"


def escalation_keys(issue_id: int, values: Mapping[str, str | None],
                    rules: ProcessingRules) -> tuple[str, ...]:
    """The effect keys a pending escalation of the issue's current state is read from."""
    state = _escalated_state(values, rules)
    if state is None:
        return ()
    return (escalation_key(issue_id, state, values), deferred_key(issue_id, state, values))


def defers(rules: ProcessingRules, state: SlaState, sla_priority: str | None,
           now: dt.datetime) -> bool:
    """Whether the actions of `state` wait for the staff's working time."""
    if rules.staff_calendar is None or rules.escalation.get(state) is None:
        return False
    if sla_priority is not None and sla_priority in rules.escalate_at_once_for:
        return False
    return not rules.schedules[rules.staff_calendar].in_hours(now)


def pending_escalation(issue_id: int, values: Mapping[str, str | None], rules: ProcessingRules,
                       remembered: frozenset[str], sla_priority: str | None,
                       now: dt.datetime) -> SlaState | None:
    """The issue's current state, if its deferred actions are due now."""
    state = _escalated_state(values, rules)
    if state is None or defers(rules, state, sla_priority, now):
        return None
    if deferred_key(issue_id, state, values) not in remembered:
        return None
    if escalation_key(issue_id, state, values) in remembered:
        return None
    return state


def _escalated_state(values: Mapping[str, str | None], rules: ProcessingRules) -> SlaState | None:
    if rules.staff_calendar is None:
        return None
    state = values.get("sla_state")
    for candidate in (SlaState.AT_RISK, SlaState.BREACHED):
        if state == candidate and rules.escalation.get(candidate) is not None:
            return candidate
    return None
