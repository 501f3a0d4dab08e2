"""The intake API's use case: a request document in, a Redmine issue (or reasons) out.

The decision is the same `decide_request` that `simulate` and the event pipeline use.
A refused request creates no issue: the client is answered at once and can correct it.

Idempotent: every request has a key (the client's `Idempotency-Key`, else one of our
own), written into the issue it creates. A retry with the same key answers with that
issue instead of creating another, and a create whose answer was lost is resolved by
finding the issue by its key. "Nothing was created" is said only when it is known.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from redmine_sla_bridge.domain.intake.gate import flags_note
from redmine_sla_bridge.domain.intake.request import IntakeRequest, IntakeRequestError
from redmine_sla_bridge.domain.lifecycle.clock import read_clock
from redmine_sla_bridge.domain.lifecycle.history import IssueHistory, Role
from redmine_sla_bridge.domain.policy import TargetKind
from redmine_sla_bridge.domain.ports import RedmineUnavailable
from redmine_sla_bridge.domain.processing import IssueUpdate, Note
from redmine_sla_bridge.domain.processing.field_values import fields_from_request, sla_values
from redmine_sla_bridge.domain.processing.next_check import KEY as NEXT_CHECK
from redmine_sla_bridge.domain.processing.next_check import next_change, next_check_value
from redmine_sla_bridge.domain.processing.plan import (
    acknowledgement_note,
    intake_acknowledgement_key,
    intake_acknowledgement_mail,
)
from redmine_sla_bridge.domain.processing.update import NewIssue
from redmine_sla_bridge.domain.request_decision import RequestDecision, decide_request
from redmine_sla_bridge.service.bridge import Bridge
from redmine_sla_bridge.service.execute import execute
from redmine_sla_bridge.service.process_issue import process_issue

SUBJECT_LIMIT = 255
"""Redmine's own limit on an issue subject."""
LINE_LIMIT = 255
"""The bridge's limit on its single-line intake fields (contact, organization, product,
version, contract number): what an engineer reads in the issue's attributes."""
_LIMITED = {"subject": SUBJECT_LIMIT, "contact.name": LINE_LIMIT, "contact.email": LINE_LIMIT,
            "contact.phone": LINE_LIMIT, "contact.position": LINE_LIMIT,
            "organization.name": LINE_LIMIT, "organization.inn": LINE_LIMIT,
            "product": LINE_LIMIT, "version": LINE_LIMIT, "contract_number": LINE_LIMIT}
KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,128}")
"""An idempotency key: 1 to 128 printable ASCII characters, no spaces."""
KEY_LOCK = dt.timedelta(seconds=60)
"""How long a request holds its key against a concurrent twin."""


@dataclass(frozen=True)
class ApiAnswer:
    status: int
    body: dict[str, Any]


class IntakeApiDisabled(LookupError):
    pass


