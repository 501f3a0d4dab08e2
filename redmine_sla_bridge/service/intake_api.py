"""The intake API's use case: a request document in, a Redmine issue (or reasons) out.

The decision is the same `decide_request` that `simulate` and the event pipeline use.
A refused request creates no issue: the client is answered at once and can correct it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from redmine_sla_bridge.domain.intake.request import IntakeRequest, IntakeRequestError
from redmine_sla_bridge.domain.lifecycle.clock import read_clock
from redmine_sla_bridge.domain.lifecycle.history import IssueHistory
from redmine_sla_bridge.domain.policy import TargetKind
from redmine_sla_bridge.domain.processing import IssueUpdate, Mail, Note
from redmine_sla_bridge.domain.processing.field_values import fields_from_request, sla_values
from redmine_sla_bridge.domain.processing.plan import acknowledgement_note
from redmine_sla_bridge.domain.processing.update import NewIssue
from redmine_sla_bridge.domain.request_decision import decide_request
from redmine_sla_bridge.service.bridge import Bridge
from redmine_sla_bridge.service.execute import execute


@dataclass(frozen=True)
class ApiAnswer:
    status: int
    body: dict[str, Any]


class IntakeApiDisabled(LookupError):
    pass


def submit_request(bridge: Bridge, document: Any, now: dt.datetime | None = None) -> ApiAnswer:
    now = now or bridge.clock()
    api = bridge.settings.intake_api
    if api is None:
        raise IntakeApiDisabled("the intake API is not enabled (config: intake_api)")
    rules = bridge.rules
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
    decision = decide_request(request, rules.decision, received_at=now)
    if not decision.accepted:
        return ApiAnswer(422, {"accepted": False,
                               "reasons": [r.to_dict() for r in decision.intake.reasons]})

    status = rules.reopened_status
    history = IssueHistory(issue_id=0, created_at=decision.start, initial_status=status, status=status)
    reading = read_clock(history, start=decision.start, targets=decision.policy.targets,
                         schedules=rules.schedules, rules=rules.clock, now=now,
                         acknowledged_at=now)
    normalized = decision.intake.normalized
    values = {**fields_from_request(normalized),
              **sla_values(decision, history, reading, ZoneInfo(rules.timezone))}
    due = decision.deadlines.get(TargetKind.RESOLUTION)
    issue_id = bridge.redmine.create(NewIssue(
        project=api.project,
        tracker=api.tracker,
        subject=normalized.subject or (normalized.description or "")[:80] or "Support request",
        description=normalized.description or "",
        fields={k: v for k, v in values.items() if v is not None},
        due_date=due.date().isoformat() if due is not None else None,  # in the regulation's zone
        priority=decision.policy.redmine_priority,
    ))
    texts = rules.texts
    note = acknowledgement_note(decision, rules, issue_id)
    mails: tuple[Mail, ...] = ()
    if normalized.contact.email:
        mails = (Mail(f"ack:{issue_id}:0", normalized.contact.email,
                      texts.get("ack.subject", number=texts.number(issue_id)), note),)
    execute(bridge, IssueUpdate(issue_id, "accepted", notes=(Note(note),), mails=mails), now)
    body = decision.to_dict()
    body.update(issue_id=issue_id, registration_number=texts.number(issue_id))
    return ApiAnswer(201, body)
