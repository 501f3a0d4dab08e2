"""The SLA report use case: what a support lead asks every month.

The recorded report reads issue lists only (100 issues per call): the bridge wrote each
request's outcome in its `sla_outcome` field when it decided it
(domain/reporting/outcome.py). `rebuild` fills that field for issues processed before
it existed, from their journals, through the bridge's own journals; `build_what_if`
recomputes the period from the journals under other rules and writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from redmine_sla_bridge.domain.policy import TargetKind, format_duration
from redmine_sla_bridge.domain.processing import IssueUpdate, ProcessingRules
from redmine_sla_bridge.domain.processing.field_values import parse_field_time
from redmine_sla_bridge.domain.reporting.outcome import OPEN, OUTCOME_KEY, Outcome, TargetOutcome
from redmine_sla_bridge.domain.reporting.recompute import recompute
from redmine_sla_bridge.domain.reporting.report import (
    FIRST_RESPONSE,
    RESOLUTION,
    ContractInfo,
    Cost,
    IssueResult,
    ReportRow,
    SlaReport,
    TargetResult,
    target_result,
)
from redmine_sla_bridge.domain.request_decision import RequestDecision, decide_request
from redmine_sla_bridge.service.bridge import Bridge

Progress = Callable[[int, int], None]
"""Called with (rows seen, rows in all) after each row."""

_TARGETS = ((TargetKind.FIRST_RESPONSE, FIRST_RESPONSE, "first_response_due"),
            (TargetKind.RESOLUTION, RESOLUTION, "resolution_due"))


def build_report(bridge: Bridge, period_from: dt.date, period_to: dt.date, *,
                 project: str | None = None, customer: str | None = None,
                 progress: Progress | None = None, now: dt.datetime | None = None) -> SlaReport:
    """The report of requests received in the period, from the recorded outcomes."""
    rules, now = bridge.rules, now or bridge.clock()
    before = bridge.redmine.calls_made()
    results: list[IssueResult] = []
    contracts: dict[str, ContractInfo] = {}
    missing = 0
    for row in _rows(bridge, period_from, period_to, project, customer, progress):
        values = row.listed.values
        outcome = Outcome.parse(values.get(OUTCOME_KEY))
        accepted = values.get("sla_state") is not None
        if outcome is None and (accepted or row.listed.status == rules.rejected_status):
            missing += 1
        targets = (_recorded_targets(row, rules, outcome, now)
                   if accepted and outcome is not None else {})
        results.append(_result(
            row, rules, contracts, accepted=accepted,
            refused=outcome.refused if outcome is not None and not accepted else (),
            queued=values.get("sla_state") == "queued", targets=targets, outcome=outcome,
            tier=values.get("tier"), priority=values.get("sla_priority")))
    cost = Cost(len(results), bridge.redmine.calls_made() - before, 0)
    extra = {"missing_outcomes": missing}
    return _report(bridge, rules, period_from, period_to, project, customer, now, results,
                   contracts, cost, extra)


def build_what_if(bridge: Bridge, other: ProcessingRules, period_from: dt.date,
                  period_to: dt.date, *, project: str | None = None, customer: str | None = None,
                  progress: Progress | None = None, now: dt.datetime | None = None) -> SlaReport:
    """The same period recomputed from every issue's journals under `other` rules
    (another preset, other targets, another calendar). Reads only: nothing is written."""
    now = now or bridge.clock()
    before = bridge.redmine.calls_made()
    results: list[IssueResult] = []
    contracts: dict[str, ContractInfo] = {}
    reads = 0
    for row in _rows(bridge, period_from, period_to, project, customer, progress):
        snap = bridge.redmine.load(row.listed.issue_id)
        reads += 1
        found = recompute(snap, other, now) if snap is not None else None
        if found is None:
            results.append(_result(row, other, contracts, accepted=False))
            continue
        decision, outcome, reading = found.decision, found.outcome, found.reading
        targets: dict[str, TargetResult] = {}
        if reading is not None:
            for kind, name, _ in _TARGETS:
                recorded = target_of(outcome, kind)
                if recorded is None:
                    continue
                due = reading.due(kind)
                targets[name] = target_result(recorded, due, now, other.clock.at_risk_share,
                                              _working(other, decision, kind))
        accepted = decision.accepted
        results.append(_result(
            row, other, contracts, accepted=accepted, refused=outcome.refused,
            queued=reading is not None and str(reading.state) == "queued", targets=targets,
            outcome=outcome, tier=decision.policy.tier if accepted else None,
            priority=decision.policy.priority if accepted else None))
    cost = Cost(len(results), bridge.redmine.calls_made() - before, reads)
    return _report(bridge, other, period_from, period_to, project, customer, now, results,
                   contracts, cost, {})


@dataclass(frozen=True)
class RebuildResult:
    seen: int  # issues of the period
    written: int  # outcome fields filled
    unprovisioned: int  # issues whose project or tracker lacks the field (run `provision`)
    journal_reads: int
    api_calls: int


def rebuild(bridge: Bridge, period_from: dt.date, period_to: dt.date, *,
            project: str | None = None, progress: Progress | None = None,
            now: dt.datetime | None = None) -> RebuildResult:
    """Fill the outcome field of the period's issues the bridge decided on before it
    recorded outcomes, from their journals, as the bridge's own journal. Idempotent: an
    issue whose field holds an outcome is not read, so a second run writes nothing."""
    rules, now = bridge.rules, now or bridge.clock()
    before = bridge.redmine.calls_made()
    seen = written = unprovisioned = reads = 0
    for row in _rows(bridge, period_from, period_to, project, None, progress):
        seen += 1
        values = row.listed.values
        if OUTCOME_KEY not in values:
            unprovisioned += 1
            continue
        if values.get(OUTCOME_KEY):
            continue
        if values.get("sla_state") is None and row.listed.status != rules.rejected_status:
            continue  # not decided yet: the bridge records it when it decides
        snap = bridge.redmine.load(row.listed.issue_id)
        reads += 1
        found = recompute(snap, rules, now) if snap is not None else None
        if found is None:
            continue
        bridge.redmine.apply(IssueUpdate(row.listed.issue_id, "updated", "SLA outcome rebuilt",
                                         fields={OUTCOME_KEY: found.outcome.text()}))
        written += 1
    return RebuildResult(seen, written, unprovisioned, reads, bridge.redmine.calls_made() - before)


# -- helpers ------------------------------------------------------------------------

def _recorded_targets(row: ReportRow, rules: ProcessingRules, outcome: Outcome,
                      now: dt.datetime) -> dict[str, TargetResult]:
    values, zone = row.listed.values, ZoneInfo(rules.timezone)
    decision: RequestDecision | None = None  # decided only for an open target's calendar
    out: dict[str, TargetResult] = {}
    for kind, name, due_key in _TARGETS:
        recorded = target_of(outcome, kind)
        if recorded is None:
            continue
        due_text = values.get(due_key)
        due = parse_field_time(due_text, zone) if due_text else None
        working = None
        if recorded.state == OPEN and due is not None:
            decision = decision or decide_request(row.listed.request, rules.decision,
                                                  received_at=row.listed.created_at,
                                                  known_contact=True)
            working = _working(rules, decision, kind)
        out[name] = target_result(recorded, due, now, rules.clock.at_risk_share, working)
    return out


def _rows(bridge: Bridge, period_from: dt.date, period_to: dt.date, project: str | None,
          customer: str | None, progress: Progress | None) -> Iterator[ReportRow]:
    zone = ZoneInfo(bridge.rules.timezone)
    for seen, (row, total) in enumerate(
            bridge.redmine.report_rows(period_from, period_to, project), start=1):
        if progress is not None:
            progress(seen, total)
        if row is None:
            continue
        day = row.listed.created_at.astimezone(zone).date()
        if not period_from <= day <= period_to:
            continue
        if customer is not None and row.listed.values.get("inn") != customer:
            continue
        yield row


def _working(rules: ProcessingRules, decision: RequestDecision,
             kind: TargetKind) -> Callable[[dt.datetime, dt.datetime], dt.timedelta] | None:
    target = decision.policy.targets.get(kind)
    if target is None or target.calendar not in rules.schedules:
        return None
    schedule = rules.schedules[target.calendar]
    return lambda start, end: schedule.between(start, end)


def _result(row: ReportRow, rules: ProcessingRules, contracts: dict[str, ContractInfo], *,
            accepted: bool, refused: tuple[str, ...] = (), queued: bool = False,
            targets: dict[str, TargetResult] | None = None, outcome: Outcome | None = None,
            tier: str | None = None, priority: str | None = None) -> IssueResult:
    listed, zone = row.listed, ZoneInfo(rules.timezone)
    values = listed.values
    day = listed.created_at.astimezone(zone).date()
    inn, product = values.get("inn"), values.get("product")
    contract = _contract(rules, inn, day, product, contracts) if accepted else None
    return IssueResult(
        issue_id=listed.issue_id, url=row.url, subject=row.subject, received_on=day,
        customer=inn, customer_label=values.get("organization"), tier=tier, priority=priority,
        product=product, assignee=row.assignee, accepted=accepted, refused=refused,
        queued=queued, targets=targets or {},
        paused_minutes=outcome.paused_minutes if outcome and accepted else 0,
        reopened=outcome.reopened if outcome and accepted else 0,
        auto_closed=bool(outcome and accepted and outcome.auto_closed), contract=contract)


def _contract(rules: ProcessingRules, inn: str | None, day: dt.date, product: str | None,
              contracts: dict[str, ContractInfo]) -> str | None:
    """AS-4: the INN of a customer whose contract with its own terms covered the request."""
    if not inn:
        return None
    customer = rules.decision.customers.get(inn)
    found = customer.contract_on(day, product) if customer is not None else None
    if found is None or found.contract is None:
        return None
    terms = found.contract
    if inn not in contracts:
        contracts[inn] = ContractInfo(
            customer.name if customer else inn, terms.reference,
            {kind: format_duration(duration) for kind, duration in sorted(terms.targets.items())})
    return inn


def _report(bridge: Bridge, rules: ProcessingRules, period_from: dt.date, period_to: dt.date,
            project: str | None, customer: str | None, now: dt.datetime,
            results: list[IssueResult], contracts: dict[str, ContractInfo], cost: Cost,
            extra: Mapping[str, object]) -> SlaReport:
    zone = ZoneInfo(rules.timezone)
    return SlaReport(language=bridge.settings.language, period_from=period_from,
                     period_to=period_to, time_zone=rules.timezone,
                     generated_at=now.astimezone(zone), project=project, customer=customer,
                     results=tuple(results), contracts=contracts, cost=cost, extra=extra)


def target_of(outcome: Outcome, kind: TargetKind) -> TargetOutcome | None:
    return outcome.first_response if kind is TargetKind.FIRST_RESPONSE else outcome.resolution
