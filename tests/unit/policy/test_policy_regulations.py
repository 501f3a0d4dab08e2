"""Each regulation's tiers, priorities and targets expressed in YAML only, run end to end
through `decide()`. Rule IDs refer to /work/shared/REGULATIONS.md."""

from __future__ import annotations

import datetime as dt

import pytest
from policy_testkit import TODAY, customer, demo, lic, policy_from_yaml

from redmine_sla_bridge.domain.calendar.duration import WorkingDays, WorkingMinutes
from redmine_sla_bridge.domain.policy import (
    ContractTerms,
    LicenseStatus,
    RequestFacts,
    Target,
    TargetKind,
    decide,
)

ACK, FIRST, RESOLVE = TargetKind.ACKNOWLEDGEMENT, TargetKind.FIRST_RESPONSE, TargetKind.RESOLUTION
H = 60  # minutes in an hour

# --- AR (ИКС): five tiers, tier -> priority, answer times, ИКС Lite not limited -------

AR = policy_from_yaml(
    """
    calendar: moscow
    tiers:                                   # AR-3, highest first
      - {name: partner, label: AR-3 tier 1, when: {partner: true}}
      - {name: premium, label: AR-3 tier 2, when: {license_active: [premium, support_module]}}
      - {name: trial,   label: AR-3 tier 3, when: {license_active: [trial]}}
      - name: recent
        label: AR-3 tier 4
        when:
          any:
            - purchased_within: {days: 365, kinds: [perpetual]}
            - license_active: [update]
      - {name: other,   label: AR-3 tier 5, when: {}}
    unknown_customer_tier: other
    priority:
      mode: tier                             # AR-3: queue order follows tier
      levels: ["1", "2", "3", "4", "5"]
      from_tier: {partner: "1", premium: "2", trial: "3", recent: "4", other: "5"}
    targets:                                 # AR-4 "maximum time to answer"
      - {when: {tier: partner}, first_response: 4h, label: "AR-4 partners: minimal terms, 4h chosen"}
      - {when: {tier: premium}, first_response: 8h}
      - {when: {tier: [trial, recent]}, first_response: 24h}
    product_exceptions:
      - {product: ИКС Lite, first_response: unlimited, resolution: unlimited}
    """
)


@pytest.mark.parametrize(
    ("who", "tier", "rank", "answer_hours"),
    [
        pytest.param(
            customer(lic("premium", -10, 355), partner=True), "partner", 0, 4, id="1 partner"
        ),
        pytest.param(
            customer(lic("premium", -10, 355), lic("perpetual", -900)),
            "premium",
            1,
            8,
            id="2 premium",
        ),
        pytest.param(
            customer(lic("support_module", -100, 265)), "premium", 1, 8, id="2 support module"
        ),
        pytest.param(customer(lic("trial", -3, 27)), "trial", 2, 24, id="3 trial"),
        pytest.param(customer(lic("perpetual", -100)), "recent", 3, 24, id="4 bought < 1 year ago"),
        pytest.param(
            customer(lic("perpetual", -900), lic("update", -50, 315)),
            "recent",
            3,
            24,
            id="4 update",
        ),
        pytest.param(
            customer(lic("perpetual", -365)), "other", 4, None, id="5 bought exactly 1 year ago"
        ),
        pytest.param(
            customer(lic("perpetual", -900), lic("premium", -400, -35)),
            "other",
            4,
            None,
            id="5 premium expired",
        ),
        pytest.param(None, "other", 4, None, id="5 unknown INN"),
    ],
)
def test_ar3_five_tiers_and_ar4_answer_times(who, tier, rank, answer_hours):
    decision = decide(who, RequestFacts(product="ИКС Стандарт"), AR, TODAY)
    assert (decision.tier, decision.tier_rank, decision.priority) == (tier, rank, str(rank + 1))
    expected = None if answer_hours is None else WorkingMinutes(answer_hours * H)
    assert decision.targets[FIRST] == Target(expected, "moscow")


def test_ar4_ikc_lite_users_are_not_limited_even_with_premium():
    decision = decide(
        customer(lic("premium", -10, 355)), RequestFacts(product="ИКС Lite"), AR, TODAY
    )
    assert decision.tier == "premium"
    assert decision.targets[FIRST].unlimited and decision.targets[RESOLVE].unlimited
    assert any("product exception ИКС Lite" in reason for reason in decision.matched_rules)


