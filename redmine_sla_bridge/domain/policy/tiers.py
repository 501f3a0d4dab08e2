"""Tier resolution: ordered rules, the first whose condition matches gives the tier.

The order of the rules is also the order of the tiers (AR-3: "queue order follows
tier"): the rank of a tier is the position of the first rule that names it.
"""

from __future__ import annotations

from dataclasses import dataclass

from redmine_sla_bridge.domain.policy.conditions import Condition, CustomerFacts, is_catch_all


@dataclass(frozen=True, slots=True)
class TierRule:
    """`{name: premium, when: {...}, label: "AR-3 tier 2"}`: customers matching `when`
    get tier `name`. Several rules may name the same tier; `label` tells them apart in
    the explanation."""

    name: str
    when: Condition
    label: str | None = None


@dataclass(frozen=True, slots=True)
class TierMatch:
    """The tier a customer got, and why (for the explanation shown to the engineer)."""

    tier: str
    rank: int
    reason: str


@dataclass(frozen=True, slots=True)
class TierPolicy:
    """The ordered tier rules.

    The last rule must be the catch-all `{}` so that every customer, known or not, gets
    a tier: a missing tier would leave a request without any SLA. `unknown_customer_tier`,
    when set, is given to an unknown INN (or a request without an INN) without looking at
    the rules, which is the plainest way to write "unknown = lowest tier".
    """

    rules: tuple[TierRule, ...]
    unknown_customer_tier: str | None = None

    def __post_init__(self) -> None:
        if not self.rules:
            raise ValueError("at least one tier rule is needed")
        for index, rule in enumerate(self.rules):
            if is_catch_all(rule.when) and index != len(self.rules) - 1:
                later = ", ".join(r.name for r in self.rules[index + 1 :])
                raise ValueError(
                    f"tier rule #{index + 1} ({rule.name}) matches everyone, so the rules "
                    f"after it can never apply: {later}"
                )
        if not is_catch_all(self.rules[-1].when):
            raise ValueError(
                "the last tier rule must be a catch-all with an empty condition "
                "(when: {}) so that every customer gets a tier"
            )
        if (
            self.unknown_customer_tier is not None
            and self.unknown_customer_tier not in self.tier_names
        ):
            raise ValueError(
                f"unknown_customer_tier {self.unknown_customer_tier!r} is not one of the "
                f"tiers: {', '.join(self.tier_names)}"
            )

    @property
    def tier_names(self) -> tuple[str, ...]:
        """Declared tiers, highest first, each once."""
        return tuple(dict.fromkeys(rule.name for rule in self.rules))

    def rank(self, tier: str) -> int:
        """0 for the highest tier."""
        return self.tier_names.index(tier)

    def resolve(self, facts: CustomerFacts) -> TierMatch:
        """The tier for these facts; never fails (the last rule matches everyone)."""
        if facts.customer is None and self.unknown_customer_tier is not None:
            tier = self.unknown_customer_tier
            return TierMatch(
                tier, self.rank(tier), f"tier {tier}: unknown customer (unknown_customer_tier)"
            )
        for index, rule in enumerate(self.rules):
            if rule.when.matches(facts):
                label = f" '{rule.label}'" if rule.label else ""
                return TierMatch(
                    rule.name,
                    self.rank(rule.name),
                    f"tier {rule.name}: tiers[{index}]{label} {rule.when.describe()}",
                )
        raise AssertionError("unreachable: the last tier rule is a catch-all")
