"""License status and its precedence: active > expiring > trial > expired > none."""

from __future__ import annotations

import pytest
from policy_testkit import TODAY, customer, lic

from redmine_sla_bridge.domain.policy import (
    LicenseStatus,
    LicenseStatusRules,
    license_status,
    license_status_by_product,
)

A, E, T, X, N = (
    LicenseStatus.ACTIVE,
    LicenseStatus.EXPIRING,
    LicenseStatus.TRIAL,
    LicenseStatus.EXPIRED,
    LicenseStatus.NONE,
)
RULES = LicenseStatusRules(expiring_days=30)


@pytest.mark.parametrize(
    ("licenses", "expected"),
    [
        pytest.param((), N, id="no licenses"),
        pytest.param((lic("update", -10, 200),), A, id="valid for 200 more days"),
        pytest.param((lic("perpetual", -1000),), A, id="perpetual never expires"),
        pytest.param((lic("update", -300, 30),), E, id="30 days left is expiring (boundary)"),
        pytest.param((lic("update", -300, 31),), A, id="31 days left is active (boundary)"),
        pytest.param(
            (lic("update", -365, 0),), E, id="last valid day is today: still covered, expiring"
        ),
        pytest.param((lic("update", -366, -1),), X, id="expired yesterday"),
        pytest.param((lic("trial", -5, 25),), T, id="trial only"),
        pytest.param((lic("trial", -60, -30),), N, id="expired trial is not a lapsed purchase"),
        pytest.param((lic("update", 10, 375),), N, id="starts in the future"),
        # precedence when several apply
        pytest.param(
            (lic("update", -300, 10), lic("premium", -10, 355)), A, id="active beats expiring"
        ),
        pytest.param((lic("update", -300, 10), lic("trial", -5, 25)), E, id="expiring beats trial"),
        pytest.param(
            (lic("update", -800, -400), lic("trial", -5, 25)), T, id="trial beats expired"
        ),
        pytest.param(
            (lic("update", -800, -400), lic("trial", -60, -30)), X, id="expired beats none"
        ),
        # a renewal bought in advance continues the coverage: not expiring
        pytest.param(
            (lic("update", -355, 10), lic("update", 11, 376)), A, id="renewal the day after"
        ),
        pytest.param(
            (lic("update", -355, 10), lic("update", 12, 376)), E, id="one-day gap breaks coverage"
        ),
        pytest.param(
            (lic("update", -355, 10), lic("update", 5, 20), lic("update", 21, 90)),
            A,
            id="chain of renewals",
        ),
    ],
)
def test_status_and_precedence(licenses, expected):
    assert license_status(customer(*licenses), TODAY, RULES) == expected


def test_unknown_customer_has_no_license():
    assert license_status(None, TODAY, RULES) == N


def test_expiring_window_is_configurable():
    holder = customer(lic("update", -300, 45))
    assert license_status(holder, TODAY, LicenseStatusRules(expiring_days=30)) == A
    assert license_status(holder, TODAY, LicenseStatusRules(expiring_days=60)) == E


def test_counted_kinds_leave_other_licenses_out():
    # A perpetual product license without updates: "none" when only update-type kinds count.
    holder = customer(lic("perpetual", -1000), lic("update", -800, -400))
    rules = LicenseStatusRules(counted_kinds=frozenset({"update", "premium"}))
    assert license_status(holder, TODAY, rules) == X
    assert license_status(holder, TODAY, LicenseStatusRules()) == A


@pytest.mark.parametrize(
    ("product", "expected"),
    [
        ("ИКС Стандарт", A),
        ("ИКС ФСТЭК", X),
        ("  икс   фстэк ", X),  # product names compare without case and extra spaces
        ("ИКС КУБ", T),
        ("ИКС Lite", X),  # only the expired all-products ("*") license applies
        (None, A),  # no product stated: every license counts
    ],
)
def test_status_per_product(product, expected):
    holder = customer(
        lic("update", -10, 300, product="ИКС Стандарт"),
        lic("update", -800, -400, product="ИКС ФСТЭК"),
        lic("trial", -3, 20, product="ИКС КУБ"),
        lic("premium", -800, -435, product="*"),
    )
    assert license_status(holder, TODAY, RULES, product=product) == expected


def test_status_by_product_lists_the_products_of_the_licenses():
    holder = customer(
        lic("update", -10, 300, product="ИКС Стандарт"),
        lic("update", -800, -400, product="ИКС ФСТЭК"),
    )
    assert license_status_by_product(holder, TODAY, RULES) == {"ИКС Стандарт": A, "ИКС ФСТЭК": X}
