"""The periodic sweep over open issues: SLA states that change with time alone, the
escalations that go with them, and auto-close.

Costs: one page request per 100 open issues; a PUT only where a state changes (so no
journal spam), and one GET with journals only for issues an auto-close rule could
close (they are in one of its statuses).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass, field

from redmine_sla_bridge.domain.ports import NotManageable, RedmineRejected
from redmine_sla_bridge.domain.processing import ListedIssue, plan_auto_close, plan_time_step
from redmine_sla_bridge.domain.processing.plan import auto_close_keys, listed_effect_keys
from redmine_sla_bridge.service.bridge import Bridge
from redmine_sla_bridge.service.execute import execute
from redmine_sla_bridge.service.process_issue import remembered
from redmine_sla_bridge.telemetry import metrics

log = logging.getLogger(__name__)


@dataclass
class SweepReport:
    seen: int = 0
    changed: dict[int, str] = field(default_factory=dict)
    closed: list[int] = field(default_factory=list)
    reminded: list[int] = field(default_factory=list)  # told before an auto-close
    escalated: list[int] = field(default_factory=list)  # deferred escalations done
    failed: dict[int, str] = field(default_factory=dict)
    # (SLA state, tier) -> open issues, as the pass leaves them: the open-requests gauge.
    open_by_state: Counter[tuple[str, str]] = field(default_factory=Counter)


def sweep(bridge: Bridge, now: dt.datetime | None = None) -> SweepReport:
    now = now or bridge.clock()
    report = SweepReport()
    for listed in bridge.redmine.open_issues():
        report.seen += 1
        if listed is None:
            continue
        try:
            _sweep_issue(bridge, listed, now, report)
        except (RedmineRejected, NotManageable, LookupError) as exc:
            # One issue Redmine refuses to update (say, an assignee it does not accept)
            # must not stop the sweep for every issue after it.
            report.failed[listed.issue_id] = str(exc)
            log.error("sweep could not update the issue", extra={"issue_id": listed.issue_id,
                                                                 "error": str(exc)})
        _count(listed, report)
    metrics.set_open_requests(dict(report.open_by_state))
    return report


def _sweep_issue(bridge: Bridge, listed: ListedIssue, now: dt.datetime, report: SweepReport) -> None:
    rules = bridge.rules
    keys = listed_effect_keys(listed, rules)  # none unless an escalation may be pending
    if keys:
        listed = dataclasses.replace(listed, remembered=remembered(bridge, keys))
    step = plan_time_step(listed, rules, now)
    if step is not None:
        execute(bridge, step, now)
        if step.new_state is not None:
            metrics.SLA_TRANSITIONS.labels(str(step.new_state), listed.values.get("tier") or "-").inc()
            log.info("SLA state changed", extra={"issue_id": listed.issue_id,
                                                 "state": str(step.new_state)})
            report.changed[listed.issue_id] = str(step.new_state)
        else:
            log.info("deferred escalation done", extra={"issue_id": listed.issue_id,
                                                        "state": listed.values.get("sla_state")})
            report.escalated.append(listed.issue_id)
    if listed.status not in rules.closable_statuses:
        return
    snapshot = bridge.redmine.load(listed.issue_id)
    if snapshot is None or snapshot.status != listed.status:
        return  # it moved meanwhile; the next sweep will look again
    snapshot = dataclasses.replace(snapshot, remembered=remembered(bridge, auto_close_keys(snapshot, rules)))
    closing = plan_auto_close(snapshot, rules, now)
    if closing is None:
        return
    execute(bridge, closing, now)
    if closing.action == "closed":
        report.closed.append(listed.issue_id)
        log.info("auto-closed", extra={"issue_id": listed.issue_id, "rule": closing.detail})
    elif closing.action == "reminded":
        report.reminded.append(listed.issue_id)
        log.info("reminded before auto-close", extra={"issue_id": listed.issue_id,
                                                      "rule": closing.detail})


def _count(listed: ListedIssue, report: SweepReport) -> None:
    """An open issue in the state the pass leaves it in (a breach it wrote is counted
    as an outcome by `execute`, like an event's)."""
    if listed.issue_id not in report.closed:
        state = report.changed.get(listed.issue_id) or listed.values.get("sla_state") or "-"
        report.open_by_state[state, listed.values.get("tier") or "-"] += 1
