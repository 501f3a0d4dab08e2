"""In-memory stand-ins for the service layer's ports (service/ports.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field

from redmine_sla_bridge.domain.intake.request import Organization
from redmine_sla_bridge.domain.processing import IssueSnapshot, IssueUpdate, ListedIssue, LoggedTime
from redmine_sla_bridge.domain.processing.update import NewIssue


@dataclass
class Log:
    """One ordered record of what every fake was asked, to check the order of effects."""

    calls: list[str] = field(default_factory=list)

    def __call__(self, what: str) -> None:
        self.calls.append(what)


class FakeIssues:
    def __init__(self, log: Log) -> None:
        self.log = log
        self.snapshots: dict[int, IssueSnapshot] = {}
        self.listed: list[ListedIssue | None] = []
        self.due: list[ListedIssue | None] | None = None  # None: no next_check field
        self.applied: list[IssueUpdate] = []
        self.created: list[NewIssue] = []
        self.earlier: dict[str, tuple[Organization, ...]] = {}
        self.logged: dict[int, tuple[LoggedTime, ...]] = {}
        self.updates: list[tuple[int, str]] = []
        self.fail_apply: dict[int, Exception] = {}

    def load(self, issue_id: int) -> IssueSnapshot | None:
        self.log(f"load {issue_id}")
        return self.snapshots.get(issue_id)

    def earlier_requests(self, issue_id: int, email: str) -> tuple[Organization, ...]:
        self.log(f"earlier {email}")
        return self.earlier.get(email, ())

    def time_entries(self, issue_id: int) -> tuple[LoggedTime, ...]:
        self.log(f"time entries {issue_id}")
        return self.logged.get(issue_id, ())

    def contact_requests(self, issue_id: int, email: str) -> tuple:
        self.log(f"contact requests {email}")
        return ()

    def open_issues(self) -> Iterator[ListedIssue | None]:
        self.log("list open")
        yield from self.listed

    def due_issues(self, day: str, unstamped_since: str) -> Iterator[ListedIssue | None] | None:
        self.log(f"list due by {day}, unstamped since {unstamped_since}")
        return iter(self.due) if self.due is not None else None

    def updated_since(self, cursor: str, *, offset: int, limit: int) -> list[tuple[int, str]]:
        self.log(f"updated since {cursor} +{offset}")
        later = [u for u in self.updates if u[1] >= cursor]
        return later[offset:offset + limit]

    def create(self, new: NewIssue) -> int:
        self.created.append(new)
        self.log("create")
        return 1000 + len(self.created)

    def apply(self, update: IssueUpdate) -> None:
        self.log(f"apply {update.issue_id}")
        if update.issue_id in self.fail_apply:
            raise self.fail_apply[update.issue_id]
        self.applied.append(update)

    def ping(self) -> None:
        self.log("ping")


class FakeStore:
    def __init__(self, log: Log) -> None:
        self.log = log
        self.keys: set[str] = set()
        self.cursors: dict[str, str] = {}
        self.events: list[object] = []

    def remember(self, key: str, now: dt.datetime) -> bool:
        self.log(f"remember {key}")
        new = key not in self.keys
        self.keys.add(key)
        return new

    def seen(self, key: str) -> bool:
        return key in self.keys

    def get_cursor(self, name: str) -> str | None:
        return self.cursors.get(name)

    def set_cursor(self, name: str, value: str) -> None:
        self.cursors[name] = value

    def release_dead_workers(self, now: dt.datetime) -> dict[str, int]:
        return {}

    def check_writable(self, now: dt.datetime) -> None:
        self.log("write probe")

    def enqueue(self, event: object) -> bool:
        key = getattr(event, "delivery_id", None)
        if any(getattr(e, "delivery_id", None) == key for e in self.events):
            return False
        self.events.append(event)
        return True


class FakeNotifier:
    def __init__(self, log: Log) -> None:
        self.log = log
        self.queued: dict[str, tuple[str, str, str]] = {}
        self.held: set[str] = set()
        self.cancelled: dict[str, str] = {}

    def queue(self, key: str, recipient: str, subject: str, body: str, now: dt.datetime, *,
              issue_id: int | None = None, hold: dt.timedelta | None = None) -> bool:
        self.log(f"mail {key}")
        if key in self.queued:
            return False
        self.queued[key] = (recipient, subject, body)
        if hold:
            self.held.add(key)
        return True

    def release(self, key: str, now: dt.datetime) -> bool:
        self.log(f"release {key}")
        if key in self.held and key not in self.cancelled:
            self.held.discard(key)
            return True
        return False

    def cancel(self, key: str, reason: str) -> bool:
        self.log(f"cancel {key}")
        self.cancelled[key] = reason
        self.held.discard(key)
        return True

    def deliver_due(self, now: dt.datetime) -> object:
        return None
