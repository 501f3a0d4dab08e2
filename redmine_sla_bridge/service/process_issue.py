"""Bring one Redmine issue up to date with the regulation.

Everything is recomputed from the issue and its journals (Redmine is the system of
record), so processing the same issue twice changes nothing the second time: that is
what makes repeated deliveries, polling overlaps and crash recovery harmless.

Costs: one GET (the issue with journals) and at most one PUT for a new request; an
update that changes nothing costs the GET only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from redmine_sla_bridge.adapters.redmine.fields import DUE_FORMAT, FieldMap
from redmine_sla_bridge.adapters.redmine.history import build_history
from redmine_sla_bridge.adapters.redmine.intake_fields import (
    PATH_TO_FIELD, fields_from_request, request_from_issue,
)
from redmine_sla_bridge.domain.intake.gate import rejection_note
from redmine_sla_bridge.domain.lifecycle.clock import (
    STATE_RANK, ClockReading, OpenTarget, read_clock,
)
from redmine_sla_bridge.domain.lifecycle.history import IssueHistory, Role
from redmine_sla_bridge.config.types import parse_duration
from redmine_sla_bridge.domain.lifecycle.rules import development_handover, reply_decision
from redmine_sla_bridge.domain.notices import acknowledgement, format_due
from redmine_sla_bridge.domain.policy import TargetKind
from redmine_sla_bridge.domain.request_decision import RequestDecision, decide_request
from redmine_sla_bridge.service.escalation import escalation_actions

log = logging.getLogger(__name__)


class NotManageable(Exception):
    """The issue cannot be handled until an admin acts (e.g. fields not enabled)."""


@dataclass(frozen=True)
class Outcome:
    issue_id: int
    action: str  # accepted | rejected | updated | unchanged | skipped
    detail: str = ""
    decision: RequestDecision | None = None


def process_issue(rt, issue_id: int, now: dt.datetime | None = None) -> Outcome:
    now = now or rt.clock()
    issue = rt.gateway.issue(issue_id, journals=True)
    if not rt.in_scope(issue):
        return Outcome(issue_id, "skipped", "not in the configured projects and trackers")
    try:
        fields = FieldMap.resolve(rt.specs, issue.get("custom_fields") or ())
    except KeyError as exc:
        raise NotManageable(
            f"{exc.args[0]}; or enable them for project {issue['project'].get('name')!r} "
            f"and tracker {issue['tracker'].get('name')!r}"
        ) from None
    facts = rt.facts
    history = build_history(issue, bridge_user_id=facts.bridge_user_id,
                            status_names=facts.status_names,
                            field_keys={fields.id(s.key): s.key for s in rt.specs})
    values = fields.values_of(issue)
    state = _IssueState(rt, issue, history, values, fields, now)
    if values.get("sla_state") is None:
        return state.intake()
    return state.track()


class _IssueState:
    def __init__(self, rt, issue, history: IssueHistory, values, fields: FieldMap, now):
        self.rt, self.issue, self.history, self.values, self.fields, self.now = (
            rt, issue, history, values, fields, now)
        self.issue_id = int(issue["id"])
        self.status = issue["status"]["name"]
        self.closed = issue["status"]["id"] in rt.facts.closed_status_ids

    # -- a request the bridge has not accepted yet ---------------------------------

    def intake(self) -> Outcome:
        rejected_status = self.rt.config.statuses.rejected
        replies = ()
        if not self.closed and self.history.bridge_spoke_last():
            # The bridge refused it and nobody has touched it since, yet it is not in the
            # rejected status: Redmine's workflow dropped the status change. Refusing it
            # again on every event would spam the customer.
            log.warning("refused request is not in the rejected status: check that the "
                        "bridge's role may move issues to %r", rejected_status,
                        extra={"issue_id": self.issue_id})
            return Outcome(self.issue_id, "unchanged", "refused; status change not applied")
        if self.closed:
            if self.status != rejected_status:
                return Outcome(self.issue_id, "skipped", "closed before the bridge saw it")
            replies = self._requester_replies_since_bridge()
            if not replies:
                return Outcome(self.issue_id, "unchanged", "rejected; waiting for the requester")
        request = request_from_issue(self.issue, self.values)
        if replies:
            # The requester answered the rejection: their reply may carry the missing
            # data as labelled lines ("ИНН: ..."), read like the original description.
            extra = "\n".join(n.text for n in replies)
            request = dataclasses.replace(request, description=(request.description or "") + "\n" + extra)
        decision = decide_request(request, self.rt.rules, received_at=self.history.created_at)
        if not decision.accepted:
            decision = self._retry_as_known_contact(request, decision)
        if decision.accepted:
            return self._accept(decision, reopen=self.closed)
        return self._reject(decision)

    def _requester_replies_since_bridge(self):
        # Journal ids order journals written within the same second.
        last_bridge = max((n.journal_id or 0 for n in self.history.notes if n.role is Role.BRIDGE),
                          default=0)
        return tuple(n for n in self.history.public_notes(Role.REQUESTER)
                     if (n.journal_id or 0) > last_bridge)

    def _retry_as_known_contact(self, request, decision: RequestDecision) -> RequestDecision:
        """ID-6: organization data is demanded on the first request only. When that is
        all that is missing, look for the contact's earlier request and reuse its data
        (one extra call, only in this case)."""
        rules = self.rt.rules.intake
        if not rules.first_request_only:
            return decision
        first_only = set(rules.first_request_only)
        if any(r.code != "missing_field" or r.field not in first_only for r in decision.intake.reasons):
            return decision
        email = decision.intake.normalized.contact.email
        if not email or "contact_email" not in self.fields:
            return decision
        earlier = self.rt.gateway.find_issues(
            **{f"cf_{self.fields.id('contact_email')}": email, "status_id": "*",
               "sort": "id:desc", "limit": 5})
        earlier = [i for i in earlier if int(i["id"]) < self.issue_id]
        if not earlier:
            return decision
        known = self.fields.values_of(earlier[0])
        for path in ("organization.name", "organization.inn"):
            if request.get(path) is None and known.get(PATH_TO_FIELD[path]):
                request = request.with_value(path, known[PATH_TO_FIELD[path]])
        return decide_request(request, self.rt.rules, received_at=self.history.created_at,
                              known_contact=True)

    def _reject(self, decision: RequestDecision) -> Outcome:
        rt = self.rt
        found = fields_from_request(decision.intake.normalized, _paths(decision.intake.found_in_description))
        payload: dict[str, Any] = {"notes": rejection_note(decision.intake, rt.rules.intake)}
        if not self.closed:
            payload["status_id"] = rt.status_id(rt.config.statuses.rejected)
        if found:
            payload["custom_fields"] = self.fields.payload(found)
        self._notify("rejection", decision, rt.texts.get("rejected.subject", number=rt.texts.number(self.issue_id)),
                     payload["notes"])
        rt.gateway.update_issue(self.issue_id, **payload)
        self._flag(decision)
        return Outcome(self.issue_id, "rejected", ", ".join(decision.intake.codes), decision)

    def _accept(self, decision: RequestDecision, *, reopen: bool) -> Outcome:
        rt = self.rt
        normalized = decision.intake.normalized
        intake_values = fields_from_request(normalized)
        reading = self._read(decision, acknowledged_at=self.now)
        sla = self._sla_values(decision, reading)
        changes = {k: v for k, v in {**intake_values, **sla}.items() if self.values.get(k) != v}
        payload: dict[str, Any] = {
            "custom_fields": self.fields.payload(changes),
            "notes": acknowledgement(
                rt.texts, issue_id=self.issue_id, priority=decision.policy.priority,
                tier=decision.policy.tier,
                deadlines={k.value: v for k, v in decision.deadlines.items()},
                timezone=rt.rules.timezone),
        }
        payload.update(self._due_date(decision.deadlines.get(TargetKind.RESOLUTION)))
        redmine_priority = decision.policy.redmine_priority
        if redmine_priority and redmine_priority in rt.facts.priority_ids:
            payload["priority_id"] = rt.facts.priority_ids[redmine_priority]
        if reopen:
            payload["status_id"] = rt.status_id(rt.config.statuses.reopened)
        self._notify("ack", decision, rt.texts.get("ack.subject", number=rt.texts.number(self.issue_id)),
                     payload["notes"])
        rt.gateway.update_issue(self.issue_id, **payload)
        self._flag(decision)
        return Outcome(self.issue_id, "accepted", f"{decision.policy.tier}/{decision.policy.priority}",
                       decision)

    # -- an accepted request: keep its SLA fields true ------------------------------

    def track(self) -> Outcome:
        request = request_from_issue(self.issue, self.values)
        decision = decide_request(request, self.rt.rules, received_at=self.history.created_at,
                                  known_contact=True)
        replied = self._customer_reply(decision)
        if replied is not None:
            return replied
        self._account_time()
        reading = self._read(decision, acknowledged_at=self._acknowledged_at())
        desired = self._sla_values(decision, reading)
        changes = {k: v for k, v in desired.items() if self.values.get(k) != v}
        payload: dict[str, Any] = {}
        watchers: list[int] = []
        if changes:
            payload["custom_fields"] = self.fields.payload(changes)
            payload.update(self._due_date(reading.due(TargetKind.RESOLUTION)))
            payload, watchers = self._escalation(reading, decision, payload)
        development = self._development_note()
        if not payload and not development:
            return Outcome(self.issue_id, "unchanged", str(reading.state), decision)
        if payload:
            self.rt.gateway.update_issue(self.issue_id, **payload)
        if development:
            # Public, unlike an escalation's private note: its own journal.
            self.rt.gateway.update_issue(self.issue_id, **development)
        for user_id in watchers:
            self.rt.gateway.add_watcher(self.issue_id, user_id)
        detail = ", ".join(f"{k}={v}" for k, v in changes.items())
        if development:
            detail = (detail + "; " if detail else "") + "development term posted"
        return Outcome(self.issue_id, "updated", detail, decision)

    def _escalation(self, reading: ClockReading, decision: RequestDecision,
                    payload: dict[str, Any]) -> tuple[dict[str, Any], list[int]]:
        """An event found the clock worse before the sweep did: the same actions."""
        old, new = self.values.get("sla_state"), reading.state
        ranks = {str(k): v for k, v in STATE_RANK.items()}
        if new not in STATE_RANK or old not in ranks or STATE_RANK[new] <= ranks[old]:
            return payload, []
        pauses = reading.pauses + (((reading.paused_since, self.now),) if reading.paused_since else ())
        targets = []
        for kind, clock in reading.targets.items():
            if clock.due is None or clock.met_at is not None:
                continue
            schedule = self.rt.rules.schedules[decision.policy.targets[kind].calendar]
            targets.append(OpenTarget(kind, clock.due,
                                      schedule.between(decision.start, clock.due, pauses=pauses),
                                      schedule))
        extra, watchers = escalation_actions(self.rt, self.issue, new, targets, self.now)
        return {**payload, **extra}, watchers

    # -- lifecycle steps that follow events -------------------------------------

    def _customer_reply(self, decision: RequestDecision) -> Outcome | None:
        """ID-10 / BA-8: the requester wrote while the issue waited or was closed."""
        rt = self.rt
        rules = rt.config.lifecycle.reply_rules()
        if not rules:
            return None
        last_bridge = max((n.journal_id or 0 for n in self.history.notes
                           if n.role is Role.BRIDGE and n.public), default=0)
        reply = reply_decision(self.history, rules, rt.rules.schedules, last_bridge)
        if reply is None:
            return None
        number = rt.texts.number(self.issue_id)
        email = decision.intake.normalized.contact.email
        if not reply.in_time:
            note = rt.texts.get("reply.too_late", number=number)
            self._mail("too-late", email, rt.texts.get("closed.subject", number=number), note)
            rt.gateway.update_issue(self.issue_id, notes=note)
            return Outcome(self.issue_id, "updated", "reply after the reopen window", decision)
        payload: dict[str, Any] = {"status_id": rt.status_id(reply.rule.to_status)}
        if self.closed:
            payload["notes"] = rt.texts.get("reopened.note", number=number)
        rt.gateway.update_issue(self.issue_id, **payload)
        return Outcome(self.issue_id, "reopened" if self.closed else "resumed",
                       f"{self.status} -> {reply.rule.to_status}", decision)

    def _development_note(self) -> dict[str, Any]:
        """AR-8 / ID-9: tell the customer the expected term once per hand-over."""
        rt, dev = self.rt, self.rt.config.lifecycle.development
        if dev is None:
            return {}
        assignee = self.issue.get("assigned_to") or {}
        assignee_journal = None
        if assignee.get("name") in dev.assignees:
            assignee_journal = next(
                (c.journal_id for c in reversed(self.history.field_changes)
                 if c.name == "assigned_to_id" and c.new == str(assignee.get("id"))), None)
        handover = development_handover(self.history, statuses=frozenset(dev.statuses),
                                        assignee_journal=assignee_journal)
        if handover is None or not rt.store.remember(f"development:{self.issue_id}:{handover}", self.now):
            return {}
        calendar = dev.calendar or rt.config.policy.calendar
        due = rt.rules.schedules[calendar].add(self.now, parse_duration(dev.expected_term))
        zone = ZoneInfo(rt.rules.timezone)
        return {"notes": rt.texts.get("development.note", due=format_due(due.astimezone(zone)))}

    def _account_time(self) -> None:
        """BA-9: every public answer of support is accounted at least the minimum."""
        rt, accounting = self.rt, self.rt.config.lifecycle.time_accounting
        if accounting is None:
            return
        answers = [n for n in self.history.public_notes(Role.SUPPORT)
                   if not rt.store.seen(f"time:{self.issue_id}:{n.journal_id}")]
        if not answers:
            return
        zone = ZoneInfo(rt.rules.timezone)
        logged: dict[tuple[int, str], float] = {}
        for entry in rt.gateway.time_entries(self.issue_id):
            key = (entry["user"]["id"], entry["spent_on"])
            logged[key] = logged.get(key, 0.0) + float(entry["hours"])
        needed: dict[tuple[int, str], float] = {}
        for note in self.history.public_notes(Role.SUPPORT):
            key = (note.author_id, note.at.astimezone(zone).date().isoformat())
            needed[key] = needed.get(key, 0.0) + accounting.minimum_minutes / 60
        activity = rt.activity_id(accounting.activity)
        for (user_id, day), hours in needed.items():
            missing = round(hours - logged.get((user_id, day), 0.0), 2)
            if missing > 0:
                rt.gateway.create_time_entry(
                    issue_id=self.issue_id, user_id=user_id, spent_on=day, hours=missing,
                    activity_id=activity,
                    comments=f"Minimum accounted time for answers ({accounting.minimum_minutes} min each)")
        for note in answers:
            rt.store.remember(f"time:{self.issue_id}:{note.journal_id}", self.now)

    def _due_date(self, due: dt.datetime | None) -> dict[str, str]:
        """Redmine's own due date mirrors the resolution deadline, so Redmine's overdue
        marks and Gantt agree with the SLA. Redmine refuses a due date before the start
        date (someone may have moved it): then only the SLA field carries the deadline."""
        if due is None:
            return {}
        day = due.astimezone(ZoneInfo(self.rt.rules.timezone)).date().isoformat()
        start = self.issue.get("start_date")
        if self.issue.get("due_date") == day or (start and day < start):
            return {}
        return {"due_date": day}

    def _acknowledged_at(self) -> dt.datetime | None:
        """When the bridge accepted the request: its last write that set the SLA state,
        or the creation itself when the bridge created the issue with its SLA (intake API)."""
        at = None
        for change in self.history.field_changes:
            if change.name == "cf:sla_state" and change.role is Role.BRIDGE and not change.old:
                at = change.at
        return at or self.history.created_at

    def _read(self, decision: RequestDecision, acknowledged_at) -> ClockReading:
        return read_clock(self.history, start=decision.start, targets=decision.policy.targets,
                          schedules=self.rt.rules.schedules, rules=self.rt.clock_rules,
                          now=self.now, acknowledged_at=acknowledged_at)

    def _sla_values(self, decision: RequestDecision, reading: ClockReading) -> dict[str, str | None]:
        return sla_values(self.rt, decision, self.history, reading)

    # -- side channels ------------------------------------------------------------------

    def _notify(self, kind: str, decision: RequestDecision, subject: str, body: str) -> None:
        self._mail(kind, decision.intake.normalized.contact.email, subject, body)

    def _mail(self, kind: str, email: str | None, subject: str, body: str) -> None:
        notifier = self.rt.notifier
        if notifier is None or not email:
            return
        # Recorded before the PUT, keyed by issue and the journal count the note
        # answers: a crash after the PUT cannot lose the mail, and a re-run of the same
        # decision (a repeated delivery, a retry) never mails twice.
        key = f"{kind}:{self.issue_id}:{len(self.history.notes)}"
        notifier.queue(key, email, subject, body, self.now, issue_id=self.issue_id)

    def _flag(self, decision: RequestDecision) -> None:
        """Rudeness and ignored values are for a human: a private note, never a refusal."""
        flags = decision.intake.flags
        if not flags:
            return
        text = "\n".join(f"* {f.message}" for f in flags)
        self.rt.gateway.update_issue(self.issue_id, notes=text, private_notes=True)


def sla_values(rt, decision: RequestDecision, history: IssueHistory,
               reading: ClockReading) -> dict[str, str | None]:
    """The SLA custom fields of an issue, as the engineer sees them."""
    zone = ZoneInfo(rt.rules.timezone)
    first = history.first_public_note(Role.SUPPORT)
    return {
        "tier": decision.policy.tier,
        "license_status": str(decision.policy.license_status.value),
        "sla_priority": decision.policy.priority,
        "sla_state": str(reading.state),
        "first_response_due": _fmt(reading.due(TargetKind.FIRST_RESPONSE), zone),
        "resolution_due": _fmt(reading.due(TargetKind.RESOLUTION), zone),
        "first_response_at": _fmt(first.at if first else None, zone),
    }


def _paths(found: tuple[str, ...]) -> dict[str, str]:
    return {p: PATH_TO_FIELD[p] for p in found if p in PATH_TO_FIELD}


def _fmt(moment: dt.datetime | None, zone: ZoneInfo) -> str | None:
    return moment.astimezone(zone).strftime(DUE_FORMAT) if moment else None

