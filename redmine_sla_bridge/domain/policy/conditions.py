"""Conditions over a customer's facts, the vocabulary of the tier rules.

Each condition is a frozen value with `matches(facts)`. The config turns the admin's
YAML (`partner: true`, `license_active: [premium]`, `any: [...]`...) into these; code
never has to change to express a new regulation's tiers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from redmine_sla_bridge.domain.policy.customer import (
    Customer,
    License,
    covers_product,
    product_key,
)
from redmine_sla_bridge.domain.policy.period import CalendarPeriod


@dataclass(frozen=True, slots=True)
class CustomerFacts:
    """What a tier condition may look at: the customer (None = unknown INN), the request
    date and the product the request is about (None = not stated)."""

    customer: Customer | None
    day: dt.date
    product: str | None = None

    def licenses(self, same_product: bool) -> tuple[License, ...]:
        if self.customer is None:
            return ()
        if same_product:
            return self.customer.licenses_for(self.product)
        return self.customer.licenses


class Condition(Protocol):
    def matches(self, facts: CustomerFacts) -> bool: ...

    def describe(self) -> str: ...


def _kinds(kinds: frozenset[str]) -> str:
    return ", ".join(sorted(kinds))


@dataclass(frozen=True, slots=True)
class IsPartner:
    """`partner: true` - the directory marks the customer as a partner (AR-3 tier 1, ID-1)."""

    expected: bool = True

    def matches(self, facts: CustomerFacts) -> bool:
        return (facts.customer is not None and facts.customer.partner) == self.expected

    def describe(self) -> str:
        return f"partner: {str(self.expected).lower()}"


@dataclass(frozen=True, slots=True)
class IsKnownCustomer:
    """`known_customer: true` - the INN is in the directory."""

    expected: bool = True

    def matches(self, facts: CustomerFacts) -> bool:
        return (facts.customer is not None) == self.expected

    def describe(self) -> str:
        return f"known_customer: {str(self.expected).lower()}"


@dataclass(frozen=True, slots=True)
class LicenseActive:
    """`license_active: [kinds]` - a license of one of these kinds is valid on the request
    date. With `same_product` (the default) only licenses covering the request's product
    count: a premium license for one product does not lift requests about another."""

    kinds: frozenset[str]
    same_product: bool = True

    def matches(self, facts: CustomerFacts) -> bool:
        return any(
            lic.kind in self.kinds and lic.is_active_on(facts.day)
            for lic in facts.licenses(self.same_product)
        )

    def describe(self) -> str:
        return f"license_active: [{_kinds(self.kinds)}]"


@dataclass(frozen=True, slots=True)
class LicenseKindEver:
    """`license_kind_ever: [kinds]` - the customer has held such a license at some point
    up to the request date (expired ones included; future ones not yet)."""

    kinds: frozenset[str]
    same_product: bool = True

    def matches(self, facts: CustomerFacts) -> bool:
        return any(
            lic.kind in self.kinds and lic.has_started_by(facts.day)
            for lic in facts.licenses(self.same_product)
        )

    def describe(self) -> str:
        return f"license_kind_ever: [{_kinds(self.kinds)}]"


@dataclass(frozen=True, slots=True)
class PurchasedWithin:
    """`purchased_within: {years: 1, kinds: [...]}` - a license of these kinds STARTED
    less than `period` before the request date (AR-3 tier 4 "less than 1 year since
    purchase", AS-1 warranty "в течение одного года после приобретения"): the request
    date X satisfies starts <= X < starts + period, on the civil calendar (see
    `period`: a year is a calendar year, 2024-02-29 + 1 year = 2025-02-28).
    `{days: 365}` still counts days. The license need not be valid any more: a perpetual
    purchase has no end, and a one-year update pack that lapsed still counts as "bought
    less than a year ago". `kinds` None = any kind except `excluded_kinds` (trials by
    default: a free trial is not a purchase)."""

    period: CalendarPeriod
    kinds: frozenset[str] | None = None
    excluded_kinds: frozenset[str] = frozenset({"trial"})
    same_product: bool = True

    def _counts(self, lic: License) -> bool:
        if self.kinds is not None:
            return lic.kind in self.kinds
        return lic.kind not in self.excluded_kinds

    def matches(self, facts: CustomerFacts) -> bool:
        return any(
            self._counts(lic) and self.period.contains(lic.starts, facts.day)
            for lic in facts.licenses(self.same_product)
        )

    def describe(self) -> str:
        kinds = "any" if self.kinds is None else f"[{_kinds(self.kinds)}]"
        return f"purchased_within: {self.period.describe()}, kinds {kinds}"


@dataclass(frozen=True, slots=True)
class InDemo:
    """`in_demo: true` - the request date falls within a demo period (ID-4).

    `once_per_days` enforces ID-4's "at most one demo period a year": a demo period that
    starts less than that many days after an earlier one started is not honoured.
    `expected=False` negates (`in_demo: false`).
    """

    expected: bool = True
    once_per_days: int | None = None

    def _honoured(self, facts: CustomerFacts) -> bool:
        if facts.customer is None:
            return False
        periods = sorted(
            (d for d in facts.customer.demos if covers_product(d.product, facts.product)),
            key=lambda d: d.starts,
        )
        last_honoured: dt.date | None = None
        for period in periods:
            if (
                self.once_per_days is not None
                and last_honoured is not None
                and (period.starts - last_honoured).days < self.once_per_days
            ):
                continue
            last_honoured = period.starts
            if period.includes(facts.day):
                return True
        return False

    def matches(self, facts: CustomerFacts) -> bool:
        return self._honoured(facts) == self.expected

    def describe(self) -> str:
        limit = "" if self.once_per_days is None else f" (once per {self.once_per_days} days)"
        return f"in_demo: {str(self.expected).lower()}{limit}"


@dataclass(frozen=True, slots=True)
class HasContract:
    """`has_contract: true` - an individual support contract (a license of kind
    "contract") covering the product is in force on the request date (AS-1, AS-4)."""

    expected: bool = True

    def matches(self, facts: CustomerFacts) -> bool:
        found = (
            facts.customer is not None
            and facts.customer.contract_on(facts.day, facts.product) is not None
        )
        return found == self.expected

    def describe(self) -> str:
        return f"has_contract: {str(self.expected).lower()}"


@dataclass(frozen=True, slots=True)
class ProductIn:
    """`product_in: [...]` - the request is about one of these products (compared without
    case and extra spaces). A request that names no product never matches."""

    products: frozenset[str]

    def matches(self, facts: CustomerFacts) -> bool:
        key = product_key(facts.product)
        return key is not None and key in {product_key(p) for p in self.products}

    def describe(self) -> str:
        return f"product_in: [{', '.join(sorted(self.products))}]"


@dataclass(frozen=True, slots=True)
class AllOf:
    """`all: [...]` - every condition matches. `AllOf(())` is the catch-all `{}`."""

    conditions: tuple[Condition, ...] = ()

    def matches(self, facts: CustomerFacts) -> bool:
        return all(c.matches(facts) for c in self.conditions)

    @property
    def is_catch_all(self) -> bool:
        return not self.conditions

    def describe(self) -> str:
        if not self.conditions:
            return "{}"
        if len(self.conditions) == 1:
            return self.conditions[0].describe()
        return "all(" + "; ".join(c.describe() for c in self.conditions) + ")"


@dataclass(frozen=True, slots=True)
class AnyOf:
    """`any: [...]` - at least one condition matches (an empty list never matches)."""

    conditions: tuple[Condition, ...]

    def matches(self, facts: CustomerFacts) -> bool:
        return any(c.matches(facts) for c in self.conditions)

    def describe(self) -> str:
        return "any(" + "; ".join(c.describe() for c in self.conditions) + ")"


@dataclass(frozen=True, slots=True)
class Not:
    """`not: {...}` - the inner condition does not match."""

    condition: Condition

    def matches(self, facts: CustomerFacts) -> bool:
        return not self.condition.matches(facts)

    def describe(self) -> str:
        return f"not({self.condition.describe()})"


ALWAYS = AllOf(())
"""The catch-all condition `{}`."""


def is_catch_all(condition: Condition) -> bool:
    """True for a condition that matches every customer by construction (`{}`)."""
    return isinstance(condition, AllOf) and condition.is_catch_all


__all__ = [
    "ALWAYS",
    "AllOf",
    "AnyOf",
    "Condition",
    "CustomerFacts",
    "HasContract",
    "InDemo",
    "IsKnownCustomer",
    "IsPartner",
    "LicenseActive",
    "LicenseKindEver",
    "Not",
    "ProductIn",
    "PurchasedWithin",
    "is_catch_all",
]
