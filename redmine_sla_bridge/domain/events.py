"""Events about issues, as the inbox keeps them, and the retry policy for them.

Plain values shared by the service (which enqueues and retries) and the store adapter
(which keeps them): defined here so neither has to import the other.
"""

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
    factor: int = 2**exponent  # typeshed types int ** int as Any (negative exponents give floats)
    return min(BACKOFF_BASE * factor, BACKOFF_CAP)


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
        through two sources is one event (see Inbox.enqueue).
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