def test_ar_expired_license_explained():
    # An expired premium license: tier 5 (no longer "holders of a premium license") and
    # status "expired", and the explanation names the rule that matched.
    decision = decide(customer(lic("premium", -400, -35)), RequestFacts(), AR, TODAY)
    assert decision.tier == "other"
    assert decision.license_status is LicenseStatus.EXPIRED
    assert decision.matched_rules[0] == "tier other: tiers[4] 'AR-3 tier 5' {}"


# --- ID (Ideco): subscription, demo, partner, no subscription ------------------------

ID_YAML = """
    calendar: moscow
    tiers:                                   # ID-1
      - {name: partner,    when: {partner: true}}
      - {name: subscriber, when: {license_active: [subscription]}}
      - {name: demo,       when: {in_demo: {once_per_days: 365}}}     # ID-4
      - {name: none,       when: {}}        # served at the discretion of the head of support
    priority:
      mode: tier
      levels: [normal]
      from_tier: {partner: normal, subscriber: normal, demo: normal, none: normal}
    targets:                                 # ID-5
      - {when: {tier: [partner, subscriber]}, first_response: 4h}
      - {when: {tier: demo}, first_response: 24h}
      - {when: {tier: none}, first_response: unlimited}
    """
ID = policy_from_yaml(ID_YAML)


@pytest.mark.parametrize(
    ("who", "tier", "first_response"),
    [
        pytest.param(customer(partner=True), "partner", WorkingMinutes(4 * H), id="partner 4h"),
        pytest.param(
            customer(lic("subscription", -100, 265)),
            "subscriber",
            WorkingMinutes(4 * H),
            id="subscription 4h",
        ),
        pytest.param(
            customer(demos=(demo(-3, 27),)), "demo", WorkingMinutes(24 * H), id="demo 24h"
        ),
        pytest.param(
            customer(demos=(demo(-200, -170), demo(-3, 27))),
            "none",
            None,
            id="second demo in a year",
        ),
        pytest.param(
            customer(lic("subscription", -400, -35)), "none", None, id="subscription expired"
        ),
        pytest.param(None, "none", None, id="unknown INN"),
    ],
)
def test_id1_id5_categories_and_first_response(who, tier, first_response):
    decision = decide(who, RequestFacts(product="Ideco ICS"), ID, TODAY)
    assert decision.tier == tier
    assert decision.targets[FIRST].duration == first_response


def test_id3_subscription_valid_one_year_from_purchase_without_end_dates():
    # A directory that records only purchase dates: ID-3 written as "bought < 1 year ago".
    policy = policy_from_yaml(
        ID_YAML.replace(
            "{license_active: [subscription]}",
            "{purchased_within: {days: 365, kinds: [subscription]}}",
        )
    )
    assert (
        decide(customer(lic("subscription", -364)), RequestFacts(), policy, TODAY).tier
        == "subscriber"
    )
    assert decide(customer(lic("subscription", -365)), RequestFacts(), policy, TODAY).tier == "none"


# --- AS (ASCON): basic, warranty, individual ------------------------------------------

AS = policy_from_yaml(
    """
    calendar: ascon                          # AS-2/AS-3: Mon-Fri 10:00-18:00
    tiers:                                   # AS-1
      - {name: individual, when: {has_contract: true}}
      - name: warranty                       # 1 year after buying the product or an update pack
        when:
          any:
            - purchased_within: {days: 365, kinds: [perpetual, update]}
            - license_active: [warranty]
      - {name: basic, when: {license_kind_ever: [perpetual, update, warranty]}}
      - {name: unlicensed, when: {}}
    priority:
      mode: tier
      levels: [normal]
      from_tier: {individual: normal, warranty: normal, basic: normal, unlicensed: normal}
    targets:
      - {when: {tier: warranty}, first_response: 8h, resolution: 40h}       # AS-3 5x8x8x40
      - {when: {tier: [basic, individual]}, first_response: 16h, resolution: unlimited}  # AS-2 5x8x16
    """
)


