"""Intake data <-> the Redmine custom fields an engineer sees on the issue."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from redmine_sla_bridge.adapters.redmine.history import parse_time
from redmine_sla_bridge.domain.intake.request import Contact, IntakeRequest, Organization
from redmine_sla_bridge.domain.processing.field_values import PATH_TO_FIELD, fields_from_request

__all__ = ["PATH_TO_FIELD", "fields_from_request", "request_from_issue"]

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
