"""`next_check`: the day an issue's SLA state can next change by time alone, which the
sweep's fast pass filters on. Each instant is checked against the rule that acts on it
(`time_driven_state`, `plan_time_step`, `plan_auto_close`) a minute either side."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from redmine_sla_bridge.domain.lifecycle.clock import SlaState, time_driven_state
from redmine_sla_bridge.domain.lifecycle.history import Role
from redmine_sla_bridge.domain.processing import plan, plan_auto_close, plan_time_step
from redmine_sla_bridge.domain.processing.next_check import (
    NEVER,
    listed_next_check,
    next_change,
    next_check_value,
    open_targets,
    snapshot_next_check,
)
from redmine_sla_bridge.domain.request_decision import decide_request
from tests.unit.processing.builders import Journal, at, document, listed, rules_of, snapshot

ON_TRACK = {"tier": "standard", "license_status": "none", "sla_priority": "P3",
            "sla_state": "on track", "first_response_due": "2026-03-02 18:00",
            "resolution_due": "2026-03-10 18:00", "first_response_at": None}
ANSWERED = {**ON_TRACK, "first_response_at": "2026-03-02 11:00"}
MINUTE = dt.timedelta(minutes=1)


@pytest.fixture(scope="module")
def rules(tmp_path_factory):
    return rules_of(tmp_path_factory.mktemp("rules"), document(lifecycle={
        "auto_close": [{"name": "ID-10", "from_statuses": ["Feedback"],
                        "idle_since": "support_answer", "after": "14d", "to_status": "Closed",
                        "calendar": "24x7", "remind_at": 0.5}],
    }))


def _next(rules, values, now, status="New", **kwargs):
    item = listed(at(2, 10), values, status=status)
    decision = decide_request(item.request, rules.decision, received_at=item.created_at,
                              known_contact=True)
    return next_change(values, status, decision, rules, now, **kwargs), decision


def test_on_track_the_next_change_is_the_at_risk_instant_of_the_earliest_target(rules):
    instant, decision = _next(rules, ON_TRACK, at(2, 10, 5))
    # 8 working hours from 10:00, at risk once 75 % are used: 16:00.
    assert instant == at(2, 16)
    (first, _) = open_targets(ON_TRACK, decision, rules)
    share = rules.clock.at_risk_share
    assert time_driven_state([first], instant - MINUTE, share) is SlaState.ON_TRACK
    assert time_driven_state([first], instant, share) is SlaState.AT_RISK
    assert next_check_value(instant, rules.timezone) == "2026-03-02"


def test_the_resolution_target_alone_moves_the_day_and_agrees_with_the_sweep(rules):
    instant, _ = _next(rules, ANSWERED, at(2, 12))
    assert instant.date() > at(2, 12).date()
    item = listed(at(2, 10), ANSWERED)
    assert plan_time_step(item, rules, instant - MINUTE) is None
    step = plan_time_step(item, rules, instant)
    assert step is not None and step.new_state is SlaState.AT_RISK


def test_at_risk_the_next_change_is_the_breach_just_after_the_due_moment(rules):
    at_risk = {**ANSWERED, "sla_state": "at risk"}
    instant, _ = _next(rules, at_risk, at(10, 12))
    assert instant > at(10, 18) and instant - at(10, 18) < MINUTE
    item = listed(at(2, 10), at_risk)
    assert plan_time_step(item, rules, at(10, 18)) is None
    assert plan_time_step(item, rules, instant).new_state is SlaState.BREACHED
    assert next_check_value(instant, rules.timezone) == "2026-03-10"


def test_breached_paused_or_done_issues_change_no_more_by_time(rules):
    assert _next(rules, {**ANSWERED, "sla_state": "breached"}, at(11, 9))[0] is None
    assert _next(rules, {**ANSWERED, "sla_state": "paused"}, at(3, 9), status="Feedback")[0] is None
    assert next_check_value(None, rules.timezone) == NEVER


def test_the_value_is_the_same_when_recomputed_before_its_instant(rules):
    """A fast pass reads the issue on its day; until the instant nothing is written."""
    first, _ = _next(rules, ANSWERED, at(2, 12))
    again, _ = _next(rules, ANSWERED, first - dt.timedelta(hours=3))
    assert next_check_value(first, rules.timezone) == next_check_value(again, rules.timezone)


def feedback() -> Journal:
    answered = at(2, 11)
    return (Journal(at(2, 10)).note(at(2, 10, 1), Role.BRIDGE, "registered")
            .field(at(2, 10, 1), "cf:sla_state", None, "on track")
            .note(answered, Role.SUPPORT, "Does it work now?").move(answered, "Feedback"))


def test_waiting_for_the_customer_the_reminder_comes_first_then_the_close(rules):
    values = {**ANSWERED, "sla_state": "paused", "next_check": None}
    snap = dataclasses.replace(snapshot(feedback(), values=values), status="Feedback")
    now = at(3, 9)
    instant = next_change(values, "Feedback", _next(rules, ANSWERED, now)[1], rules, now,
                          history=snap.history)
    # 14 calendar days after 2 March 11:00 end on 17 March 00:00; the reminder is halfway.
    close = plan_auto_close(snap, rules, at(17, 0, 1))
    assert close is not None and close.action == "closed"
    assert plan_auto_close(snap, rules, instant - MINUTE) is None
    reminded = plan_auto_close(snap, rules, instant)
    assert reminded is not None and reminded.action == "reminded"
    # Once the reminder's instant has passed, the close is next.
    after = next_change(values, "Feedback", _next(rules, ANSWERED, now)[1], rules,
                        instant + MINUTE, history=snap.history)
    assert after == at(17, 0)
    stamped = snapshot_next_check(snap, None, rules, now)
    assert stamped is not None and stamped.fields == {"next_check": instant.date().isoformat()}


def test_the_sweep_stamps_only_a_missing_or_wrong_value_and_merges_it_into_a_change(rules):
    day = "2026-03-02"
    assert listed_next_check(listed(at(2, 10), {**ON_TRACK, "next_check": day}), None, rules,
                             at(2, 12)) is None
    stale = listed_next_check(listed(at(2, 10), {**ON_TRACK, "next_check": None}), None, rules,
                              at(2, 12))
    assert stale is not None and stale.fields == {"next_check": day}
    item = listed(at(2, 10), {**ON_TRACK, "next_check": day})
    step = plan_time_step(item, rules, at(2, 16, 30))
    merged = listed_next_check(item, step, rules, at(2, 16, 30))
    # At risk now: the breach at 18:00 is still today, so nothing more to write.
    assert merged is step
    answered = listed(at(2, 10), {**ANSWERED, "next_check": "2026-03-02"})
    step = plan_time_step(answered, rules, at(9, 12))
    assert step is not None and step.new_state is SlaState.AT_RISK
    merged = listed_next_check(answered, step, rules, at(9, 12))
    assert merged.fields == {"sla_state": "at risk", "next_check": "2026-03-10"}
    assert merged.notes == step.notes


def test_without_the_field_nothing_is_added(rules):
    assert listed_next_check(listed(at(2, 10), ON_TRACK), None, rules, at(2, 12)) is None


def test_an_event_writes_the_value_with_its_own_changes_only_when_it_differs(rules):
    journal = (Journal(at(2, 10)).note(at(2, 10, 1), Role.BRIDGE, "registered")
               .field(at(2, 10, 1), "cf:sla_state", None, "on track"))
    stamped = plan(snapshot(journal, values={**ON_TRACK, "next_check": "2026-03-02"}), rules,
                   at(2, 12))
    assert "next_check" not in stamped.fields
    answer = journal.note(at(2, 12), Role.SUPPORT, "We are on it")
    update = plan(snapshot(answer, values={**ON_TRACK, "next_check": "2026-03-02"}), rules,
                  at(2, 12, 1))
    # The first response is met: the resolution target's at-risk day is next.
    assert update.fields["first_response_at"] and update.fields["next_check"] > "2026-03-02"
    unprovisioned = plan(snapshot(answer, values=ON_TRACK), rules, at(2, 12, 1))
    assert "next_check" not in unprovisioned.fields
