"""Issue 16: a reminder before an auto-close, and escalations within the staff's hours.

The 09:00-18:00 Moscow calendar of `builders`; in March 2026 Monday 9 March is the day
off for Sunday 8 March, so the working day after Friday 6 March is Tuesday 10 March.
"""

from __future__ import annotations

import dataclasses

import pytest

from redmine_sla_bridge.config.loader import ConfigError
from redmine_sla_bridge.domain.lifecycle.clock import SlaState
from redmine_sla_bridge.domain.lifecycle.history import Role
from redmine_sla_bridge.domain.processing import effect_keys, plan, plan_auto_close, plan_time_step
from redmine_sla_bridge.domain.processing.plan import auto_close_keys, listed_effect_keys
from tests.unit.processing.builders import Journal, at, document, listed, request, rules_of, snapshot

ACCEPTED = {"tier": "standard", "license_status": "none", "sla_priority": "P3",
            "sla_state": "on track", "first_response_due": "2026-03-02 18:00",
            "resolution_due": "2026-03-10 18:00", "contact_email": "ivan@customer.example"}

LIFECYCLE = {
    "escalation": {"at_risk": {"private_note": True, "add_watchers": ["Lead"]},
                   "breached": {"private_note": True, "raise_priority": "Urgent",
                                "assign_to": "Lead"},
                   "staff_calendar": "office", "at_once_for": ["P1"]},
    "customer_reply": [{"from_statuses": ["Feedback"], "to_status": "In Progress"},
                       {"from_statuses": ["Closed"], "to_status": "New", "within": "30d"}],
    "auto_close": [{"name": "ID-10", "from_statuses": ["Feedback"], "idle_since": "support_answer",
                    "after": "14d", "to_status": "Closed", "remind_at": 0.5}],
}


@pytest.fixture(scope="module")
def rules(tmp_path_factory):
    return rules_of(tmp_path_factory.mktemp("rules"), document(lifecycle=LIFECYCLE))


def feedback_journal() -> Journal:
    """Acknowledged Monday 2 March 10:01, answered and put in Feedback at 11:00."""
    return (Journal(at(2, 10)).note(at(2, 10, 1), Role.BRIDGE, "registered")
            .field(at(2, 10, 1), "cf:sla_state", None, "on track")
            .note(at(2, 11), Role.SUPPORT, "Does it work now?").move(at(2, 11), "Feedback"))


def with_memory(snap, rules):
    """What the sweep does: the store has every key the plan could ask about."""
    return dataclasses.replace(snap, remembered=frozenset(auto_close_keys(snap, rules)))


# -- the reminder before an auto-close ---------------------------------------------------

def test_the_customer_is_reminded_once_halfway_through_the_idle_period(rules):
    snap = snapshot(feedback_journal(), values=ACCEPTED)
    # Answered 2 March 11:00, closed 17 March 00:00 (14 days on 24x7): 14 d 13 h, half of
    # it is 7 d 6 h 30 min, so the reminder is due 9 March 17:30.
    assert plan_auto_close(snap, rules, at(9, 17, 29)) is None
    update = plan_auto_close(snap, rules, at(9, 17, 31))
    assert update is not None and update.action == "reminded"
    assert update.status is None
    (note,) = update.notes
    assert not note.private
    assert "#7" in note.text and "17.03.2026 00:00" in note.text
    assert "reply to this message" in note.text
    (mail,) = update.mails
    assert mail.to == "ivan@customer.example" and mail.body == note.text
    assert "#7" in mail.subject
    # Once-only: the effect key (remembered after the note is written) is the mail's key.
    (key,) = update.remember
    assert key == mail.key and key in auto_close_keys(snap, rules)


def test_the_reminder_is_not_repeated_and_the_close_follows_it(rules):
    journal = feedback_journal().note(at(9, 17, 31), Role.BRIDGE, "reminder")
    snap = with_memory(snapshot(journal, values=ACCEPTED), rules)
    assert plan_auto_close(snap, rules, at(12, 12)) is None
    # The reminder is the bridge's last word, yet the close is not "a close that did not take".
    closing = plan_auto_close(snap, rules, at(17, 0, 1))
    assert closing is not None and (closing.action, closing.status) == ("closed", "Closed")
    # A closing note after the reminder that left the issue open: the workflow dropped it.
    dropped = with_memory(snapshot(journal.note(at(17, 0, 1), Role.BRIDGE, "closed"),
                                   values=ACCEPTED), rules)
    update = plan_auto_close(dropped, rules, at(17, 12))
    assert update is not None and update.action == "unchanged" and update.warnings


