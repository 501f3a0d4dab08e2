"""The functional core without Redmine: every lifecycle rule as snapshot -> plan.

Expected deadlines come from the regulation's arithmetic on the 09:00-18:00 Moscow
calendar, not from running the code. In March 2026, 8 March falls on a Sunday, so the
holiday moves to Monday 9 March; "Nd" is N whole days after the day it starts.
"""

from __future__ import annotations

import dataclasses

import pytest

from redmine_sla_bridge.domain.intake.request import Organization
from redmine_sla_bridge.domain.lifecycle.clock import SlaState
from redmine_sla_bridge.domain.lifecycle.history import Role
from redmine_sla_bridge.domain.processing import (
    ContactLookup,
    LoggedTime,
    Member,
    NewTimeEntry,
    TimeEntriesLookup,
    effect_keys,
    plan,
    plan_auto_close,
    plan_time_step,
)
from tests.unit.processing.builders import (
    ENGINEER,
    Journal,
    at,
    document,
    listed,
    request,
    rules_of,
    snapshot,
)

ACCEPTED = {"tier": "standard", "license_status": "none", "sla_priority": "P3",
            "sla_state": "on track", "first_response_due": "2026-03-02 18:00",
            "resolution_due": "2026-03-10 18:00",  # 5 working days, 9 March off
            "first_response_day": "2026-03-02"}


@pytest.fixture(scope="module")
def rules(tmp_path_factory):
    return rules_of(tmp_path_factory.mktemp("rules"), document(lifecycle={
        "escalation": {"at_risk": {"private_note": True, "add_watchers": ["Lead"]},
                       "breached": {"private_note": True, "raise_priority": "Urgent",
                                    "assign_to": "Lead"}},
        "customer_reply": [{"from_statuses": ["Feedback"], "to_status": "In Progress"},
                           {"from_statuses": ["Closed"], "to_status": "New", "within": "30d"}],
        "auto_close": [{"name": "ID-10", "from_statuses": ["Feedback"],
                        "idle_since": "support_answer", "after": "14d", "to_status": "Closed"}],
        "development": {"statuses": ["Development"], "expected_term": "10d"},
        "time_accounting": {"minimum_minutes": 30, "activity": "Support"},
    }))


def accepted_journal() -> Journal:
    """Filed Monday 10:00, acknowledged by the bridge a minute later."""
    return Journal(at(2, 10)).note(at(2, 10, 1), Role.BRIDGE, "registered").field(
        at(2, 10, 1), "cf:sla_state", None, "on track")


# -- intake and acknowledgement ----------------------------------------------------------

def test_a_complete_request_is_acknowledged_with_its_deadlines_in_one_note(rules):
    update = plan(snapshot(Journal(at(2, 10))), rules, at(2, 10, 1))
    assert update.action == "accepted"
    assert {k: update.fields[k] for k in ACCEPTED} == ACCEPTED
    assert update.fields["contact_email"] == "ivan@customer.example"
    assert update.due_date == "2026-03-10"  # Redmine's own due date mirrors the resolution
    assert update.status is None
    (note,) = update.notes
    assert not note.private
    assert "#7" in note.text and "02.03.2026 18:00" in note.text and "P3" in note.text
    (mail,) = update.mails
    assert (mail.key, mail.to) == ("ack:7:0", "ivan@customer.example")
    assert mail.body == note.text


def test_an_incomplete_request_is_refused_with_no_sla_and_the_customer_is_told(tmp_path):
    rules = rules_of(tmp_path, document(intake={"required": ["organization.inn"]}))
    update = plan(snapshot(Journal(at(2, 10))), rules, at(2, 10, 1))
    assert update.action == "rejected"
    assert update.status == "Rejected"
    assert "sla_state" not in update.fields and "tier" not in update.fields
    (note,) = update.notes
    assert not note.private and note.text
    assert [m.key for m in update.mails] == ["rejection:7:0"]


def test_a_refusal_the_workflow_dropped_is_not_repeated_and_the_admin_is_warned(tmp_path):
    rules = rules_of(tmp_path, document(intake={"required": ["organization.inn"]}))
    journal = Journal(at(2, 10)).note(at(2, 10, 1), Role.BRIDGE, "refused")
    update = plan(snapshot(journal), rules, at(2, 11))
    assert (update.action, update.notes, update.mails) == ("unchanged", (), ())
    assert "rejected status" in update.warnings[0]


