"""Issue 16, RB-3: a contract overrides the target kinds it names, each separately, and
its calendar only for those; the regulation's rules it does not name still apply. A rule
with `contract_overrides: false` is not replaced by a contract naming the same kind."""

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
    deadlines,
    decide,
)

ACK, FIRST, RESOLVE = TargetKind.ACKNOWLEDGEMENT, TargetKind.FIRST_RESPONSE, TargetKind.RESOLUTION

RULES = """
    calendar: office
    tiers:
      - {name: contract, when: {has_contract: true}}
      - {name: other, when: {}}
    priority:
      mode: impact
      default_impact: P3
      high_criticality: {impacts: [P1]}
    targets:
      - {when: {high_criticality: true}, first_response: 4h, calendar: "24x7"%s}
      - {when: {}, first_response: 10d, resolution: 40h}
"""
KEEPS = policy_from_yaml(RULES % ", contract_overrides: false, label: RB-3")
YIELDS = policy_from_yaml(RULES % "")

ONLY_FIRST_RESPONSE = ContractTerms({"first_response": WorkingDays(3)}, reference="ДС-44")
ON_24X7 = ContractTerms({"first_response": WorkingMinutes(120)}, calendar="24x7",
                        reference="SLA-5")
WITH_CONTRACT = customer(lic("contract", -10, 300, contract=ONLY_FIRST_RESPONSE))
WITH_24X7_CONTRACT = customer(lic("contract", -10, 300, contract=ON_24X7))
CRITICAL, NORMAL = RequestFacts(impact="P1"), RequestFacts(impact="P3")


def test_a_contract_naming_only_first_response_keeps_the_rules_resolution_and_calendar():
    decision = decide(WITH_24X7_CONTRACT, NORMAL, KEEPS, TODAY)
    assert decision.targets[FIRST] == Target(WorkingMinutes(120), "24x7")
    # the contract says nothing of the resolution: the rule's 40 h on the rule's calendar
    # (office, the policy's), not the contract's 24x7
    assert decision.targets[RESOLVE] == Target(WorkingMinutes(40 * 60), "office")
    assert decision.targets[ACK] == Target(None, "office")
    assert decision.target_sources[FIRST].calendar == "the contract's calendar"
    assert decision.target_sources[RESOLVE].rule == "targets[1] {}"
    assert decision.target_sources[RESOLVE].calendar == "policy.calendar"


def test_a_contract_without_a_calendar_counts_on_the_policys():
    decision = decide(WITH_CONTRACT, NORMAL, KEEPS, TODAY)
    assert decision.targets[FIRST] == Target(WorkingDays(3), "office")
    assert decision.target_sources[FIRST].rule == "contract ДС-44 (AS-4)"
    assert decision.target_sources[FIRST].calendar == (
        "policy.calendar (the contract names none)")


@pytest.mark.parametrize(
    ("who", "facts", "expected"),
    [
        # RB-3: high criticality is not limited to working time, contract or not
        pytest.param(WITH_CONTRACT, CRITICAL, Target(WorkingMinutes(240), "24x7"),
                     id="contract, critical: the kept rule"),
        pytest.param(customer(), CRITICAL, Target(WorkingMinutes(240), "24x7"),
                     id="no contract, critical"),
        # the rule does not match: the contract's own term
        pytest.param(WITH_CONTRACT, NORMAL, Target(WorkingDays(3), "office"),
                     id="contract, normal: the contract"),
        pytest.param(customer(), NORMAL, Target(WorkingDays(10), "office"),
                     id="no contract, normal: the regulation"),
    ],
)
def test_a_rule_with_contract_overrides_false_applies_over_a_contract(who, facts, expected):
    assert decide(who, facts, KEEPS, TODAY).targets[FIRST] == expected


def test_without_the_flag_the_contract_wins_as_before():
    # AS-4 precedence, kept where a rule does not say otherwise
    decision = decide(WITH_CONTRACT, CRITICAL, YIELDS, TODAY)
    assert decision.targets[FIRST] == Target(WorkingDays(3), "office")


def test_the_kept_rule_only_shields_the_kinds_it_sets():
    terms = ContractTerms({"first_response": WorkingDays(3), "resolution": WorkingMinutes(60)})
    decision = decide(customer(lic("contract", -10, 300, contract=terms)), CRITICAL, KEEPS, TODAY)
    assert decision.targets[FIRST] == Target(WorkingMinutes(240), "24x7")
    assert decision.targets[RESOLVE] == Target(WorkingMinutes(60), "office")


def test_the_explanation_says_the_contract_term_was_set_aside():
    decision = decide(WITH_CONTRACT, CRITICAL, KEEPS, TODAY)
    assert decision.target_sources[FIRST].rule == (
        "targets[0] 'RB-3' {high_criticality: true} (contract_overrides: false, so it applies "
        "over contract ДС-44 (AS-4) 3d)")
    assert decision.target_sources[FIRST].calendar == "targets[0]'s calendar"
    assert ("first_response 4h on 24x7: targets[0] 'RB-3' {high_criticality: true} "
            "(contract_overrides: false, so it applies over contract ДС-44 (AS-4) 3d)"
            ) in decision.matched_rules


def test_a_kept_rule_below_an_ordinary_one_sets_the_contract_aside_for_the_ordinary_one():
    policy = policy_from_yaml(
        """
        calendar: office
        tiers: [{name: all, when: {}}]
        priority: {mode: impact, default_impact: P3, high_criticality: {impacts: [P1]}}
        targets:
          - {when: {priority: P1}, first_response: 2h}
          - {when: {high_criticality: true}, first_response: 4h, calendar: "24x7",
             contract_overrides: false}
        """
    )
    decision = decide(WITH_CONTRACT, CRITICAL, policy, TODAY)
    # resolved as if the contract did not name first_response: the first matching rule
    assert decision.targets[FIRST] == Target(WorkingMinutes(120), "office")
    assert decision.target_sources[FIRST].rule == (
        "targets[0] {priority in [P1]} (contract ДС-44 (AS-4) 3d set aside: targets[1] has "
        "contract_overrides: false)")


def test_the_kept_rules_deadline_runs_on_wall_clock_time():
    start = dt.datetime(2025, 6, 14, 3, 0, tzinfo=dt.timezone(dt.timedelta(hours=3)))  # Sat
    decision = decide(WITH_CONTRACT, CRITICAL, KEEPS, start)
    due = deadlines(decision, start, {"office": RecordingSchedule(start), "24x7": WallClock()})
    assert due[FIRST] == start + dt.timedelta(hours=4)


def test_contract_overrides_must_be_a_boolean():
    with pytest.raises(ValueError, match="contract_overrides"):
        policy_from_yaml(RULES % ", contract_overrides: 'no'")


def test_the_why_of_each_value():
    decision = decide(WITH_CONTRACT, CRITICAL, KEEPS, TODAY)
    assert decision.why == {
        "tier": "tier contract: tiers[0] has_contract: true",
        "license_status": (
            f"active: contract {TODAY - dt.timedelta(days=10)}..{TODAY + dt.timedelta(days=300)}; "
            f"covered until {TODAY + dt.timedelta(days=300)}"),
        "priority": "priority P1: from impact P1 (high criticality)",
    }
