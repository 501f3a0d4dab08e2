"""The bridge's own durable store (SQLite by default, PostgreSQL for several replicas).

It holds only what cannot be read back from Redmine: the event inbox, cursors, effect
dedupe keys, what was notified, and leases. See `Store` for the API; its parts
(`Inbox`, `Cursors`, `EffectKeys`, `Notices`, `Leases`) are its attributes `inbox`,
`cursors`, `keys`, `notices` and `leases`.
"""

from .cursors import Cursors
from .effect_keys import EffectKeys
from .inbox import Inbox
from .leases import Leases
from .notices import Notices
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
from .transactions import Transactions

__all__ = [
    "BACKOFF_BASE",
    "BACKOFF_CAP",
    "SCHEMA_VERSION",
    "ClaimedEvent",
    "Cursors",
    "DeadLetter",
    "DueNotice",
    "EffectKeys",
    "Inbox",
    "InboxEvent",
    "Leases",
    "Notices",
    "Store",
    "StoreSchemaError",
    "Transactions",
    "backoff",
]