class IntakeOutcomeUnknown(RedmineUnavailable):
    """Redmine did not confirm the create, and its issue was not found (yet)."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"Redmine did not confirm the request; it may have been created. "
                         f"Retry with the same Idempotency-Key: {key}")


class IntakeNotAcknowledged(RedmineUnavailable):
    """The issue exists; its acknowledgement could not be written yet."""

    def __init__(self, key: str, issue_id: int) -> None:
        self.key, self.issue_id = key, issue_id
        super().__init__(f"the request was registered as issue {issue_id} but Redmine did not "
                         f"take its acknowledgement; retry with the same Idempotency-Key: {key}")


def submit_request(bridge: Bridge, document: Any, now: dt.datetime | None = None, *,
                   idempotency_key: str | None = None) -> ApiAnswer:
    api = bridge.settings.intake_api
    if api is None:
        raise IntakeApiDisabled("the intake API is not enabled (config: intake_api)")
    return submit_document(bridge, document, now, idempotency_key=idempotency_key,
                           project=api.project, tracker=api.tracker)


def submit_document(bridge: Bridge, document: Any, now: dt.datetime | None = None, *,
                    idempotency_key: str | None, project: str, tracker: str) -> ApiAnswer:
    """The intake itself, for every channel (the HTTP API, the support mailbox): a
    request document filed as an issue of `project`/`tracker`, idempotent by key."""
    now = now or bridge.clock()
    if idempotency_key is not None and not KEY_PATTERN.fullmatch(idempotency_key):
        return ApiAnswer(400, {"accepted": False, "errors": [{
            "field": "Idempotency-Key", "code": "invalid_key",
            "message": "an Idempotency-Key is 1 to 128 printable ASCII characters"}]})
    try:
        request = IntakeRequest.from_dict(document)
    except IntakeRequestError as exc:
        return ApiAnswer(400, {"accepted": False, **exc.to_dict()})
    if request.created_at is not None and request.created_at.tzinfo is None:
        return ApiAnswer(400, {"accepted": False, "errors": [{
            "field": "created_at", "code": "invalid_datetime",
            "message": "created_at needs a UTC offset, e.g. 2026-03-02T10:00:00+03:00"}]})
    too_long = _too_long(request)
    if too_long:
        return ApiAnswer(422, {"accepted": False, "errors": too_long})

    key = idempotency_key or uuid.uuid4().hex
    holder = uuid.uuid4().hex
    lock = f"intake:{key}"
    if not bridge.store.try_lease(lock, holder, now, KEY_LOCK):
        return ApiAnswer(409, {"accepted": False, "errors": [{
            "field": "Idempotency-Key", "code": "in_progress",
            "message": "a request with this Idempotency-Key is being processed; retry later"}]})
    try:
        if idempotency_key is not None:
            existing = _find(bridge, project, key)
            if existing is not None:
                return _answer_for_existing(bridge, existing, key, now)
        return _create(bridge, request, key, now, project, tracker)
    finally:
        bridge.store.release(lock, holder)


def _create(bridge: Bridge, request: IntakeRequest, key: str, now: dt.datetime,
            project: str, tracker: str) -> ApiAnswer:
    rules = bridge.rules
    # The clock starts when the request reaches us, whatever the client claims.
    request = dataclasses.replace(request, created_at=None)
    decision = decide_request(request, rules.decision, received_at=now)
    if not decision.accepted:
        return ApiAnswer(422, {"accepted": False,
                               "reasons": [r.to_dict() for r in decision.intake.reasons]})
    if _may_wait(bridge, decision):
        return _create_for_the_pipeline(bridge, decision, key, now, project, tracker)
    status = rules.reopened_status
    history = IssueHistory(issue_id=0, created_at=decision.start, initial_status=status, status=status)
    reading = read_clock(history, start=decision.start, targets=decision.policy.targets,
                         schedules=rules.schedules, rules=rules.clock, now=now,
                         acknowledged_at=now)
    normalized = decision.intake.normalized
    values = {**fields_from_request(normalized),
              **sla_values(decision, history, reading, ZoneInfo(rules.timezone)),
              "intake_key": key}
    # Stamped at creation like any write of the bridge, so the fast sweep finds the issue
    # when its state can change (and the first event on it has nothing left to write).
    values[NEXT_CHECK] = next_check_value(
        next_change(values, status, decision, rules, now, history=history), rules.timezone)
    due = decision.deadlines.get(TargetKind.RESOLUTION)
    new = dataclasses.replace(
        _new_issue(normalized, values, project, tracker),
        due_date=due.date().isoformat() if due is not None else None,  # in the regulation's zone
        priority=decision.policy.redmine_priority)
    issue_id = _create_issue(bridge, new, project, key)
    _acknowledge(bridge, decision, issue_id, key, now)
    return ApiAnswer(201, {**_body(bridge, decision, issue_id, key), "outcome": "accepted"})


def _may_wait(bridge: Bridge, decision: RequestDecision) -> bool:
    """Whether an accepted request may not start its clock at once: its tier waits for
    the head of support (ID-1), or its contact may have an earlier request in work (ID-8,
    known only by asking Redmine). Those go through the event pipeline's plan, which
    queues them or asks the lead, as for a request filed in Redmine itself."""
    rules = bridge.rules
    lead = rules.needs_decision
    if lead is not None and decision.policy.tier in lead.tiers:
        return True
    return rules.one_request_at_a_time and bool(decision.intake.normalized.contact.email)


def _create_for_the_pipeline(bridge: Bridge, decision: RequestDecision, key: str,
                             now: dt.datetime, project: str, tracker: str) -> ApiAnswer:
    """The issue with the request's data and key only; its first plan decides whether the
    clock starts (and acknowledges), waits in the contact's queue, or waits for the lead."""
    normalized = decision.intake.normalized
    values = {**fields_from_request(normalized), "intake_key": key}
    issue_id = _create_issue(bridge, _new_issue(normalized, values, project, tracker), project, key)
    try:
        outcome = process_issue(bridge, issue_id, now)
    except RedmineUnavailable as exc:
        raise IntakeNotAcknowledged(key, issue_id) from exc
    body = _body(bridge, outcome.decision or decision, issue_id, key)
    body["outcome"] = outcome.action  # accepted | queued | needs decision
    if outcome.action != "accepted":
        # No clock runs until the request's turn or the lead's decision: no term promised.
        body["deadlines"] = dict.fromkeys(body["deadlines"])
    return ApiAnswer(201, body)


