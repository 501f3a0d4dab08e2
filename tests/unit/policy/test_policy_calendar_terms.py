"""Issue 16: a year is a calendar year (AR-3/AR-4, AS-1, AR-5, ID-3), and a license with
only a start date ends when the regulation's default term says (AR-5, ID-3).

Expected dates are the Civil Code's arithmetic (art. 192): D + N years = the same month
and day N years later, D + N months = the same day N months later, the month's last day
when it has no such day; a period counted from its first day D covers the days before
D + period.
"""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from policy_testkit import config_from_yaml, policy_from_yaml
from pydantic import ValidationError

from redmine_sla_bridge.adapters.customers import parse_customers_csv, parse_customers_yaml
from redmine_sla_bridge.config.policy import ConditionSpec
from redmine_sla_bridge.domain.policy import (
    CalendarPeriod,
    Customer,
    CustomerFacts,
    License,
    LicenseStatus,
    PurchasedWithin,
    RequestFacts,
    add_months,
    decide,
)

D = dt.date


# --- the arithmetic ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "period", "expected"),
    [
        # art. 192 p. 1, and p. 3's "last day of the month" for the missing 29 February
        (D(2024, 2, 29), CalendarPeriod(years=1), D(2025, 2, 28)),
        (D(2024, 2, 29), CalendarPeriod(years=4), D(2028, 2, 29)),
        (D(2023, 3, 1), CalendarPeriod(years=1), D(2024, 3, 1)),
        # art. 192 p. 3: no 31 February, no 31 April
        (D(2025, 1, 31), CalendarPeriod(months=1), D(2025, 2, 28)),
        (D(2024, 1, 31), CalendarPeriod(months=1), D(2024, 2, 29)),
        (D(2025, 3, 31), CalendarPeriod(months=1), D(2025, 4, 30)),
        (D(2025, 11, 30), CalendarPeriod(months=3), D(2026, 2, 28)),
        (D(2025, 12, 15), CalendarPeriod(months=1), D(2026, 1, 15)),
        (D(2024, 8, 31), CalendarPeriod(years=1, months=6), D(2026, 2, 28)),
        # years and months first, then days: 2025-02-28 + 1 day
        (D(2024, 2, 29), CalendarPeriod(years=1, days=1), D(2025, 3, 1)),
        (D(2024, 2, 28), CalendarPeriod(days=365), D(2025, 2, 27)),
    ],
)
def test_calendar_period_after(start, period, expected):
    assert period.after(start) == expected


def test_add_months_backwards_clamps_too():
    assert add_months(D(2025, 3, 31), -1) == D(2025, 2, 28)
    assert add_months(D(2025, 1, 15), -13) == D(2023, 12, 15)


def test_the_last_day_of_a_period_is_the_day_before_start_plus_period():
    assert CalendarPeriod(years=1).last_day_from(D(2026, 3, 1)) == D(2027, 2, 28)
    assert CalendarPeriod(years=1).last_day_from(D(2023, 3, 1)) == D(2024, 2, 29)
    assert CalendarPeriod(years=1).last_day_from(D(2024, 2, 29)) == D(2025, 2, 27)
    assert CalendarPeriod(months=1).last_day_from(D(2025, 1, 31)) == D(2025, 2, 27)
    assert CalendarPeriod(months=1).last_day_from(D(2025, 3, 1)) == D(2025, 3, 31)


@pytest.mark.parametrize("fields", [{}, {"years": -1}, {"years": 0, "months": 0, "days": 0}])
def test_an_empty_or_negative_period_is_refused(fields):
    with pytest.raises(ValueError):
        CalendarPeriod(**fields)


def test_periods_describe_themselves():
    assert CalendarPeriod(years=1).describe() == "1 year"
    assert CalendarPeriod(years=2, months=1, days=3).describe() == "2 years 1 month 3 days"


# --- purchased_within in years (AR-3 tier 4, AS-1 warranty) ------------------------------


def _bought(day: dt.date) -> Customer:
    return Customer("7701234567", "ООО Тест", licenses=(License("perpetual", day),))


def _within(when: str, bought: dt.date, on: dt.date) -> bool:
    condition = ConditionSpec.model_validate(yaml.safe_load(when)).to_domain()
    return condition.matches(CustomerFacts(_bought(bought), on))


YEAR = "purchased_within: {years: 1, kinds: [perpetual]}"
DAYS_365 = "purchased_within: {days: 365, kinds: [perpetual]}"


