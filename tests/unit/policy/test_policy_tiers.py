"""Tier policy invariants, unknown customers, and the directory file feeding decide()."""

from __future__ import annotations

from pathlib import Path

import pytest
from policy_testkit import TODAY, customer, lic, policy_from_yaml

from redmine_sla_bridge.adapters.customers import load_customer_file
from redmine_sla_bridge.domain.policy import (
    ALWAYS,
    AllOf,
    CustomerFacts,
    IsKnownCustomer,
    IsPartner,
    LicenseStatus,
    RequestFacts,
    TierPolicy,
    TierRule,
    decide,
)

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize(
    ("rules", "unknown", "message"),
    [
        ((), None, "at least one tier rule"),
        ((TierRule("partner", IsPartner()),), None, "must be a catch-all"),
        (
            (TierRule("all", ALWAYS), TierRule("partner", IsPartner())),
            None,
            "can never apply: partner",
        ),
        (
            (TierRule("all", ALWAYS),),
            "ghost",
            "unknown_customer_tier 'ghost' is not one of the tiers",
        ),
    ],
)
def test_tier_policy_refuses_gaps(rules, unknown, message):
    with pytest.raises(ValueError, match=message):
        TierPolicy(rules, unknown)


RULES = (
    TierRule("partner", IsPartner()),
    TierRule("stranger", IsKnownCustomer(False), label="no INN match"),
    TierRule("partner", AllOf((IsPartner(),)), label="a tier may have several rules"),
    TierRule("rest", ALWAYS),
)


def test_unknown_customer_goes_through_the_rules_when_no_unknown_tier_is_set():
    policy = TierPolicy(RULES)
    match = policy.resolve(CustomerFacts(None, TODAY))
    assert (match.tier, match.rank) == ("stranger", 1)
    assert match.reason == "tier stranger: tiers[1] 'no INN match' known_customer: false"
    assert policy.tier_names == ("partner", "stranger", "rest")


def test_unknown_customer_tier_short_cuts_the_rules():
    match = TierPolicy(RULES, unknown_customer_tier="rest").resolve(CustomerFacts(None, TODAY))
    assert (match.tier, match.rank) == ("rest", 2)
    assert "unknown customer" in match.reason


POLICY = policy_from_yaml(
    """
    calendar: moscow
    tiers:
      - {name: partner, when: {partner: true}}
      - {name: contract, when: {has_contract: true}}
      - {name: updates, when: {license_active: [update]}}
      - {name: other, when: {}}
    unknown_customer_tier: other
    priority: {mode: impact, default_impact: P3}
    targets:
      - {when: {}, first_response: 16h}
    """
)


@pytest.mark.parametrize("name", ["customers.yaml", "customers.csv"])
@pytest.mark.parametrize(
    ("inn", "product", "tier", "status", "first_response_calendar"),
    [
        ("7701234567", "ИКС Стандарт", "updates", LicenseStatus.ACTIVE, "moscow"),
        (
            "7701234567",
            "ИКС Lite",
            "other",
            LicenseStatus.NONE,
            "moscow",
        ),  # licenses are for another product
        ("0105012345", None, "partner", LicenseStatus.NONE, "moscow"),
        ("500100732259", "Ideco ICS", "contract", LicenseStatus.ACTIVE, "24x7"),
        ("9999999999", None, "other", LicenseStatus.NONE, "moscow"),  # unknown INN
    ],
)
def test_directory_file_to_decision(name, inn, product, tier, status, first_response_calendar):
    directory = load_customer_file(DATA / name)
    decision = decide(directory.get(inn), RequestFacts(product=product), POLICY, TODAY)
    assert (decision.tier, decision.license_status) == (tier, status)
    assert decision.targets["first_response"].calendar == first_response_calendar


def test_expired_update_license_drops_the_tier_and_shows_expired():
    decision = decide(customer(lic("update", -400, -35)), RequestFacts(), POLICY, TODAY)
    assert (decision.tier, decision.license_status) == ("other", LicenseStatus.EXPIRED)
