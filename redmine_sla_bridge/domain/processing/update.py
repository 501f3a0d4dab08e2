"""What the core decided to change on one issue: a value, applied by a thin executor."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from redmine_sla_bridge.domain.lifecycle.clock import SlaState
from redmine_sla_bridge.domain.request_decision import RequestDecision


@dataclass(frozen=True)
class Note:
    """A journal note, in Redmine's text formatting: customer values in it are escaped
    (`domain.markup`)."""

    text: str
    private: bool = False


@dataclass(frozen=True)
class Mail:
    """A notice to the requester. `key` makes it once-only: the same decision taken
    again (a repeated delivery, a retry after a crash) never mails twice. `body` is plain
    text, worded like the note: the customer's values in it are shortened and on one
    line, but not escaped."""

    key: str
    to: str
    subject: str
    body: str


@dataclass(frozen=True)
class NewTimeEntry:
    user_id: int
    spent_on: str
    hours: float
    activity: str
    comments: str


@dataclass(frozen=True)
class ContactLookup:
    """ID-6: the plan needs the contact's earlier requests (by email) to decide."""

    email: str


@dataclass(frozen=True)
class TimeEntriesLookup:
    """BA-9: the plan needs the time already logged on the issue."""


@dataclass(frozen=True)
class ContactRequestsLookup:
    """ID-8: the plan needs the contact's other open requests (by email)."""

    email: str


Lookup = ContactLookup | TimeEntriesLookup | ContactRequestsLookup


@dataclass(frozen=True)
class IssueUpdate:
    """Field values by the bridge's keys, Redmine names for statuses, priorities and
    people (the executor resolves them to ids). The first note is written with the field
    changes; each further note is a journal of its own, because a Redmine journal is
    private or public as a whole."""

    issue_id: int
    action: str  # accepted | rejected | updated | unchanged | skipped | resumed | reopened | closed
    detail: str = ""
    decision: RequestDecision | None = None
    fields: Mapping[str, str | None] = field(default_factory=dict)
    status: str | None = None
    due_date: str | None = None
    priority: str | None = None
    assign_to: str | None = None
    watchers: tuple[str, ...] = ()
    notes: tuple[Note, ...] = ()
    time_entries: tuple[NewTimeEntry, ...] = ()
    mails: tuple[Mail, ...] = ()
    remember: tuple[str, ...] = ()  # effect keys to record once the update is applied
    needs: Lookup | None = None  # plan again with this fact in the snapshot
    new_state: SlaState | None = None  # the SLA state got worse (escalation)
    warnings: tuple[str, ...] = ()  # for the log: something an admin must fix
    project_id: int | None = None  # where `assign_to` and `watchers` are members
    # Fields cleared in a journal of their own, before everything else, with `reset_note`
    # (private): SLA values typed by someone else before the bridge took the request in.
    reset: tuple[str, ...] = ()
    reset_note: str | None = None
    reverted: tuple[str, ...] = ()  # protected fields put back (for the log and metrics)
    # ID-8: issues to process once this update is applied (the contact's next queued
    # request, when this one is done).
    wake: tuple[int, ...] = ()
    unsent: tuple[str, ...] = ()  # notices with no address to go to (for the log and metrics)

    @property
    def writes_issue(self) -> bool:
        return bool(self.fields or self.status or self.due_date or self.priority
                    or self.assign_to or self.notes or self.reset)


@dataclass(frozen=True)
class NewIssue:
    """A request taken in by the bridge itself (intake API): created with its SLA."""

    project: str  # identifier
    tracker: str
    subject: str
    description: str
    fields: Mapping[str, str | None]
    due_date: str | None = None
    priority: str | None = None
