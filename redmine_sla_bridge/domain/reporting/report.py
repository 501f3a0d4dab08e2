"""The SLA report: per-issue results aggregated overall, by group, by week, per contract.

Pure. The service turns issue list rows (or, for a what-if, journals) into one
`IssueResult` each; everything else here is counting. `SlaReport.as_dict()` is the
JSON document ("redmine-sla-bridge/report/1", docs/reports.md) that the csv/table
formats and the HTML report render.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from redmine_sla_bridge.domain.processing.snapshot import ListedIssue
from redmine_sla_bridge.domain.reporting.outcome import BREACHED, MET, OPEN, TargetOutcome

SCHEMA = "redmine-sla-bridge/report/1"
AT_RISK = "at risk"
FIRST_RESPONSE, RESOLUTION = "first_response", "resolution"
TARGETS = (FIRST_RESPONSE, RESOLUTION)
NONE_KEY = "-"


@dataclass(frozen=True)
class TargetResult:
    """One target of one issue at the report's "now": met, breached (answered late, or
    still open past its due), open, or at risk (open and past the at-risk share)."""

    state: str  # met | breached | open | at risk
    minutes: int | None = None
    target_minutes: int | None = None
    due: dt.datetime | None = None
    overdue_minutes: int | None = None  # working minutes past due, for a breach

    @property
    def limited(self) -> bool:
        return self.target_minutes is not None


def target_result(recorded: TargetOutcome, due: dt.datetime | None, now: dt.datetime,
                  at_risk_share: float,
                  working: Callable[[dt.datetime, dt.datetime], dt.timedelta] | None) -> TargetResult:
    """What a recorded target outcome means at `now`. `working(a, b)` is the working time
    between two moments on the target's calendar (needed only for an open target)."""
    if recorded.state != OPEN:
        return TargetResult(recorded.state, recorded.minutes, recorded.target_minutes, due,
                            recorded.overdue_minutes)
    if due is None or recorded.target_minutes is None or working is None:
        return TargetResult(OPEN, None, recorded.target_minutes, due)
    if due < now:
        return TargetResult(BREACHED, None, recorded.target_minutes, due,
                            int(working(due, now).total_seconds() // 60))
    remaining = working(now, due).total_seconds() / 60
    risky = recorded.target_minutes and remaining <= recorded.target_minutes * (1 - at_risk_share)
    return TargetResult(AT_RISK if risky else OPEN, None, recorded.target_minutes, due)


@dataclass(frozen=True)
class IssueResult:
    issue_id: int
    url: str
    subject: str
    received_on: dt.date  # in the regulation's zone
    customer: str | None  # INN
    customer_label: str | None  # organization name
    tier: str | None
    priority: str | None
    product: str | None
    assignee: str | None
    accepted: bool
    refused: tuple[str, ...] = ()
    queued: bool = False
    targets: Mapping[str, TargetResult] = field(default_factory=dict)
    paused_minutes: int = 0
    reopened: int = 0
    auto_closed: bool = False
    contract: str | None = None  # INN of a contract customer whose terms applied


def week_key(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def weeks(period_from: dt.date, period_to: dt.date) -> list[tuple[str, dt.date]]:
    """Every ISO week the period touches, with its Monday."""
    monday = period_from - dt.timedelta(days=period_from.weekday())
    out = []
    while monday <= period_to:
        out.append((week_key(monday), monday))
        monday += dt.timedelta(days=7)
    return out


def percentile(values: Sequence[int], share: float) -> int | None:
    """Nearest-rank percentile: always one of the values (a median of 2 is the lower)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


@dataclass(frozen=True)
class TargetSummary:
    met: int = 0
    breached: int = 0
    open: int = 0  # not yet met, not breached (at risk included)
    at_risk: int = 0
    median_minutes: int | None = None
    p90_minutes: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"met": self.met, "breached": self.breached, "open": self.open,
                "at_risk": self.at_risk, "median_minutes": self.median_minutes,
                "p90_minutes": self.p90_minutes}


def _target_summary(results: Iterable[TargetResult]) -> TargetSummary:
    counts = {MET: 0, BREACHED: 0, OPEN: 0, AT_RISK: 0}
    taken: list[int] = []
    for result in results:
        if result.minutes is not None:
            taken.append(result.minutes)
        if not result.limited:
            continue  # an unlimited target is neither kept nor missed
        counts[result.state] += 1
    return TargetSummary(counts[MET], counts[BREACHED], counts[OPEN] + counts[AT_RISK],
                         counts[AT_RISK], percentile(taken, 0.5), percentile(taken, 0.9))


@dataclass(frozen=True)
class Summary:
    received: int = 0
    accepted: int = 0
    refused: int = 0
    refused_by_code: Mapping[str, int] = field(default_factory=dict)
    queued: int = 0
    auto_closed: int = 0
    reopened: int = 0  # requests reopened at least once
    first_response: TargetSummary = TargetSummary()
    resolution: TargetSummary = TargetSummary()
    paused_minutes: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"received": self.received, "accepted": self.accepted, "refused": self.refused,
                "refused_by_code": dict(sorted(self.refused_by_code.items())),
                "queued": self.queued, "auto_closed": self.auto_closed,
                "reopened": self.reopened, "first_response": self.first_response.as_dict(),
                "resolution": self.resolution.as_dict(), "paused_minutes": self.paused_minutes}


def summarize(results: Sequence[IssueResult]) -> Summary:
    by_code: dict[str, int] = {}
    for result in results:
        for code in result.refused:
            by_code[code] = by_code.get(code, 0) + 1
    accepted = [r for r in results if r.accepted]
    return Summary(
        received=len(results),
        accepted=len(accepted),
        refused=sum(1 for r in results if r.refused),
        refused_by_code=by_code,
        queued=sum(1 for r in results if r.queued),
        auto_closed=sum(1 for r in accepted if r.auto_closed),
        reopened=sum(1 for r in accepted if r.reopened),
        first_response=_target_summary(r.targets[FIRST_RESPONSE] for r in accepted
                                       if FIRST_RESPONSE in r.targets),
        resolution=_target_summary(r.targets[RESOLUTION] for r in accepted
                                   if RESOLUTION in r.targets),
        paused_minutes=sum(r.paused_minutes for r in accepted),
    )


@dataclass(frozen=True)
class Group:
    key: str
    label: str
    summary: Summary

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "summary": self.summary.as_dict()}


def group(results: Sequence[IssueResult], key: Callable[[IssueResult], str | None],
          label: Callable[[IssueResult], str | None] | None = None) -> list[Group]:
    buckets: dict[str, list[IssueResult]] = {}
    labels: dict[str, str] = {}
    for result in results:
        k = key(result) or NONE_KEY
        buckets.setdefault(k, []).append(result)
        # Requests without a key (no INN) may name many organizations: no label fits.
        shown = label(result) if label and k != NONE_KEY else None
        labels.setdefault(k, shown or k)
    return [Group(k, labels[k], summarize(buckets[k])) for k in sorted(buckets)]


@dataclass(frozen=True)
class Breach:
    issue: int
    url: str
    subject: str
    customer: str | None
    tier: str | None
    priority: str | None
    product: str | None
    target: str
    due: dt.datetime | None
    assignee: str | None
    overdue_minutes: int

    def as_dict(self) -> dict[str, Any]:
        return {"issue": self.issue, "url": self.url, "subject": self.subject,
                "customer": self.customer, "tier": self.tier, "priority": self.priority,
                "product": self.product, "target": self.target,
                "due": self.due.isoformat() if self.due else None, "assignee": self.assignee,
                "overdue_minutes": self.overdue_minutes}


def breaches(results: Iterable[IssueResult]) -> list[Breach]:
    out = []
    for r in results:
        for kind in TARGETS:
            target = r.targets.get(kind)
            if target is None or target.state != BREACHED or not target.limited:
                continue
            out.append(Breach(r.issue_id, r.url, r.subject, r.customer, r.tier, r.priority,
                              r.product, kind, target.due, r.assignee, target.overdue_minutes or 0))
    return sorted(out, key=lambda b: (b.issue, TARGETS.index(b.target)))


@dataclass(frozen=True)
class ContractSection:
    customer: str
    label: str
    contract: str | None
    terms: Mapping[str, str]
    summary: Summary
    breaches: tuple[Breach, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"customer": self.customer, "label": self.label, "contract": self.contract,
                "terms": dict(self.terms), "summary": self.summary.as_dict(),
                "breaches": [b.as_dict() for b in self.breaches]}


@dataclass(frozen=True)
class ContractInfo:
    label: str
    reference: str | None
    terms: Mapping[str, str]


@dataclass(frozen=True)
class Cost:
    issues: int = 0
    api_calls: int = 0
    journal_reads: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"issues": self.issues, "api_calls": self.api_calls,
                "journal_reads": self.journal_reads}


@dataclass(frozen=True)
class SlaReport:
    language: str
    period_from: dt.date
    period_to: dt.date
    time_zone: str
    generated_at: dt.datetime
    project: str | None
    customer: str | None
    results: tuple[IssueResult, ...]
    contracts: Mapping[str, ContractInfo] = field(default_factory=dict)
    cost: Cost = Cost()
    extra: Mapping[str, Any] = field(default_factory=dict)  # e.g. the what-if

    @property
    def overall(self) -> Summary:
        return summarize(self.results)

    @property
    def breaches(self) -> list[Breach]:
        return breaches(self.results)

    def by_week(self) -> list[Group]:
        found = {g.key: g.summary for g in group(self.results, lambda r: week_key(r.received_on))}
        return [Group(key, monday.isoformat(), found.get(key, Summary()))
                for key, monday in weeks(self.period_from, self.period_to)]

    def contract_sections(self) -> list[ContractSection]:
        out = []
        for inn in sorted(self.contracts):
            info = self.contracts[inn]
            mine = [r for r in self.results if r.contract == inn]
            out.append(ContractSection(inn, info.label, info.reference, info.terms,
                                       summarize(mine), tuple(breaches(mine))))
        return out

    def as_dict(self) -> dict[str, Any]:
        rs = self.results
        document: dict[str, Any] = {
            "schema": SCHEMA,
            "language": self.language,
            "period": {"from": self.period_from.isoformat(), "to": self.period_to.isoformat(),
                       "time_zone": self.time_zone},
            "generated_at": self.generated_at.isoformat(),
            "filters": {"project": self.project, "customer": self.customer},
            "overall": self.overall.as_dict(),
            "by_customer": [g.as_dict() for g in group(rs, lambda r: r.customer,
                                                       lambda r: r.customer_label)],
            "by_tier": [g.as_dict() for g in group(rs, lambda r: r.tier)],
            "by_priority": [g.as_dict() for g in group(rs, lambda r: r.priority)],
            "by_product": [g.as_dict() for g in group(rs, lambda r: r.product)],
            "by_week": [g.as_dict() for g in self.by_week()],
            "breaches": [b.as_dict() for b in self.breaches],
            "first_response_times": [
                {"issue": r.issue_id, "tier": r.tier,
                 "minutes": r.targets[FIRST_RESPONSE].minutes,
                 "target_minutes": r.targets[FIRST_RESPONSE].target_minutes}
                for r in rs if FIRST_RESPONSE in r.targets
                and r.targets[FIRST_RESPONSE].minutes is not None],
            "contracts": [c.as_dict() for c in self.contract_sections()],
            "cost": self.cost.as_dict(),
        }
        document.update(self.extra)
        return document


@dataclass(frozen=True)
class ReportRow:
    """An issue as a list page shows it, with what a report prints besides the fields."""

    listed: ListedIssue
    subject: str
    url: str
    assignee: str | None
    closed: bool


def what_if_section(recorded: SlaReport, other: SlaReport, config: str) -> dict[str, Any]:
    """The `what_if` key of the recorded report's document: the other config's report,
    and the breaches one has and the other has not (by issue and target)."""
    mine = {(b.issue, b.target) for b in recorded.breaches}
    theirs = {(b.issue, b.target) for b in other.breaches}
    return {"config": config, "report": other.as_dict(),
            "additional_breaches": [b.as_dict() for b in other.breaches
                                    if (b.issue, b.target) not in mine],
            "resolved_breaches": [b.as_dict() for b in recorded.breaches
                                  if (b.issue, b.target) not in theirs]}