@pytest.mark.parametrize(
    ("when", "bought", "on", "expected"),
    [
        # the year 2023-03-01..2024-02-29 has 366 days: 365 days lose the last one
        (YEAR, D(2023, 3, 1), D(2024, 2, 29), True),
        (DAYS_365, D(2023, 3, 1), D(2024, 2, 29), False),
        (YEAR, D(2023, 3, 1), D(2024, 3, 1), False),
        # bought on a 29 February: the year ends before 2025-02-28 (2024-02-29 + 1 year)
        (YEAR, D(2024, 2, 29), D(2025, 2, 27), True),
        (YEAR, D(2024, 2, 29), D(2025, 2, 28), False),
        (YEAR, D(2024, 2, 29), D(2024, 2, 29), True),  # the purchase day itself
        (YEAR, D(2024, 2, 29), D(2024, 2, 28), False),  # before the purchase
        # a month from 31 January: 2025-01-31 + 1 month = 2025-02-28
        ("purchased_within: {months: 1}", D(2025, 1, 31), D(2025, 2, 27), True),
        ("purchased_within: {months: 1}", D(2025, 1, 31), D(2025, 2, 28), False),
        # the short form still counts days
        ("purchased_within_days: 365", D(2023, 3, 1), D(2024, 2, 28), True),
        ("purchased_within_days: 365", D(2023, 3, 1), D(2024, 2, 29), False),
    ],
)
def test_purchased_within_counts_calendar_years(when, bought, on, expected):
    assert _within(when, bought, on) is expected


@pytest.mark.parametrize(
    "when",
    [
        "purchased_within: {}",
        "purchased_within: {years: 0}",
        "purchased_within: {years: -1}",
        "purchased_within: {years: '1'}",  # strict: a quoted number is a typo
        "purchased_within: {years: true}",
        "purchased_within: {weeks: 2}",
    ],
)
def test_a_bad_period_is_refused(when):
    with pytest.raises(ValidationError):
        ConditionSpec.model_validate(yaml.safe_load(when))


def test_purchased_within_explains_its_period():
    condition = ConditionSpec.model_validate(yaml.safe_load(YEAR)).to_domain()
    assert isinstance(condition, PurchasedWithin)
    assert condition.describe() == "purchased_within: 1 year, kinds [perpetual]"


# --- default license terms (AR-5, ID-3) ----------------------------------------------------

POLICY = policy_from_yaml(
    """
    calendar: office
    license_terms:
      premium: {years: 1}
      subscription: {months: 12}
    tiers:
      - {name: premium, when: {license_active: [premium, subscription]}}
      - {name: other, when: {}}
    priority: {mode: tier, levels: [P1, P2], from_tier: {premium: P1, other: P2}}
    """
)


def _with(*licenses: License) -> Customer:
    return Customer("7701234567", "ООО Тест", licenses=licenses)


def _tier_and_status(who: Customer, on: dt.date) -> tuple[str, LicenseStatus]:
    decision = decide(who, RequestFacts(), POLICY, on)
    return decision.tier, decision.license_status


@pytest.mark.parametrize(
    ("lic", "on", "expected"),
    [
        # no end date: one year from 2026-03-01 is 2026-03-01..2027-02-28
        (License("premium", D(2026, 3, 1)), D(2027, 2, 28), ("premium", LicenseStatus.EXPIRING)),
        (License("premium", D(2026, 3, 1)), D(2027, 3, 1), ("other", LicenseStatus.EXPIRED)),
        (License("premium", D(2026, 3, 1)), D(2026, 6, 1), ("premium", LicenseStatus.ACTIVE)),
        # a leap-year purchase: 2024-02-29 + 1 year = 2025-02-28, the last day before it
        (License("premium", D(2024, 2, 29)), D(2025, 2, 27), ("premium", LicenseStatus.EXPIRING)),
        (License("premium", D(2024, 2, 29)), D(2025, 2, 28), ("other", LicenseStatus.EXPIRED)),
        # twelve months from 2025-01-31: 2025-01-31..2026-01-30
        (License("subscription", D(2025, 1, 31)), D(2026, 1, 30),
         ("premium", LicenseStatus.EXPIRING)),
        (License("subscription", D(2025, 1, 31)), D(2026, 1, 31), ("other", LicenseStatus.EXPIRED)),
        # the entry's own end wins over the default term
        (License("premium", D(2026, 3, 1), D(2026, 3, 31)), D(2026, 4, 1),
         ("other", LicenseStatus.EXPIRED)),
        (License("premium", D(2026, 3, 1), D(2028, 12, 31)), D(2028, 1, 10),
         ("premium", LicenseStatus.ACTIVE)),
        # `expires: never`
        (License("premium", D(2020, 3, 1), never_expires=True), D(2030, 1, 1),
         ("premium", LicenseStatus.ACTIVE)),
        # a kind without a default term never ends (a perpetual license)
        (License("perpetual", D(2010, 1, 1)), D(2030, 1, 1), ("other", LicenseStatus.ACTIVE)),
    ],
)
def test_a_license_without_an_end_date_ends_by_its_default_term(lic, on, expected):
    assert _tier_and_status(_with(lic), on) == expected


