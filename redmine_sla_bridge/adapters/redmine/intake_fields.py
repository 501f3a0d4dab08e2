"""Intake data <-> the Redmine custom fields an engineer sees on the issue."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from redmine_sla_bridge.adapters.redmine.history import parse_time
from redmine_sla_bridge.domain.intake.request import Contact, IntakeRequest, Organization

# request path -> bridge field key (see adapters.redmine.fields)
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


def request_from_issue(issue: Mapping[str, Any], values: Mapping[str, str | None]) -> IntakeRequest:
    """The request as it stands on the issue: its fields, subject, text and creation time.
    `values` are the bridge's custom field values (FieldMap.values_of)."""
    def get(path: str) -> str | None:
        value = values.get(PATH_TO_FIELD[path])
        return value.strip() or None if isinstance(value, str) else None

    return IntakeRequest(
        created_at=parse_time(issue["created_on"]),
        subject=issue.get("subject") or None,
        description=issue.get("description") or None,
        contact=Contact(get("contact.name"), get("contact.email"), get("contact.phone"),
                        get("contact.position")),
        organization=Organization(get("organization.name"), get("organization.inn")),
        product=get("product"),
        version=get("version"),
        type=get("type"),
        impact=get("impact"),
        contract_number=get("contract_number"),
    )


def fields_from_request(request: IntakeRequest, paths=PATH_TO_FIELD) -> dict[str, str]:
    """Custom field values for the given request paths that have a value."""
    out = {}
    for path in paths:
        value = request.get(path)
        if value is not None:
            out[PATH_TO_FIELD[path]] = value
    return out