@pytest.mark.parametrize(
    ("who", "tier", "first", "resolution", "calendar"),
    [
        pytest.param(customer(lic("perpetual", -900)), "basic", 16 * H, None, "ascon", id="basic"),
        pytest.param(
            customer(lic("perpetual", -100)),
            "warranty",
            8 * H,
            40 * H,
            "ascon",
            id="warranty: product",
        ),
        pytest.param(
            customer(lic("perpetual", -900), lic("update", -30, 335)),
            "warranty",
            8 * H,
            40 * H,
            "ascon",
            id="warranty: update",
        ),
        pytest.param(
            customer(
                lic("perpetual", -900),
                lic(
                    "contract",
                    -30,
                    335,
                    contract=ContractTerms(
                        {"first_response": WorkingMinutes(2 * H)}, "24x7", "SLA-17"
                    ),
                ),
            ),
            "individual",
            2 * H,  # AS-4: the contract's own term, on its own calendar
            None,  # the contract fixes no resolution: the general rule applies
            "24x7",
            id="individual (AS-4 contract terms)",
        ),
        pytest.param(None, "unlicensed", None, None, "ascon", id="unknown INN"),
    ],
)
def test_as1_three_kinds_of_support(who, tier, first, resolution, calendar):
    decision = decide(who, RequestFacts(), AS, TODAY)
    assert decision.tier == tier
    assert decision.targets[FIRST] == Target(
        None if first is None else WorkingMinutes(first), calendar
    )
    assert decision.targets[RESOLVE].duration == (
        None if resolution is None else WorkingMinutes(resolution)
    )


# --- BA (Barier): priority from impact, resolution per priority -----------------------

BA = policy_from_yaml(
    """
    calendar: moscow                         # BA-1: 9:00-18:00 Moscow, RF holidays
    tiers: [{name: customer, when: {}}]
    priority:
      mode: impact                           # BA-5
      default_impact: P3
      redmine: {P1: Immediate, P2: Urgent, P3: High, P4: Normal}
    targets:
      - {when: {}, acknowledgement: 3h}     # BA-6
      - {when: {priority: P1}, resolution: 4h}   # BA-7
      - {when: {priority: P2}, resolution: 8h}
      - {when: {priority: P3}, resolution: 5d}
      - {when: {priority: P4}, resolution: 10d}
    """
)


@pytest.mark.parametrize(
    ("impact", "priority", "redmine", "resolution"),
    [
        ("P1", "P1", "Immediate", WorkingMinutes(4 * H)),  # product completely down
        ("P2", "P2", "Urgent", WorkingMinutes(8 * H)),  # partly working or slow
        ("P3", "P3", "High", WorkingDays(5)),  # consultation needed
        ("P4", "P4", "Normal", WorkingDays(10)),  # enhancement wanted
        (None, "P3", "High", WorkingDays(5)),  # not stated: the default
        ("p2", "P2", "Urgent", WorkingMinutes(8 * H)),  # case does not matter
    ],
)
def test_ba5_ba7_priorities_and_resolution(impact, priority, redmine, resolution):
    decision = decide(None, RequestFacts(impact=impact), BA, TODAY)
    assert (decision.priority, decision.redmine_priority, decision.impact) == (
        priority,
        redmine,
        priority,
    )
    assert decision.targets[RESOLVE] == Target(resolution, "moscow")
    assert decision.targets[ACK] == Target(WorkingMinutes(3 * H), "moscow")
    assert decision.targets[FIRST].unlimited


# --- RB (Rusbitech): working time except high criticality -----------------------------

RB = policy_from_yaml(
    """
    calendar: moscow                         # RB-2: 10:00-18:00 Moscow
    tiers: [{name: customer, when: {}}]
    priority:
      mode: impact
      levels: [critical, normal]
      default_impact: normal
      high_criticality:                      # RB-4
        impacts: [critical]
        types: [Восстановление доступа, Восстановление сервиса]
    targets:
      - {when: {high_criticality: true}, first_response: 4h, calendar: "24x7"}   # RB-3
      - {when: {}, first_response: 10d, resolution: unlimited}                  # RB-2, RB-5
    """
)


@pytest.mark.parametrize(
    ("request_facts", "critical", "first"),
    [
        (
            RequestFacts(request_type="Восстановление доступа"),
            True,
            Target(WorkingMinutes(4 * H), "24x7"),
        ),
        (RequestFacts(impact="critical"), True, Target(WorkingMinutes(4 * H), "24x7")),
        (RequestFacts(request_type="Консультация"), False, Target(WorkingDays(10), "moscow")),
        (RequestFacts(), False, Target(WorkingDays(10), "moscow")),
    ],
)
def test_rb3_rb4_high_criticality_runs_on_24x7(request_facts, critical, first):
    decision = decide(
        customer(), request_facts, RB, dt.datetime(2025, 6, 14, 23, 0)
    )  # a Saturday night
    assert decision.high_criticality is critical
    assert decision.targets[FIRST] == first
    # The 24x7 rule sets only first_response; resolution still comes from the rule below.
    assert decision.targets[RESOLVE] == Target(None, "moscow")
