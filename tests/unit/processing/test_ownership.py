"""Issue 15: what the bridge decided is what its own journals say. Forged SLA values,
intake fields changed after intake, wording by channel, and the state written in the
same pass as a customer's reply."""

from __future__ import annotations

import pytest

from redmine_sla_bridge.domain.lifecycle.history import Role
from redmine_sla_bridge.domain.processing import plan
from tests.unit.processing.builders import Journal, at, document, request, rules_of, snapshot

ACCEPTED = {"tier": "standard", "license_status": "none", "sla_priority": "P3",
            "sla_state": "on track", "first_response_due": "2026-03-02 18:00",
            "resolution_due": "2026-03-10 18:00", "first_response_at": None,
            "contact_email": "ivan@customer.example", "contact_name": "Ivan Petrov",
            "inn": "7707083893"}


@pytest.fixture(scope="module")
def rules(tmp_path_factory):
    return rules_of(tmp_path_factory.mktemp("own"), document(
        lifecycle={"customer_reply": [{"from_statuses": ["Feedback"], "to_status": "In Progress"}]},
        fields={"sla_state": "Состояние SLA"}))


def accepted() -> Journal:
    return (Journal(at(2, 10)).note(at(2, 10, 1), Role.BRIDGE, "registered")
            .field(at(2, 10, 1), "cf:sla_state", None, "on track"))


def test_sla_values_typed_in_the_new_issue_form_are_cleared_and_the_gate_still_decides(rules):
    forged = {"sla_state": "met", "tier": "premium"}
    snap = snapshot(Journal(at(2, 10)), values=forged, author="Ivan Petrov", channel="redmine")
    update = plan(snap, rules, at(2, 10, 1))
    assert update.action == "accepted"
    assert set(update.reset) == {"sla_state", "tier"}
    assert "Ivan Petrov" in update.reset_note and "premium" in update.reset_note
    # Written anew by the bridge's own journal, whatever was typed before.
    assert update.fields["sla_state"] == "on track" and update.fields["tier"] == "standard"
    assert len([n for n in update.notes if not n.private]) == 1  # one acknowledgement


def test_a_forged_value_equal_to_the_bridges_is_still_rewritten_by_the_bridge(rules):
    snap = snapshot(Journal(at(2, 10)), values={"sla_state": "on track"}, author="Ivan Petrov")
    update = plan(snap, rules, at(2, 10, 1))
    assert update.reset == ("sla_state",)
    assert update.fields["sla_state"] == "on track"  # after the reset, so a journal records it


def test_an_incomplete_request_with_a_forged_state_is_refused_and_its_sla_cleared(tmp_path):
    rules = rules_of(tmp_path, document(intake={"required": ["organization.inn"]}))
    req = request(at(2, 10))
    snap = snapshot(Journal(at(2, 10)), values={"sla_state": "on track"}, author="Ivan Petrov",
                    req=req)
    update = plan(snap, rules, at(2, 10, 1))
    assert update.action == "rejected"
    assert update.reset == ("sla_state",) and "sla_state" not in update.fields


def test_the_intake_apis_own_sla_values_are_not_forgeries(rules):
    snap = snapshot(Journal(at(2, 10)), values=ACCEPTED, created_by_bridge=True, channel="api")
    update = plan(snap, rules, at(2, 11))
    assert update.reset == () and update.reverted == ()


def test_the_key_of_a_request_the_api_filed_for_the_pipeline_is_not_a_forgery(rules):
    # ID-8 / ID-1: the intake API files the request's data and its key only, and the
    # first plan takes it in; clearing the key would let a retry file it twice.
    data = {k: ACCEPTED[k] for k in ("contact_email", "contact_name", "inn")}
    snap = snapshot(Journal(at(2, 10)), values={**data, "intake_key": "k-1"},
                    created_by_bridge=True, channel="api")
    update = plan(snap, rules, at(2, 10, 1))
    assert update.action == "accepted"
    assert update.reset == () and update.reverted == ()
    assert "intake_key" not in update.fields


def test_a_state_changed_by_someone_else_is_put_back_with_a_note_naming_who(rules):
    journal = accepted().field(at(2, 11), "cf:sla_state", "on track", "met", Role.SUPPORT,
                               author="Egor Engineer")
    snap = snapshot(journal, values={**ACCEPTED, "sla_state": "met"})
    update = plan(snap, rules, at(2, 12))
    assert update.fields["sla_state"] == "on track"
    assert update.reverted == ("sla_state",)
    (note,) = update.notes
    assert note.private
    assert "Egor Engineer" in note.text and "Состояние SLA" in note.text
    assert "met" in note.text and "on track" in note.text


def test_an_inn_changed_after_intake_is_put_back_and_decides_nothing(rules):
    journal = accepted().field(at(2, 11), "cf:inn", "7707083893", "7702211326", Role.REQUESTER,
                               author="Ivan Petrov")
    snap = snapshot(journal, values={**ACCEPTED, "inn": "7702211326"})
    update = plan(snap, rules, at(2, 12))
    assert update.fields["inn"] == "7707083893"
    assert update.reverted == ("inn",)
    assert update.decision is not None
    assert update.decision.intake.normalized.organization.inn == "7707083893"


def test_a_field_people_may_change_recomputes_instead(rules):
    journal = accepted().field(at(2, 11), "cf:impact", None, "P1", Role.REQUESTER,
                               author="Ivan Petrov")
    snap = snapshot(journal, values={**ACCEPTED, "impact": "P1"},
                    req=request(at(2, 10), impact="P1"))
    update = plan(snap, rules, at(2, 12))
    assert update.reverted == ()
    assert update.fields["sla_priority"] == "P1"


def test_a_value_someone_changed_back_is_no_forgery(rules):
    journal = (accepted().field(at(2, 11), "cf:inn", "7707083893", "1", Role.REQUESTER, "Ivan")
               .field(at(2, 11, 5), "cf:inn", "1", "7707083893", Role.REQUESTER, "Ivan"))
    assert plan(snapshot(journal, values=ACCEPTED), rules, at(2, 12)).reverted == ()


def test_a_reply_out_of_feedback_leaves_the_right_state_in_the_same_pass(rules):
    journal = (accepted().note(at(2, 11), Role.SUPPORT, "Which version?")
               .move(at(2, 11), "Feedback")
               .field(at(2, 11), "cf:sla_state", "on track", "paused")
               .note(at(3, 9, 30), Role.REQUESTER, "7.2"))
    values = {**ACCEPTED, "sla_state": "paused", "first_response_at": "2026-03-02 11:00"}
    update = plan(snapshot(journal, values=values), rules, at(3, 9, 31))
    assert (update.action, update.status) == ("resumed", "In Progress")
    assert update.fields["sla_state"] == "on track"


@pytest.mark.parametrize(("channel", "wording"), [
    ("email", "reply to this message"), ("redmine", "add a comment")])
def test_a_refusal_says_how_to_answer_by_the_channel_it_came_by(tmp_path, channel, wording):
    rules = rules_of(tmp_path, document(intake={"required": ["organization.inn"]}))
    snap = snapshot(Journal(at(2, 10)), author="Ivan Petrov", channel=channel)
    update = plan(snap, rules, at(2, 10, 1))
    assert wording in update.notes[0].text
    assert wording in update.mails[0].body