def test_id6_a_known_contact_lends_organization_data_from_an_earlier_request(tmp_path):
    rules = rules_of(tmp_path, document(intake={"first_request_only": ["organization.inn"]}))
    first = snapshot(Journal(at(2, 10)))
    asked = plan(first, rules, at(2, 10, 1))
    assert asked.needs == ContactLookup("ivan@customer.example")
    assert not asked.writes_issue and not asked.mails

    known = dataclasses.replace(first, earlier_requests=(Organization("Romashka", "7707083893"),))
    accepted = plan(known, rules, at(2, 10, 1))
    assert accepted.action == "accepted"
    assert accepted.fields["inn"] == "7707083893"

    unknown = dataclasses.replace(first, earlier_requests=())
    assert plan(unknown, rules, at(2, 10, 1)).action == "rejected"


def test_a_refused_request_the_requester_completes_by_reply_is_reopened_and_accepted(tmp_path):
    rules = rules_of(tmp_path, document(intake={"required": ["organization.inn"]}))
    journal = (Journal(at(2, 10)).note(at(2, 10, 1), Role.BRIDGE, "refused")
               .move(at(2, 10, 1), "Rejected", Role.BRIDGE)
               .note(at(2, 12), Role.REQUESTER, "ИНН: 7707083893"))
    update = plan(snapshot(journal, closed=True), rules, at(2, 12, 1))
    assert update.action == "accepted"
    assert update.status == "New"
    assert update.fields["inn"] == "7707083893"


# -- pause and resume ---------------------------------------------------------------------

def test_waiting_for_the_customer_pauses_the_clock_and_moves_the_deadline(rules):
    journal = accepted_journal().note(at(2, 11), Role.SUPPORT, "Which version?").move(
        at(2, 11), "Feedback")
    values = {**ACCEPTED, "first_response_at": None}
    update = plan(snapshot(journal, values=values), rules, at(2, 15))
    assert update.fields["sla_state"] == "paused"
    # The first response was given at 11:00; the resolution clock stopped then and
    # shows its deadline as if the pause ended now: later by the 4 working hours paused.
    assert update.fields["first_response_at"] == "2026-03-02 11:00"
    assert update.fields["resolution_due"] > ACCEPTED["resolution_due"]
    assert update.new_state is None and update.notes == ()


def test_a_reply_to_a_waiting_issue_resumes_it(rules):
    journal = (accepted_journal().note(at(2, 11), Role.SUPPORT, "Which version?")
               .move(at(2, 11), "Feedback").note(at(3, 9, 30), Role.REQUESTER, "7.2"))
    update = plan(snapshot(journal, values=ACCEPTED), rules, at(3, 9, 31))
    assert (update.action, update.status) == ("resumed", "In Progress")
    assert update.notes == ()


# -- at risk and breached -----------------------------------------------------------------

def test_time_alone_makes_a_request_at_risk_then_breached_with_the_escalations(rules):
    values = {**ACCEPTED, "first_response_at": None}
    assert plan_time_step(listed(at(2, 10), values), rules, at(2, 15)) is None  # 5 of 8 h

    risky = plan_time_step(listed(at(2, 10), values), rules, at(2, 16, 30))  # 6.5 of 8 h
    assert risky is not None
    assert (risky.fields, risky.new_state) == ({"sla_state": "at risk"}, SlaState.AT_RISK)
    assert risky.watchers == ("Lead",) and risky.assign_to is None and risky.priority is None
    (note,) = risky.notes
    assert note.private and "02.03.2026 18:00" in note.text and "81%" in note.text

    late = plan_time_step(listed(at(2, 10), {**values, "sla_state": "at risk"}), rules, at(2, 18, 1))
    assert late is not None
    assert late.fields == {"sla_state": "breached"}
    assert (late.assign_to, late.priority, late.watchers) == ("Lead", "Urgent", ())
    assert late.project_id == 3

    worst = dataclasses.replace(listed(at(2, 10), values), priority="Immediate")
    assert plan_time_step(worst, rules, at(2, 18, 1)).priority is None  # never lowered

    done = {**values, "sla_state": "breached"}
    assert plan_time_step(listed(at(2, 10), done), rules, at(3, 18)) is None  # once per step


def test_an_event_that_finds_the_clock_breached_escalates_like_the_sweep(rules):
    update = plan(snapshot(accepted_journal(), values={**ACCEPTED, "first_response_at": None}),
                  rules, at(2, 18, 30))
    assert update.fields["sla_state"] == "breached"
    assert update.new_state is SlaState.BREACHED
    assert (update.assign_to, update.priority) == ("Lead", "Urgent")
    (note,) = update.notes
    assert note.private


