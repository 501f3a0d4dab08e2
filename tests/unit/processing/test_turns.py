"""Issue 16: requests whose clock waits (ID-8 queue, ID-1/AR-7 lead's decision) and the
agreed extension of BA-7/BA-10, decided from the issue and its journals alone.

The builders' calendar: Mon-Fri 09:00-18:00 Moscow; first response 8 working hours,
resolution 5 working days; 2 March 2026 is a Monday, 9 March a day off.
"""

from __future__ import annotations

import dataclasses

import pytest

from redmine_sla_bridge.domain.lifecycle.clock import SlaState
from redmine_sla_bridge.domain.lifecycle.history import Role
from redmine_sla_bridge.domain.lifecycle.turns import (
    ContactRequest,
    ahead_in_queue,
    next_in_queue,
    questions,
)
from redmine_sla_bridge.domain.processing import ContactRequestsLookup, plan, plan_time_step
from tests.unit.processing.builders import (
    Journal,
    at,
    document,
    listed,
    request,
    rules_of,
    snapshot,
)

DONE = frozenset({"Resolved", "Closed"})
EMAIL = "ivan@customer.example"
ACCEPTED = {"tier": "standard", "license_status": "none", "sla_priority": "P3",
            "sla_state": "on track", "first_response_due": "2026-03-02 18:00",
            "resolution_due": "2026-03-10 18:00", "first_response_day": "2026-03-02",
            "contact_email": EMAIL}


@pytest.fixture(scope="module")
def queue_rules(tmp_path_factory):
    return rules_of(tmp_path_factory.mktemp("queue"),
                    document(lifecycle={"one_request_at_a_time": True}))


@pytest.fixture(scope="module")
def lead_rules(tmp_path_factory):
    doc = document(lifecycle={"needs_decision": {"assign_to": "Head of support",
                                                 "deciders": ["Dmitry Lead"], "tiers": ["none"]}})
    doc["policy"]["tiers"] = [{"name": "subscription", "when": {"partner": True}},
                              {"name": "none", "when": {}}]
    return rules_of(tmp_path_factory.mktemp("lead"), doc)


@pytest.fixture(scope="module")
def extension_rules(tmp_path_factory):
    return rules_of(tmp_path_factory.mktemp("ext"), document(lifecycle={
        "extension": {"reasons": ["Not reproducible", "Too little information"]}}))


# -- ID-8: the queue itself ----------------------------------------------------------------

def test_the_queue_is_the_contacts_earlier_requests_still_worked_in_id_order():
    others = (ContactRequest(3, "In Progress", "on track"), ContactRequest(5, "New", "queued"),
              ContactRequest(4, "Resolved", "met"), ContactRequest(2, "New", None),
              ContactRequest(6, "New", "needs decision"), ContactRequest(9, "New", "on track"))
    # 4 is done, 2 was never taken in, 6 waits for the lead (nobody works it), 9 is later.
    assert ahead_in_queue(7, others, DONE) == (3, 5)
    assert ahead_in_queue(3, others, DONE) == ()


def test_the_next_queued_request_is_the_oldest_that_nothing_holds_up_any_more():
    others = (ContactRequest(5, "New", "queued"), ContactRequest(8, "New", "queued"))
    assert next_in_queue(3, others, DONE) == 5
    still_busy = (*others, ContactRequest(4, "In Progress", "on track"))
    assert next_in_queue(3, still_busy, DONE) is None


# -- ID-8 in the plan ----------------------------------------------------------------------

def test_a_second_open_request_of_a_contact_is_queued_without_a_deadline(queue_rules):
    first = plan(snapshot(Journal(at(2, 10))), queue_rules, at(2, 10, 1))
    assert first.needs == ContactRequestsLookup(EMAIL) and not first.writes_issue

    busy = (ContactRequest(5, "In Progress", "on track"),)
    update = plan(snapshot(Journal(at(2, 10)), contact_requests=busy), queue_rules, at(2, 10, 1))
    assert update.action == "queued"
    assert update.fields["sla_state"] == "queued"
    assert update.fields.get("first_response_due") is None and update.due_date is None
    public, private = update.notes
    assert not public.private and "#5" in public.text and "one at a time" in public.text
    assert private.private and "position 2" in private.text and "#5" in private.text
    (mail,) = update.mails
    assert mail.key.startswith("queued:7:") and mail.body == public.text


