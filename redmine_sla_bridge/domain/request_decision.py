"""The whole decision on one request: intake gate, then policy, then deadlines.

One path for `simulate`, the intake API and the event pipeline, so that what an admin
simulates is exactly what the bridge will do. Pure: the customer directory is an
in-memory source and "now" is the request's own registration time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from redmine_sla_bridge.domain.calendar import Schedule
from redmine_sla_bridge.domain.intake import gate
from redmine_sla_bridge.domain.intake.demo import DemoPeriod
from redmine_sla_bridge.domain.intake.gate import IntakeDecision
from redmine_sla_bridge.domain.intake.request import IntakeRequest, Organization
from redmine_sla_bridge.domain.intake.rules import IntakeRules
from redmine_sla_bridge.domain.policy import (
    Customer,
    CustomerSource,
    Policy,
    PolicyDecision,
    RequestFacts,
    TargetKind,
    decide,
    format_duration,
)
from redmine_sla_bridge.domain.policy import deadlines as compute_deadlines


@dataclass(frozen=True)
class Rules:
    """Everything a decision needs, built once from the config."""

    intake: IntakeRules
    policy: Policy
    customers: CustomerSource
    schedules: Mapping[str, Schedule]
    timezone: str  # the regulation's zone: request dates and shown deadlines


@dataclass(frozen=True)
class RequestDecision:
    intake: IntakeDecision
    customer: Customer | None
    policy: PolicyDecision
    start: dt.datetime
    deadlines: Mapping[TargetKind, dt.datetime | None]

    @property
    def accepted(self) -> bool:
        return self.intake.accepted

    def to_dict(self) -> dict[str, Any]:
        """The `simulate` / intake API document."""
        return {
            "accepted": self.accepted,
            "reasons": [r.to_dict() for r in self.intake.reasons],
            "flags": [f.to_dict() for f in self.intake.flags],
            # A refused request has no tier, priority or deadline (ID-4: a second demo is
            # not a demo customer): none is shown, so none can be taken for a promise.
            "tier": self.policy.tier if self.accepted else None,
            "license_status": str(self.policy.license_status.value),
            "priority": self.policy.priority if self.accepted else None,
            "deadlines": {
                kind.value: _iso_minutes(self.deadlines.get(kind)) if self.accepted else None
                for kind in TargetKind
            },
            "explanation": list(self.policy.matched_rules) if self.accepted else [],
            "why": self.why() if self.accepted else {},
        }

    def why(self) -> dict[str, Any]:
        """Which rule produced each value: the tier rule, the license that decided the
        status, the priority rule, and per target the rule or contract term, its calendar
        (and where that came from) and the deadline."""
        why: dict[str, Any] = dict(self.policy.why)
        for kind in TargetKind:
            target = self.policy.targets.get(kind)
            source = self.policy.target_sources.get(kind)
            if target is None or source is None:
                continue
            why[kind.value] = {
                "rule": source.rule,
                "duration": format_duration(target.duration),
                "calendar": target.calendar,
                "calendar_from": source.calendar,
                "deadline": _iso_minutes(self.deadlines.get(kind)),
            }
        return why


def decide_request(request: IntakeRequest, rules: Rules, *, received_at: dt.datetime,
                   known_contact: bool = False) -> RequestDecision:
    """`received_at` is when the request was registered (Redmine's created_on, or the
    intake API's arrival); the clock starts there."""
    zone = ZoneInfo(rules.timezone)
    start = (request.created_at or received_at).astimezone(zone)
    day = start.date()
    inn = _digits(request.organization.inn) if request.organization.inn else None
    customer, demo = _customer(rules, inn, day)
    intake = _gated(request, rules, day, known_contact, demo)
    normalized_inn = intake.normalized.organization.inn
    if normalized_inn and normalized_inn != inn:
        # The INN was in the description, or written as ИНН/КПП: the customer it names,
        # and so its demo periods (ID-4), are those of the normalized INN. The gate runs
        # again when those differ, so that the demo rule and the tier judge the same
        # customer (with the same demo facts it would decide the same: it is pure).
        customer, named = _customer(rules, normalized_inn, day)
        if named != demo:
            intake = _gated(request, rules, day, known_contact, named)
    normalized = intake.normalized
    facts = RequestFacts(product=normalized.product, impact=normalized.impact,
                         request_type=normalized.type)
    policy = decide(customer, facts, rules.policy, now=start)
    due = compute_deadlines(policy, start, rules.schedules)
    return RequestDecision(intake, customer, policy, start,
                           {k: (v.astimezone(zone) if v else None) for k, v in due.items()})


_Demo = tuple[bool, tuple[DemoPeriod, ...], dt.date | None]
"""What the gate is told of the customer: a demo period in use, the earlier ones, its start."""


def _customer(rules: Rules, inn: str | None, day: dt.date) -> tuple[Customer | None, _Demo]:
    # AR-5/ID-3: open-ended licenses get their kind's default term before anything looks
    # at them (the tier, the status, the demo periods and the plan's entitlements alike).
    customer = rules.policy.effective_customer(rules.customers.get(inn) if inn else None)
    current = next((d for d in customer.demos if d.includes(day)), None) if customer else None
    # ID-4: the demo period in use is judged against the ones granted before it, as of
    # its own start; judging it against itself would always allow it.
    earlier = tuple((d.starts, d.ends) for d in customer.demos
                    if current is not None and d.starts < current.starts) if customer else ()
    return customer, (current is not None, earlier, current.starts if current else None)


def _gated(request: IntakeRequest, rules: Rules, day: dt.date, known_contact: bool,
           demo: _Demo) -> IntakeDecision:
    is_demo, earlier, started = demo
    return gate.check(request, rules.intake, request_date=day, known_contact=known_contact,
                      is_demo=is_demo, demo_history=earlier, demo_started=started)


@dataclass(frozen=True)
class RepeatDecision:
    """A decision taken with what is known of the contact's earlier requests (ID-6), and
    what was assumed: `known_contact` (decided as a repeat request), `reused` (the values
    taken from the earlier request, by field path) and `note` in words."""

    decision: RequestDecision
    known_contact: bool
    reused: Mapping[str, str] = field(default_factory=dict)
    note: str = ""


def only_first_request_data_missing(decision: RequestDecision, rules: Rules) -> bool:
    """ID-6: the request is refused for nothing but data demanded on a first request."""
    first_only = set(rules.intake.first_request_only)
    return bool(first_only) and not decision.accepted and all(
        r.code == "missing_field" and r.field in first_only for r in decision.intake.reasons)


def decide_with_earlier_requests(request: IntakeRequest, rules: Rules, *,
                                 received_at: dt.datetime,
                                 earlier: Sequence[Organization]) -> RepeatDecision:
    """The decision as the event pipeline takes it when the contact may have written
    before (`domain.processing.plan`, ID-6): decided as a first request; when that is
    refused only for first-request data and the request names a contact email, the
    contact's newest earlier request (`earlier`, newest first; its organization) lends
    the missing organization name and INN, and the request is decided again as a known
    contact's. `earlier` empty = the contact never wrote before."""
    first = decide_request(request, rules, received_at=received_at)
    if first.accepted:
        return RepeatDecision(first, False, note="accepted as a first request; earlier "
                              "requests are not looked up")
    if not only_first_request_data_missing(first, rules):
        return RepeatDecision(first, False, note="refused for more than first-request data "
                              "(ID-6); earlier requests are not looked up")
    if not first.intake.normalized.contact.email:
        return RepeatDecision(first, False, note="no contact email: the bridge cannot find "
                              "the contact's earlier requests; decided as a first request")
    if not earlier:
        return RepeatDecision(first, False, note="the contact has no earlier request; "
                              "decided as a first request")
    known = earlier[0]
    reused: dict[str, str] = {}
    for path, value in (("organization.name", known.name), ("organization.inn", known.inn)):
        if request.get(path) is None and value:
            request = request.with_value(path, value)
            reused[path] = value
    decision = decide_request(request, rules, received_at=received_at, known_contact=True)
    taken = ", ".join(reused) or "nothing (no organization data known)"
    return RepeatDecision(decision, True, reused, note="the contact has written before (ID-6): "
                          f"first-request data not demanded; reused from the earlier request: "
                          f"{taken}")


def _iso_minutes(moment: dt.datetime | None) -> str | None:
    return moment.isoformat(timespec="minutes") if moment else None


def _digits(inn: str) -> str:
    return "".join(ch for ch in inn if ch.isdigit())
