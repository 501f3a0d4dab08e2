"""Whose values are in the bridge's fields: what the bridge decided is what its own
journals say, never a value somebody else typed.

A request counts as taken in once the bridge's journal set its SLA state (or the
bridge created it with its SLA, through the intake API). A bridge-owned field that
someone else changed is put back; so is an intake field the config does not let
people change after intake (the INN decides the tier: a customer must not upgrade
himself by editing it). Each such change is named in a private note, with who made it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from redmine_sla_bridge.domain.lifecycle.history import FieldChange, Role
from redmine_sla_bridge.domain.processing.field_values import PATH_TO_FIELD
from redmine_sla_bridge.domain.processing.snapshot import IssueSnapshot

OWNED_KEYS: tuple[str, ...] = (
    "tier", "license_status", "sla_priority", "sla_state", "first_response_due",
    "resolution_due", "first_response_at", "first_response_day", "intake_key", "sla_outcome",
)
"""Fields only the bridge writes."""

INPUT_KEYS: tuple[str, ...] = tuple(PATH_TO_FIELD.values())
"""Fields a request brings in (the customer's data); the gate and the policy read them."""


@dataclass(frozen=True)
class ForeignChange:
    key: str
    who: str
    bridge_value: str | None  # what the bridge stands by (restored)
    value: str | None  # what someone else wrote


def acceptance_journal(snap: IssueSnapshot) -> int | None:
    """The journal in which the bridge took the request in (0: it created the issue with
    its SLA); None while it has not."""
    for change in snap.history.field_changes:
        if change.name == "cf:sla_state" and change.role is Role.BRIDGE and change.new:
            return change.journal_id or 0
    if snap.created_by_bridge and snap.values.get("sla_state"):
        return 0
    return None


def filled_before_intake(snap: IssueSnapshot) -> tuple[ForeignChange, ...]:
    """Bridge-owned fields that hold a value although the bridge has not taken the
    request in: typed by the author in the New issue form, or by anyone since."""
    out = []
    for key in OWNED_KEYS:
        value = snap.values.get(key)
        if not value:
            continue
        last = _last_change(snap, key, after=None)
        if last is not None and last.role is Role.BRIDGE:
            continue  # the bridge's own record (a refusal's outcome), not a forged value
        if last is None and snap.created_by_bridge:
            continue  # set by the bridge when it filed the issue (the intake key)
        who = last.author if last is not None and last.author else snap.author
        out.append(ForeignChange(key, who or "?", None, value))
    return tuple(out)


def changed_since_intake(snap: IssueSnapshot, accepted_in: int,
                         people_may_change: Collection[str]) -> tuple[ForeignChange, ...]:
    """Protected fields whose last change since the acceptance was made by someone other
    than the bridge and left a value the bridge did not set."""
    out = []
    for key in (*OWNED_KEYS, *(k for k in INPUT_KEYS if k not in people_may_change)):
        changes = [c for c in snap.history.field_changes
                   if c.name == f"cf:{key}" and (c.journal_id or 0) > accepted_in]
        if not changes or changes[-1].role is Role.BRIDGE:
            continue
        trusted = changes[0].old or None
        for change in changes:
            if change.role is Role.BRIDGE:
                trusted = change.new or None
        current = snap.values.get(key)
        if current == trusted:
            continue
        out.append(ForeignChange(key, changes[-1].author or "?", trusted, current))
    return tuple(out)


def restored(values: Mapping[str, str | None],
             changes: tuple[ForeignChange, ...]) -> dict[str, str | None]:
    return {**values, **{c.key: c.bridge_value for c in changes}}


def _last_change(snap: IssueSnapshot, key: str, after: int | None) -> FieldChange | None:
    found = None
    for change in snap.history.field_changes:
        if change.name == f"cf:{key}" and (after is None or (change.journal_id or 0) > after):
            found = change
    return found
