"""The periodic sweep over open issues: SLA states that change with time alone, the
escalations that go with them, and auto-close.

Costs: one page request per 100 open issues; a PUT only where a state changes (so no
journal spam), and one GET with journals only for issues an auto-close rule could
close (they are in one of its statuses).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from redmine_sla_bridge.adapters.redmine.fields import DUE_FORMAT, FieldMap
from redmine_sla_bridge.adapters.redmine.gateway import RedmineRejected
from redmine_sla_bridge.adapters.redmine.history import build_history
from redmine_sla_bridge.adapters.redmine.intake_fields import request_from_issue
from redmine_sla_bridge.domain.calendar.duration import WorkingMinutes
from redmine_sla_bridge.domain.lifecycle.clock import (
    STATE_RANK, OpenTarget, SlaState, time_driven_state,
)
from redmine_sla_bridge.domain.lifecycle.rules import auto_close_due
from redmine_sla_bridge.domain.notices import describe_duration, format_due
from redmine_sla_bridge.domain.policy import TargetKind
from redmine_sla_bridge.domain.request_decision import decide_request
from redmine_sla_bridge.service.escalation import escalate
from redmine_sla_bridge.telemetry import metrics

log = logging.getLogger(__name__)


@dataclass
class SweepReport:
    seen: int = 0
    changed: dict[int, str] = field(default_factory=dict)
    closed: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)


def sweep(rt, now: dt.datetime | None = None) -> SweepReport:
    now = now or rt.clock()
    report = SweepReport()
    close_rules = rt.config.lifecycle.auto_close_rules()
    closable = frozenset().union(*(r.from_statuses for r in close_rules)) if close_rules else frozenset()
    filters = {"status_id": "open", "sort": "id", **rt.scope_filters()}
    for issue in rt.gateway.iter_issues(page_size=100, **filters):
        report.seen += 1
        if not rt.in_scope(issue):
            continue
        try:
            _sweep_issue(rt, issue, close_rules, closable, now, report)
        except RedmineRejected as exc:
            # One issue Redmine refuses to update (say, an assignee it does not accept)
            # must not stop the sweep for every issue after it.
            report.failed[int(issue["id"])] = str(exc)
            log.error("sweep could not update the issue", extra={"issue_id": issue["id"],
                                                                 "error": str(exc)})
    return report


def _sweep_issue(rt, issue, close_rules, closable, now, report: SweepReport) -> None:
    try:
        fields = FieldMap.resolve(rt.specs, issue.get("custom_fields") or ())
    except KeyError:
        return  # not provisioned for this project: the event path reports it
    values = fields.values_of(issue)
    status = issue["status"]["name"]
    if values.get("sla_state") is not None and status not in rt.clock_rules.pause_statuses \
            and status not in rt.clock_rules.done_statuses:
        new_state = _advance(rt, issue, fields, values, now)
        if new_state is not None:
            report.changed[int(issue["id"])] = str(new_state)
    if status in closable and _auto_close(rt, issue, close_rules, now):
        report.closed.append(int(issue["id"]))


def _advance(rt, issue, fields: FieldMap, values, now) -> SlaState | None:
    current = SlaState(values["sla_state"]) if values["sla_state"] in set(SlaState) else None
    if current not in STATE_RANK:
        return None
    decision = decide_request(request_from_issue(issue, values), rt.rules,
                              received_at=rt_created(issue), known_contact=True)
    zone = ZoneInfo(rt.rules.timezone)
    open_targets = []
    for kind, key in ((TargetKind.FIRST_RESPONSE, "first_response_due"),
                      (TargetKind.RESOLUTION, "resolution_due")):
        target = decision.policy.targets.get(kind)
        due_text = values.get(key)
        if target is None or target.duration is None or not due_text:
            continue
        if kind is TargetKind.FIRST_RESPONSE and values.get("first_response_at"):
            continue
        schedule = rt.rules.schedules[target.calendar]
        due = dt.datetime.strptime(due_text, DUE_FORMAT).replace(tzinfo=zone)
        allowed = (dt.timedelta(minutes=target.duration.minutes)
                   if isinstance(target.duration, WorkingMinutes)
                   else schedule.between(decision.start, due))
        open_targets.append(OpenTarget(kind, due, allowed, schedule))
    new = time_driven_state(open_targets, now, rt.config.sla.at_risk_share)
    if STATE_RANK[new] <= STATE_RANK[current]:
        return None
    escalate(rt, issue, fields, new, open_targets, now)
    metrics.SLA_TRANSITIONS.labels(str(new), values.get("tier") or "-").inc()
    log.info("SLA state changed", extra={"issue_id": issue["id"], "state": str(new)})
    return new


def rt_created(issue) -> dt.datetime:
    return dt.datetime.fromisoformat(issue["created_on"].replace("Z", "+00:00"))


def _auto_close(rt, listed, rules, now) -> bool:
    issue = rt.gateway.issue(listed["id"], journals=True)
    if issue["status"]["name"] != listed["status"]["name"]:
        return False  # it moved meanwhile; the next sweep will look again
    history = build_history(issue, bridge_user_id=rt.facts.bridge_user_id,
                            status_names=rt.facts.status_names)
    if history.bridge_spoke_last():
        # The bridge's closing note is the last word, yet the issue did not move:
        # Redmine's workflow dropped the status change. Closing again at every sweep
        # would repeat the note and the email.
        log.warning("auto-close did not take: check that the bridge's role may close issues",
                    extra={"issue_id": issue["id"]})
        return False
    for rule in rules:
        due = auto_close_due(history, rule, rt.rules.schedules[rule.calendar], now)
        if due is None or due > now:
            continue
        texts, number = rt.texts, rt.texts.number(int(issue["id"]))
        idle = texts.get(f"idle.{rule.idle_since}",
                         after=describe_duration(rt.config.language, rule.after))
        note = _closing_note(rt, rule.to_status, number, idle, now)
        email = _contact_email(rt, issue)
        if email and rt.notifier is not None:
            rt.notifier.queue(f"closed:{issue['id']}:{len(history.notes)}", email,
                              texts.get("closed.subject", number=number), note, now,
                              issue_id=int(issue["id"]))
        rt.gateway.update_issue(issue["id"], status_id=rt.status_id(rule.to_status), notes=note)
        log.info("auto-closed", extra={"issue_id": issue["id"], "rule": rule.name})
        return True
    return False


def _closing_note(rt, status: str, number: str, idle: str, now: dt.datetime) -> str:
    """Says how to continue: a reply reopens the request (within the window, if any),
    or, when no reply rule covers the closed status, a new request is needed."""
    reopen = next((r for r in rt.config.lifecycle.reply_rules() if status in r.from_statuses), None)
    if reopen is None:
        return rt.texts.get("closed.note.new_request", number=number, idle=idle)
    if reopen.within is None:
        return rt.texts.get("closed.note.no_window", number=number, idle=idle)
    until = rt.rules.schedules[reopen.calendar].add(now, reopen.within)
    return rt.texts.get("closed.note", number=number, idle=idle,
                        reopen_until=format_due(until.astimezone(ZoneInfo(rt.rules.timezone))))


def _contact_email(rt, issue) -> str | None:
    try:
        fields = FieldMap.resolve(rt.specs, issue.get("custom_fields") or ())
    except KeyError:
        return None
    return fields.values_of(issue).get("contact_email")
