"""The intake API's use case: a request document in, a Redmine issue (or reasons) out.

The decision is the same `decide_request` that `simulate` and the event pipeline use.
A refused request creates no issue: the client is answered at once and can correct it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from redmine_sla_bridge.adapters.redmine.intake_fields import fields_from_request
from redmine_sla_bridge.domain.intake.request import IntakeRequest, IntakeRequestError
from redmine_sla_bridge.domain.lifecycle.clock import read_clock
from redmine_sla_bridge.domain.lifecycle.history import IssueHistory
from redmine_sla_bridge.domain.notices import acknowledgement
from redmine_sla_bridge.domain.policy import TargetKind
from redmine_sla_bridge.domain.request_decision import decide_request
from redmine_sla_bridge.service.process_issue import sla_values


@dataclass(frozen=True)
class ApiAnswer:
    status: int
    body: dict[str, Any]


def submit_request(rt, document: Any, now: dt.datetime | None = None) -> ApiAnswer:
    now = now or rt.clock()
    api = rt.config.intake_api
    try:
        request = IntakeRequest.from_dict(document)
    except IntakeRequestError as exc:
        return ApiAnswer(400, {"accepted": False, **exc.to_dict()})
    if request.created_at is not None and request.created_at.tzinfo is None:
        return ApiAnswer(400, {"accepted": False, "errors": [{
            "field": "created_at", "code": "invalid_datetime",
            "message": "created_at needs a UTC offset, e.g. 2026-03-02T10:00:00+03:00"}]})
    # The clock starts when the request reaches us, whatever the client claims.
    request = dataclasses.replace(request, created_at=None)
    decision = decide_request(request, rt.rules, received_at=now)
    if not decision.accepted:
        return ApiAnswer(422, {"accepted": False,
                               "reasons": [r.to_dict() for r in decision.intake.reasons]})

    project, fields = rt.project_fields(api.project)
    status = rt.config.statuses.reopened
    history = IssueHistory(issue_id=0, created_at=decision.start, initial_status=status, status=status)
    reading = read_clock(history, start=decision.start, targets=decision.policy.targets,
                         schedules=rt.rules.schedules, rules=rt.clock_rules, now=now,
                         acknowledged_at=now)
    values = {**fields_from_request(decision.intake.normalized),
              **sla_values(rt, decision, history, reading)}
    normalized = decision.intake.normalized
    create: dict[str, Any] = {
        "project_id": project["id"],
        "tracker_id": rt.facts.tracker_ids[api.tracker],
        "subject": normalized.subject or (normalized.description or "")[:80] or "Support request",
        "description": normalized.description or "",
        "custom_fields": fields.payload({k: v for k, v in values.items() if v is not None}),
    }
    due = decision.deadlines.get(TargetKind.RESOLUTION)
    if due is not None:
        create["due_date"] = due.date().isoformat()  # deadlines are in the regulation's zone
    if decision.policy.redmine_priority in rt.facts.priority_ids:
        create["priority_id"] = rt.facts.priority_ids[decision.policy.redmine_priority]
    issue = rt.gateway.create_issue(**create)
    issue_id = int(issue["id"])
    deadlines = {k.value: v for k, v in decision.deadlines.items()}
    note = acknowledgement(rt.texts, issue_id=issue_id, priority=decision.policy.priority,
                           tier=decision.policy.tier, deadlines=deadlines,
                           timezone=rt.rules.timezone)
    if rt.notifier is not None and normalized.contact.email:
        rt.notifier.queue(f"ack:{issue_id}:0", normalized.contact.email,
                          rt.texts.get("ack.subject", number=rt.texts.number(issue_id)), note, now,
                          issue_id=issue_id)
    rt.gateway.update_issue(issue_id, notes=note)
    body = decision.to_dict()
    body.update(issue_id=issue_id, registration_number=rt.texts.number(issue_id))
    return ApiAnswer(201, body)