def _create_issue(bridge: Bridge, new: NewIssue, project: str, key: str) -> int:
    try:
        return bridge.redmine.create(new)
    except RedmineUnavailable:
        # The create may have been applied with its answer lost: only the key can tell.
        # Not finding it proves nothing (a timed-out create may still land), so the
        # client is told to retry with the key, which is always safe.
        found = _find(bridge, project, key, lost_answer=True)
        if found is None:
            raise IntakeOutcomeUnknown(key) from None
        return found


def _new_issue(normalized: IntakeRequest, values: dict[str, str | None], project: str,
               tracker: str) -> NewIssue:
    return NewIssue(
        project=project,
        tracker=tracker,
        subject=normalized.subject or (normalized.description or "")[:80] or "Support request",
        description=normalized.description or "",
        fields={k: v for k, v in values.items() if v is not None},
    )


def _acknowledge(bridge: Bridge, decision: RequestDecision, issue_id: int, key: str,
                 now: dt.datetime) -> None:
    note = acknowledgement_note(decision, bridge.rules, issue_id)
    mails = intake_acknowledgement_mail(decision, bridge.rules, issue_id, note)
    try:
        # What the engineer should check (free-text values, rude words): private, as the
        # event path writes it.
        flags = flags_note(decision.intake, bridge.rules.decision.intake,
                           bridge.rules.text_formatting)
        notes = (Note(note), *((Note(flags, private=True),) if flags else ()))
        execute(bridge, IssueUpdate(issue_id, "accepted", notes=notes, mails=mails), now)
    except RedmineUnavailable as exc:
        raise IntakeNotAcknowledged(key, issue_id) from exc


def _answer_for_existing(bridge: Bridge, issue_id: int, key: str, now: dt.datetime) -> ApiAnswer:
    """A retry: the first request's issue, acknowledged now if its first try could not."""
    try:
        outcome = process_issue(bridge, issue_id, now)
        _release_acknowledgement(bridge, issue_id, now)
    except RedmineUnavailable as exc:
        raise IntakeNotAcknowledged(key, issue_id) from exc
    body: dict[str, Any] = {"accepted": True}
    if outcome.decision is not None:
        body = _body(bridge, outcome.decision, issue_id, key)
    else:
        body.update(issue_id=issue_id, registration_number=bridge.rules.texts.number(issue_id),
                    idempotency_key=key)
    body["duplicate"] = True
    return ApiAnswer(200, body)


def _release_acknowledgement(bridge: Bridge, issue_id: int, now: dt.datetime) -> None:
    """A first try killed while Redmine took the acknowledgement leaves its email on hold
    (execute.MAIL_HOLD, hours), and the retry plans no second note: once the note is seen
    in Redmine, the email goes now. A no-op for an email sent, never queued or cancelled."""
    if bridge.notifier is None:
        return
    snapshot = bridge.redmine.load(issue_id)
    if snapshot is not None and any(n.role is Role.BRIDGE and n.public
                                    for n in snapshot.history.notes):
        bridge.notifier.release(intake_acknowledgement_key(issue_id), now)


def _find(bridge: Bridge, project: str, key: str, *, lost_answer: bool = False) -> int | None:
    try:
        return bridge.redmine.find_intake(project, key)
    except RedmineUnavailable:
        if lost_answer:
            raise IntakeOutcomeUnknown(key) from None
        raise
    except LookupError:
        if lost_answer:
            raise IntakeOutcomeUnknown(key) from None
        return None  # no key field yet: requests are not deduplicated until `provision`


def _body(bridge: Bridge, decision: RequestDecision, issue_id: int, key: str) -> dict[str, Any]:
    body = decision.to_dict()
    body.update(issue_id=issue_id, registration_number=bridge.rules.texts.number(issue_id),
                idempotency_key=key, duplicate=False)
    return body


def _too_long(request: IntakeRequest) -> list[dict[str, Any]]:
    errors = []
    for path, limit in _LIMITED.items():
        value = request.get(path)
        if isinstance(value, str) and len(value) > limit:
            errors.append({"field": path, "code": "too_long", "limit": limit,
                           "message": f"{path} has {len(value)} characters; at most {limit}"})
    return errors
