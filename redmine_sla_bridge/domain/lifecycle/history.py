"""An issue's past, as the SLA clock needs it: who said what publicly, and status spans.

Built by the Redmine adapter from `GET /issues/:id.json?include=journals`; everything the
bridge decides about an issue is recomputed from this, so the bridge keeps no SLA state
of its own (Redmine is the system of record).
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field


class Role(enum.Enum):
    REQUESTER = "requester"
    SUPPORT = "support"
    BRIDGE = "bridge"


@dataclass(frozen=True, slots=True)
class Note:
    at: dt.datetime
    author_id: int | None
    role: Role
    public: bool
    text: str
    journal_id: int | None = None


@dataclass(frozen=True, slots=True)
class StatusChange:
    at: dt.datetime
    old: str | None
    new: str
    author_id: int | None = None
    role: Role = Role.SUPPORT
    journal_id: int | None = None


@dataclass(frozen=True, slots=True)
class FieldChange:
    """A change of an attribute (`priority_id`, ...) or of a custom field (`cf:<key>`)."""

    at: dt.datetime
    name: str
    old: str | None
    new: str | None
    role: Role
    journal_id: int | None = None
    author: str | None = None  # the name Redmine shows, for notes that say who did it


@dataclass(frozen=True)
class IssueHistory:
    issue_id: int
    created_at: dt.datetime
    initial_status: str
    status: str
    notes: tuple[Note, ...] = ()
    status_changes: tuple[StatusChange, ...] = ()
    field_changes: tuple[FieldChange, ...] = field(default_factory=tuple)

    def public_notes(self, role: Role) -> tuple[Note, ...]:
        return tuple(n for n in self.notes if n.public and n.role is role and n.text.strip())

    def first_public_note(self, role: Role, after: dt.datetime | None = None) -> Note | None:
        for note in self.public_notes(role):
            if after is None or note.at >= after:
                return note
        return None

    def last_public_note(self, role: Role) -> Note | None:
        notes = self.public_notes(role)
        return notes[-1] if notes else None

    def bridge_spoke_last(self) -> bool:
        """The latest public note is the bridge's and nobody changed anything after it:
        nobody has reacted to the bridge's last word (journal ids order journals)."""
        last_note = max((n for n in self.notes if n.public), key=lambda n: n.journal_id or 0,
                        default=None)
        if last_note is None or last_note.role is not Role.BRIDGE:
            return False
        changes: tuple[StatusChange | FieldChange, ...] = (*self.status_changes, *self.field_changes)
        others = [c.journal_id or 0 for c in changes if c.role is not Role.BRIDGE]
        return not others or max(others) < (last_note.journal_id or 0)

    def status_spans(self, until: dt.datetime) -> tuple[tuple[str, dt.datetime, dt.datetime], ...]:
        """(status, from, to) for the issue's whole life up to `until`, in order."""
        spans: list[tuple[str, dt.datetime, dt.datetime]] = []
        current, since = self.initial_status, self.created_at
        for change in self.status_changes:
            if change.at > since:
                spans.append((current, since, min(change.at, until)))
            current, since = change.new, max(change.at, since)
        if until > since:
            spans.append((current, since, until))
        return tuple(spans)

    def last_entered(self, statuses: frozenset[str]) -> dt.datetime | None:
        """When the issue last moved into one of `statuses` (None if it never did)."""
        entered = None
        if self.initial_status in statuses:
            entered = self.created_at
        for change in self.status_changes:
            if change.new in statuses and (change.old not in statuses):
                entered = change.at
        return entered
