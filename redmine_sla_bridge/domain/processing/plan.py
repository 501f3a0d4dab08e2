"""Decide what one issue needs, from its snapshot, the rules and "now".

Everything is recomputed from the issue and its journals (Redmine is the system of
record), so planning the same snapshot twice gives the same update, and applying an
update changes the snapshot so that the next plan is empty: that is what makes
repeated deliveries, polling overlaps and crash recovery harmless.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

from redmine_sla_bridge.domain.intake.gate import flags_note, no_sender_address_note, rejection_note
from redmine_sla_bridge.domain.intake.request import IntakeRequest
from redmine_sla_bridge.domain.lifecycle import turns
from redmine_sla_bridge.domain.lifecycle.clock import (
    STATE_RANK,
    ClockReading,
    OpenTarget,
    SlaState,
    read_clock,
    time_driven_state,
)
from redmine_sla_bridge.domain.lifecycle.history import FieldChange, IssueHistory, Role, StatusChange
from redmine_sla_bridge.domain.lifecycle.history import Note as HistoryNote
from redmine_sla_bridge.domain.lifecycle.rules import (
    AutoClose,
    auto_close_due,
    development_handover,
    idle_start,
    reply_decision,
)
from redmine_sla_bridge.domain.markup import quote, rendered
from redmine_sla_bridge.domain.notices import acknowledgement, describe_duration, format_due
from redmine_sla_bridge.domain.policy import TargetKind
from redmine_sla_bridge.domain.processing.escalation import (
    EscalationPlan,
    deferred_key,
    defers,
    escalation,
    escalation_key,
    escalation_keys,
    open_target,
    pending_escalation,
)
from redmine_sla_bridge.domain.processing.field_values import (
    OPTIONAL_KEYS,
    PATH_TO_FIELD,
    fields_from_request,
    parse_field_time,
    sla_values,
)
from redmine_sla_bridge.domain.processing.next_check import open_targets, with_next_check
from redmine_sla_bridge.domain.processing.ownership import (
    ForeignChange,
    acceptance_journal,
    changed_since_intake,
    filled_before_intake,
    restored,
)
from redmine_sla_bridge.domain.processing.rules import ProcessingRules
from redmine_sla_bridge.domain.processing.snapshot import IssueSnapshot, ListedIssue
from redmine_sla_bridge.domain.processing.update import (
    ContactLookup,
    ContactRequestsLookup,
    IssueUpdate,
    Mail,
    NewTimeEntry,
    Note,
    TimeEntriesLookup,
)
from redmine_sla_bridge.domain.reporting.outcome import OUTCOME_KEY
from redmine_sla_bridge.domain.reporting.outcome import refused as refused_outcome
from redmine_sla_bridge.domain.request_decision import RequestDecision, decide_request


def plan(snapshot: IssueSnapshot, rules: ProcessingRules, now: dt.datetime) -> IssueUpdate:
    """What an event on this issue changes. An update with `needs` asks for one more
    fact: plan again with it in the snapshot."""
    accepted_in = acceptance_journal(snapshot)
    if accepted_in is None:
        update = _intake(snapshot, rules, now)
    else:
        update = _track(snapshot, rules, now, accepted_in)
    # The sweep's fast pass reads only issues whose next change has come (next_check.py).
    return with_next_check(snapshot, update, rules, now)


def effect_keys(snapshot: IssueSnapshot, rules: ProcessingRules) -> tuple[str, ...]:
    """The once-only effects this issue could have: the caller puts those already done
    into `snapshot.remembered` before planning."""
    keys: list[str] = []
    if rules.time_accounting is not None:
        keys += [_time_key(snapshot, n) for n in snapshot.history.public_notes(Role.SUPPORT)]
    handover = _handover(snapshot, rules)
    if handover is not None:
        keys.append(_development_key(snapshot, handover))
    keys += escalation_keys(snapshot.issue_id, snapshot.values, rules)
    return tuple(keys)


def listed_effect_keys(listed: ListedIssue, rules: ProcessingRules) -> tuple[str, ...]:
    """What `plan_time_step` reads from `listed.remembered`: a pending escalation's keys
    (none without `staff_calendar`, so the sweep asks the store nothing)."""
    return escalation_keys(listed.issue_id, listed.values, rules)


def auto_close_keys(snapshot: IssueSnapshot, rules: ProcessingRules) -> tuple[str, ...]:
    """What `plan_auto_close` reads from `snapshot.remembered`: the reminder of the
    current idle period of each rule that has a reminder."""
    return tuple(dict.fromkeys(
        _reminder_key(snapshot, rule) for rule in rules.auto_close
        if rules.reminder_share(rule) is not None and snapshot.status in rule.from_statuses))


# -- a request the bridge has not accepted yet ---------------------------------------

def _intake(snap: IssueSnapshot, rules: ProcessingRules, now: dt.datetime) -> IssueUpdate:
    """The gate decides, whatever the SLA fields say: values typed into them before the
    bridge took the request in are cleared first, in a journal of their own, so that the
    bridge's own journal then sets every SLA value (that is what "taken in" means)."""
    forged = filled_before_intake(snap)
    if not forged:
        return _gate(snap, rules, now)
    cleared = dataclasses.replace(snap, values={**snap.values, **{c.key: None for c in forged}})
    update = _gate(cleared, rules, now)
    if update.action not in ("accepted", "rejected"):
        return update
    return dataclasses.replace(
        update, reset=tuple(c.key for c in forged),
        reset_note=_changes_note(True, forged, rules), reverted=tuple(c.key for c in forged))


def _gate(snap: IssueSnapshot, rules: ProcessingRules, now: dt.datetime) -> IssueUpdate:
    history = snap.history
    replies: tuple[HistoryNote, ...] = ()
    if not snap.closed and history.bridge_spoke_last():
        # The bridge refused it and nobody has touched it since, yet it is not in the
        # rejected status: Redmine's workflow dropped the status change. Refusing it
        # again on every event would spam the customer.
        return IssueUpdate(snap.issue_id, "unchanged", "refused; status change not applied",
                           warnings=("refused request is not in the rejected status: check that "
                                     f"the bridge's role may move issues to {rules.rejected_status!r}",))
    if snap.closed:
        if snap.status != rules.rejected_status:
            return IssueUpdate(snap.issue_id, "skipped", "closed before the bridge saw it")
        replies = _requester_replies_since_bridge(history)
        if not replies:
            return IssueUpdate(snap.issue_id, "unchanged", "rejected; waiting for the requester")
    request = snap.request
    if replies:
        # The requester answered the rejection: their reply may carry the missing
        # data as labelled lines ("ИНН: ..."), read like the original description.
        extra = "\n".join(n.text for n in replies)
        request = dataclasses.replace(request, description=(request.description or "") + "\n" + extra)
    decision = decide_request(request, rules.decision, received_at=history.created_at)
    if not decision.accepted:
        retried = _as_known_contact(snap, request, decision, rules)
        if isinstance(retried, ContactLookup):
            return IssueUpdate(snap.issue_id, "pending", needs=retried)
        decision = retried
    if decision.accepted:
        return _accept(snap, decision, rules, now, reopen=snap.closed)
    return _reject(snap, decision, rules)


