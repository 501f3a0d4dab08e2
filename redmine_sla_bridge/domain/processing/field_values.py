"""The bridge's own issue fields, by key: what an engineer sees, as text.

Keys (`tier`, `sla_state`, `contact_email`, ...) are the bridge's names; the Redmine
adapter maps them to custom field ids.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from zoneinfo import ZoneInfo

from redmine_sla_bridge.domain.intake.request import IntakeRequest
from redmine_sla_bridge.domain.lifecycle.clock import ClockReading
from redmine_sla_bridge.domain.lifecycle.history import IssueHistory, Role
from redmine_sla_bridge.domain.policy import TargetKind
from redmine_sla_bridge.domain.reporting.outcome import OUTCOME_KEY, outcome_of
from redmine_sla_bridge.domain.request_decision import RequestDecision

DUE_FORMAT = "%Y-%m-%d %H:%M"
"""Redmine has no datetime custom field: deadlines are strings in the calendar's zone,
in a form that sorts correctly as text."""

PATH_TO_FIELD: Mapping[str, str] = {
    "contact.name": "contact_name",
    "contact.email": "contact_email",
    "contact.phone": "contact_phone",
    "contact.position": "contact_position",
    "organization.name": "organization",
    "organization.inn": "inn",
    "product": "product",
    "version": "product_version",
    "type": "request_type",
    "impact": "impact",
    "contract_number": "contract_number",
}
"""Request path -> the field it is shown in."""

OPTIONAL_KEYS = frozenset({OUTCOME_KEY})
"""Fields added in a later version: written only where Redmine has them (`provision`)."""


def fields_from_request(request: IntakeRequest,
                        paths: Iterable[str] = PATH_TO_FIELD) -> dict[str, str | None]:
    """Field values for the given request paths that have a value."""
    out: dict[str, str | None] = {}
    for path in paths:
        if path not in PATH_TO_FIELD:
            continue
        value = request.get(path)
        if isinstance(value, str):  # created_at is the one non-text path, and no field
            out[PATH_TO_FIELD[path]] = value
    return out


def format_field_time(moment: dt.datetime | None, zone: ZoneInfo) -> str | None:
    return moment.astimezone(zone).strftime(DUE_FORMAT) if moment else None


def parse_field_time(text: str, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.strptime(text, DUE_FORMAT).replace(tzinfo=zone)


def sla_values(decision: RequestDecision, history: IssueHistory, reading: ClockReading,
               zone: ZoneInfo) -> dict[str, str | None]:
    """The SLA fields of an issue, as the engineer sees them."""
    first = history.first_public_note(Role.SUPPORT)
    return {
        "tier": decision.policy.tier,
        "license_status": str(decision.policy.license_status.value),
        "sla_priority": decision.policy.priority,
        "sla_state": str(reading.state),
        "first_response_due": format_field_time(reading.due(TargetKind.FIRST_RESPONSE), zone),
        "resolution_due": format_field_time(reading.due(TargetKind.RESOLUTION), zone),
        "first_response_at": format_field_time(first.at if first else None, zone),
        OUTCOME_KEY: outcome_of(history, reading).text(),
    }
