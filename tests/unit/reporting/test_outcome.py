"""The outcome the bridge records per request (issue 18), without Redmine: what the plan
writes in `sla_outcome` at each decision, and that the text reads back as written.

Figures are working minutes on the 09:00-18:00 Moscow calendar (2 March 2026 is a
Monday): first response 8 h = 480 min, resolution 5 working days after the day filed
(due Tuesday 10 March 18:00, 9 March off) = 480 + 5 x 540 = 3180 min."""

from __future__ import annotations

import pytest

from redmine_sla_bridge.domain.intake.request import Organization
from redmine_sla_bridge.domain.lifecycle.history import Role
from redmine_sla_bridge.domain.processing import plan, plan_auto_close
from redmine_sla_bridge.domain.processing.snapshot import IssueSnapshot
from redmine_sla_bridge.domain.reporting.outcome import Outcome, TargetOutcome
from redmine_sla_bridge.domain.reporting.recompute import recompute
from tests.unit.processing.builders import Journal, at, document, request, rules_of
from tests.unit.processing.builders import snapshot as bare_snapshot

ACCEPTED = {"tier": "standard", "license_status": "none", "sla_priority": "P3",
            "sla_state": "on track", "first_response_due": "2026-03-02 18:00",
            "resolution_due": "2026-03-10 18:00", "sla_outcome": None}


@pytest.fixture(scope="module")
def rules(tmp_path_factory):
    return rules_of(tmp_path_factory.mktemp("rules"), document(
        intake={"required": ["organization.inn"]},
        lifecycle={"auto_close": [{"name": "ID-10", "from_statuses": ["Feedback"],
                                   "idle_since": "support_answer", "after": "14d",
                                   "to_status": "Closed"}]}))


def snapshot(journal: Journal, **kwargs) -> IssueSnapshot:
    """Alpha's request, complete: the gate accepts it."""
    kwargs.setdefault("req", request(journal.created, organization=Organization("Alpha", "7707083893")))
    return bare_snapshot(journal, **kwargs)


def accepted() -> Journal:
    return Journal(at(2, 10)).note(at(2, 10, 1), Role.BRIDGE, "registered").field(
        at(2, 10, 1), "cf:sla_state", None, "on track")


def test_the_text_reads_back_as_written():
    outcome = Outcome(TargetOutcome("met", 42, 60), TargetOutcome("breached", 1310, 960),
                      paused_minutes=30, reopened=2, auto_closed=True)
    text = outcome.text()
    assert text == "fr=met 42/60; res=breached 1310/960; paused=30; reopened=2; auto_closed"
    assert Outcome.parse(text) == outcome
    refused = Outcome(refused=("missing_field", "invalid_inn"))
    assert refused.text() == "refused=missing_field,invalid_inn"
    assert Outcome.parse(refused.text()) == refused
    opened = Outcome(TargetOutcome("open", None, 480), TargetOutcome("met", 300, None))
    assert Outcome.parse(opened.text()) == opened


@pytest.mark.parametrize("text", ["", "  ", "fr=late 1/2", "fr=met x/2", "colour=blue",
                                  "paused=soon"])
def test_a_value_the_bridge_did_not_write_is_no_outcome(text):
    assert Outcome.parse(text) is None


def test_acceptance_records_open_targets_where_the_field_exists(rules):
    journal = Journal(at(2, 10))
    update = plan(snapshot(journal, values={"sla_outcome": None}), rules, at(2, 10, 1))
    assert update.action == "accepted"
    assert update.fields["sla_outcome"] == "fr=open -/480; res=open -/3180"
    # An installation that has not provisioned the field yet: nothing is written to it.
    older = plan(snapshot(journal, values={}), rules, at(2, 10, 1))
    assert older.action == "accepted" and "sla_outcome" not in older.fields


def test_a_refusal_records_its_codes(rules):
    update = plan(bare_snapshot(Journal(at(2, 10)), values={"sla_outcome": None}), rules,
                  at(2, 10, 1))
    assert update.action == "rejected"
    assert update.fields["sla_outcome"] == "refused=missing_field"


def test_the_answer_the_pause_and_the_resolution_are_recorded_when_they_happen(rules):
    answered = accepted().note(at(2, 11, 30), Role.SUPPORT, "Which version?").move(
        at(2, 11, 30), "Feedback")
    values = {**ACCEPTED, "sla_outcome": "fr=open -/480; res=open -/3180"}
    update = plan(snapshot(answered, values=values), rules, at(2, 11, 31))
    # Paused now: the ongoing pause is not counted until it ends, so the field stays put.
    assert update.fields["sla_outcome"] == "fr=met 90/480; res=open -/3180"
    resolved = answered.move(at(2, 13, 30), "In Progress").move(at(3, 10), "Resolved")
    values["sla_outcome"] = update.fields["sla_outcome"]
    done = plan(snapshot(resolved, values=values), rules, at(3, 10, 1))
    # 10:00-18:00 on Monday less the 2 h paused, and 1 h on Tuesday.
    assert done.fields["sla_outcome"] == "fr=met 90/480; res=met 420/3180; paused=120"
    reopened = resolved.move(at(3, 12), "In Progress")
    values["sla_outcome"] = done.fields["sla_outcome"]
    again = plan(snapshot(reopened, values=values), rules, at(3, 12, 1))
    assert again.fields["sla_outcome"] == "fr=met 90/480; res=open -/3180; paused=120; reopened=1"


def test_a_late_answer_is_a_breach_by_its_working_minutes(rules):
    # Filed Monday 10:00, answered Tuesday 11:00: 8 h + 2 h of working time.
    late = accepted().note(at(3, 11), Role.SUPPORT, "Sorry")
    update = plan(snapshot(late, values=ACCEPTED), rules, at(3, 11, 1))
    outcome = Outcome.parse(update.fields["sla_outcome"])
    assert outcome is not None and outcome.first_response == TargetOutcome("breached", 600, 480)
    assert outcome.first_response.overdue_minutes == 120


def test_an_auto_close_records_the_outcome_in_the_closing_journal(rules):
    waiting = accepted().note(at(2, 11), Role.SUPPORT, "Does it work now?").move(at(2, 11), "Feedback")
    values = {**ACCEPTED, "sla_outcome": "fr=met 60/480; res=open -/3180"}
    update = plan_auto_close(snapshot(waiting, values=values), rules, at(17, 0, 1))
    assert update is not None and update.status == "Closed"
    assert update.fields["sla_state"] == "met"
    outcome = Outcome.parse(update.fields["sla_outcome"])
    assert outcome is not None and outcome.auto_closed
    assert outcome.resolution is not None and outcome.resolution.state == "met"
    # Once Redmine holds the closing journal, the journals say the same (--rebuild).
    closed = waiting.move(at(17, 0, 1), "Closed", Role.BRIDGE)
    found = recompute(snapshot(closed, values=values, closed=True), rules, at(20, 12))
    assert found is not None and found.outcome == outcome


def test_a_closing_by_an_engineer_is_not_an_auto_close(rules):
    closed = accepted().note(at(2, 11), Role.SUPPORT, "Done").move(at(2, 12), "Closed")
    found = recompute(snapshot(closed, values=ACCEPTED, closed=True), rules, at(5, 12))
    assert found is not None and not found.outcome.auto_closed
    assert found.outcome.resolution == TargetOutcome("met", 120, 3180)