def _requester_replies_since_bridge(history: IssueHistory) -> tuple[HistoryNote, ...]:
    # Journal ids order journals written within the same second.
    last_bridge = max((n.journal_id or 0 for n in history.notes if n.role is Role.BRIDGE), default=0)
    return tuple(n for n in history.public_notes(Role.REQUESTER) if (n.journal_id or 0) > last_bridge)


def _as_known_contact(snap: IssueSnapshot, request: IntakeRequest, decision: RequestDecision,
                      rules: ProcessingRules) -> RequestDecision | ContactLookup:
    """ID-6: organization data is demanded on the first request only. When that is all
    that is missing, the contact's earlier request lends its data (looked up only in
    this case)."""
    first_only = set(rules.decision.intake.first_request_only)
    if not first_only:
        return decision
    if any(r.code != "missing_field" or r.field not in first_only for r in decision.intake.reasons):
        return decision
    email = decision.intake.normalized.contact.email
    if not email:
        return decision
    if snap.earlier_requests is None:
        return ContactLookup(email)
    if not snap.earlier_requests:
        return decision
    known = snap.earlier_requests[0]
    for path, value in (("organization.name", known.name), ("organization.inn", known.inn)):
        if request.get(path) is None and value:
            request = request.with_value(path, value)
    return decide_request(request, rules.decision, received_at=snap.history.created_at,
                          known_contact=True)


def _reject(snap: IssueSnapshot, decision: RequestDecision, rules: ProcessingRules) -> IssueUpdate:
    texts = rules.texts
    found = fields_from_request(decision.intake.normalized, decision.intake.found_in_description)
    # The customer's values are escaped in the note and plain in the email.
    by_comment = _answers_by_comment(snap)
    message = rendered(lambda target: rejection_note(decision.intake, rules.decision.intake, target,
                                                     by_comment=by_comment),
                       rules.text_formatting)
    subject = texts.get("rejected.subject", number=texts.number(snap.issue_id))
    return IssueUpdate(
        snap.issue_id, "rejected", ", ".join(decision.intake.codes), decision,
        fields={**found, **_changed(snap, {OUTCOME_KEY: refused_outcome(decision.intake.codes).text()})},
        status=None if snap.closed else rules.rejected_status,
        notes=(Note(message.note), *_flags(decision, rules), *_unsent_note(snap, decision, rules)),
        mails=_mail("rejection", snap, decision.intake.normalized.contact.email, subject,
                    message.mail),
        unsent=("rejection",) if _unsent_note(snap, decision, rules) else (),
    )


def _accept(snap: IssueSnapshot, decision: RequestDecision, rules: ProcessingRules,
            now: dt.datetime, *, reopen: bool) -> IssueUpdate:
    held = _held_at_intake(snap, decision, rules)
    if held is not None:
        return held
    texts, zone = rules.texts, ZoneInfo(rules.timezone)
    reading = _read(snap, decision, rules, now, acknowledged_at=now)
    desired = {**fields_from_request(decision.intake.normalized),
               **sla_values(decision, snap.history, reading, zone)}
    note = acknowledgement_note(decision, rules, snap.issue_id)
    redmine_priority = decision.policy.redmine_priority
    subject = texts.get("ack.subject", number=texts.number(snap.issue_id))
    return IssueUpdate(
        snap.issue_id, "accepted", f"{decision.policy.tier}/{decision.policy.priority}", decision,
        fields=_changed(snap, desired),
        status=rules.reopened_status if reopen else None,
        due_date=_due_date(snap, decision.deadlines.get(TargetKind.RESOLUTION), zone),
        priority=redmine_priority if redmine_priority in snap.priority_order else None,
        notes=_merge_private((Note(note), *_flags(decision, rules),
                              *_several_questions(snap, rules),
                              *_unsent_note(snap, decision, rules))),
        mails=_mail("ack", snap, decision.intake.normalized.contact.email, subject, note),
        unsent=("ack",) if _unsent_note(snap, decision, rules) else (),
    )


def _several_questions(snap: IssueSnapshot, rules: ProcessingRules) -> tuple[Note, ...]:
    """BA-3 / ID-8: one problem per request. Whether two questions are two problems is
    the engineer's call, so a private hint, never a refusal."""
    least = rules.flag_questions_from
    if least is None:
        return ()
    count = turns.questions(snap.request.description)
    if count < least:
        return ()
    return (Note(rules.texts.get("several.questions", count=count), private=True),)


def acknowledgement_note(decision: RequestDecision, rules: ProcessingRules, issue_id: int) -> str:
    """BA-4/BA-6: number, priority and deadlines; AR-9: what the customer may use.

    Every value in it comes from the config, the clock or the issue id, none from the
    customer, so the note and its email are one text."""
    entitlements = rules.entitlements.of(decision.customer, decision.policy.tier,
                                         decision.start.date(), decision.intake.normalized.product)
    return acknowledgement(
        rules.texts, issue_id=issue_id, priority=decision.policy.priority, tier=decision.policy.tier,
        deadlines={k.value: v for k, v in decision.deadlines.items()}, timezone=rules.timezone,
        entitlements=entitlements)


def _unsent_note(snap: IssueSnapshot, decision: RequestDecision,
                 rules: ProcessingRules) -> tuple[Note, ...]:
    """Issue 17: Redmine's mail handler keeps no address of an unknown sender (Anonymous);
    with none in the request either, staff are told instead of the customer."""
    if snap.channel != "email" or decision.intake.normalized.contact.email:
        return ()
    return (Note(no_sender_address_note(rules.decision.intake, rules.text_formatting),
                 private=True),)


def _flags(decision: RequestDecision, rules: ProcessingRules) -> tuple[Note, ...]:
    """Rudeness and ignored values are for a human: a private note, never a refusal."""
    text = flags_note(decision.intake, rules.decision.intake, rules.text_formatting)
    return (Note(text, private=True),) if text else ()