def test_a_contact_without_other_open_requests_is_acknowledged_at_once(queue_rules):
    update = plan(snapshot(Journal(at(2, 10)), contact_requests=()), queue_rules, at(2, 10, 1))
    assert update.action == "accepted" and update.fields["first_response_due"] == "2026-03-02 18:00"


def queued_journal() -> Journal:
    return (Journal(at(2, 10)).note(at(2, 10, 1), Role.BRIDGE, "queued")
            .field(at(2, 10, 1), "cf:sla_state", None, "queued"))


QUEUED = {**ACCEPTED, "sla_state": "queued", "first_response_due": None, "resolution_due": None}


def test_a_queued_request_waits_while_the_earlier_one_is_worked(queue_rules):
    snap = snapshot(queued_journal(), values=QUEUED,
                    contact_requests=(ContactRequest(5, "In Progress", "on track"),))
    update = plan(snap, queue_rules, at(3, 12))
    assert update.action == "unchanged" and not update.writes_issue and not update.mails
    # The sweep leaves a queued request alone: no clock runs, nothing can be breached.
    assert plan_time_step(listed(at(2, 10), QUEUED), queue_rules, at(20, 12)) is None


def test_a_queued_request_starts_its_clock_when_it_becomes_the_active_one(queue_rules):
    snap = snapshot(queued_journal(), values=QUEUED,
                    contact_requests=(ContactRequest(5, "Closed", "met"),))
    update = plan(snap, queue_rules, at(4, 15))  # Wednesday 15:00
    assert update.action == "accepted"
    # 8 working hours from Wednesday 15:00: 3 h on Wednesday, 5 h on Thursday.
    assert update.fields["first_response_due"] == "2026-03-05 14:00"
    assert update.fields["sla_state"] == "on track"
    (note,) = update.notes
    assert not note.private and "05.03.2026 14:00" in note.text
    assert [m.key.split(":")[0] for m in update.mails] == ["ack"]

    # Later passes read the start from the bridge's journal that took it out of the queue.
    started = (queued_journal().note(at(4, 15), Role.BRIDGE, "registered")
               .field(at(4, 15), "cf:sla_state", "queued", "on track"))
    values = {**ACCEPTED, **update.fields}
    later = plan(snapshot(started, values=values), queue_rules, at(5, 10))
    assert later.action == "unchanged" and later.fields == {}


def test_a_done_request_wakes_the_contacts_next_queued_one(queue_rules):
    journal = (Journal(at(2, 10)).note(at(2, 10, 1), Role.BRIDGE, "registered")
               .field(at(2, 10, 1), "cf:sla_state", None, "on track")
               .note(at(2, 12), Role.SUPPORT, "Fixed").move(at(2, 12), "Closed"))
    values = {**ACCEPTED, "sla_state": "met", "first_response_at": "2026-03-02 12:00"}
    snap = snapshot(journal, values=values, closed=True)
    asked = plan(snap, queue_rules, at(2, 12, 1))
    assert asked.needs == ContactRequestsLookup(EMAIL)
    others = (ContactRequest(8, "New", "queued"), ContactRequest(9, "New", "queued"))
    update = plan(dataclasses.replace(snap, contact_requests=others), queue_rules, at(2, 12, 1))
    assert update.wake == (8,)


def test_without_the_rule_nobody_is_queued_and_nothing_is_looked_up(extension_rules):
    update = plan(snapshot(Journal(at(2, 10))), extension_rules, at(2, 10, 1))
    assert update.action == "accepted" and update.needs is None


# -- ID-1 / AR-7: the head of support decides ---------------------------------------------

def test_id1_no_subscription_is_never_refused_but_waits_for_the_lead(lead_rules):
    update = plan(snapshot(Journal(at(2, 10))), lead_rules, at(2, 10, 1))
    assert update.action == "needs decision"
    assert update.status is None and update.mails == ()  # the customer is told of the decision
    assert update.fields["sla_state"] == "needs decision"
    assert update.fields["lead_decision"] == "needed"
    assert update.assign_to == "Head of support"
    (note,) = update.notes
    assert note.private and "\"none\"" in note.text and "serve" in note.text


