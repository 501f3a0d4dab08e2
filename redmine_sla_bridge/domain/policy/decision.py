"""One call from "who is asking about what" to the values the bridge writes into Redmine."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from redmine_sla_bridge.domain.policy.conditions import CustomerFacts
from redmine_sla_bridge.domain.policy.customer import Customer
from redmine_sla_bridge.domain.policy.license_status import (
    LicenseStatus,
    LicenseStatusRules,
    explain_license_status,
)
from redmine_sla_bridge.domain.policy.period import CalendarPeriod
from redmine_sla_bridge.domain.policy.priority import PriorityPolicy
from redmine_sla_bridge.domain.policy.targets import (
    Target,
    TargetFacts,
    TargetKind,
    TargetPolicy,
    TargetSource,
)
from redmine_sla_bridge.domain.policy.tiers import TierPolicy


@dataclass(frozen=True, slots=True)
class Policy:
    """The whole policy of one deployment, built from the config's `policy:` section."""

    tiers: TierPolicy
    priority: PriorityPolicy
    targets: TargetPolicy
    license_status: LicenseStatusRules = LicenseStatusRules()
    license_terms: Mapping[str, CalendarPeriod] = field(
        default_factory=lambda: MappingProxyType({})
    )
    """Default term per license kind, for directory entries with no end date (AR-5: a
    premium license runs one year; ID-3: "по умолчанию подписка действует в течение
    года"). A kind without one (perpetual) never ends."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "license_terms", MappingProxyType(dict(self.license_terms)))

    def effective_customer(self, customer: Customer | None) -> Customer | None:
        """The customer with the default license terms applied (see `license_terms`)."""
        return None if customer is None else customer.with_license_terms(self.license_terms)


@dataclass(frozen=True, slots=True)
class RequestFacts:
    """What the request itself says (Redmine fields); every item may be missing."""

    product: str | None = None
    impact: str | None = None
    request_type: str | None = None


@dataclass(frozen=True, slots=True)
class PolicyDecision:
    """Everything the policy derives for one request.

    `tier_rank` is 0 for the highest tier (queue order, AR-3). `impact` is the impact
    used (the stated one, or the default). `matched_rules` explains each value in words,
    for the engineer and for the audit log; `why` says the same per value ("tier",
    "license_status", "priority") and `target_sources` per target kind.
    """

    tier: str
    tier_rank: int
    license_status: LicenseStatus
    priority: str
    redmine_priority: str | None
    high_criticality: bool
    impact: str | None
    targets: Mapping[TargetKind, Target]
    matched_rules: tuple[str, ...]
    why: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    target_sources: Mapping[TargetKind, TargetSource] = field(
        default_factory=lambda: MappingProxyType({})
    )


def _day(moment: dt.datetime | dt.date) -> dt.date:
    return moment.date() if isinstance(moment, dt.datetime) else moment


def decide(
    customer: Customer | None,
    request: RequestFacts,
    policy: Policy,
    now: dt.datetime | dt.date,
) -> PolicyDecision:
    """Tier, license status, priority and targets for a request.

    `customer` None = the INN is unknown or missing: the request still gets the tier the
    policy gives unknown customers. `now` is the moment that decides which licenses and
    demo periods count - normally the request's registration time, in the regulation's
    time zone (its `.date()` is the request date). The policy's default license terms
    are applied to the customer's open-ended licenses first.
    """
    day = _day(now)
    customer = policy.effective_customer(customer)
    tier = policy.tiers.resolve(CustomerFacts(customer, day, request.product))
    status, status_reason = explain_license_status(
        customer, day, policy.license_status, product=request.product
    )
    priority = policy.priority.resolve(tier.tier, request.impact, request.request_type)
    contract = None
    if customer is not None:
        contract_license = customer.contract_on(day, request.product)
        contract = contract_license.contract if contract_license is not None else None
    targets = policy.targets.resolve(
        TargetFacts(
            tier=tier.tier,
            priority=priority.priority,
            product=request.product,
            high_criticality=priority.high_criticality,
            license_status=status.value,
        ),
        contract,
    )
    return PolicyDecision(
        tier=tier.tier,
        tier_rank=tier.rank,
        license_status=status,
        priority=priority.priority,
        redmine_priority=priority.redmine_priority,
        high_criticality=priority.high_criticality,
        impact=priority.impact,
        targets=targets.targets,
        matched_rules=(
            tier.reason,
            f"license status {status.value}",
            priority.reason,
            *targets.reasons,
        ),
        why=MappingProxyType(
            {"tier": tier.reason, "license_status": status_reason, "priority": priority.reason}
        ),
        target_sources=targets.sources,
    )