# -- an accepted request: keep its SLA fields true -----------------------------------

def _track(snap: IssueSnapshot, rules: ProcessingRules, now: dt.datetime,
           accepted_in: int) -> IssueUpdate:
    foreign = changed_since_intake(snap, accepted_in, rules.people_may_change)
    # Inputs are put back before deciding, so the decision rests on the values the bridge
    # stands by; the SLA fields it computes are compared with what is really there, so
    # the ordinary update writes them back.
    inputs = tuple(c for c in foreign if c.key not in _RECOMPUTED)
    if inputs:
        request = snap.request
        for change in inputs:
            if change.key in _KEY_TO_PATH:
                request = request.with_value(_KEY_TO_PATH[change.key], change.bridge_value)
        snap = dataclasses.replace(snap, values=restored(snap.values, inputs), request=request)
    update = _track_values(snap, rules, now)
    if not foreign:
        return update
    restore = {c.key: c.bridge_value for c in inputs}
    note = _changes_note(False, foreign, rules)
    notes = _merge_private((Note(note, private=True), *update.notes))
    detail = "; ".join(p for p in (update.detail if update.action != "unchanged" else "",
                                   "reverted " + ", ".join(c.key for c in foreign)) if p)
    return dataclasses.replace(
        update, action="updated", detail=detail, fields={**restore, **update.fields},
        notes=notes, reverted=tuple(c.key for c in foreign))


def _track_values(snap: IssueSnapshot, rules: ProcessingRules, now: dt.datetime) -> IssueUpdate:
    decision = decide_request(_clock_started(snap, rules), rules.decision,
                              received_at=snap.history.created_at, known_contact=True)
    held = _held(snap, decision, rules, now)
    if held is not None:
        return held
    unacknowledged = _intake_without_acknowledgement(snap, decision, rules)
    if unacknowledged is not None:
        return unacknowledged
    replied = _customer_reply(snap, decision, rules, now)
    if replied is not None:
        return replied
    accounting = _account_time(snap, rules)
    if isinstance(accounting, TimeEntriesLookup):
        return IssueUpdate(snap.issue_id, "pending", needs=accounting)
    entries, accounted = accounting
    zone = ZoneInfo(rules.timezone)
    extension = _extension(snap, rules)
    reading = _read(snap, decision, rules, now, acknowledged_at=_acknowledged_at(snap.history),
                    extended_due=extension.due if extension else None)
    changes = _changed(snap, sla_values(decision, snap.history, reading, zone))
    wake = _wake(snap, rules)
    if isinstance(wake, ContactRequestsLookup):
        return IssueUpdate(snap.issue_id, "pending", needs=wake)
    announced = _extension_notice(snap, rules, extension)
    escalated, due_date = EscalationPlan(), None
    new_state = pending = None
    remember = accounted
    if changes:
        due_date = _due_date(snap, reading.due(TargetKind.RESOLUTION), zone)
        new_state = _worse_state(snap, reading)
    sla_priority = decision.policy.priority
    if new_state is not None:
        if defers(rules, new_state, sla_priority, now):
            # Written now without its actions; they follow in the staff's working time.
            remember = (*remember, deferred_key(snap.issue_id, new_state, {**snap.values, **changes}))
        else:
            escalated = _escalate_on_event(snap, reading, decision, rules, now, new_state)
    elif "sla_state" not in changes:
        pending = pending_escalation(snap.issue_id, snap.values, rules, snap.remembered,
                                     sla_priority, now)
        if pending is not None:
            escalated = _escalate_on_event(snap, reading, decision, rules, now, pending)
            remember = (*remember, escalation_key(snap.issue_id, pending, snap.values))
    development = _development(snap, rules, now)
    notes = tuple(n for n in (escalated.note, development[0] if development else None,
                              announced[0] if announced else None) if n)
    if not changes and development is None and pending is None and announced is None:
        return IssueUpdate(snap.issue_id, "unchanged", str(reading.state), decision,
                           time_entries=entries, remember=accounted, wake=wake)
    detail = ", ".join(f"{k}={v}" for k, v in changes.items())
    if announced is not None:
        detail = (detail + "; " if detail else "") + "extension announced"
    if pending is not None:
        detail = (detail + "; " if detail else "") + f"deferred {pending} escalation done"
    if development is not None:
        detail = (detail + "; " if detail else "") + "development term posted"
        remember = (*remember, development[1])
    return IssueUpdate(
        snap.issue_id, "updated", detail, decision, fields=changes, due_date=due_date,
        priority=escalated.priority, assign_to=escalated.assign_to, watchers=escalated.watchers,
        notes=notes, new_state=new_state, warnings=escalated.warnings,
        project_id=snap.project_id, time_entries=entries, remember=remember,
        mails=announced[1] if announced else (), wake=wake)


def _intake_without_acknowledgement(snap: IssueSnapshot, decision: RequestDecision,
                                    rules: ProcessingRules) -> IssueUpdate | None:
    """The intake API created the issue with its SLA, but Redmine did not take the
    acknowledgement that follows (the API answered so): it is written on the next pass,
    and its mail has the API's own key, so the customer is told once."""
    if not snap.values.get("intake_key"):
        return None
    if any(n.role is Role.BRIDGE and n.public for n in snap.history.notes):
        return None
    note = acknowledgement_note(decision, rules, snap.issue_id)
    return IssueUpdate(snap.issue_id, "accepted", "acknowledgement written", decision,
                       notes=(Note(note),),
                       mails=intake_acknowledgement_mail(decision, rules, snap.issue_id, note))


def intake_acknowledgement_key(issue_id: int) -> str:
    return f"ack:{issue_id}:0"


def intake_acknowledgement_mail(decision: RequestDecision, rules: ProcessingRules, issue_id: int,
                                note: str) -> tuple[Mail, ...]:
    """The acknowledgement mail of a request the intake API filed with its SLA: keyed by
    the issue alone, so the API's own try and a later pass that writes the note (the
    API's answer was lost) mail it once."""
    email = decision.intake.normalized.contact.email
    if not email:
        return ()
    texts = rules.texts
    return (Mail(intake_acknowledgement_key(issue_id), email,
                 texts.get("ack.subject", number=texts.number(issue_id)), note),)


def _worse_state(snap: IssueSnapshot, reading: ClockReading) -> SlaState | None:
    old, new = snap.values.get("sla_state"), reading.state
    ranks = {str(k): v for k, v in STATE_RANK.items()}
    if new is SlaState.EXTENDED:  # agreed with the customer (BA-7): nothing to escalate
        return None
    if new not in STATE_RANK or old not in ranks or STATE_RANK[new] <= ranks[old]:
        return None
    return new


