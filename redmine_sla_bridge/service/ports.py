"""The ports of the service layer: what it needs of Redmine, the store and the mail.

Protocols, so the adapters satisfy them without importing the service, and unit tests
use small in-memory fakes (tests/unit/service/fakes.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from redmine_sla_bridge.domain.intake.request import Organization
from redmine_sla_bridge.domain.lifecycle.turns import ContactRequest
from redmine_sla_bridge.domain.processing import IssueSnapshot, IssueUpdate, ListedIssue, LoggedTime
from redmine_sla_bridge.domain.processing.update import NewIssue
from redmine_sla_bridge.domain.reporting.report import ReportRow


class IssueRepository(Protocol):
    """Redmine, in the core's terms. Failures: `domain.ports.RedmineUnavailable` (try
    again later), `RedmineRejected` (this call will not succeed), `NotManageable`."""

    def load(self, issue_id: int) -> IssueSnapshot | None: ...

    def earlier_requests(self, issue_id: int, email: str) -> tuple[Organization, ...]: ...

    def time_entries(self, issue_id: int) -> tuple[LoggedTime, ...]: ...

    def contact_requests(self, issue_id: int, email: str) -> tuple[ContactRequest, ...]: ...

    def open_issues(self) -> Iterator[ListedIssue | None]: ...

    def due_issues(self, day: str, unstamped_since: str) -> Iterator[ListedIssue | None] | None: ...

    def updated_since(self, cursor: str, *, offset: int, limit: int) -> list[tuple[int, str]]: ...

    def create(self, new: NewIssue) -> int: ...

    def find_intake(self, project: str, key: str) -> int | None: ...

    def apply(self, update: IssueUpdate) -> None: ...

    def ping(self) -> None: ...

    def report_rows(self, created_from: dt.date, created_to: dt.date,
                    project: str | None = None) -> Iterator[tuple[ReportRow | None, int]]:
        """Issues of the scope (any status) created on these days (a day of margin on
        each side: the caller filters in the regulation's zone), a page at a time, each
        with the total count; None for a row the bridge does not manage."""
        ...

    def calls_made(self) -> int:
        """Redmine calls made so far by this repository (the report's cost footer)."""
        ...


class ClaimedEventLike(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def issue_id(self) -> int: ...

    @property
    def attempts(self) -> int: ...

    @property
    def last_error(self) -> str | None: ...


class Inbox(Protocol):
    def enqueue(self, event: Any) -> bool: ...

    def claim(self, now: dt.datetime, limit: int, lease_seconds: float,
              worker: str) -> Sequence[ClaimedEventLike]: ...

    def complete(self, event_id: int, worker: str, now: dt.datetime) -> bool: ...

    def retry(self, event_id: int, worker: str, now: dt.datetime, error: str,
              delay: dt.timedelta) -> bool: ...

    def postpone(self, event_ids: list[int], worker: str, until: dt.datetime, note: str) -> int: ...

    def dead(self, event_id: int, worker: str, reason: str, now: dt.datetime) -> bool: ...

    def pending_count(self) -> int: ...

    def purge_done(self, older_than: dt.datetime) -> int: ...

    def release_dead_workers(self, now: dt.datetime) -> dict[str, int]: ...


class Cursors(Protocol):
    def get_cursor(self, name: str) -> str | None: ...

    def set_cursor(self, name: str, value: str) -> None: ...


class EffectKeys(Protocol):
    def remember(self, key: str, now: dt.datetime) -> bool: ...

    def seen(self, key: str) -> bool: ...


class Leases(Protocol):
    def try_lease(self, name: str, holder: str, now: dt.datetime, ttl: dt.timedelta) -> bool: ...

    def release(self, name: str, holder: str) -> bool: ...


class Health(Protocol):
    def check_writable(self, now: dt.datetime) -> None: ...


class StorePort(Inbox, Cursors, EffectKeys, Leases, Health, Protocol):
    """The bridge's own store: only what cannot be read back from Redmine."""


class Notifier(Protocol):
    """Customer mail: queued durably by key (once-only), delivered apart from Redmine.
    A notice queued with `hold` waits for `release` (or the hold's end) or `cancel`."""

    def queue(self, key: str, recipient: str, subject: str, body: str, now: dt.datetime, *,
              issue_id: int | None = None, hold: dt.timedelta | None = None) -> bool: ...

    def release(self, key: str, now: dt.datetime) -> bool: ...

    def cancel(self, key: str, reason: str) -> bool: ...

    def deliver_due(self, now: dt.datetime) -> object: ...


# -- the support mailbox (service/mail_intake.py) -------------------------------------


class InboundAttachment(Protocol):
    @property
    def filename(self) -> str: ...

    @property
    def content_type(self) -> str: ...

    @property
    def data(self) -> bytes: ...


class InboundMail(Protocol):
    """One received email, as the mail adapter read it (adapters/mail/message.py)."""

    @property
    def message_id(self) -> str | None: ...

    @property
    def message_id_domain(self) -> str | None: ...

    @property
    def sender(self) -> str | None: ...  # Reply-To, else From; normalized

    @property
    def from_address(self) -> str | None: ...

    @property
    def sender_name(self) -> str: ...

    @property
    def subject(self) -> str: ...

    @property
    def text(self) -> str: ...  # the whole body as text

    @property
    def reply_text(self) -> str: ...  # the body without quoted history and signature

    @property
    def references(self) -> tuple[str, ...]: ...  # In-Reply-To first, then References

    @property
    def automatic(self) -> str | None: ...  # why it is an auto-reply/bounce/list mail

    @property
    def size(self) -> int: ...

    @property
    def raw(self) -> bytes: ...

    @property
    def attachments(self) -> Sequence[InboundAttachment]: ...


class MailIssues(Protocol):
    """What the mailbox needs of Redmine besides `IssueRepository`."""

    def add_requester_note(self, issue_id: int, text: str,
                           attachments: Sequence[InboundAttachment]) -> None:
        """A public note posted as the customer-mail user (counted as the requester's)."""
        ...

    def attach(self, issue_id: int, attachments: Sequence[InboundAttachment],
               note: str | None = None) -> None:
        """Files (and an optional public note) added by the bridge's own user."""
        ...

    def has_attachment(self, issue_id: int, prefix: str) -> bool: ...


class MailThreads(Protocol):
    """Makes the notices queued inside `replying_to` answer that Message-ID."""

    def replying_to(self, message_id: str | None) -> AbstractContextManager[None]: ...
