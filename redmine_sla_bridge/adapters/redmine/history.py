"""Turn Redmine's issue JSON (with journals) into the domain's IssueHistory."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from redmine_sla_bridge.domain.lifecycle.history import (
    FieldChange,
    IssueHistory,
    Note,
    Role,
    StatusChange,
)

# Redmine's mail handler files unknown senders' mail as the built-in anonymous user; its
# journals carry no email, so a customer who is not a Redmine user is known by this name.
ANONYMOUS_NAMES = frozenset({"Anonymous", "Аноним"})


def parse_time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def role_of(user: Mapping[str, Any] | None, *, bridge_user_id: int,
            requester_ids: frozenset[int], mail_requester_id: int | None = None) -> Role:
    """`mail_requester_id`: the customer-mail user the bridge posts emailed replies as
    (config mail.requester_login): its notes are the requester's, like the anonymous
    user's that Redmine's own mail handler writes."""
    if not user:
        return Role.REQUESTER
    if user.get("id") == bridge_user_id:
        return Role.BRIDGE
    if mail_requester_id is not None and user.get("id") == mail_requester_id:
        return Role.REQUESTER
    if user.get("id") in requester_ids or user.get("name") in ANONYMOUS_NAMES:
        return Role.REQUESTER
    return Role.SUPPORT


def requester_ids(issue: Mapping[str, Any], bridge_user_id: int) -> frozenset[int]:
    """The issue's author, unless the bridge created it on a customer's behalf (intake
    API), in which case only anonymous mail replies count as the requester's."""
    author = (issue.get("author") or {}).get("id")
    return frozenset() if author in (None, bridge_user_id) else frozenset({author})


def build_history(issue: Mapping[str, Any], *, bridge_user_id: int,
                  status_names: Mapping[int, str],
                  field_keys: Mapping[int, str] | None = None,
                  mail_requester_id: int | None = None,
                  domain_value: Callable[[str, str | None], str | None] | None = None,
                  ) -> IssueHistory:
    """`status_names` maps status ids to names (journals carry ids only);
    `field_keys` maps custom field ids to the bridge's keys (changes to other fields
    are kept under `cf:<id>`); `domain_value(key, value)` reads a list label back as the
    domain's value (FieldMap.domain_value), as the issue's current values are read."""
    requesters = requester_ids(issue, bridge_user_id)
    notes: list[Note] = []
    statuses: list[StatusChange] = []
    fields: list[FieldChange] = []
    field_keys = field_keys or {}
    for journal in sorted(issue.get("journals") or (), key=lambda j: (j["created_on"], j["id"])):
        at = parse_time(journal["created_on"])
        role = role_of(journal.get("user"), bridge_user_id=bridge_user_id, requester_ids=requesters,
                       mail_requester_id=mail_requester_id)
        user_id = (journal.get("user") or {}).get("id")
        user_name = (journal.get("user") or {}).get("name")
        if journal.get("notes"):
            notes.append(Note(at, user_id, role, not journal.get("private_notes", False),
                              journal["notes"], journal["id"]))
        for detail in journal.get("details") or ():
            prop, name = detail.get("property"), detail.get("name")
            old, new = detail.get("old_value"), detail.get("new_value")
            if prop == "attr" and name == "status_id":
                statuses.append(StatusChange(
                    at, _status(old, status_names), _status(new, status_names) or "",
                    user_id, role, journal["id"]))
            elif prop == "attr":
                fields.append(FieldChange(at, name, old, new, role, journal["id"], user_name))
            elif prop == "cf":
                key = field_keys.get(int(name)) if str(name).isdigit() else None
                if key is not None and domain_value is not None:
                    old, new = domain_value(key, old), domain_value(key, new)
                fields.append(FieldChange(at, f"cf:{key or name}", old, new, role, journal["id"],
                                          user_name))
    current = issue["status"]["name"]
    initial = statuses[0].old if statuses and statuses[0].old else current
    return IssueHistory(
        issue_id=int(issue["id"]),
        created_at=parse_time(issue["created_on"]),
        initial_status=initial,
        status=current,
        notes=tuple(notes),
        status_changes=tuple(statuses),
        field_changes=tuple(fields),
    )


def _status(value: str | None, names: Mapping[int, str]) -> str | None:
    if value in (None, ""):
        return None
    return names.get(int(value), f"#{value}")