def _escalate_on_event(snap: IssueSnapshot, reading: ClockReading, decision: RequestDecision,
                       rules: ProcessingRules, now: dt.datetime, state: SlaState) -> EscalationPlan:
    """An event found the clock worse before the sweep did: the same actions."""
    pauses = reading.pauses + (((reading.paused_since, now),) if reading.paused_since else ())
    targets: list[OpenTarget] = []
    for kind, clock in reading.targets.items():
        if clock.due is None or clock.met_at is not None:
            continue
        target = decision.policy.targets[kind]
        targets.append(open_target(kind, target, clock.due, decision.start,
                                   rules.schedules[target.calendar], pauses))
    return escalation(state, targets, rules, now, current_priority=snap.priority,
                      priority_order=snap.priority_order)


def _customer_reply(snap: IssueSnapshot, decision: RequestDecision,
                    rules: ProcessingRules, now: dt.datetime) -> IssueUpdate | None:
    """ID-10 / BA-8: the requester wrote while the issue waited or was closed."""
    if not rules.replies:
        return None
    history, texts = snap.history, rules.texts
    last_bridge = max((n.journal_id or 0 for n in history.notes
                       if n.role is Role.BRIDGE and n.public), default=0)
    reply = reply_decision(history, rules.replies, dict(rules.schedules), last_bridge)
    if reply is None:
        return None
    number = texts.number(snap.issue_id)
    if not reply.in_time:
        note = texts.get("reply.too_late", number=number)
        return IssueUpdate(
            snap.issue_id, "updated", "reply after the reopen window", decision,
            notes=(Note(note),),
            mails=_mail("too-late", snap, decision.intake.normalized.contact.email,
                        texts.get("closed.subject", number=number), note))
    notes = (Note(texts.get("reopened.note", number=number)),) if snap.closed else ()
    # The SLA fields as they are once the status has moved: written in the same journal,
    # so the state is never left at "paused" until the next pass.
    moved = _with_status(snap.history, reply.rule.to_status, now)
    reading = read_clock(moved, start=decision.start, targets=decision.policy.targets,
                         schedules=rules.schedules, rules=rules.clock, now=now,
                         acknowledged_at=_acknowledged_at(snap.history))
    zone = ZoneInfo(rules.timezone)
    changes = _changed(snap, sla_values(decision, moved, reading, zone))
    return IssueUpdate(snap.issue_id, "reopened" if snap.closed else "resumed",
                       f"{snap.status} -> {reply.rule.to_status}", decision,
                       status=reply.rule.to_status, notes=notes, fields=changes,
                       due_date=_due_date(snap, reading.due(TargetKind.RESOLUTION), zone)
                       if changes else None)


def _handover(snap: IssueSnapshot, rules: ProcessingRules) -> int | None:
    dev = rules.development
    if dev is None:
        return None
    assignee_journal = None
    if snap.assignee is not None and snap.assignee.name in dev.assignees:
        wanted = str(snap.assignee.id)
        assignee_journal = next(
            (c.journal_id for c in reversed(snap.history.field_changes)
             if c.name == "assigned_to_id" and c.new == wanted), None)
    return development_handover(snap.history, statuses=dev.statuses,
                                assignee_journal=assignee_journal)


def _development(snap: IssueSnapshot, rules: ProcessingRules,
                 now: dt.datetime) -> tuple[Note, str] | None:
    """AR-8 / ID-9: tell the customer the expected term once per hand-over. Public,
    unlike an escalation's private note, so a journal of its own."""
    handover = _handover(snap, rules)
    if handover is None or rules.development is None:
        return None
    key = _development_key(snap, handover)
    if key in snap.remembered:
        return None
    dev = rules.development
    due = rules.schedules[dev.calendar].add(now, dev.expected_term)
    text = rules.texts.get("development.note", due=format_due(due.astimezone(ZoneInfo(rules.timezone))))
    return Note(text), key


def _development_key(snap: IssueSnapshot, handover: int) -> str:
    return f"development:{snap.issue_id}:{handover}"


def _time_key(snap: IssueSnapshot, note: HistoryNote) -> str:
    return f"time:{snap.issue_id}:{note.journal_id}"


def _account_time(snap: IssueSnapshot, rules: ProcessingRules
                  ) -> tuple[tuple[NewTimeEntry, ...], tuple[str, ...]] | TimeEntriesLookup:
    """BA-9: every public answer of support is accounted at least the minimum."""
    accounting = rules.time_accounting
    if accounting is None:
        return (), ()
    answers = snap.history.public_notes(Role.SUPPORT)
    new = [n for n in answers if _time_key(snap, n) not in snap.remembered]
    if not new:
        return (), ()
    if snap.time_entries is None:
        return TimeEntriesLookup()
    zone = ZoneInfo(rules.timezone)
    logged: dict[tuple[int, str], float] = {}
    for entry in snap.time_entries:
        key = (entry.user_id, entry.spent_on)
        logged[key] = logged.get(key, 0.0) + entry.hours
    needed: dict[tuple[int, str], float] = {}
    for note in answers:
        if note.author_id is None:
            continue
        key = (note.author_id, note.at.astimezone(zone).date().isoformat())
        needed[key] = needed.get(key, 0.0) + accounting.minimum_minutes / 60
    comment = f"Minimum accounted time for answers ({accounting.minimum_minutes} min each)"
    entries = []
    for (user_id, day), hours in needed.items():
        missing = round(hours - logged.get((user_id, day), 0.0), 2)
        if missing > 0:
            entries.append(NewTimeEntry(user_id, day, missing, accounting.activity, comment))
    return tuple(entries), tuple(_time_key(snap, n) for n in new)


# -- requests whose clock waits: ID-8 queue, ID-1/AR-7 lead's decision; BA-7 extension --

