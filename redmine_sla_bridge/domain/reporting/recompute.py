"""An issue's outcome recomputed from its journals under some rules: what `report
--rebuild` writes for issues processed before the outcome field existed, and what
`report --what-if` shows under another config. The same clock and the same decision
as the plan, so with the bridge's own rules it gives what the plan recorded."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from redmine_sla_bridge.domain.lifecycle.clock import ClockReading, read_clock
from redmine_sla_bridge.domain.processing.ownership import acceptance_journal
from redmine_sla_bridge.domain.processing.plan import _acknowledged_at
from redmine_sla_bridge.domain.processing.rules import ProcessingRules
from redmine_sla_bridge.domain.processing.snapshot import IssueSnapshot
from redmine_sla_bridge.domain.reporting.outcome import Outcome, outcome_of, refused
from redmine_sla_bridge.domain.request_decision import RequestDecision, decide_request


@dataclass(frozen=True)
class Recomputed:
    decision: RequestDecision
    outcome: Outcome
    reading: ClockReading | None  # None for a refused request


def handled(snap: IssueSnapshot, rules: ProcessingRules) -> bool:
    """The bridge has decided on this request: accepted it, or refused it."""
    return acceptance_journal(snap) is not None or snap.status == rules.rejected_status


def recompute(snap: IssueSnapshot, rules: ProcessingRules, now: dt.datetime) -> Recomputed | None:
    """None for an issue the bridge has not decided on yet."""
    accepted_in = acceptance_journal(snap)
    if accepted_in is None and snap.status != rules.rejected_status:
        return None
    history = snap.history
    decision = decide_request(snap.request, rules.decision, received_at=history.created_at,
                              known_contact=accepted_in is not None)
    if accepted_in is None and not decision.accepted:
        return Recomputed(decision, refused(decision.intake.codes), None)
    # Once taken in, a request stays taken in (the plan does not run the gate again):
    # other rules change its policy, targets and calendars, not its acceptance.
    # A request these rules accept although it was refused is counted from its creation.
    acknowledged = _acknowledged_at(history) if accepted_in is not None else history.created_at
    reading = read_clock(history, start=decision.start, targets=decision.policy.targets,
                         schedules=rules.schedules, rules=rules.clock, now=now,
                         acknowledged_at=acknowledged)
    return Recomputed(decision, outcome_of(history, reading), reading)
