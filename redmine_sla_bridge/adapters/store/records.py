"""Plain values going into and coming out of the store (no SQLAlchemy types leak out)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

BACKOFF_BASE = timedelta(seconds=5)
BACKOFF_CAP = timedelta(minutes=10)


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after `attempts` failures: 5 s * 2^attempts, at most
    10 min. No jitter on purpose: events are leased, so retries cannot stampede, and a
    deterministic delay keeps tests and logs readable."""
    if attempts < 0:
        raise ValueError("attempts must be >= 0")
    # Cap the exponent first so huge attempt counts cannot overflow timedelta.
    exponent = min(attempts, 16)
    return min(BACKOFF_BASE * (2**exponent), BACKOFF_CAP)


def require_aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")
    return value


@dataclass(frozen=True)
class InboxEvent:
    """Something that may have changed an issue, as received from one source.

    source: "redmine7", "suer", "poll", "intake", "schedule", ...
    delivery_id: the source's own id for this delivery (unique per source), if any.
    journal_id: the Redmine journal this event reports, if known; the same journal seen
        through two sources is one event (see Store.enqueue).
    payload: JSON text as received, kept for audit and debugging only.
    """

    source: str
    issue_id: int
    received_at: datetime
    payload: str = "{}"
    delivery_id: str | None = None
    journal_id: int | None = None

    def __post_init__(self) -> None:
        if not self.source:
            raise ValueError("source must not be empty")
        if not isinstance(self.payload, str):
            raise TypeError("payload must be JSON text (str)")
        if self.delivery_id == "":
            raise ValueError("delivery_id must be None or non-empty")
        require_aware(self.received_at, "received_at")


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