def _held_at_intake(snap: IssueSnapshot, decision: RequestDecision,
                    rules: ProcessingRules) -> IssueUpdate | None:
    """An accepted request that does not start its clock yet: the head of support
    decides it (ID-1), or the contact has an earlier request in work (ID-8)."""
    lead = rules.needs_decision
    if lead is not None and decision.policy.tier in lead.tiers:
        why = rules.texts.get("decision.why.tier", tier=decision.policy.tier or "")
        return _ask_lead(snap, decision, rules, why,
                         fields={**fields_from_request(decision.intake.normalized),
                                 **_held_values(decision, SlaState.NEEDS_DECISION),
                                 "lead_decision": turns.NEEDED})
    ahead = _ahead(snap, rules, decision.intake.normalized.contact.email)
    if isinstance(ahead, ContactRequestsLookup):
        return IssueUpdate(snap.issue_id, "pending", needs=ahead)
    if not ahead:
        return None
    texts = rules.texts
    listed = ", ".join(texts.number(i) for i in ahead)
    public = texts.get("queued.note", number=texts.number(snap.issue_id), ahead=listed)
    private = texts.get("queued.position", position=len(ahead) + 1, ahead=listed)
    desired = {**fields_from_request(decision.intake.normalized),
               **_held_values(decision, SlaState.QUEUED)}
    return IssueUpdate(
        snap.issue_id, "queued", f"position {len(ahead) + 1} after {listed}", decision,
        fields=_changed(snap, desired), notes=(Note(public), Note(private, private=True),
                                               *_flags(decision, rules)),
        mails=_mail("queued", snap, decision.intake.normalized.contact.email,
                    texts.get("queued.subject", number=texts.number(snap.issue_id)), public))


def explain_lifecycle(decision: RequestDecision, rules: ProcessingRules,
                      open_requests: int = 0) -> dict[str, object]:
    """What `simulate` says the lifecycle does with an accepted request: acknowledged
    with its deadlines, queued (ID-8) or waiting for the lead (ID-1), the same choice
    `_held_at_intake` makes; and how an engineer may ask the lead or extend the term."""
    out: dict[str, object] = {}
    lead = rules.needs_decision
    if not decision.accepted:
        out["outcome"] = "rejected"
    elif lead is not None and decision.policy.tier in lead.tiers:
        out["outcome"] = str(SlaState.NEEDS_DECISION)
        out["why"] = (f"ID-1: tier {decision.policy.tier!r} is served at the lead's discretion "
                      f"(lifecycle.needs_decision.tiers); never refused automatically")
        out["assigned_to"] = lead.assign_to
        out["decided_by"] = sorted(lead.deciders) or "whoever Redmine lets edit the field"
        out["how"] = (f"the lead sets {rules.field_names.get('lead_decision', 'lead_decision')!r} "
                      f"to {turns.SERVE!r} (acknowledged, clock from the decision) or "
                      f"{turns.REFUSE!r} (refusal notice); one customer notice either way")
        out["deadlines"] = "none until served; those shown are for a start now"
    elif rules.one_request_at_a_time and open_requests > 0:
        out["outcome"] = str(SlaState.QUEUED)
        out["position"] = open_requests + 1
        out["why"] = (f"ID-8: the contact has {open_requests} earlier open request(s) in work "
                      f"(lifecycle.one_request_at_a_time); the customer is told it waits its turn")
        out["deadlines"] = "none until the earlier requests are done; those shown are for a start now"
    else:
        out["outcome"] = "accepted"
    if lead is not None and decision.accepted:
        out["ask_lead"] = (f"an engineer may set {rules.field_names.get('lead_decision')!r} to "
                           f"{turns.NEEDED!r} (AR-7 off-topic): state {SlaState.NEEDS_DECISION}")
    if rules.extension_reasons and decision.accepted:
        out["extension"] = {
            "how": (f"the engineer sets {rules.field_names.get('extension_reason')!r} and "
                    f"{rules.field_names.get('extended_due')!r} (YYYY-MM-DD HH:MM); the customer "
                    f"is told both, the resolution target becomes the agreed term (state "
                    f"{SlaState.EXTENDED}, breached only when it is missed)"),
            "reasons": list(rules.extension_reasons)}
    return out


def _held_values(decision: RequestDecision, state: SlaState) -> dict[str, str | None]:
    """The SLA fields of a request whose clock has not started: no deadline yet."""
    return {"tier": decision.policy.tier,
            "license_status": str(decision.policy.license_status.value),
            "sla_priority": decision.policy.priority, "sla_state": str(state),
            "first_response_due": None, "resolution_due": None}


def _ahead(snap: IssueSnapshot, rules: ProcessingRules,
           email: str | None) -> tuple[int, ...] | ContactRequestsLookup:
    """ID-8: the contact's earlier requests in work (asked of Redmine only when the
    rule is on)."""
    if not rules.one_request_at_a_time or not email:
        return ()
    if snap.contact_requests is None:
        return ContactRequestsLookup(email)
    return turns.ahead_in_queue(snap.issue_id, snap.contact_requests, rules.clock.done_statuses)


def _ask_lead(snap: IssueSnapshot, decision: RequestDecision, rules: ProcessingRules, why: str,
              fields: dict[str, str | None]) -> IssueUpdate:
    """No customer notice yet: the customer is told once, of the decision."""
    texts, lead = rules.texts, rules.needs_decision
    assert lead is not None
    note = texts.get("decision.note", why=why,
                     field=rules.field_names.get("lead_decision", "lead_decision"),
                     serve=turns.SERVE, refuse=turns.REFUSE)
    return IssueUpdate(
        snap.issue_id, "needs decision", why, decision, fields=_changed(snap, fields),
        assign_to=lead.assign_to, project_id=snap.project_id,
        notes=_merge_private((Note(note, private=True), *_flags(decision, rules))))


def _clock_started(snap: IssueSnapshot, rules: ProcessingRules) -> IntakeRequest:
    """The request as the clock sees it: a request that left the ID-8 queue, or that the
    lead decided to serve after the bridge asked (ID-1), starts its clock then."""
    history = snap.history
    starts = [turns.left_queue_at(history)]
    decided = turns.lead_decision(history, snap.values.get("lead_decision"))
    if decided is not None and decided.value == turns.SERVE and decided.asked_by_bridge:
        starts.append(decided.at)
    known = [s for s in starts if s is not None]
    if not known:
        return snap.request
    return dataclasses.replace(snap.request, created_at=max(known))


