"""Plain values going into and coming out of the store (no SQLAlchemy types leak out)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from redmine_sla_bridge.domain.events import (
    BACKOFF_BASE,
    BACKOFF_CAP,
    InboxEvent,
    backoff,
    require_aware,
)

__all__ = ["BACKOFF_BASE", "BACKOFF_CAP", "ClaimedEvent", "DeadLetter", "DueNotice", "InboxEvent",
           "backoff", "require_aware"]


@dataclass(frozen=True)
class ClaimedEvent:
    """An inbox event leased to one worker until `lease_until`.

    attempts: failures recorded so far by `retry`. claims: leases granted so far, this
    one included; claims > attempts + 1 means an earlier worker died holding it, which
    a worker can use to dead-letter an event that crashes its process.
    """

    id: int
    source: str
    delivery_id: str | None
    issue_id: int
    journal_id: int | None
    received_at: datetime
    payload: str
    attempts: int
    claims: int
    lease_owner: str
    lease_until: datetime
    last_error: str | None


@dataclass(frozen=True)
class DeadLetter:
    """An event given up on, with why; `requeue_dead` puts it back in the queue."""

    id: int
    source: str
    delivery_id: str | None
    issue_id: int
    journal_id: int | None
    received_at: datetime
    payload: str
    attempts: int
    reason: str
    last_error: str | None
    died_at: datetime | None


@dataclass(frozen=True)
class DueNotice:
    """A recorded notice whose delivery failed or never got confirmed; send it again."""

    key: str
    channel: str
    recipient: str
    payload: str | None
    attempts: int
    last_error: str | None
