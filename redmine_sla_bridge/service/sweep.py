"""The periodic sweep over open issues: SLA states that change with time alone, the
escalations that go with them, and auto-close.

Two kinds of pass. The fast pass (every `sweep_interval_seconds`) asks Redmine only for
the issues whose `next_check` date (domain/processing/next_check.py) is on or before the
day the pass's interval ends, plus those with no value yet: 2 + due/100 page requests,
whatever the number of open issues. The full reconciliation pass (`reconcile_cron`,
nightly) reads every open issue, one page request per 100, and repairs `next_check`
where it is wrong (an issue changed by hand, a missed event). Both write the field with
the changes they make anyway, so it costs a journal of its own only where it was wrong.

Costs per issue read: a PUT only where something changes (so no journal spam), and one
GET with journals only for issues an auto-close rule could close (they are in one of its
statuses).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from redmine_sla_bridge.domain.ports import NotManageable, RedmineRejected
from redmine_sla_bridge.domain.processing import ListedIssue, plan_auto_close, plan_time_step
from redmine_sla_bridge.domain.processing.next_check import listed_next_check, snapshot_next_check
from redmine_sla_bridge.domain.processing.plan import auto_close_keys, listed_effect_keys
from redmine_sla_bridge.service.bridge import Bridge
from redmine_sla_bridge.service.execute import execute
from redmine_sla_bridge.service.process_issue import remembered
from redmine_sla_bridge.telemetry import metrics

log = logging.getLogger(__name__)


UNSTAMPED_LOOKBACK = dt.timedelta(hours=2)
"""The fast pass looks for issues without `next_check` among those updated this recently:
an issue the event path has not stamped yet, a value cleared by hand. Events stamp every
issue they process, so older unstamped ones are anomalies left to the full pass, which
stamps everything it reads. Redmine runs its "no value" filter once per candidate issue
(4-7 ms each on SQLite: up to a minute for 10,000), so the candidates must stay few."""


@dataclass
class SweepReport:
    full: bool = True  # False: a fast pass (only what was due)
    seen: int = 0
    stamped: list[int] = field(default_factory=list)  # only `next_check` written
    changed: dict[int, str] = field(default_factory=dict)
    closed: list[int] = field(default_factory=list)
    reminded: list[int] = field(default_factory=list)  # told before an auto-close
    escalated: list[int] = field(default_factory=list)  # deferred escalations done
    failed: dict[int, str] = field(default_factory=dict)
    # (SLA state, tier) -> open issues, as the pass leaves them: the open-requests gauge.
    open_by_state: Counter[tuple[str, str]] = field(default_factory=Counter)


def sweep(bridge: Bridge, now: dt.datetime | None = None, *, full: bool = False) -> SweepReport:
    """One pass; fast unless `full`, settings turn the fast pass off, or Redmine lacks
    the `next_check` field (then every pass reads everything, as before it existed)."""
    now = now or bridge.clock()
    listed_issues = None
    if not full and bridge.settings.sweep_fast:
        since = (now - UNSTAMPED_LOOKBACK).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        listed_issues = bridge.redmine.due_issues(horizon_day(bridge, now), since)
    report = SweepReport(full=listed_issues is None)
    for listed in listed_issues if listed_issues is not None else bridge.redmine.open_issues():
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
    if report.full:  # a fast pass sees only what was due: its counts are partial
        metrics.set_open_requests(dict(report.open_by_state))
    return report


def horizon_day(bridge: Bridge, now: dt.datetime) -> str:
    """The day (in the regulation's zone) the fast pass reads up to: the day the next
    pass starts, so a change due before then is written by this pass or that one."""
    ends = now + dt.timedelta(seconds=bridge.settings.sweep_interval_seconds)
    return ends.astimezone(ZoneInfo(bridge.rules.timezone)).date().isoformat()


def _sweep_issue(bridge: Bridge, listed: ListedIssue, now: dt.datetime, report: SweepReport) -> None:
    rules = bridge.rules
    keys = listed_effect_keys(listed, rules)  # none unless an escalation may be pending
    if keys:
        listed = dataclasses.replace(listed, remembered=remembered(bridge, keys))
    time_step = plan_time_step(listed, rules, now)
    closable = listed.status in rules.closable_statuses
    # With journals (auto-close candidates) the value is computed below, from them.
    step = time_step if closable else listed_next_check(listed, time_step, rules, now)
    if step is not None:
        execute(bridge, step, now)
        if time_step is None:
            report.stamped.append(listed.issue_id)
        elif step.new_state is not None:
            metrics.SLA_TRANSITIONS.labels(str(step.new_state), listed.values.get("tier") or "-").inc()
            log.info("SLA state changed", extra={"issue_id": listed.issue_id,
                                                 "state": str(step.new_state)})
            report.changed[listed.issue_id] = str(step.new_state)
        else:
            log.info("deferred escalation done", extra={"issue_id": listed.issue_id,
                                                        "state": listed.values.get("sla_state")})
            report.escalated.append(listed.issue_id)
    if not closable:
        return
    snapshot = bridge.redmine.load(listed.issue_id)
    if snapshot is None or snapshot.status != listed.status:
        return  # it moved meanwhile; the next sweep will look again
    keys = (*auto_close_keys(snapshot, rules), *listed_effect_keys(listed, rules))
    snapshot = dataclasses.replace(snapshot, remembered=remembered(bridge, keys))
    auto_close = plan_auto_close(snapshot, rules, now)
    closing = snapshot_next_check(snapshot, auto_close, rules, now)
    if closing is None:
        return
    execute(bridge, closing, now)
    if auto_close is None:
        report.stamped.append(listed.issue_id)
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
