"""Who the customer is: the facts the customer directory holds about one organization.

Everything here is plain data keyed by the organization's INN. The tier, the license
status and the SLA targets are *derived* from these facts by the other policy modules,
so the directory stays a list of things a sales department actually records (licenses
with dates, a partner agreement, a contract, demo periods) instead of a hand-kept tier.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Protocol

from redmine_sla_bridge.domain.calendar.duration import Duration
from redmine_sla_bridge.domain.policy.period import CalendarPeriod

ANY_PRODUCT = "*"
"""A license, demo or exception written for this product covers every product."""

LICENSE_KINDS: frozenset[str] = frozenset(
    {
        "premium",  # AR-2/AR-5: premium update license, 1 year
        "update",  # AR-3 tier 4: update license
        "subscription",  # ID-1/ID-3: subscription, 1 year from purchase
        "support_module",  # AR-3 tier 2: the "Техподдержка" module
        "trial",  # AR-3 tier 3: users testing the product
        "warranty",  # AS-1: warranty support
        "perpetual",  # the product license itself (no end date as a rule)
        "contract",  # AS-1/AS-4: individual support contract, may carry its own SLA
    }
)
"""The license kinds every deployment knows; a config may declare more."""

CONTRACT_KIND = "contract"
"""Licenses of this kind are support contracts: `has_contract` looks for them and only
they may carry per-customer SLA terms (AS-4)."""


def product_key(product: str | None) -> str | None:
    """Normalize a product name for comparison ("ИКС  lite" == "ИКС Lite").

    Product names come from Redmine fields, CSV files and YAML typed by different people;
    case and repeated spaces are not a meaningful difference between products.
    """
    if product is None:
        return None
    key = " ".join(product.split()).casefold()
    return key or None


def covers_product(scope: str | None, product: str | None) -> bool:
    """Does something scoped to `scope` apply to a request about `product`?

    `scope` None or "*" covers all products. A request with no product named matches any
    scope: we do not know which product it is about, and refusing the customer's license
    because a field is empty would punish the customer for our form.
    """
    if scope is None or scope.strip() == ANY_PRODUCT or product_key(product) is None:
        return True
    return product_key(scope) == product_key(product)


@dataclass(frozen=True, slots=True)
class License:
    """One license the customer holds.

    `starts` and `expires` are inclusive calendar days: the license is valid on
    `expires` itself ("действует до 31.12.2025" includes Dec 31). `expires=None` means
    no end is known: the license never ends, unless the policy gives its kind a default
    term (AR-5, ID-3: `Policy.license_terms`, applied by `with_default_term`).
    `never_expires` is the directory's explicit `expires: never`: no default term
    applies. `term` records the default term that set `expires`, for the explanation.
    """

    kind: str
    starts: dt.date
    expires: dt.date | None = None
    product: str | None = None
    contract: ContractTerms | None = None
    never_expires: bool = False
    term: CalendarPeriod | None = None

    def __post_init__(self) -> None:
        if self.expires is not None and self.expires < self.starts:
            raise ValueError(
                f"license {self.kind!r} expires {self.expires} before it starts {self.starts}"
            )
        if self.never_expires and self.expires is not None:
            raise ValueError(
                f"license {self.kind!r} both never expires and expires {self.expires}"
            )
        if self.contract is not None and self.kind != CONTRACT_KIND:
            raise ValueError(
                f"only a {CONTRACT_KIND!r} license can carry SLA terms, not {self.kind!r}"
            )

    def is_active_on(self, day: dt.date) -> bool:
        return self.starts <= day and (self.expires is None or day <= self.expires)

    def has_started_by(self, day: dt.date) -> bool:
        return self.starts <= day

    def covers(self, product: str | None) -> bool:
        return covers_product(self.product, product)

    def with_default_term(self, term: CalendarPeriod | None) -> License:
        """This license with `expires` set by the default `term` of its kind, when the
        directory gave no end date and did not say `never`; otherwise unchanged.

        The start day is the term's first day: a one-year term from 2026-03-01 ends on
        2027-02-28, as the directories write licenses (see `period`)."""
        if term is None or self.expires is not None or self.never_expires:
            return self
        return replace(self, expires=term.last_day_from(self.starts), term=term)

    def describe(self) -> str:
        """'premium for ИКС Стандарт 2026-03-01..2027-02-28 (default term 1 year)'."""
        scope = "" if self.product is None else f" for {self.product}"
        if self.expires is None:
            end = "never ends" if self.never_expires else "no end date"
            dates = f"from {self.starts} ({end})"
        else:
            dates = f"{self.starts}..{self.expires}"
            if self.term is not None:
                dates += f" (default term {self.term.describe()})"
        return f"{self.kind}{scope} {dates}"


@dataclass(frozen=True, slots=True)
class ContractTerms:
    """AS-4: the SLA targets an individual contract fixes for this customer.

    `targets` maps a target kind ("acknowledgement", "first_response", "resolution") to a
    duration, or None for "not limited by the contract". A kind left out is not covered
    by the contract and falls back to the general policy. `calendar` None means the
    policy's default calendar.
    """

    targets: Mapping[str, Duration | None] = field(default_factory=dict)
    calendar: str | None = None
    reference: str | None = None

    def __post_init__(self) -> None:
        # Frozen means frozen: a shared dict would let one caller change another's SLA.
        object.__setattr__(self, "targets", MappingProxyType(dict(self.targets)))

    def __hash__(self) -> int:
        return hash(
            (
                tuple(sorted(self.targets.items(), key=lambda kv: kv[0])),
                self.calendar,
                self.reference,
            )
        )


@dataclass(frozen=True, slots=True)
class DemoPeriod:
    """ID-4: the customer uses the product in demo mode from `starts` to `ends` inclusive."""

    starts: dt.date
    ends: dt.date
    product: str | None = None

    def __post_init__(self) -> None:
        if self.ends < self.starts:
            raise ValueError(f"demo period ends {self.ends} before it starts {self.starts}")

    def includes(self, day: dt.date) -> bool:
        return self.starts <= day <= self.ends


@dataclass(frozen=True, slots=True)
class Customer:
    """One organization of the customer directory, keyed by its INN."""

    inn: str
    name: str
    partner: bool = False
    licenses: tuple[License, ...] = ()
    demos: tuple[DemoPeriod, ...] = ()

    def with_license_terms(self, terms: Mapping[str, CalendarPeriod]) -> Customer:
        """This customer with every open-ended license given its kind's default term
        (AR-5, ID-3); the same object when nothing changes."""
        if not terms:
            return self
        licenses = tuple(lic.with_default_term(terms.get(lic.kind)) for lic in self.licenses)
        if all(new is old for new, old in zip(licenses, self.licenses, strict=True)):
            return self
        return replace(self, licenses=licenses)

    def licenses_for(self, product: str | None) -> tuple[License, ...]:
        return tuple(lic for lic in self.licenses if lic.covers(product))

    def contract_on(self, day: dt.date, product: str | None) -> License | None:
        """The contract license in force for this product, or None.

        If several are in force (a renewal overlapping the old contract) the one that
        started last wins: a newer contract supersedes the older one's terms.
        """
        contracts = [
            lic
            for lic in self.licenses_for(product)
            if lic.kind == CONTRACT_KIND and lic.is_active_on(day)
        ]
        return max(contracts, key=lambda lic: lic.starts, default=None)


class CustomerSource(Protocol):
    """Where customers are looked up: the embedded file, a CRM, a database..."""

    def get(self, inn: str) -> Customer | None:
        """The customer with this INN, or None when the directory does not know it."""
        ...