def _held(snap: IssueSnapshot, decision: RequestDecision, rules: ProcessingRules,
          now: dt.datetime) -> IssueUpdate | None:
    state = snap.values.get("sla_state")
    if state == SlaState.QUEUED:
        if snap.closed:  # closed before its turn (a duplicate): no clock ever ran
            return IssueUpdate(snap.issue_id, "unchanged", "closed while queued", decision)
        return _queued(snap, decision, rules, now)
    if rules.needs_decision is None:
        return None
    value = snap.values.get("lead_decision")
    if value == turns.NEEDED:
        if state == SlaState.NEEDS_DECISION:
            return IssueUpdate(snap.issue_id, "unchanged", "waiting for the lead's decision", decision)
        who = next((c.author for c in reversed(snap.history.field_changes)
                    if c.name == "cf:lead_decision" and c.new == turns.NEEDED), None)
        why = rules.texts.get("decision.why.asked", who=quote(who or "?", rules.text_formatting))
        return _ask_lead(snap, decision, rules, why,
                         fields={"sla_state": str(SlaState.NEEDS_DECISION)})
    decided = turns.lead_decision(snap.history, value)
    if decided is None or state != SlaState.NEEDS_DECISION:
        return None
    return _apply_lead_decision(snap, decision, rules, now, decided)


def _apply_lead_decision(snap: IssueSnapshot, decision: RequestDecision, rules: ProcessingRules,
                         now: dt.datetime, decided: turns.LeadDecision) -> IssueUpdate | None:
    lead, texts = rules.needs_decision, rules.texts
    assert lead is not None
    if not turns.may_decide(decided, lead.deciders):
        note = texts.get("decision.not_allowed", value=decided.value,
                         who=quote(decided.by or "?", rules.text_formatting),
                         deciders=", ".join(sorted(lead.deciders)), needed=turns.NEEDED)
        return IssueUpdate(snap.issue_id, "updated", f"{decided.value} by a non-lead reverted",
                           decision, fields={"lead_decision": turns.NEEDED},
                           notes=(Note(note, private=True),), reverted=("lead_decision",))
    number = texts.number(snap.issue_id)
    email = snap.values.get("contact_email")
    told = any(n.role is Role.BRIDGE and n.public and (n.journal_id or 0) > (decided.journal_id or 0)
               for n in snap.history.notes)
    if decided.value == turns.REFUSE:
        if told:
            return IssueUpdate(snap.issue_id, "unchanged", "refused by the lead", decision)
        note = texts.get("decision.refused.note", number=number)
        return IssueUpdate(
            snap.issue_id, "rejected", "refused by the lead", decision,
            status=None if snap.closed else rules.rejected_status, notes=(Note(note),),
            mails=_mail("decision", snap, email, texts.get("decision.refused.subject",
                                                           number=number), note))
    if not decided.asked_by_bridge:
        return None  # AR-7 asked after the acknowledgement: the clock simply goes on
    return _started(snap, decision, rules, now, "served by the lead's decision")


def _queued(snap: IssueSnapshot, decision: RequestDecision, rules: ProcessingRules,
            now: dt.datetime) -> IssueUpdate:
    ahead = _ahead(snap, rules, snap.values.get("contact_email"))
    if isinstance(ahead, ContactRequestsLookup):
        return IssueUpdate(snap.issue_id, "pending", needs=ahead)
    if ahead:
        listed = ", ".join(rules.texts.number(i) for i in ahead)
        return IssueUpdate(snap.issue_id, "unchanged", f"queued after {listed}", decision)
    # The clock starts now: decided again with this start, as every later pass will
    # read it from this journal (the bridge's change of the state away from "queued").
    started = decide_request(dataclasses.replace(snap.request, created_at=now), rules.decision,
                             received_at=now, known_contact=True)
    return _started(snap, started, rules, now, "left the queue")


def _started(snap: IssueSnapshot, decision: RequestDecision, rules: ProcessingRules,
             now: dt.datetime, detail: str) -> IssueUpdate:
    """The clock starts now: the SLA fields and the acknowledgement with the terms."""
    texts, zone = rules.texts, ZoneInfo(rules.timezone)
    reading = _read(snap, decision, rules, now, acknowledged_at=now)
    desired = sla_values(decision, snap.history, reading, zone)
    note = acknowledgement_note(decision, rules, snap.issue_id)
    redmine_priority = decision.policy.redmine_priority
    return IssueUpdate(
        snap.issue_id, "accepted", detail, decision, fields=_changed(snap, desired),
        due_date=_due_date(snap, decision.deadlines.get(TargetKind.RESOLUTION), zone),
        priority=redmine_priority if redmine_priority in snap.priority_order else None,
        notes=(Note(note),),
        mails=_mail("ack", snap, snap.values.get("contact_email"),
                    texts.get("ack.subject", number=texts.number(snap.issue_id)), note))


def _wake(snap: IssueSnapshot, rules: ProcessingRules) -> tuple[int, ...] | ContactRequestsLookup:
    """ID-8: a done request lets the contact's next queued one start (the service
    processes it after this update)."""
    if not rules.one_request_at_a_time:
        return ()
    if not (snap.closed or snap.status in rules.clock.done_statuses):
        return ()
    email = snap.values.get("contact_email")
    if not email:
        return ()
    if snap.contact_requests is None:
        return ContactRequestsLookup(email)
    others = tuple(o for o in snap.contact_requests if o.issue_id != snap.issue_id)
    woken = turns.next_in_queue(snap.issue_id, others, rules.clock.done_statuses)
    return (woken,) if woken is not None else ()


def _extension(snap: IssueSnapshot, rules: ProcessingRules) -> turns.Extension | None:
    """BA-7: the term the engineer agreed (reason and new term in the issue's fields)."""
    if not rules.extension_reasons:
        return None
    text = snap.values.get("extended_due")
    try:
        due = parse_field_time(text.strip(), ZoneInfo(rules.timezone)) if text else None
    except ValueError:
        due = None
    return turns.extension(snap.history, snap.values.get("extension_reason"), due,
                           rules.extension_reasons)


def _extension_notice(snap: IssueSnapshot, rules: ProcessingRules,
                      extension: turns.Extension | None) -> tuple[Note, tuple[Mail, ...]] | None:
    """Once per recorded extension: the customer is told the reason and the new term.
    Told when a public note of the bridge follows the engineer's journal (the notice is
    the first one the bridge writes after it)."""
    if extension is None:
        return None
    told = any(n.role is Role.BRIDGE and n.public and (n.journal_id or 0) > (extension.journal_id or 0)
               for n in snap.history.notes)
    if told:
        return None
    texts, number = rules.texts, rules.texts.number(snap.issue_id)
    due = format_due(extension.due.astimezone(ZoneInfo(rules.timezone)))
    note = texts.get("extension.note", number=number, due=due,
                     reason=quote(extension.reason, rules.text_formatting))
    plain = texts.get("extension.note", number=number, due=due, reason=extension.reason)
    to = snap.values.get("contact_email")
    mails = (Mail(f"extension:{snap.issue_id}:{extension.journal_id or 0}", to,
                  texts.get("extension.subject", number=number), plain),) if to else ()
    return Note(note), mails


