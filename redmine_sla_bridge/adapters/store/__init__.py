"""The bridge's own durable store (SQLite by default, PostgreSQL for several replicas).

It holds only what cannot be read back from Redmine: the event inbox, cursors, effect
dedupe keys, what was notified, and leases. See `Store` for the API.
"""

from .records import (
    BACKOFF_BASE,
    BACKOFF_CAP,
    ClaimedEvent,
    DeadLetter,
    DueNotice,
    InboxEvent,
    backoff,
)
from .schema import SCHEMA_VERSION
from .store import Store, StoreSchemaError

__all__ = [
    "BACKOFF_BASE",
    "BACKOFF_CAP",
    "SCHEMA_VERSION",
    "ClaimedEvent",
    "DeadLetter",
    "DueNotice",
    "InboxEvent",
    "Store",
    "StoreSchemaError",
    "backoff",
]
