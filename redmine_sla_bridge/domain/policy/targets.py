"""SLA targets: how long each step of a request may take, and on which calendar.

Resolution is per target kind, from the most specific source to the least:

1. the customer's individual contract in force (AS-4), for the kinds it fixes, on the
   contract's calendar (the calendar only for those kinds); EXCEPT where a matching
   target rule marked `contract_overrides: false` sets that kind: such a rule is a
   regulation's term a contract does not cancel by fixing its own (RB-3: reaction time
   counts working time only, except for high-criticality requests - a contract's own
   processing term does not make those count working time). The kind is then resolved
   by steps 2-4 as if the contract did not name it;
2. product exceptions (AR-4: "ИКС Lite" users are not limited);
3. the ordered target rules: for each kind, the FIRST matching rule that sets that kind
   wins. A rule may set only some kinds, so a high-criticality rule can move
   first_response onto a 24x7 calendar (RB-3/RB-4) while the tier rule below it still
   supplies the resolution time;
4. nothing matched: not limited.

A kind the contract does not name is never touched by the contract: its duration and
calendar come from steps 2-4.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from redmine_sla_bridge.domain.calendar.duration import Duration, WorkingDays, WorkingMinutes
from redmine_sla_bridge.domain.policy.customer import ContractTerms, product_key


class TargetKind(StrEnum):
    ACKNOWLEDGEMENT = "acknowledgement"  # BA-6: registered, number and deadline sent
    FIRST_RESPONSE = "first_response"  # AR-4, ID-5, AS-2/3: first answer of support
    RESOLUTION = "resolution"  # AS-3, BA-7: request solved / closed


def format_duration(duration: Duration | None) -> str:
    """The config spelling of a duration: "30m", "8h", "5d" or "unlimited"."""
    if duration is None:
        return "unlimited"
    if isinstance(duration, WorkingDays):
        return f"{duration.days}d"
    assert isinstance(duration, WorkingMinutes)
    hours, minutes = divmod(duration.minutes, 60)
    return f"{hours}h" if hours and not minutes else f"{duration.minutes}m"


@dataclass(frozen=True, slots=True)
class Target:
    """A duration counted on the named calendar; `duration` None = not limited."""

    duration: Duration | None
    calendar: str

    @property
    def unlimited(self) -> bool:
        return self.duration is None


@dataclass(frozen=True, slots=True)
class TargetFacts:
    """What a target rule may look at."""

    tier: str
    priority: str
    product: str | None = None
    high_criticality: bool = False
    license_status: str | None = None


@dataclass(frozen=True, slots=True)
class TargetMatch:
    """The `when` of a target rule; every field left None matches anything, the fields
    that are set must all match. An empty match `{}` is a default rule."""

    tiers: frozenset[str] | None = None
    priorities: frozenset[str] | None = None
    products: frozenset[str] | None = None
    high_criticality: bool | None = None
    license_statuses: frozenset[str] | None = None

    def matches(self, facts: TargetFacts) -> bool:
        if self.tiers is not None and facts.tier not in self.tiers:
            return False
        if self.priorities is not None and facts.priority not in self.priorities:
            return False
        if self.products is not None and product_key(facts.product) not in {
            product_key(p) for p in self.products
        }:
            return False
        if self.high_criticality is not None and facts.high_criticality != self.high_criticality:
            return False
        return self.license_statuses is None or facts.license_status in self.license_statuses

    def describe(self) -> str:
        parts = []
        for name, value in (
            ("tier", self.tiers),
            ("priority", self.priorities),
            ("product", self.products),
            ("license_status", self.license_statuses),
        ):
            if value is not None:
                parts.append(f"{name} in [{', '.join(sorted(value))}]")
        if self.high_criticality is not None:
            parts.append(f"high_criticality: {str(self.high_criticality).lower()}")
        return "{" + ", ".join(parts) + "}"


def _frozen_durations(
    durations: Mapping[TargetKind, Duration | None],
) -> Mapping[TargetKind, Duration | None]:
    return MappingProxyType({TargetKind(kind): value for kind, value in durations.items()})


@dataclass(frozen=True, slots=True)
class TargetRule:
    """Durations for requests matching `when`; a kind left out of `durations` is not set
    by this rule (a later rule may set it), a kind mapped to None is "not limited".
    `calendar` None = the policy's default calendar. `contract_overrides` False: a
    customer's contract that fixes the same kind does not replace this rule (see the
    module's step 1)."""

    when: TargetMatch
    durations: Mapping[TargetKind, Duration | None]
    calendar: str | None = None
    label: str | None = None
    contract_overrides: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "durations", _frozen_durations(self.durations))