def test_an_unknown_escalation_priority_is_reported_not_written(tmp_path):
    rules = rules_of(tmp_path, document(lifecycle={"escalation": {
        "breached": {"private_note": False, "raise_priority": "Critical"}}}))
    late = plan_time_step(listed(at(2, 10), {**ACCEPTED, "first_response_at": None}), rules,
                          at(2, 18, 1))
    assert late is not None and late.priority is None
    assert "Critical" in late.warnings[0]


# -- auto-close and reopen ----------------------------------------------------------------

def feedback_journal() -> Journal:
    return (accepted_journal().note(at(2, 11), Role.SUPPORT, "Does it work now?")
            .move(at(2, 11), "Feedback"))


def test_id10_an_issue_left_waiting_14_days_is_closed_with_a_notice(rules):
    values = {**ACCEPTED, "contact_email": "ivan@customer.example"}
    snap = snapshot(feedback_journal(), values=values)
    # Answered 2 March 11:00; 14 calendar days after that day end at 17 March 00:00.
    assert plan_auto_close(snap, rules, at(16, 23, 59)) is None
    update = plan_auto_close(snap, rules, at(17, 0, 1))
    assert update is not None
    assert (update.action, update.detail, update.status) == ("closed", "ID-10", "Closed")
    (note,) = update.notes
    assert "#7" in note.text and not note.private
    # The closing note says until when a reply reopens it (30 days, the reply rule).
    assert "17.04.2026 00:00" in note.text
    assert [m.to for m in update.mails] == ["ivan@customer.example"]


def test_no_auto_close_while_the_customer_waits_for_an_answer(rules):
    journal = feedback_journal().note(at(3, 9), Role.REQUESTER, "No, still broken")
    assert plan_auto_close(snapshot(journal, values=ACCEPTED), rules, at(30, 12)) is None


def test_a_closing_note_the_workflow_dropped_is_not_repeated(rules):
    journal = feedback_journal().note(at(16, 11, 1), Role.BRIDGE, "closed")
    update = plan_auto_close(snapshot(journal, values=ACCEPTED), rules, at(17, 12))
    assert update is not None and update.action == "unchanged" and not update.writes_issue
    assert update.warnings


def closed_journal() -> Journal:
    return (feedback_journal().note(at(17, 0, 1), Role.BRIDGE, "closed")
            .move(at(17, 0, 1), "Closed", Role.BRIDGE))


def test_a_reply_within_the_window_reopens_and_a_late_one_asks_for_a_new_request(rules):
    values = {**ACCEPTED, "sla_state": "met", "contact_email": "ivan@customer.example"}
    in_time = closed_journal().note(at(20, 10), Role.REQUESTER, "It broke again")
    update = plan(snapshot(in_time, values=values, closed=True), rules, at(20, 10, 1))
    assert (update.action, update.status) == ("reopened", "New")
    (note,) = update.notes
    assert not note.private

    april = at(20, 10).replace(month=4)  # past the 30 days after 17 March
    late = closed_journal().note(april, Role.REQUESTER, "Again")
    update = plan(snapshot(late, values=values, closed=True), rules, april)
    assert (update.action, update.status) == ("updated", None)
    assert update.detail == "reply after the reopen window"
    assert [m.key.split(":")[0] for m in update.mails] == ["too-late"]


# -- development hand-over ----------------------------------------------------------------

def test_a_hand_over_to_development_tells_the_term_once(rules):
    journal = accepted_journal().note(at(2, 11), Role.SUPPORT, "Passing it on").move(
        at(2, 11, 5), "Development")
    values = {**ACCEPTED, "first_response_at": "2026-03-02 11:00"}
    snap = snapshot(journal, values=values)
    key = f"development:7:{journal.statuses[-1].journal_id}"
    assert key in effect_keys(snap, rules)
    update = plan(snap, rules, at(2, 12))
    assert key in update.remember
    (note,) = [n for n in update.notes if "development" in n.text]
    assert not note.private and "17.03.2026 18:00" in note.text  # 10 working days later
    again = plan(dataclasses.replace(snap, remembered=frozenset({key})), rules, at(2, 12))
    assert not any("development" in n.text for n in again.notes)
    assert key not in again.remember


def test_assignment_to_a_development_group_is_a_hand_over_too(tmp_path):
    rules = rules_of(tmp_path, document(lifecycle={
        "development": {"assignees": ["Developers"], "expected_term": "5d"}}))
    journal = accepted_journal().field(at(2, 11), "assigned_to_id", None, "55", Role.SUPPORT)
    snap = snapshot(journal, values=ACCEPTED, assignee=Member(55, "Developers"))
    update = plan(snap, rules, at(2, 12))
    assert any("development" in n.text for n in update.notes)
    other = dataclasses.replace(snap, assignee=Member(56, "Support"))
    assert not plan(other, rules, at(2, 12)).notes