def test_a_late_sweep_closes_without_reminding_first(rules):
    update = plan_auto_close(snapshot(feedback_journal(), values=ACCEPTED), rules, at(17, 1))
    assert update is not None and update.action == "closed"


def test_a_reply_after_the_reminder_cancels_the_close(rules):
    journal = (feedback_journal().note(at(9, 17, 31), Role.BRIDGE, "reminder")
               .note(at(10, 10), Role.REQUESTER, "Still broken"))
    snap = with_memory(snapshot(journal, values=ACCEPTED), rules)
    # The customer waits for an answer: never closed over, and the reply rule resumes it.
    assert plan_auto_close(snap, rules, at(17, 1)) is None
    assert plan(snap, rules, at(10, 10, 1)).status == "In Progress"
    # Support's next answer starts a new idle period, with a reminder of its own.
    answered = (journal.move(at(10, 10, 1), "In Progress", Role.BRIDGE)
                .note(at(11, 10), Role.SUPPORT, "Try this").move(at(11, 10), "Feedback"))
    again = with_memory(snapshot(answered, values=ACCEPTED), rules)
    old_key = auto_close_keys(snap, rules)
    assert auto_close_keys(again, rules) != old_key
    again = dataclasses.replace(again, remembered=frozenset(old_key))
    # Answered 11 March 10:00, closing 26 March 00:00: half-way is 18 March 17:00.
    assert plan_auto_close(again, rules, at(18, 16, 59)) is None
    assert plan_auto_close(again, rules, at(18, 17, 1)).action == "reminded"


def test_a_requester_with_a_redmine_account_is_asked_for_a_comment(rules):
    snap = snapshot(feedback_journal(), values=ACCEPTED, channel="redmine")
    (note,) = plan_auto_close(snap, rules, at(10, 12)).notes
    assert "add a comment" in note.text and "reply to this message" not in note.text


def test_the_russian_reminder(tmp_path):
    rules = rules_of(tmp_path, document(language="ru", lifecycle=LIFECYCLE))
    (note,) = plan_auto_close(snapshot(feedback_journal(), values=ACCEPTED), rules, at(10, 12)).notes
    assert "будет закрыто 17.03.2026 00:00" in note.text and "ответьте" in note.text


def test_a_reminder_that_a_reply_could_not_honour_is_a_config_error(tmp_path):
    rule = {**LIFECYCLE["auto_close"][0], "idle_since": "status_change",
            "even_if_customer_waits": True}
    with pytest.raises(ConfigError, match="remind_at"):
        rules_of(tmp_path, document(lifecycle={"auto_close": [rule]}))


# -- escalation within the staff's working time ------------------------------------------

FRIDAY = {**ACCEPTED, "first_response_due": "2026-03-06 18:00", "resolution_due": "2026-03-13 18:00",
          "sla_state": "at risk", "first_response_at": None}


def remembering(row, rules, *keys):
    assert set(keys) <= set(listed_effect_keys(row, rules))
    return dataclasses.replace(row, remembered=frozenset(keys))


def test_a_breach_at_night_is_written_at_once_and_escalated_at_nine_on_the_next_working_day(rules):
    row = listed(at(6, 10), FRIDAY)
    night = plan_time_step(row, rules, at(7, 3))  # Saturday 03:00
    assert night is not None
    assert (night.fields, night.new_state) == ({"sla_state": "breached"}, SlaState.BREACHED)
    assert (night.notes, night.assign_to, night.priority, night.watchers) == ((), None, None, ())
    (deferred,) = night.remember

    breached = listed(at(6, 10), {**FRIDAY, "sla_state": "breached"})
    assert plan_time_step(breached, rules, at(7, 3, 5)) is None  # nothing remembered: at once done
    pending = remembering(breached, rules, deferred)
    assert plan_time_step(pending, rules, at(9, 12)) is None  # Monday 9 March: the day off
    assert plan_time_step(pending, rules, at(10, 8, 59)) is None
    morning = plan_time_step(pending, rules, at(10, 9))
    assert morning is not None and morning.fields == {}
    assert (morning.assign_to, morning.priority) == ("Lead", "Urgent")
    (note,) = morning.notes
    assert note.private and "06.03.2026 18:00" in note.text
    (done,) = morning.remember
    assert done != deferred
    assert plan_time_step(remembering(breached, rules, deferred, done), rules, at(10, 10)) is None


