"""Target precedence (contract > product exception > rules > unlimited) and deadlines."""

from __future__ import annotations

import datetime as dt

import pytest
from policy_testkit import TODAY, RecordingSchedule, WallClock, customer, lic, policy_from_yaml

from redmine_sla_bridge.domain.calendar.duration import WorkingDays, WorkingMinutes
from redmine_sla_bridge.domain.policy import (
    ContractTerms,
    RequestFacts,
    Target,
    TargetKind,
    UnknownCalendarError,
    deadlines,
    decide,
    format_duration,
)

ACK, FIRST, RESOLVE = TargetKind.ACKNOWLEDGEMENT, TargetKind.FIRST_RESPONSE, TargetKind.RESOLUTION

POLICY = policy_from_yaml(
    """
    calendar: office
    tiers:
      - {name: gold, when: {license_active: [premium]}}
      - {name: basic, when: {}}
    priority: {mode: impact, default_impact: P3}
    targets:
      - {when: {high_criticality: true}, first_response: 1h, calendar: "24x7"}
      - {when: {tier: gold, priority: [P1, P2]}, first_response: 2h, resolution: 1d, label: gold urgent}
      - {when: {tier: gold}, first_response: 4h}
      - {when: {license_status: expired}, first_response: unlimited}
      - {when: {product: Box}, acknowledgement: 15m}
      - {when: {}, acknowledgement: 30m, first_response: 8h, resolution: 10d}
    product_exceptions:
      - {product: Lite, first_response: unlimited, resolution: unlimited}
    """
)
GOLD = customer(lic("premium", -10, 355))
SLA = ContractTerms(
    {"first_response": WorkingMinutes(30), "resolution": None}, calendar="24x7", reference="SLA-9"
)


@pytest.mark.parametrize(
    ("who", "facts", "expected"),
    [
        pytest.param(
            GOLD,
            RequestFacts(impact="P1"),
            {ACK: "30m office", FIRST: "2h office", RESOLVE: "1d office"},
            id="per kind, first matching rule",
        ),
        pytest.param(
            GOLD,
            RequestFacts(impact="P3"),
            {ACK: "30m office", FIRST: "4h office", RESOLVE: "10d office"},
            id="later rule fills missing kinds",
        ),
        pytest.param(
            customer(),
            RequestFacts(product="Box"),
            {ACK: "15m office", FIRST: "8h office", RESOLVE: "10d office"},
            id="product match",
        ),
        pytest.param(
            customer(lic("premium", -400, -35)),
            RequestFacts(),
            {ACK: "30m office", FIRST: "unlimited office", RESOLVE: "10d office"},
            id="license status match",
        ),
        pytest.param(
            GOLD,
            RequestFacts(product="Lite", impact="P1"),
            {ACK: "30m office", FIRST: "unlimited office", RESOLVE: "unlimited office"},
            id="product exception beats rules",
        ),
        pytest.param(
            customer(lic("contract", -10, 100, contract=SLA)),
            RequestFacts(product="Lite"),
            {ACK: "30m office", FIRST: "30m 24x7", RESOLVE: "unlimited 24x7"},
            id="contract beats product exception, only for the kinds it fixes",
        ),
        pytest.param(
            customer(lic("contract", -400, -10, contract=SLA), lic("perpetual", -900)),
            RequestFacts(),
            {ACK: "30m office", FIRST: "8h office", RESOLVE: "10d office"},
            id="contract no longer in force",
        ),
    ],
)
def test_target_precedence(who, facts, expected):
    decision = decide(who, facts, POLICY, TODAY)
    got = {
        kind: f"{format_duration(t.duration)} {t.calendar}" for kind, t in decision.targets.items()
    }
    assert got == expected


def test_newest_contract_in_force_wins():
    old = ContractTerms({"first_response": WorkingMinutes(600)}, reference="old")
    new = ContractTerms({"first_response": WorkingMinutes(60)}, reference="new")
    who = customer(lic("contract", -300, 60, contract=old), lic("contract", -5, 360, contract=new))
    decision = decide(who, RequestFacts(), POLICY, TODAY)
    assert decision.targets[FIRST] == Target(WorkingMinutes(60), "office")
    assert "first_response 1h on office: contract new (AS-4)" in decision.matched_rules


def test_without_any_rule_a_target_is_not_limited():
    policy = policy_from_yaml(
        """
        calendar: office
        tiers: [{name: all, when: {}}]
        priority: {mode: impact, default_impact: P3}
        """
    )
    decision = decide(None, RequestFacts(), policy, TODAY)
    assert all(t == Target(None, "office") for t in decision.targets.values())


def test_explanation_lists_every_step():
    decision = decide(GOLD, RequestFacts(impact="P1"), POLICY, TODAY)
    assert decision.matched_rules == (
        "tier gold: tiers[0] license_active: [premium]",
        "license status active",
        "priority P1: from impact P1",
        "acknowledgement 30m on office: targets[5] {}",
        "first_response 2h on office: targets[1] 'gold urgent' {tier in [gold], priority in [P1, P2]}",
        "resolution 1d on office: targets[1] 'gold urgent' {tier in [gold], priority in [P1, P2]}",
    )


# --- deadlines ------------------------------------------------------------------------

START = dt.datetime(2025, 6, 14, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=3)))


def test_deadlines_use_each_targets_calendar():
    office = RecordingSchedule(dt.datetime(2030, 1, 1))
    decision = decide(GOLD, RequestFacts(impact="P1"), POLICY, START)
    due = deadlines(decision, START, {"office": office, "24x7": WallClock()})
    assert due == {ACK: office.answer, FIRST: office.answer, RESOLVE: office.answer}
    assert office.calls == [
        (START, WorkingMinutes(30)),
        (START, WorkingMinutes(120)),
        (START, WorkingDays(1)),
    ]


def test_deadline_on_24x7_and_unlimited():
    decision = decide(
        customer(lic("contract", -10, 100, contract=SLA)), RequestFacts(), POLICY, START
    )
    due = deadlines(decision, START, {"office": WallClock(), "24x7": WallClock()})
    assert due[FIRST] == START + dt.timedelta(minutes=30)
    assert due[RESOLVE] is None


def test_missing_calendar_is_named():
    decision = decide(GOLD, RequestFacts(impact="P1", request_type=None), POLICY, START)
    with pytest.raises(UnknownCalendarError, match=r"'office'.*24x7"):
        deadlines(decision, START, {"24x7": WallClock()})


@pytest.mark.parametrize(
    ("duration", "text"),
    [
        (None, "unlimited"),
        (WorkingMinutes(30), "30m"),
        (WorkingMinutes(480), "8h"),
        (WorkingMinutes(90), "90m"),
        (WorkingDays(5), "5d"),
    ],
)
def test_format_duration(duration, text):
    assert format_duration(duration) == text