# -- the sweep: what the passing of time does ------------------------------------------

def plan_time_step(listed: ListedIssue, rules: ProcessingRules, now: dt.datetime) -> IssueUpdate | None:
    """A worse SLA state reached by time alone, from the list's field values (no
    journals): the sweep's cost per issue stays one row of a page."""
    values = listed.values
    state = values.get("sla_state")
    clock = rules.clock
    if state is None or listed.status in clock.pause_statuses or listed.status in clock.done_statuses:
        return None
    current = SlaState(state) if state in set(SlaState) else None
    if current not in STATE_RANK:
        return None
    decision = decide_request(listed.request, rules.decision, received_at=listed.created_at,
                              known_contact=True)
    targets = open_targets(values, decision, rules)
    new = time_driven_state(targets, now, clock.at_risk_share)
    sla_priority = decision.policy.priority
    if current is None or STATE_RANK[new] <= STATE_RANK[current]:
        # No worse state; an escalation deferred to the staff's working time may be due.
        pending = pending_escalation(listed.issue_id, values, rules, listed.remembered,
                                     sla_priority, now)
        if pending is None:
            return None
        escalated = escalation(pending, targets, rules, now, current_priority=listed.priority,
                               priority_order=listed.priority_order)
        return _escalated(listed, decision, escalated, f"deferred {pending} escalation done",
                          remember=(escalation_key(listed.issue_id, pending, values),))
    if defers(rules, new, sla_priority, now):
        # The state at once (engineers' queries read it), the actions in working time.
        return IssueUpdate(listed.issue_id, "updated", f"{new}; escalation deferred", decision,
                           fields={"sla_state": str(new)}, new_state=new,
                           remember=(deferred_key(listed.issue_id, new, values),))
    escalated = escalation(new, targets, rules, now, current_priority=listed.priority,
                           priority_order=listed.priority_order)
    return dataclasses.replace(_escalated(listed, decision, escalated, str(new)),
                               fields={"sla_state": str(new)}, new_state=new)


def _escalated(listed: ListedIssue, decision: RequestDecision, escalated: EscalationPlan,
               detail: str, remember: tuple[str, ...] = ()) -> IssueUpdate:
    return IssueUpdate(
        listed.issue_id, "updated", detail, decision,
        priority=escalated.priority, assign_to=escalated.assign_to, watchers=escalated.watchers,
        notes=(escalated.note,) if escalated.note else (), warnings=escalated.warnings,
        project_id=listed.project_id, remember=remember)


def plan_auto_close(snap: IssueSnapshot, rules: ProcessingRules, now: dt.datetime) -> IssueUpdate | None:
    """AR-6 / ID-10 / BA-8: close an issue left idle, with a note saying how to go on;
    before that, once per idle period, remind the customer (`rules.reminders`).

    `snap.remembered` must hold the `auto_close_keys` the store has."""
    history = snap.history
    texts, number = rules.texts, rules.texts.number(snap.issue_id)
    coming: list[tuple[dt.datetime, AutoClose]] = []
    for rule in rules.auto_close:
        due = auto_close_due(history, rule, rules.schedules[rule.calendar], now)
        if due is None:
            continue
        if due > now:
            coming.append((due, rule))
            continue
        if _close_did_not_take(snap, rules):
            # The bridge's closing note is the last word, yet the issue did not move:
            # Redmine's workflow dropped the status change. Closing again at every sweep
            # would repeat the note and the email.
            return IssueUpdate(snap.issue_id, "unchanged", "auto-close did not take", warnings=(
                "auto-close did not take: check that the bridge's role may close issues",))
        idle = texts.get(f"idle.{rule.idle_since}", after=describe_duration(rules.language, rule.after))
        note = _closing_note(rules, rule.to_status, number, idle, now,
                             by_comment=_answers_by_comment(snap))
        return IssueUpdate(
            snap.issue_id, "closed", rule.name, status=rule.to_status, notes=(Note(note),),
            fields=_closed_values(snap, rules, rule.to_status, now),
            mails=_mail("closed", snap, snap.values.get("contact_email"),
                        texts.get("closed.subject", number=number), note))
    if not coming:
        return None
    due, rule = min(coming, key=lambda c: c[0])  # the close that comes first is the one told
    return _reminder(snap, rules, rule, due, now)


def _closed_values(snap: IssueSnapshot, rules: ProcessingRules, status: str,
                   now: dt.datetime) -> dict[str, str | None]:
    """The SLA fields as they are once the bridge closed the issue, in the closing
    journal: the state and the outcome (auto-closed) never wait for the next pass."""
    if acceptance_journal(snap) is None:
        return {}
    decision = decide_request(snap.request, rules.decision, received_at=snap.history.created_at,
                              known_contact=True)
    moved = _with_status(snap.history, status, now)
    reading = read_clock(moved, start=decision.start, targets=decision.policy.targets,
                         schedules=rules.schedules, rules=rules.clock, now=now,
                         acknowledged_at=_acknowledged_at(snap.history))
    return _changed(snap, sla_values(decision, moved, reading, ZoneInfo(rules.timezone)))


def _reminder(snap: IssueSnapshot, rules: ProcessingRules, rule: AutoClose, due: dt.datetime,
              now: dt.datetime) -> IssueUpdate | None:
    """One public note and email once `share` of the idle period has passed: when the
    request closes and how to keep it open (the customer's reply restarts or ends the
    idle period, so the next period has a reminder of its own)."""
    share = rules.reminder_share(rule)
    start = idle_start(snap.history, rule.idle_since)
    if share is None or start is None:
        return None
    schedule = rules.schedules[rule.calendar]
    if schedule.between(start, now) < schedule.between(start, due) * share:
        return None
    key = _reminder_key(snap, rule)
    if key in snap.remembered:
        return None
    texts, number = rules.texts, rules.texts.number(snap.issue_id)
    close_at = format_due(due.astimezone(ZoneInfo(rules.timezone)))
    note_key = "reminder.note.comment" if _answers_by_comment(snap) else "reminder.note"
    note = texts.get(note_key, number=number, close_at=close_at)
    to = snap.values.get("contact_email")
    mails = (Mail(key, to, texts.get("reminder.subject", number=number), note),) if to else ()
    return IssueUpdate(snap.issue_id, "reminded", f"{rule.name}: closes {close_at}",
                       notes=(Note(note),), mails=mails, remember=(key,))