def asked_journal() -> Journal:
    return (Journal(at(2, 10)).note(at(2, 10, 1), Role.BRIDGE, "needs decision", public=False)
            .field(at(2, 10, 1), "cf:sla_state", None, "needs decision")
            .field(at(2, 10, 1), "cf:lead_decision", None, "needed"))


WAITING = {**ACCEPTED, "tier": "none", "sla_state": "needs decision", "lead_decision": "needed",
           "first_response_due": None, "resolution_due": None}


def test_the_leads_serve_acknowledges_once_with_the_clock_from_the_decision(lead_rules):
    journal = asked_journal().field(at(3, 14), "cf:lead_decision", "needed", "serve",
                                    Role.SUPPORT, author="Dmitry Lead")
    snap = snapshot(journal, values={**WAITING, "lead_decision": "serve"})
    update = plan(snap, lead_rules, at(3, 14, 1))
    assert update.action == "accepted"
    assert update.fields["first_response_due"] == "2026-03-04 13:00"  # 8 h from Tue 14:00
    (note,) = update.notes
    assert not note.private and "04.03.2026 13:00" in note.text
    assert len(update.mails) == 1

    done = (journal.note(at(3, 14, 1), Role.BRIDGE, note.text)
            .field(at(3, 14, 1), "cf:sla_state", "needs decision", "on track"))
    again = plan(snapshot(done, values={**WAITING, **update.fields, "lead_decision": "serve"}),
                 lead_rules, at(3, 15))
    assert again.mails == () and again.notes == () and again.fields == {}


def test_the_leads_refusal_is_one_notice_and_the_rejected_status(lead_rules):
    journal = asked_journal().field(at(3, 14), "cf:lead_decision", "needed", "refuse",
                                    Role.SUPPORT, author="Dmitry Lead")
    update = plan(snapshot(journal, values={**WAITING, "lead_decision": "refuse"}),
                  lead_rules, at(3, 14, 1))
    assert update.action == "rejected" and update.status == "Rejected"
    (note,) = update.notes
    assert not note.private and "head of support" in note.text
    assert len(update.mails) == 1

    told = journal.note(at(3, 14, 1), Role.BRIDGE, note.text).move(at(3, 14, 1), "Rejected",
                                                                   Role.BRIDGE)
    again = plan(snapshot(told, values={**WAITING, "lead_decision": "refuse"}, closed=True),
                 lead_rules, at(3, 15))
    assert again.mails == () and not again.writes_issue


def test_a_decision_by_someone_not_a_lead_is_put_back(lead_rules):
    journal = asked_journal().field(at(3, 14), "cf:lead_decision", "needed", "refuse",
                                    Role.SUPPORT, author="Eve Engineer")
    update = plan(snapshot(journal, values={**WAITING, "lead_decision": "refuse"}),
                  lead_rules, at(3, 14, 1))
    assert update.fields == {"lead_decision": "needed"} and update.status is None
    (note,) = update.notes
    assert note.private and "Eve Engineer" in note.text and "Dmitry Lead" in note.text
    assert update.mails == ()


def test_ar7_an_engineer_asks_the_lead_about_an_accepted_request(lead_rules):
    journal = (Journal(at(2, 10)).note(at(2, 10, 1), Role.BRIDGE, "registered")
               .field(at(2, 10, 1), "cf:sla_state", None, "on track")
               .field(at(2, 11), "cf:lead_decision", None, "needed", Role.SUPPORT,
                      author="Eve Engineer"))
    values = {**ACCEPTED, "tier": "subscription", "lead_decision": "needed"}
    update = plan(snapshot(journal, values=values), lead_rules, at(2, 11, 1))
    assert update.fields == {"sla_state": "needs decision"}
    assert update.assign_to == "Head of support" and update.mails == ()
    (note,) = update.notes
    assert note.private and "Eve Engineer" in note.text


# -- BA-7 / BA-10: the agreed extension ----------------------------------------------------

def extended_journal() -> Journal:
    return (Journal(at(2, 10)).note(at(2, 10, 1), Role.BRIDGE, "registered")
            .field(at(2, 10, 1), "cf:sla_state", None, "on track")
            .note(at(2, 11), Role.SUPPORT, "Looking into it")
            .field(at(4, 12), "cf:extension_reason", None, "Not reproducible", Role.SUPPORT)
            .field(at(4, 12), "cf:extended_due", None, "2026-03-20 18:00", Role.SUPPORT))