@dataclass(frozen=True, slots=True)
class ProductException:
    """AR-4: requests about `product` get these durations whatever the tier."""

    product: str
    durations: Mapping[TargetKind, Duration | None]
    calendar: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "durations", _frozen_durations(self.durations))

    def applies_to(self, product: str | None) -> bool:
        return product_key(product) is not None and product_key(product) == product_key(
            self.product
        )


@dataclass(frozen=True, slots=True)
class TargetSource:
    """Why a target has its value: the rule or contract term, and where its calendar
    came from."""

    rule: str
    calendar: str

    def line(self, kind: TargetKind, target: Target) -> str:
        return f"{kind} {format_duration(target.duration)} on {target.calendar}: {self.rule}"


@dataclass(frozen=True, slots=True)
class ResolvedTargets:
    targets: Mapping[TargetKind, Target]
    reasons: tuple[str, ...]
    sources: Mapping[TargetKind, TargetSource] = field(
        default_factory=lambda: MappingProxyType({})
    )


@dataclass(frozen=True, slots=True)
class TargetPolicy:
    """Target rules, product exceptions and the calendar used when a rule names none."""

    default_calendar: str
    rules: tuple[TargetRule, ...] = ()
    product_exceptions: tuple[ProductException, ...] = field(default=())

    def resolve(self, facts: TargetFacts, contract: ContractTerms | None = None) -> ResolvedTargets:
        """One target per kind, with a reason line and a source per kind."""
        targets: dict[TargetKind, Target] = {}
        sources: dict[TargetKind, TargetSource] = {}
        for kind in TargetKind:
            targets[kind], sources[kind] = self._resolve_kind(kind, facts, contract)
        return ResolvedTargets(
            MappingProxyType(targets),
            tuple(sources[kind].line(kind, targets[kind]) for kind in TargetKind),
            MappingProxyType(sources),
        )

    def _resolve_kind(
        self, kind: TargetKind, facts: TargetFacts, contract: ContractTerms | None
    ) -> tuple[Target, TargetSource]:
        contract_term, keeper = "", None
        if contract is not None and kind in contract.targets:
            ref = f" {contract.reference}" if contract.reference else ""
            term = f"contract{ref} (AS-4)"
            keeper = self._rule_kept_over_contract(kind, facts)
            if keeper is None:
                target = self._target(contract.targets[kind], contract.calendar)
                calendar = ("the contract's calendar" if contract.calendar
                            else "policy.calendar (the contract names none)")
                return target, TargetSource(term, calendar)
            contract_term = f"{term} {format_duration(contract.targets[kind])}"
        for exception in self.product_exceptions:
            if kind in exception.durations and exception.applies_to(facts.product):
                return (
                    self._target(exception.durations[kind], exception.calendar),
                    TargetSource(
                        f"product exception {exception.product}"
                        + self._set_aside(contract_term, keeper, None),
                        self._calendar_source(exception.calendar, "the exception's"),
                    ),
                )
        for index, rule in enumerate(self.rules):
            if kind in rule.durations and rule.when.matches(facts):
                label = f" '{rule.label}'" if rule.label else ""
                return (
                    self._target(rule.durations[kind], rule.calendar),
                    TargetSource(
                        f"targets[{index}]{label} {rule.when.describe()}"
                        + self._set_aside(contract_term, keeper, index),
                        self._calendar_source(rule.calendar, f"targets[{index}]'s"),
                    ),
                )
        return Target(None, self.default_calendar), TargetSource(
            "no rule sets it: not limited", "policy.calendar")

    def _rule_kept_over_contract(self, kind: TargetKind, facts: TargetFacts) -> int | None:
        """The index of the first matching rule setting `kind` that a contract does not
        override (`contract_overrides: false`), or None."""
        for index, rule in enumerate(self.rules):
            if not rule.contract_overrides and kind in rule.durations and rule.when.matches(facts):
                return index
        return None

    @staticmethod
    def _set_aside(term: str, keeper: int | None, chosen: int | None) -> str:
        """The explanation's note on a contract term that did not apply."""
        if keeper is None:
            return ""
        if keeper == chosen:
            return f" (contract_overrides: false, so it applies over {term})"
        return f" ({term} set aside: targets[{keeper}] has contract_overrides: false)"

    @staticmethod
    def _calendar_source(calendar: str | None, owner: str) -> str:
        return f"{owner} calendar" if calendar else "policy.calendar"

    def _target(self, duration: Duration | None, calendar: str | None) -> Target:
        return Target(duration, calendar or self.default_calendar)