def _reminder_key(snap: IssueSnapshot, rule: AutoClose) -> str:
    """One reminder per idle period: keyed by the journal that began it (0: the
    creation), so a reply or an answer that starts a new period allows a new one."""
    history = snap.history
    anchor: int | None = None
    if rule.idle_since == "customer_message":
        note = history.last_public_note(Role.REQUESTER)
        anchor = note.journal_id if note else 0
    elif rule.idle_since == "support_answer":
        note = history.last_public_note(Role.SUPPORT)
        anchor = note.journal_id if note else 0
    elif history.status_changes:
        anchor = history.status_changes[-1].journal_id
    return f"reminder:{snap.issue_id}:{anchor or 0}"


def _close_did_not_take(snap: IssueSnapshot, rules: ProcessingRules) -> bool:
    """The bridge wrote its closing note and nobody has done anything since, yet the
    issue is still open. The bridge's own reminder of the period (remembered) may be
    one of its notes since then without being a close."""
    history = snap.history
    others = [n.journal_id or 0 for n in history.notes if n.public and n.role is not Role.BRIDGE]
    changes: tuple[StatusChange | FieldChange, ...] = (*history.status_changes, *history.field_changes)
    others += [c.journal_id or 0 for c in changes if c.role is not Role.BRIDGE]
    since = max(others, default=0)
    bridge_notes = [n for n in history.notes
                    if n.public and n.role is Role.BRIDGE and (n.journal_id or 0) > since]
    reminded = any(k in snap.remembered for k in auto_close_keys(snap, rules))
    return len(bridge_notes) > (1 if reminded else 0)


def _closing_note(rules: ProcessingRules, status: str, number: str, idle: str, now: dt.datetime,
                  *, by_comment: bool = False) -> str:
    """Says how to continue: a reply reopens the request (within the window, if any),
    or, when no reply rule covers the closed status, a new request is needed."""
    texts = rules.texts
    reopen = next((r for r in rules.replies if status in r.from_statuses), None)
    if reopen is None:
        return texts.get("closed.note.new_request", number=number, idle=idle)
    if reopen.within is None:
        open_key = "closed.note.no_window.comment" if by_comment else "closed.note.no_window"
        return texts.get(open_key, number=number, idle=idle)
    until = rules.schedules[reopen.calendar].add(now, reopen.within)
    window_key = "closed.note.comment" if by_comment else "closed.note"
    return texts.get(window_key, number=number, idle=idle,
                     reopen_until=format_due(until.astimezone(ZoneInfo(rules.timezone))))


# -- shared steps ----------------------------------------------------------------------

def _read(snap: IssueSnapshot, decision: RequestDecision, rules: ProcessingRules, now: dt.datetime,
          acknowledged_at: dt.datetime | None,
          extended_due: dt.datetime | None = None) -> ClockReading:
    return read_clock(snap.history, start=decision.start, targets=decision.policy.targets,
                      schedules=rules.schedules, rules=rules.clock, now=now,
                      acknowledged_at=acknowledged_at, extended_due=extended_due)


def _acknowledged_at(history: IssueHistory) -> dt.datetime | None:
    """When the bridge accepted the request: its last write that set the SLA state,
    or the creation itself when the bridge created the issue with its SLA (intake API)."""
    at = None
    for change in history.field_changes:
        if change.name == "cf:sla_state" and change.role is Role.BRIDGE and not change.old:
            at = change.at
    return at or history.created_at


def _changed(snap: IssueSnapshot, desired: dict[str, str | None]) -> dict[str, str | None]:
    return {k: v for k, v in desired.items() if snap.values.get(k) != v
            and (k in snap.values or k not in OPTIONAL_KEYS)}  # not provisioned yet: skip


def _due_date(snap: IssueSnapshot, due: dt.datetime | None, zone: ZoneInfo) -> str | None:
    """Redmine's own due date mirrors the resolution deadline, so Redmine's overdue
    marks and Gantt agree with the SLA. Redmine refuses a due date before the start
    date (someone may have moved it): then only the SLA field carries the deadline."""
    if due is None:
        return None
    day = due.astimezone(zone).date().isoformat()
    if snap.due_date == day or (snap.start_date and day < snap.start_date):
        return None
    return day


def _mail(kind: str, snap: IssueSnapshot, to: str | None, subject: str, body: str) -> tuple[Mail, ...]:
    if not to:
        return ()
    # Keyed by issue and the journal count the note answers: a re-run of the same
    # decision (a repeated delivery, a retry) never mails twice.
    return (Mail(f"{kind}:{snap.issue_id}:{len(snap.history.notes)}", to, subject, body),)


_KEY_TO_PATH = {key: path for path, key in PATH_TO_FIELD.items()}
_RECOMPUTED = frozenset({"tier", "license_status", "sla_priority", "sla_state",
                         "first_response_due", "resolution_due", "first_response_at",
                         "first_response_day", "sla_outcome"})
"""Bridge fields every pass computes anew: putting them back is the ordinary update."""


def _answers_by_comment(snap: IssueSnapshot) -> bool:
    """The requester filed in Redmine itself (a Redmine account, not mail or the API)
    and so answers with a comment there; everyone else answers by email."""
    return snap.channel == "redmine"


def _with_status(history: IssueHistory, status: str, now: dt.datetime) -> IssueHistory:
    change = StatusChange(now, history.status, status, None, Role.BRIDGE, None)
    return dataclasses.replace(history, status=status,
                               status_changes=(*history.status_changes, change))


def _changes_note(before_intake: bool, changes: tuple[ForeignChange, ...],
                  rules: ProcessingRules) -> str:
    """A private note naming who changed what; the values are whatever someone typed,
    so they are quoted as data."""
    texts, target = rules.texts, rules.text_formatting
    empty = "—"

    def shown(key: str, value: str | None) -> str:
        return quote(texts.label(key, value), target) if value else empty

    parts = [texts.get("fields.change", field=rules.field_names.get(c.key, c.key),
                       who=quote(c.who, target), old=shown(c.key, c.bridge_value),
                       new=shown(c.key, c.value))
             for c in changes]
    key = "fields.reset" if before_intake else "fields.reverted"
    return texts.get(key, changes="; ".join(parts))


def _merge_private(notes: tuple[Note, ...]) -> tuple[Note, ...]:
    """Private notes go into one journal: each journal is one note."""
    private = [n.text for n in notes if n.private]
    public = tuple(n for n in notes if not n.private)
    if len(private) <= 1:
        return notes
    return (Note("\n\n".join(private), private=True), *public)