# -- BA-9 time accounting -----------------------------------------------------------------

def test_ba9_every_public_answer_is_accounted_at_least_the_minimum(rules):
    journal = accepted_journal().note(at(2, 11), Role.SUPPORT, "Answer one").note(
        at(2, 14), Role.SUPPORT, "Answer two")
    snap = snapshot(journal, values={**ACCEPTED, "first_response_at": "2026-03-02 11:00"})
    answers = [n.journal_id for n in journal.notes if n.role is Role.SUPPORT]
    keys = [f"time:7:{j}" for j in answers]
    assert [k for k in effect_keys(snap, rules) if k.startswith("time:")] == keys

    assert plan(dataclasses.replace(snap, time_entries=None), rules, at(2, 15)).needs == TimeEntriesLookup()
    update = plan(dataclasses.replace(snap, time_entries=(LoggedTime(ENGINEER, "2026-03-02", 0.25),)),
                  rules, at(2, 15))
    assert update.time_entries == (NewTimeEntry(
        ENGINEER, "2026-03-02", 0.75, "Support",
        "Minimum accounted time for answers (30 min each)"),)
    assert set(keys) <= set(update.remember)

    enough = dataclasses.replace(snap, time_entries=(LoggedTime(ENGINEER, "2026-03-02", 2.0),))
    assert plan(enough, rules, at(2, 15)).time_entries == ()

    done = dataclasses.replace(snap, remembered=frozenset(keys))
    update = plan(done, rules, at(2, 15))
    assert update.needs is None and update.time_entries == () and update.remember == ()


# -- idempotence --------------------------------------------------------------------------

def test_an_issue_whose_fields_are_true_needs_nothing(rules):
    values = {**ACCEPTED, "first_response_at": None, "contact_email": "ivan@customer.example"}
    update = plan(snapshot(accepted_journal(), values=values), rules, at(2, 12))
    assert update.action == "unchanged"
    assert not update.writes_issue and not update.mails and not update.watchers


# -- AR-9 entitlements (the rule added to show what a new rule touches) -------------------

def test_ar9_the_acknowledgement_lists_what_the_customers_active_licenses_grant(tmp_path):
    (tmp_path / "customers.yaml").write_text(
        'customers:\n'
        '  - inn: "7707083893"\n'
        '    name: Romashka\n'
        '    licenses:\n'
        '      - {kind: premium, product: "ИКС Стандарт", starts: 2026-01-01, expires: 2026-12-31}\n'
        '      - {kind: trial, product: "ИКС Стандарт", starts: 2025-01-01, expires: 2025-02-01}\n'
        '      - {kind: perpetual, product: "ИКС Lite", starts: 2025-01-01}\n',
        encoding="utf-8")
    doc = document(entitlements={
        "by_license": {"premium": ["personal cabinet", "SSH remote support", "updates"],
                       "trial": ["trial updates"]},
        "by_product": {"икс  lite": ["updates", "Lite manuals"]},
        "by_tier": {"standard": ["phone line"]}})
    doc["policy"]["customers"] = {"file": "customers.yaml"}
    rules = rules_of(tmp_path, doc)
    romashka = Organization("Romashka", "7707083893")

    def note_for(product: str) -> str:
        req = dataclasses.replace(request(at(2, 10)), organization=romashka, product=product)
        (ack, *_) = plan(snapshot(Journal(at(2, 10)), req=req), rules, at(2, 10, 1)).notes
        return ack.text

    # The expired trial grants nothing; each entitlement is listed once, tier first.
    assert ("Your entitlements: phone line, personal cabinet, SSH remote support, updates."
            in note_for("ИКС Стандарт"))
    assert "Your entitlements: phone line, updates, Lite manuals." in note_for("ИКС Lite")
    anonymous = plan(snapshot(Journal(at(2, 10))), rules, at(2, 10, 1)).notes[0].text
    assert "Your entitlements: phone line." in anonymous


def test_ar9_an_unknown_license_kind_in_the_entitlements_is_a_config_error(tmp_path):
    from redmine_sla_bridge.config.loader import ConfigError

    with pytest.raises(ConfigError, match="unknown license kind"):
        rules_of(tmp_path, document(entitlements={"by_license": {"platinum": ["all"]}}))
