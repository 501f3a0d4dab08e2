"""The whole decision on one request: intake gate, then policy, then deadlines.

One path for `simulate`, the intake API and the event pipeline, so that what an admin
simulates is exactly what the bridge will do. Pure: the customer directory is an
in-memory source and "now" is the request's own registration time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from redmine_sla_bridge.domain.calendar import Schedule
from redmine_sla_bridge.domain.intake import gate
from redmine_sla_bridge.domain.intake.gate import IntakeDecision
from redmine_sla_bridge.domain.intake.request import IntakeRequest
from redmine_sla_bridge.domain.intake.rules import IntakeRules
from redmine_sla_bridge.domain.policy import (
    Customer,
    CustomerSource,
    Policy,
    PolicyDecision,
    RequestFacts,
    TargetKind,
    decide,
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
            "tier": self.policy.tier,
            "license_status": str(self.policy.license_status.value),
            "priority": self.policy.priority,
            "deadlines": {
                kind.value: _iso_minutes(self.deadlines.get(kind)) for kind in TargetKind
            },
            "explanation": list(self.policy.matched_rules),
        }


def decide_request(request: IntakeRequest, rules: Rules, *, received_at: dt.datetime,
                   known_contact: bool = False) -> RequestDecision:
    """`received_at` is when the request was registered (Redmine's created_on, or the
    intake API's arrival); the clock starts there."""
    zone = ZoneInfo(rules.timezone)
    start = (request.created_at or received_at).astimezone(zone)
    day = start.date()
    inn = request.organization.inn
    customer = rules.customers.get(_digits(inn)) if inn else None
    current = next((d for d in customer.demos if d.includes(day)), None) if customer else None
    # ID-4: the demo period in use is judged against the ones granted before it, as of
    # its own start; judging it against itself would always allow it.
    earlier = tuple((d.starts, d.ends) for d in customer.demos
                    if current is not None and d.starts < current.starts) if customer else ()
    intake = gate.check(request, rules.intake, request_date=day, known_contact=known_contact,
                        is_demo=current is not None, demo_history=earlier,
                        demo_started=current.starts if current else None)
    normalized = intake.normalized
    if normalized.organization.inn and normalized.organization.inn != inn:
        customer = rules.customers.get(normalized.organization.inn)
    facts = RequestFacts(product=normalized.product, impact=normalized.impact,
                         request_type=normalized.type)
    policy = decide(customer, facts, rules.policy, now=start)
    due = compute_deadlines(policy, start, rules.schedules)
    return RequestDecision(intake, customer, policy, start,
                           {k: (v.astimezone(zone) if v else None) for k, v in due.items()})


def _iso_minutes(moment: dt.datetime | None) -> str | None:
    return moment.isoformat(timespec="minutes") if moment else None


def _digits(inn: str) -> str:
    return "".join(ch for ch in inn if ch.isdigit())
