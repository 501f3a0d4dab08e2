"""Properties over generated customers: precedence is monotonic, decide() never fails."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st
from policy_testkit import TODAY, policy_from_yaml

from redmine_sla_bridge.domain.policy import (
    Customer,
    DemoPeriod,
    License,
    LicenseStatus,
    LicenseStatusRules,
    RequestFacts,
    TargetKind,
    decide,
    license_status,
)

RANK = [
    LicenseStatus.NONE,
    LicenseStatus.EXPIRED,
    LicenseStatus.TRIAL,
    LicenseStatus.EXPIRING,
    LicenseStatus.ACTIVE,
]
PRODUCTS = [None, "*", "ИКС Lite", "ИКС Стандарт"]


@st.composite
def licenses(draw):
    starts = TODAY + dt.timedelta(days=draw(st.integers(-1500, 400)))
    length = draw(st.one_of(st.none(), st.integers(0, 800)))
    expires = None if length is None else starts + dt.timedelta(days=length)
    kind = draw(
        st.sampled_from(
            ["premium", "update", "subscription", "trial", "perpetual", "contract", "warranty"]
        )
    )
    return License(kind, starts, expires, draw(st.sampled_from(PRODUCTS)))


@st.composite
def customers(draw):
    demos = []
    for _ in range(draw(st.integers(0, 2))):
        starts = TODAY + dt.timedelta(days=draw(st.integers(-800, 30)))
        demos.append(DemoPeriod(starts, starts + dt.timedelta(days=draw(st.integers(0, 60)))))
    return Customer(
        "7701234567",
        "X",
        partner=draw(st.booleans()),
        licenses=tuple(draw(st.lists(licenses(), max_size=5))),
        demos=tuple(demos),
    )


@given(customers(), licenses(), st.sampled_from([*PRODUCTS[2:], None]))
def test_another_license_never_makes_the_status_worse(who, extra, product):
    rules = LicenseStatusRules(expiring_days=30)
    before = license_status(who, TODAY, rules, product)
    after = license_status(
        Customer(who.inn, who.name, who.partner, (*who.licenses, extra), who.demos),
        TODAY,
        rules,
        product,
    )
    assert RANK.index(after) >= RANK.index(before)


AR_LIKE = policy_from_yaml(
    """
    calendar: moscow
    tiers:
      - {name: partner, when: {partner: true}}
      - {name: premium, when: {license_active: [premium]}}
      - {name: demo, when: {in_demo: {once_per_days: 365}}}
      - {name: recent, when: {any: [{purchased_within_days: 365}, {license_kind_ever: [update]}]}}
      - {name: individual, when: {all: [{has_contract: true}, {not: {product_in: [ИКС Lite]}}]}}
      - {name: other, when: {}}
    priority:
      mode: matrix
      default_impact: P3
      matrix:
        partner: {P1: P1, P2: P1, P3: P2, P4: P3}
        premium: {P1: P1, P2: P2, P3: P3, P4: P4}
        demo: {P1: P2, P2: P3, P3: P4, P4: P4}
        recent: {P1: P2, P2: P3, P3: P4, P4: P4}
        individual: {P1: P1, P2: P2, P3: P3, P4: P4}
        other: {P1: P3, P2: P4, P3: P4, P4: P4}
    targets:
      - {when: {tier: premium}, first_response: 8h}
      - {when: {}, resolution: 5d}
    product_exceptions:
      - {product: ИКС Lite, resolution: unlimited}
    """
)


@given(
    st.one_of(st.none(), customers()),
    st.sampled_from(PRODUCTS),
    st.one_of(st.none(), st.text(max_size=4), st.sampled_from(["P1", "P2", "P3", "P4"])),
)
def test_decide_always_gives_a_tier_priority_and_every_target(who, product, impact):
    decision = decide(who, RequestFacts(product=product, impact=impact), AR_LIKE, TODAY)
    assert decision.tier in AR_LIKE.tiers.tier_names
    assert decision.priority in AR_LIKE.priority.levels
    assert set(decision.targets) == set(TargetKind)