EXTENDED = {**ACCEPTED, "first_response_at": "2026-03-02 11:00",
            "extension_reason": "Not reproducible", "extended_due": "2026-03-20 18:00"}


def test_ba7_the_customer_is_told_the_reason_and_the_new_term_once(extension_rules):
    update = plan(snapshot(extended_journal(), values=EXTENDED), extension_rules, at(4, 12, 1))
    assert update.fields["sla_state"] == "extended"
    assert update.fields["resolution_due"] == "2026-03-20 18:00"
    (note,) = update.notes
    assert not note.private
    assert "Not reproducible" in note.text and "20.03.2026 18:00" in note.text
    (mail,) = update.mails
    assert mail.key.startswith("extension:7:") and "20.03.2026 18:00" in mail.body

    told = extended_journal().note(at(4, 12, 1), Role.BRIDGE, note.text)
    values = {**EXTENDED, **update.fields}
    again = plan(snapshot(told, values=values), extension_rules, at(11, 12))  # past 10 March
    assert again.action == "unchanged" and again.mails == ()


def test_ba7_breach_is_measured_against_the_agreed_term(extension_rules):
    told = extended_journal().note(at(4, 12, 1), Role.BRIDGE, "told")
    values = {**EXTENDED, "sla_state": "extended", "resolution_due": "2026-03-20 18:00"}
    update = plan(snapshot(told, values=values), extension_rules, at(23, 9))
    assert update.fields == {"sla_state": "breached"}
    assert update.new_state is SlaState.BREACHED
    # The sweep reads the agreed term from the resolution field too.
    assert plan_time_step(listed(at(2, 10), values), extension_rules, at(11, 12)) is None
    step = plan_time_step(listed(at(2, 10), values), extension_rules, at(23, 9))
    assert step is not None and step.fields == {"sla_state": "breached"}


def test_ba7_a_reason_not_in_the_list_or_an_unreadable_term_changes_nothing(extension_rules):
    for values in ({**EXTENDED, "extension_reason": "Because"},
                   {**EXTENDED, "extended_due": "20 March"}):
        update = plan(snapshot(extended_journal(), values=values), extension_rules, at(4, 12, 1))
        assert update.mails == () and "sla_state" not in update.fields


# -- BA-3 / ID-8: one problem per request --------------------------------------------------

@pytest.mark.parametrize(("text", "count"), [
    ("Подскажете?", 0),  # a polite word, not a question about a problem
    ("Не работает VPN. Что с этим делать?", 1),
    ("Как настроить VPN? Где взять ключ для лицензии?", 2),
    ("Версия 7.2? build 456?", 0),
    ("Why does it fail??? And how do I reset the password?", 2),
])
def test_questions_are_sentences_of_three_words_or_more_ending_in_a_question_mark(text, count):
    assert questions(text) == count


def test_ba3_a_request_asking_several_questions_is_flagged_never_refused(tmp_path):
    rules = rules_of(tmp_path, document(lifecycle={"flag_questions_from": 2}))
    req = request(at(2, 10), description="Как настроить VPN? Где взять ключ для лицензии?")
    update = plan(snapshot(Journal(at(2, 10)), req=req), rules, at(2, 10, 1))
    assert update.action == "accepted"
    public, private = update.notes
    assert not public.private and private.private and "2 questions" in private.text
    one = request(at(2, 10), description="Не работает VPN. Что с этим делать?")
    assert len(plan(snapshot(Journal(at(2, 10)), req=one), rules, at(2, 10, 1)).notes) == 1


def test_a_lead_decision_for_an_unknown_tier_is_a_config_error(tmp_path):
    from redmine_sla_bridge.bootstrap import BootstrapError

    with pytest.raises(BootstrapError, match=r"needs_decision\.tiers: unknown tier 'nobody'"):
        rules_of(tmp_path, document(lifecycle={"needs_decision": {"tiers": ["nobody"]}}))


def test_a_request_closed_while_queued_keeps_no_clock(queue_rules):
    journal = queued_journal().move(at(3, 9), "Closed")
    update = plan(snapshot(journal, values=QUEUED, closed=True), queue_rules, at(20, 12))
    assert update.action == "unchanged" and not update.writes_issue and update.needs is None
