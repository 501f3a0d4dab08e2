"""The `policy:` config section: tiers, license status, priority and SLA targets.

Everything an admin needs to turn a regulation's tables into enforcement without code::

    policy:
      calendar: moscow                    # targets without their own calendar use it
      customers: {file: customers.yaml}   # or .csv; relative to the config file
      license_terms: {premium: {years: 1}}  # AR-5: an entry without `expires` ends a year on
      tiers:                              # ordered, first match wins (AR-3)
        - {name: partner, when: {partner: true}}
        - {name: premium, when: {license_active: [premium, support_module]}}
        - {name: recent, when: {purchased_within: {years: 1, kinds: [perpetual]}}}
        - {name: other, when: {}}         # the catch-all, always last
      priority:
        mode: impact                      # tier | impact | matrix
        default_impact: P3
        redmine: {P1: Immediate, P2: Urgent}
      targets:                            # per kind, first matching rule that sets it
        - {when: {high_criticality: true}, first_response: 4h, calendar: "24x7",
           contract_overrides: false}     # RB-3: a contract's own term does not cancel it
        - {when: {tier: premium}, first_response: 8h}
      product_exceptions:
        - {product: "ИКС Lite", first_response: unlimited, resolution: unlimited}

Cross-references inside the section (tier names, priority levels, license kinds) are
checked here; calendar names are checked by the root model via `referenced_calendars()`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    Discriminator,
    Field,
    StrictBool,
    StrictInt,
    Tag,
    field_validator,
    model_validator,
)

from redmine_sla_bridge.config.base import StrictModel
from redmine_sla_bridge.config.customers import DEMO_ROW_KIND
from redmine_sla_bridge.config.types import DurationText, Text, parse_duration
from redmine_sla_bridge.domain.calendar.duration import Duration
from redmine_sla_bridge.domain.policy import (
    ALWAYS,
    LICENSE_KINDS,
    AllOf,
    AnyOf,
    CalendarPeriod,
    Condition,
    HasContract,
    HighCriticality,
    InDemo,
    IsKnownCustomer,
    IsPartner,
    LicenseActive,
    LicenseKindEver,
    LicenseStatus,
    LicenseStatusRules,
    Not,
    Policy,
    PriorityMode,
    PriorityPolicy,
    ProductException,
    ProductIn,
    PurchasedWithin,
    TargetKind,
    TargetMatch,
    TargetPolicy,
    TargetRule,
    TierPolicy,
    TierRule,
)

PERPETUAL_KIND = "perpetual"
"""The product license itself: it never ends, so it takes no default term."""

# Strict: "365" in quotes or `true` is a typo, not a number of days.
PositiveInt = Annotated[StrictInt, Field(gt=0)]
NonNegativeInt = Annotated[StrictInt, Field(ge=0)]

# A Literal of the enum's values rather than the enum itself: the schema and the error
# ("Input should be 'active', 'expiring', ...") name plain values, and the model keeps
# plain strings. Built at run time, so type checkers see only Any here.
StatusName: Any = Literal[tuple(status.value for status in LicenseStatus)]


def _shape(value: Any) -> str:
    return "mapping" if isinstance(value, dict) else "list" if isinstance(value, list) else "scalar"


def _short_or_long(short: Any, short_shape: str, long: Any, expected: str) -> Any:
    """`short` for a list/scalar value, `long` for a mapping, chosen by the value's shape:
    one clear error about the form the admin wrote instead of one per union member."""
    return Annotated[
        Annotated[short, Tag(short_shape)] | Annotated[long, Tag("mapping")],
        Discriminator(
            _shape, custom_error_type="wrong_form", custom_error_message=f"expected {expected}"
        ),
    ]


def _one_or_many(item: Any) -> Any:
    """A single value or a list of them (`tier: gold` or `tier: [gold, silver]`)."""
    return Annotated[
        Annotated[item, Tag("scalar")] | Annotated[list[item], Tag("list")],
        Discriminator(
            _shape,
            custom_error_type="wrong_form",
            custom_error_message="expected one value or a list of values",
        ),
    ]


def _unique(values: list[str], what: str) -> list[str]:
    seen: set[str] = set()
    doubles: list[str] = []
    for v in values:
        if v in seen:
            doubles.append(v)
        seen.add(v)
    if doubles:
        raise ValueError(f"{what} listed twice: {', '.join(doubles)}")
    return values


def _as_set(value: str | list[str] | None) -> frozenset[str] | None:
    if value is None:
        return None
    return frozenset([value] if isinstance(value, str) else value)


_KINDS_FORMS = "a list of license kinds, e.g. [premium], or {kinds: [...], same_product: false}"

# --- tier conditions ------------------------------------------------------------------


class LicenseKindsSpec(StrictModel):
    """Long form of `license_active` / `license_kind_ever`."""

    kinds: list[Text] = Field(min_length=1)
    same_product: StrictBool = Field(
        default=True,
        description="Only licenses covering the request's product count (a license with "
        'product "*" or none covers all). false = a license for any product counts.',
    )


class PeriodSpec(StrictModel):
    """A span of the civil calendar: `{years: 1}`, `{months: 6}`, `{days: 30}` or a
    combination. Years and months follow the Civil Code (art. 192): 2024-02-29 + 1 year
    = 2025-02-28, 2025-01-31 + 1 month = 2025-02-28."""

    years: NonNegativeInt = Field(default=0, description="Calendar years.")
    months: NonNegativeInt = Field(default=0, description="Calendar months.")
    days: NonNegativeInt = Field(default=0, description="Calendar days.")

    @model_validator(mode="after")
    def _not_empty(self) -> PeriodSpec:
        if not (self.years or self.months or self.days):
            raise ValueError("give at least one of years, months, days (e.g. {years: 1})")
        return self

    def period(self) -> CalendarPeriod:
        return CalendarPeriod(self.years, self.months, self.days)


class PurchasedWithinSpec(PeriodSpec):
    """The license started less than this period before the request date: `{years: 1}`
    is a calendar year (AR-3, AS-1), `{days: 365}` counts days."""

    kinds: list[Text] | None = Field(
        default=None,
        min_length=1,
        description="License kinds that count as a purchase; default: all but trial.",
    )
    same_product: StrictBool = True


class InDemoSpec(StrictModel):
    once_per_days: PositiveInt | None = Field(
        default=None,
        description="ID-4: a demo period starting less than this many days after an earlier "
        "one is not honoured (365 = at most one demo a year).",
    )


# The two-form fields, built at run time by `_short_or_long`; type checkers see the union
# of the two forms.
if TYPE_CHECKING:
    LicenseKindsField = list[Text] | LicenseKindsSpec
    InDemoField = StrictBool | InDemoSpec
else:
    LicenseKindsField = _short_or_long(list[Text], "list", LicenseKindsSpec, _KINDS_FORMS)
    InDemoField = _short_or_long(StrictBool, "scalar", InDemoSpec,
                                 "true, false or {once_per_days: 365}")


class ConditionSpec(StrictModel):
    """A tier rule's `when`. Several keys in one mapping must all hold; `{}` matches
    everyone (the catch-all)."""

    partner: StrictBool | None = None
    known_customer: StrictBool | None = Field(
        default=None, description="The INN is in the directory."
    )
    license_active: LicenseKindsField | None = (
        Field(default=None, description="A license of these kinds is valid on the request date.")
    )
    license_kind_ever: LicenseKindsField | None = (
        Field(
            default=None,
            description="A license of these kinds started on or before the request date.",
        )
    )
    purchased_within_days: PositiveInt | None = Field(
        default=None, description="Short form of purchased_within with any kind but trial."
    )
    purchased_within: PurchasedWithinSpec | None = None
    in_demo: InDemoField | None = Field(
        default=None, description="The request date is within a demo period (ID-4)."
    )
    has_contract: StrictBool | None = Field(
        default=None, description="A license of kind contract is in force (AS-1 individual, AS-4)."
    )
    product_in: list[Text] | None = Field(default=None, min_length=1)
    all_: list[ConditionSpec] | None = Field(default=None, alias="all", min_length=1)
    any_: list[ConditionSpec] | None = Field(default=None, alias="any", min_length=1)
    not_: ConditionSpec | None = Field(default=None, alias="not")

    @field_validator("license_active", "license_kind_ever")
    @classmethod
    def _kinds_not_empty(cls, value):
        if isinstance(value, list) and not value:
            raise ValueError("list at least one license kind")
        return value

    def to_domain(self) -> Condition:
        parts: list[Condition] = []
        if self.partner is not None:
            parts.append(IsPartner(self.partner))
        if self.known_customer is not None:
            parts.append(IsKnownCustomer(self.known_customer))
        for spec, kind_condition in (
            (self.license_active, LicenseActive),
            (self.license_kind_ever, LicenseKindEver),
        ):
            if isinstance(spec, list):
                parts.append(kind_condition(frozenset(spec)))
            elif spec is not None:
                parts.append(kind_condition(frozenset(spec.kinds), same_product=spec.same_product))
        if self.purchased_within_days is not None:
            parts.append(PurchasedWithin(CalendarPeriod(days=self.purchased_within_days)))
        if self.purchased_within is not None:
            purchased = self.purchased_within
            kinds = None if purchased.kinds is None else frozenset(purchased.kinds)
            parts.append(PurchasedWithin(purchased.period(), kinds=kinds,
                                         same_product=purchased.same_product))
        if isinstance(self.in_demo, bool):
            parts.append(InDemo(self.in_demo))
        elif self.in_demo is not None:
            parts.append(InDemo(True, once_per_days=self.in_demo.once_per_days))
        if self.has_contract is not None:
            parts.append(HasContract(self.has_contract))
        if self.product_in is not None:
            parts.append(ProductIn(frozenset(self.product_in)))
        if self.all_ is not None:
            parts.append(AllOf(tuple(c.to_domain() for c in self.all_)))
        if self.any_ is not None:
            parts.append(AnyOf(tuple(c.to_domain() for c in self.any_)))
        if self.not_ is not None:
            parts.append(Not(self.not_.to_domain()))
        if not parts:
            return ALWAYS
        return parts[0] if len(parts) == 1 else AllOf(tuple(parts))

    def license_kinds_used(self) -> set[str]:
        kinds: set[str] = set()
        for spec in (self.license_active, self.license_kind_ever):
            if isinstance(spec, list):
                kinds.update(spec)
            elif spec is not None:
                kinds.update(spec.kinds)
        if self.purchased_within is not None and self.purchased_within.kinds:
            kinds.update(self.purchased_within.kinds)
        for child in [*(self.all_ or []), *(self.any_ or []), *([self.not_] if self.not_ else [])]:
            kinds |= child.license_kinds_used()
        return kinds

    def is_empty(self) -> bool:
        return not self.model_fields_set or all(
            getattr(self, name) is None for name in self.model_fields_set
        )


class TierRuleSpec(StrictModel):
    name: Text = Field(min_length=1, description="The tier given to customers matching `when`.")
    when: ConditionSpec = Field(
        description="Condition; {} matches everyone (catch-all, last rule)."
    )
    label: Text | None = Field(
        default=None, description="Shown in the explanation, e.g. 'AR-3 tier 4'."
    )
    display_name: Text | dict[Literal["ru", "en"], Text] | None = Field(
        default=None,
        description="How customers and engineers see the tier (acknowledgement, emails, the "
        "tier field's value): one text, or one per language, e.g. {ru: Премиум, en: Premium}; "
        "default the tier's name. Rules of the same tier share the first one given per language.",
    )

    def display_names(self) -> dict[str, str]:
        """Language -> display name, as far as given."""
        if self.display_name is None:
            return {}
        if isinstance(self.display_name, str):
            return {"ru": self.display_name, "en": self.display_name}
        return {str(lang): text for lang, text in self.display_name.items()}


# --- license status -------------------------------------------------------------------


class LicenseStatusSpec(StrictModel):
    expiring_days: NonNegativeInt = Field(
        default=30, description="A license ending within this many days is 'expiring'."
    )
    kinds: list[Text] | None = Field(
        default=None,
        min_length=1,
        description="License kinds that count for the status; default all.",
    )
    trial_kinds: list[Text] = Field(default_factory=lambda: ["trial"])

    def to_domain(self) -> LicenseStatusRules:
        return LicenseStatusRules(
            expiring_days=self.expiring_days,
            counted_kinds=None if self.kinds is None else frozenset(self.kinds),
            trial_kinds=frozenset(self.trial_kinds),
        )


# --- priority -------------------------------------------------------------------------


class HighCriticalitySpec(StrictModel):
    """RB-4: requests handled out of turn (target rules can match `high_criticality`)."""

    impacts: list[Text] = Field(default_factory=list)
    types: list[Text] = Field(
        default_factory=list, description="Request types (tracker or type field)."
    )
    priority: Text | None = Field(
        default=None, description="Priority forced on such requests, e.g. P1."
    )


class PrioritySpec(StrictModel):
    mode: Literal["tier", "impact", "matrix"] = Field(
        description="tier: from_tier mapping (AR); impact: the request's impact (BA-5); "
        "matrix: tier x impact."
    )
    levels: list[Text] = Field(
        default_factory=lambda: ["P1", "P2", "P3", "P4"],
        min_length=1,
        description="Priorities, highest first.",
    )
    impacts: list[Text] | None = Field(
        default=None,
        min_length=1,
        description="Values of the request's impact field; default: the levels.",
    )
    default_impact: Text | None = Field(
        default=None, description="Used when a request states no impact."
    )
    from_tier: dict[Text, Text] = Field(
        default_factory=dict, description="tier -> priority (mode tier)."
    )
    matrix: dict[Text, dict[Text, Text]] = Field(
        default_factory=dict, description="tier -> impact -> priority (mode matrix)."
    )
    redmine: dict[Text, Text] = Field(
        default_factory=dict, description="priority -> Redmine priority name, e.g. P1: Immediate."
    )
    high_criticality: HighCriticalitySpec = Field(default_factory=HighCriticalitySpec)

    @property
    def impact_names(self) -> list[str]:
        return self.levels if self.impacts is None else self.impacts

    @model_validator(mode="after")
    def _check(self) -> PrioritySpec:
        _unique(self.levels, "priority level")
        _unique(self.impact_names, "impact")
        levels, impacts = set(self.levels), set(self.impact_names)

        def need(values, allowed: set[str], where: str, kind: str) -> None:
            unknown = [v for v in values if v not in allowed]
            if unknown:
                raise ValueError(
                    f"{where}: {', '.join(unknown)} not among the {kind}: {', '.join(sorted(allowed))}"
                )

        if self.mode in ("impact", "matrix") and self.default_impact is None:
            raise ValueError(
                f"mode {self.mode} needs default_impact, used when a request states none"
            )
        if self.mode == "impact":
            need(
                self.impact_names,
                levels,
                "impacts (mode impact: an impact is the priority)",
                "levels",
            )
        if self.mode == "tier" and not self.from_tier:
            raise ValueError("mode tier needs from_tier: a priority for every tier")
        if self.mode == "matrix" and not self.matrix:
            raise ValueError("mode matrix needs matrix: a row per tier, a column per impact")
        if self.default_impact is not None:
            need([self.default_impact], impacts, "default_impact", "impacts")
        need(self.from_tier.values(), levels, "from_tier", "levels")
        for tier, row in self.matrix.items():
            need(row, impacts, f"matrix.{tier}", "impacts")
            missing = [i for i in self.impact_names if i not in row]
            if missing:
                raise ValueError(f"matrix.{tier}: no priority for impact {', '.join(missing)}")
            need(row.values(), levels, f"matrix.{tier}", "levels")
        need(self.redmine, levels, "redmine", "levels")
        need(self.high_criticality.impacts, impacts, "high_criticality.impacts", "impacts")
        if self.high_criticality.priority is not None:
            need([self.high_criticality.priority], levels, "high_criticality.priority", "levels")
        return self

    def to_domain(self) -> PriorityPolicy:
        return PriorityPolicy(
            mode=PriorityMode(self.mode),
            levels=tuple(self.levels),
            impacts=None if self.impacts is None else tuple(self.impacts),
            default_impact=self.default_impact,
            from_tier=dict(self.from_tier),
            matrix={tier: dict(row) for tier, row in self.matrix.items()},
            redmine=dict(self.redmine),
            high_criticality=HighCriticality(
                impacts=frozenset(self.high_criticality.impacts),
                request_types=frozenset(self.high_criticality.types),
                priority=self.high_criticality.priority,
            ),
        )


# --- targets --------------------------------------------------------------------------


class TargetDurationsSpec(StrictModel):
    """Durations such as "30m", "8h", "5d" or "unlimited"; a kind left out is not set
    here (a later rule may set it)."""

    acknowledgement: DurationText | None = Field(
        default=None, description="BA-6: registration confirmed."
    )
    first_response: DurationText | None = Field(
        default=None, description="First answer (AR-4, ID-5, AS-2/3)."
    )
    resolution: DurationText | None = Field(default=None, description="Solved/closed (AS-3, BA-7).")
    calendar: Text | None = Field(
        default=None, description="Calendar of these durations; default policy.calendar."
    )

    @model_validator(mode="after")
    def _some_duration(self) -> TargetDurationsSpec:
        if not self.durations():
            raise ValueError("set at least one of acknowledgement, first_response, resolution")
        return self

    def durations(self) -> dict[TargetKind, Duration | None]:
        return {
            kind: parse_duration(text)
            for kind in TargetKind
            if (text := getattr(self, kind.value)) is not None
        }


# Built at run time by `_one_or_many`; type checkers see the union of the two forms.
if TYPE_CHECKING:
    OneOrManyText = Text | list[Text]
    OneOrManyStatus = str | list[str]
else:
    OneOrManyText = _one_or_many(Text)
    OneOrManyStatus = _one_or_many(StatusName)


class TargetWhenSpec(StrictModel):
    """Which requests a target rule applies to; each key takes one value or a list."""

    tier: OneOrManyText | None = None
    priority: OneOrManyText | None = None
    product: OneOrManyText | None = None
    high_criticality: StrictBool | None = None
    license_status: OneOrManyStatus | None = None

    def to_domain(self) -> TargetMatch:
        return TargetMatch(
            tiers=_as_set(self.tier),
            priorities=_as_set(self.priority),
            products=_as_set(self.product),
            high_criticality=self.high_criticality,
            license_statuses=_as_set(self.license_status),
        )


class TargetRuleSpec(TargetDurationsSpec):
    when: TargetWhenSpec = Field(description="{} = a default for every request.")
    label: Text | None = None
    contract_overrides: StrictBool = Field(
        default=True,
        description="false: a customer's contract that fixes the same kind does not replace "
        "this rule; the rule still applies where it matches (RB-3: high-criticality requests "
        "are not limited to working time, contract or not).",
    )

    def to_domain(self) -> TargetRule:
        return TargetRule(self.when.to_domain(), self.durations(), self.calendar, self.label,
                          contract_overrides=self.contract_overrides)


class ProductExceptionSpec(TargetDurationsSpec):
    """AR-4: a product whose requests get these targets whatever the tier."""

    product: Text = Field(min_length=1)

    def to_domain(self) -> ProductException:
        return ProductException(self.product, self.durations(), self.calendar)


# --- customers and the section --------------------------------------------------------


class CustomersSpec(StrictModel):
    file: Text = Field(
        description="Customer directory, .yaml/.yml or .csv (see adapters.customers), "
        "relative to the config file."
    )

    @field_validator("file")
    @classmethod
    def _format(cls, value: str) -> str:
        if Path(value).suffix.lower() not in (".yaml", ".yml", ".csv"):
            raise ValueError(f"the customer file must end in .yaml, .yml or .csv, got {value!r}")
        return value

    def path(self, config_dir: Path) -> Path:
        """The file's location, relative paths taken from the config file's folder."""
        return (config_dir / Path(self.file).expanduser()).resolve()


class PolicyConfig(StrictModel):
    """Who the customer is -> tier, license status, priority, SLA targets."""

    calendar: Text = Field(min_length=1, description="Default calendar of every target.")
    extra_license_kinds: list[Text] = Field(
        default_factory=list,
        description=f"License kinds beyond the built-in {', '.join(sorted(LICENSE_KINDS))}.",
    )
    license_status: LicenseStatusSpec = Field(default_factory=LicenseStatusSpec)
    license_terms: dict[Text, PeriodSpec] = Field(
        default_factory=dict,
        description="Default term per license kind, e.g. {premium: {years: 1}}, for directory "
        "entries without `expires` (AR-5, ID-3); `expires: never` or a date in the entry wins. "
        "A kind without a term (perpetual) never ends. The start day is the term's first day: "
        "{years: 1} from 2026-03-01 ends on 2027-02-28.",
    )
    customers: CustomersSpec | None = Field(
        default=None, description="Customer directory; without it every customer is unknown."
    )
    tiers: list[TierRuleSpec] = Field(
        min_length=1, description="Ordered; first match wins; highest tier first."
    )
    unknown_customer_tier: Text | None = Field(
        default=None, description="Tier of an unknown or missing INN; default: by the rules."
    )
    priority: PrioritySpec
    targets: list[TargetRuleSpec] = Field(default_factory=list)
    product_exceptions: list[ProductExceptionSpec] = Field(default_factory=list)

    @field_validator("extra_license_kinds")
    @classmethod
    def _not_reserved(cls, kinds: list[str]) -> list[str]:
        # The CSV customer file uses kind "demo" for demo periods (ID-4), not licenses.
        if DEMO_ROW_KIND in kinds:
            raise ValueError(
                f'"{DEMO_ROW_KIND}" is reserved for demo periods; name the license kind differently'
            )
        return _unique(kinds, "license kind")

    def known_license_kinds(self) -> frozenset[str]:
        """Every license kind the customer directory may use."""
        return LICENSE_KINDS | frozenset(self.extra_license_kinds)

    def tier_names(self) -> tuple[str, ...]:
        """Declared tiers, highest first."""
        return tuple(dict.fromkeys(rule.name for rule in self.tiers))

    def tier_labels(self) -> dict[str, dict[str, str]]:
        """Tier -> language -> display name (the tier's name where none is given)."""
        out: dict[str, dict[str, str]] = {}
        for rule in self.tiers:
            names = out.setdefault(rule.name, {})
            for language, text in rule.display_names().items():
                names.setdefault(language, text)
        return {tier: {lang: names.get(lang, tier) for lang in ("ru", "en")}
                for tier, names in out.items()}

    def referenced_calendars(self) -> frozenset[str]:
        """Calendar names this section uses; the root model checks that they exist."""
        named = {self.calendar}
        named.update(r.calendar for r in [*self.targets, *self.product_exceptions] if r.calendar)
        return frozenset(named)

    @model_validator(mode="after")
    def _cross_references(self) -> PolicyConfig:
        tiers = self.tier_names()
        # Redmine holds the display name as the tier field's value, and the bridge reads it
        # back: two tiers shown alike could not be told apart.
        for language in ("ru", "en"):
            seen: dict[str, str] = {}
            for tier, names in self.tier_labels().items():
                for spelling in {names[language], tier}:
                    other = seen.setdefault(spelling.casefold(), tier)
                    if other != tier:
                        raise ValueError(
                            f"tiers: {other} and {tier} are both shown as {spelling!r} "
                            f"({language}); give them different display_name")
        for index, rule in enumerate(self.tiers):
            if rule.when.is_empty() and index != len(self.tiers) - 1:
                later = ", ".join(r.name for r in self.tiers[index + 1 :])
                raise ValueError(
                    f"tiers[{index}] ({rule.name}) matches everyone; "
                    f"the rules after it never apply: {later}"
                )
        if not self.tiers[-1].when.is_empty():
            raise ValueError(
                "tiers: the last rule must be a catch-all, "
                f"e.g. {{name: {self.tiers[-1].name}, when: {{}}}}, so that every customer gets a tier"
            )
        if self.unknown_customer_tier is not None and self.unknown_customer_tier not in tiers:
            raise ValueError(
                f"unknown_customer_tier {self.unknown_customer_tier!r} is not a tier: {', '.join(tiers)}"
            )

        known = self.known_license_kinds()
        for index, rule in enumerate(self.tiers):
            unknown = sorted(rule.when.license_kinds_used() - known)
            if unknown:
                raise ValueError(
                    f"tiers[{index}] ({rule.name}): unknown license kind {', '.join(unknown)}; "
                    f"known: {', '.join(sorted(known))} (declare more in extra_license_kinds)"
                )
        unknown_terms = sorted(set(self.license_terms) - known)
        if unknown_terms:
            raise ValueError(
                f"license_terms: unknown license kind {', '.join(unknown_terms)}; "
                f"known: {', '.join(sorted(known))} (declare more in extra_license_kinds)"
            )
        if PERPETUAL_KIND in self.license_terms:
            raise ValueError(
                f"license_terms: a {PERPETUAL_KIND} license never ends; give it no term "
                "(a license that does end belongs to another kind)"
            )
        status_kinds = {*(self.license_status.kinds or []), *self.license_status.trial_kinds}
        if status_kinds - known:
            raise ValueError(
                f"license_status: unknown license kind {', '.join(sorted(status_kinds - known))}"
            )

        if self.priority.mode == "tier":
            self._covers_tiers(self.priority.from_tier, "priority.from_tier", tiers)
        if self.priority.mode == "matrix":
            self._covers_tiers(self.priority.matrix, "priority.matrix", tiers)

        levels = set(self.priority.levels)
        for index, target in enumerate(self.targets):
            for name, allowed in (("tier", set(tiers)), ("priority", levels)):
                bad = sorted((_as_set(getattr(target.when, name)) or set()) - allowed)
                if bad:
                    raise ValueError(
                        f"targets[{index}].when.{name}: unknown {', '.join(bad)}; "
                        f"declared: {', '.join(sorted(allowed))}"
                    )
        # The domain re-checks its own invariants; anything it still refuses is reported too.
        self.to_domain()
        return self

    @staticmethod
    def _covers_tiers(mapping: dict, where: str, tiers: tuple[str, ...]) -> None:
        missing = [t for t in tiers if t not in mapping]
        extra = [t for t in mapping if t not in tiers]
        if missing:
            raise ValueError(f"{where}: no entry for tier {', '.join(missing)}")
        if extra:
            raise ValueError(
                f"{where}: {', '.join(extra)} is not a tier; tiers: {', '.join(tiers)}"
            )

    def to_domain(self) -> Policy:
        """The plain domain policy (no pydantic) used by `decide()`."""
        return Policy(
            tiers=TierPolicy(
                rules=tuple(TierRule(r.name, r.when.to_domain(), r.label) for r in self.tiers),
                unknown_customer_tier=self.unknown_customer_tier,
            ),
            priority=self.priority.to_domain(),
            targets=TargetPolicy(
                default_calendar=self.calendar,
                rules=tuple(r.to_domain() for r in self.targets),
                product_exceptions=tuple(e.to_domain() for e in self.product_exceptions),
            ),
            license_status=self.license_status.to_domain(),
            license_terms={kind: spec.period() for kind, spec in self.license_terms.items()},
        )


__all__ = [
    "ConditionSpec",
    "CustomersSpec",
    "HighCriticalitySpec",
    "LicenseStatusSpec",
    "PeriodSpec",
    "PolicyConfig",
    "PrioritySpec",
    "ProductExceptionSpec",
    "TargetRuleSpec",
    "TargetWhenSpec",
    "TierRuleSpec",
]
