"""Every tier condition kind, written as the admin writes it in YAML."""

from __future__ import annotations

import pytest
import yaml
from policy_testkit import TODAY, customer, demo, lic

from redmine_sla_bridge.config.policy import ConditionSpec
from redmine_sla_bridge.domain.policy import CustomerFacts

PARTNER = customer(partner=True)
PLAIN = customer()
PREMIUM = customer(lic("premium", -30, 335))
PREMIUM_EXPIRED = customer(lic("premium", -400, -35))
PREMIUM_FOR_LITE = customer(lic("premium", -30, 335, product="ИКС Lite"))
PREMIUM_ALL_PRODUCTS = customer(lic("premium", -30, 335, product="*"))
FUTURE_UPDATE = customer(lic("update", 5, 370))
BOUGHT_100_DAYS_AGO = customer(lic("perpetual", -100))
BOUGHT_364_DAYS_AGO = customer(lic("perpetual", -364))
BOUGHT_365_DAYS_AGO = customer(lic("perpetual", -365))
TRIAL_10_DAYS_AGO = customer(lic("trial", -10, 20))
IN_DEMO = customer(demos=(demo(-5, 10),))
DEMO_OVER = customer(demos=(demo(-40, -10),))
SECOND_DEMO_SAME_YEAR = customer(demos=(demo(-200, -170), demo(-5, 10)))
SECOND_DEMO_NEXT_YEAR = customer(demos=(demo(-400, -370), demo(-5, 10)))
CONTRACT = customer(lic("contract", -30, 335))
CONTRACT_OVER = customer(lic("contract", -400, -35))

CASES = [
    # (condition YAML, customer, product, expected)
    ("{}", None, None, True),
    ("{}", PLAIN, None, True),
    ("partner: true", PARTNER, None, True),
    ("partner: true", PLAIN, None, False),
    ("partner: true", None, None, False),
    ("partner: false", PLAIN, None, True),
    ("partner: false", None, None, True),
    ("known_customer: true", PLAIN, None, True),
    ("known_customer: true", None, None, False),
    ("known_customer: false", None, None, True),
    ("license_active: [premium, support_module]", PREMIUM, None, True),
    ("license_active: [premium]", PREMIUM_EXPIRED, None, False),
    ("license_active: [update]", PREMIUM, None, False),
    ("license_active: [update]", FUTURE_UPDATE, None, False),
    ("license_active: [premium]", None, None, False),
    # product scoping: by default only licenses covering the request's product count
    ("license_active: [premium]", PREMIUM_FOR_LITE, "ИКС Lite", True),
    ("license_active: [premium]", PREMIUM_FOR_LITE, "ИКС Стандарт", False),
    ("license_active: [premium]", PREMIUM_FOR_LITE, None, True),
    ("license_active: [premium]", PREMIUM_ALL_PRODUCTS, "ИКС Стандарт", True),
    (
        "license_active: {kinds: [premium], same_product: false}",
        PREMIUM_FOR_LITE,
        "ИКС Стандарт",
        True,
    ),
    ("license_kind_ever: [premium]", PREMIUM_EXPIRED, None, True),
    ("license_kind_ever: [premium]", PREMIUM, None, True),
    ("license_kind_ever: [update]", FUTURE_UPDATE, None, False),
    ("license_kind_ever: [premium]", PLAIN, None, False),
    ("purchased_within_days: 365", BOUGHT_100_DAYS_AGO, None, True),
    ("purchased_within_days: 365", BOUGHT_364_DAYS_AGO, None, True),
    ("purchased_within_days: 365", BOUGHT_365_DAYS_AGO, None, False),
    ("purchased_within_days: 365", TRIAL_10_DAYS_AGO, None, False),  # a trial is not a purchase
    ("purchased_within_days: 365", FUTURE_UPDATE, None, False),
    ("purchased_within_days: 365", PREMIUM_EXPIRED, None, False),
    ("purchased_within: {days: 365, kinds: [perpetual]}", BOUGHT_100_DAYS_AGO, None, True),
    ("purchased_within: {days: 365, kinds: [update]}", BOUGHT_100_DAYS_AGO, None, False),
    ("purchased_within: {days: 365, kinds: [trial]}", TRIAL_10_DAYS_AGO, None, True),
    ("in_demo: true", IN_DEMO, None, True),
    ("in_demo: true", DEMO_OVER, None, False),
    ("in_demo: true", None, None, False),
    ("in_demo: false", DEMO_OVER, None, True),
    ("in_demo: true", SECOND_DEMO_SAME_YEAR, None, True),
    ("in_demo: {once_per_days: 365}", SECOND_DEMO_SAME_YEAR, None, False),  # ID-4
    ("in_demo: {once_per_days: 365}", SECOND_DEMO_NEXT_YEAR, None, True),
    ("has_contract: true", CONTRACT, None, True),
    ("has_contract: true", CONTRACT_OVER, None, False),
    ("has_contract: false", PLAIN, None, True),
    ("product_in: [ИКС Lite]", PLAIN, "ИКС Lite", True),
    ("product_in: [ИКС Lite]", PLAIN, "икс  LITE", True),
    ("product_in: [ИКС Lite]", PLAIN, "ИКС КУБ", False),
    ("product_in: [ИКС Lite]", PLAIN, None, False),
    # several keys in one mapping: all must hold
    ("{partner: true, license_active: [premium]}", PARTNER, None, False),
    ("{partner: false, license_active: [premium]}", PREMIUM, None, True),
    ("all: [{partner: false}, {license_active: [premium]}]", PREMIUM, None, True),
    ("all: [{partner: true}, {license_active: [premium]}]", PREMIUM, None, False),
    ("any: [{partner: true}, {license_active: [premium]}]", PREMIUM, None, True),
    ("any: [{partner: true}, {license_active: [premium]}]", PLAIN, None, False),
    ("not: {partner: true}", PLAIN, None, True),
    ("not: {partner: true}", PARTNER, None, False),
    ("not: {any: [{in_demo: true}, {has_contract: true}]}", IN_DEMO, None, False),
]


@pytest.mark.parametrize(
    ("when", "who", "product", "expected"), CASES, ids=[f"{c[0]}#{i}" for i, c in enumerate(CASES)]
)
def test_condition(when, who, product, expected):
    condition = ConditionSpec.model_validate(yaml.safe_load(when) or {}).to_domain()
    assert condition.matches(CustomerFacts(who, TODAY, product)) is expected


@pytest.mark.parametrize(
    "when",
    [
        "partner: yes please",
        "partner: 1",
        "license_active: []",
        "purchased_within_days: '365'",  # strict: quoted number is a typo
        "purchased_within_days: 0",
        "in_demo: {once_per_days: 0}",
        "any: []",
        "all: []",
        "premium: true",  # unknown key
        "not: {partner: maybe}",
    ],
)
def test_bad_condition_is_rejected(when):
    with pytest.raises(ValueError):
        ConditionSpec.model_validate(yaml.safe_load(when))


def test_every_condition_explains_itself():
    text = ("all: [{partner: false}, {not: {in_demo: {once_per_days: 365}}}, "
            "{any: [{license_active: [premium]}, {purchased_within_days: 30}]}]")
    described = ConditionSpec.model_validate(yaml.safe_load(text)).to_domain().describe()
    assert described == (
        "all(partner: false; not(in_demo: true (once per 365 days)); "
        "any(license_active: [premium]; purchased_within: 30 days, kinds any))"
    )