def test_the_at_risk_step_waits_too_and_a_breach_meanwhile_supersedes_it(rules):
    row = listed(at(2, 10), {**ACCEPTED, "first_response_at": None})
    # Inside working hours the escalation is at once, as without a staff calendar.
    risky = plan_time_step(row, rules, at(2, 16, 30))
    assert risky.watchers == ("Lead",) and risky.remember == ()
    # The state at risk written before 09:00 by the sweep's clock, actions deferred.
    staff = dataclasses.replace(rules, staff_calendar="office")
    late = listed(at(2, 10), {**ACCEPTED, "sla_state": "at risk", "first_response_at": None})
    night = plan_time_step(late, staff, at(2, 18, 1))
    assert night.fields == {"sla_state": "breached"} and night.watchers == () and night.notes == ()


def test_p1_is_escalated_at_once_whatever_the_hour(rules):
    row = dataclasses.replace(listed(at(6, 10), {**FRIDAY, "sla_priority": "P1"}),
                              request=request(at(6, 10), impact="P1"))
    night = plan_time_step(row, rules, at(7, 3))
    assert night.fields == {"sla_state": "breached"}
    assert (night.assign_to, night.priority) == ("Lead", "Urgent") and night.notes
    assert night.remember == ()


def test_the_event_path_defers_and_then_applies_the_escalation_too(rules):
    filed = Journal(at(6, 10))
    accepted = plan(snapshot(filed), rules, at(6, 10, 1))
    values = dict(accepted.fields)
    journal = filed.note(at(6, 10, 1), Role.BRIDGE, "registered").field(
        at(6, 10, 1), "cf:sla_state", None, "on track")
    # An engineer's edit on Saturday night: the bridge finds the first response missed.
    night = plan(snapshot(journal, values=values), rules, at(7, 3))
    assert night.fields["sla_state"] == "breached" and night.new_state is SlaState.BREACHED
    assert (night.notes, night.assign_to, night.priority) == ((), None, None)
    (deferred,) = [k for k in night.remember if k.startswith("escalation:")]
    assert deferred.endswith(":deferred")

    breached = snapshot(journal, values={**values, **night.fields})
    assert deferred in effect_keys(breached, rules)
    pending = dataclasses.replace(breached, remembered=frozenset({deferred}))
    assert plan(pending, rules, at(9, 11)).action == "unchanged"  # the day off
    morning = plan(pending, rules, at(10, 9, 30))
    assert morning.action == "updated" and "escalation" in morning.detail
    assert (morning.assign_to, morning.priority) == ("Lead", "Urgent")
    (note,) = morning.notes
    assert note.private
    done = [k for k in morning.remember if k.startswith("escalation:")]
    assert done and not done[0].endswith(":deferred")
    finished = dataclasses.replace(breached, remembered=frozenset({deferred, *done}))
    assert plan(finished, rules, at(10, 10)).action == "unchanged"


def test_without_a_staff_calendar_nothing_is_remembered_or_deferred(tmp_path):
    lifecycle = {**LIFECYCLE, "escalation": {"breached": {"raise_priority": "Urgent"}}}
    rules = rules_of(tmp_path, document(lifecycle=lifecycle))
    row = listed(at(6, 10), FRIDAY)
    assert listed_effect_keys(row, rules) == ()
    night = plan_time_step(row, rules, at(7, 3))
    assert night.priority == "Urgent" and night.remember == ()


def test_an_unknown_at_once_priority_is_refused(tmp_path):
    from redmine_sla_bridge.bootstrap import BootstrapError

    lifecycle = {"escalation": {"staff_calendar": "office", "at_once_for": ["P0"]}}
    with pytest.raises(BootstrapError, match="P0"):
        rules_of(tmp_path, document(lifecycle=lifecycle))