def test_without_license_terms_a_license_without_an_end_date_never_ends():
    policy = policy_from_yaml(
        """
        calendar: office
        tiers:
          - {name: premium, when: {license_active: [premium]}}
          - {name: other, when: {}}
        priority: {mode: tier, levels: [P1, P2], from_tier: {premium: P1, other: P2}}
        """
    )
    decision = decide(_with(License("premium", D(2020, 3, 1))), RequestFacts(), policy,
                      D(2030, 1, 1))
    assert decision.tier == "premium"


def test_the_license_status_names_the_license_and_its_default_term():
    decision = decide(_with(License("premium", D(2026, 3, 1), product="ИКС")), RequestFacts(),
                      POLICY, D(2026, 6, 1))
    assert decision.why["license_status"] == (
        "active: premium for ИКС 2026-03-01..2027-02-28 (default term 1 year); "
        "covered until 2027-02-28")


@pytest.mark.parametrize(
    ("terms", "message"),
    [
        ("{gold: {years: 1}}", "license_terms: unknown license kind gold"),
        ("{perpetual: {years: 1}}", "a perpetual license never ends"),
        ("{premium: {}}", "at least one of years, months, days"),
        ("{premium: 365}", "valid dictionary"),
    ],
)
def test_bad_license_terms_are_refused(terms, message):
    with pytest.raises(ValidationError, match=message):
        config_from_yaml(
            f"""
            calendar: office
            license_terms: {terms}
            tiers: [{{name: all, when: {{}}}}]
            priority: {{mode: impact, default_impact: P3}}
            """
        )


# --- the directory: `expires` left out, a date, or `never` -------------------------------

YAML_DIRECTORY = """\
customers:
  - inn: "7701234567"
    name: ООО Тест
    licenses:
      - {kind: premium, starts: 2026-03-01}
      - {kind: premium, starts: 2026-03-01, expires: never}
      - {kind: premium, starts: 2026-03-01, expires: 2026-06-30}
"""


def test_the_yaml_directory_tells_no_end_date_from_never():
    (entry,) = parse_customers_yaml(YAML_DIRECTORY)
    assert [(lic.expires, lic.never_expires) for lic in entry.licenses] == [
        (None, False), (None, True), (D(2026, 6, 30), False)]
    effective = POLICY.effective_customer(entry)
    assert effective is not None
    assert [lic.expires for lic in effective.licenses] == [D(2027, 2, 28), None, D(2026, 6, 30)]


def test_the_csv_directory_reads_never_and_an_empty_end():
    text = ("inn,name,kind,starts,expires\n"
            "7701234567,ООО Тест,subscription,2025-01-31,\n"
            "7701234567,ООО Тест,subscription,2025-01-31,never\n")
    (entry,) = parse_customers_csv(text)
    effective = POLICY.effective_customer(entry)
    assert effective is not None
    assert [(lic.expires, lic.never_expires) for lic in effective.licenses] == [
        (D(2026, 1, 30), False), (None, True)]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("customers:\n  - inn: \"7701234567\"\n    name: ООО Тест\n    licenses:\n"
         "      - {kind: premium, starts: 2026-03-01, expires: someday}\n",
         "line 5, customers[0] (INN 7701234567).licenses[0].expires"),
    ],
)
def test_a_bad_end_date_mentions_never(text, where):
    with pytest.raises(ValueError, match=r"expected a date YYYY-MM-DD.*or never") as caught:
        parse_customers_yaml(text)
    assert where in str(caught.value)


def test_a_csv_demo_period_cannot_be_endless():
    text = "inn,name,kind,starts,expires\n7701234567,ООО Тест,demo,2025-01-01,never\n"
    with pytest.raises(ValueError, match="a demo period needs its end date"):
        parse_customers_csv(text)
