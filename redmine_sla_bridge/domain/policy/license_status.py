"""License status: the one-word answer to "is this customer paid up?" for the engineer.

Precedence when several licenses apply (best for the customer wins, because one valid
license is enough to be served):

    active > expiring > trial > expired > none

* active   - a counted, non-trial license is valid on the day and the customer stays
             covered for more than `expiring_days`.
* expiring - covered today, but continuous coverage ends within `expiring_days` days
             (0 = the last valid day is today). A renewal that starts before the old
             license ends (or the day after) extends the coverage, so a customer who has
             already renewed is not shown as expiring.
* trial    - only a trial license is valid today.
* expired  - no counted license is valid today but a non-trial one was valid earlier.
* none     - nothing else: no licenses, only licenses that start in the future, or only
             expired trials (a finished trial was never a purchase; "expired" would
             suggest a lapsed paying customer).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from redmine_sla_bridge.domain.policy.customer import ANY_PRODUCT, Customer, License


class LicenseStatus(StrEnum):
    ACTIVE = "active"
    EXPIRING = "expiring"
    TRIAL = "trial"
    EXPIRED = "expired"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class LicenseStatusRules:
    """Which licenses count and when a license is "expiring".

    `counted_kinds` None counts every kind; a deployment can narrow it, e.g. to leave a
    perpetual product license without updates out of the status.
    """

    expiring_days: int = 30
    counted_kinds: frozenset[str] | None = None
    trial_kinds: frozenset[str] = frozenset({"trial"})

    def __post_init__(self) -> None:
        if self.expiring_days < 0:
            raise ValueError("expiring_days cannot be negative")

    def counts(self, lic: License) -> bool:
        return self.counted_kinds is None or lic.kind in self.counted_kinds


def _coverage_end(paid: list[License], day: dt.date) -> dt.date | None:
    """Last day of uninterrupted coverage from `day` (None = never ends).

    Only called when at least one of `paid` is valid on `day`.
    """
    end = max((lic.expires for lic in paid if lic.is_active_on(day)), key=_end_key)
    extended = True
    while end is not None and extended:
        extended = False
        for lic in paid:
            # A license starting no later than the day after `end` continues the coverage.
            if lic.starts <= _day_after(end) and _end_key(lic.expires) > _end_key(end):
                end = lic.expires
                extended = True
                if end is None:
                    break
    return end


def _day_after(day: dt.date) -> dt.date:
    return day if day == dt.date.max else day + dt.timedelta(days=1)


def _end_key(expires: dt.date | None) -> dt.date:
    return dt.date.max if expires is None else expires


def license_status(
    customer: Customer | None,
    day: dt.date,
    rules: LicenseStatusRules = LicenseStatusRules(),
    product: str | None = None,
) -> LicenseStatus:
    """The customer's license status on `day` for a request about `product`.

    Only licenses covering `product` are considered (see `covers_product`); an unknown
    customer (None) has status `none`.
    """
    return explain_license_status(customer, day, rules, product)[0]


def explain_license_status(
    customer: Customer | None,
    day: dt.date,
    rules: LicenseStatusRules = LicenseStatusRules(),
    product: str | None = None,
) -> tuple[LicenseStatus, str]:
    """`license_status` and the license that decided it, in words."""
    if customer is None:
        return LicenseStatus.NONE, "none: unknown customer (no directory entry)"
    counted = [lic for lic in customer.licenses_for(product) if rules.counts(lic)]
    paid = [lic for lic in counted if lic.kind not in rules.trial_kinds]
    valid = [lic for lic in paid if lic.is_active_on(day)]
    if valid:
        end = _coverage_end(paid, day)
        best = max(valid, key=lambda lic: _end_key(lic.expires))
        if end is not None and (end - day).days <= rules.expiring_days:
            return LicenseStatus.EXPIRING, (
                f"expiring: {best.describe()}; covered until {end}, within "
                f"{rules.expiring_days} days of {day}"
            )
        until = "with no end" if end is None else f"until {end}"
        return LicenseStatus.ACTIVE, f"active: {best.describe()}; covered {until}"
    trials = [lic for lic in counted if lic.kind in rules.trial_kinds and lic.is_active_on(day)]
    if trials:
        return LicenseStatus.TRIAL, f"trial: only {trials[0].describe()} is valid on {day}"
    lapsed = [lic for lic in paid if lic.has_started_by(day)]
    if lapsed:
        last = max(lapsed, key=lambda lic: _end_key(lic.expires))
        return LicenseStatus.EXPIRED, f"expired: {last.describe()}; none valid on {day}"
    if not counted:
        return LicenseStatus.NONE, "none: no license of a counted kind for this product"
    others = "; ".join(lic.describe() for lic in counted)
    return LicenseStatus.NONE, f"none: no paid license started by {day} (only {others})"


def license_status_by_product(
    customer: Customer | None,
    day: dt.date,
    rules: LicenseStatusRules = LicenseStatusRules(),
    products: Iterable[str] | None = None,
) -> Mapping[str, LicenseStatus]:
    """Status per product, for a customer whose licenses differ by product.

    `products` defaults to the products named in the customer's licenses. Licenses for
    all products ("*" or no product) count toward every product.
    """
    if products is None:
        names = (
            {}
            if customer is None
            else {
                lic.product.strip(): None
                for lic in customer.licenses
                if lic.product is not None and lic.product.strip() != ANY_PRODUCT
            }
        )
        products = names.keys()
    return {name: license_status(customer, day, rules, product=name) for name in products}
