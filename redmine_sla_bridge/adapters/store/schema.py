"""The store's tables (SQLAlchemy Core), identical on SQLite and PostgreSQL.

Nothing here is SLA state: every row is either work to do (inbox), a position in a
source (cursors), a fact about an effect already caused (effect keys, notices), or a
coordination primitive (leases). Losing the whole store costs re-processing, never
correctness, because the SLA state itself is rebuilt from Redmine.

Schema versioning: `store_meta` holds `schema_version`. Migrations are out of scope for
v0.1: tables are created when missing, and a store whose recorded version is newer than
`SCHEMA_VERSION` is refused (an older binary must not write to a newer layout).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

SCHEMA_VERSION = 1

# Event states. "Leased" is not a state: a pending row with a live lease is in flight.
PENDING = "pending"
DONE = "done"
DEAD = "dead"

# Notice states.
NOTICE_PENDING = "pending"  # to send, in flight, or waiting for a retry
NOTICE_SENT = "sent"
NOTICE_FAILED = "failed"  # given up


class UtcDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on both backends.

    SQLite has no timestamp type: values are stored as naive UTC text with fixed-width
    microseconds, so string comparison in SQL equals time comparison. PostgreSQL stores
    `timestamptz`. Naive datetimes are rejected rather than guessed at, because a local
    time taken for UTC would shift every deadline-related retry by hours.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect):
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime given to the store: {value!r}")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# SQLite only auto-assigns INTEGER PRIMARY KEY; PostgreSQL gets a bigint identity.
_Id = BigInteger().with_variant(Integer, "sqlite")

metadata = MetaData()

store_meta = Table(
    "store_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

inbox_events = Table(
    "inbox_events",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("delivery_id", String(255)),
    Column("issue_id", BigInteger, nullable=False),
    Column("journal_id", BigInteger),
    Column("received_at", UtcDateTime, nullable=False),
    Column("payload", Text, nullable=False),
    Column("state", String(16), nullable=False, default=PENDING),
    Column("attempts", Integer, nullable=False, default=0),  # failures recorded by retry()
    Column("claims", Integer, nullable=False, default=0),  # leases granted, incl. crashed ones
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("lease_owner", String(255)),
    Column("lease_until", UtcDateTime),
    Column("last_error", Text),
    Column("dead_reason", Text),
    Column("finished_at", UtcDateTime),  # when it became done or dead
    # The dedupe rules (see Inbox.enqueue). NULLs never conflict on either backend, so an
    # event without a delivery id or journal id simply skips that rule.
    UniqueConstraint("source", "delivery_id", name="uq_inbox_delivery"),
    UniqueConstraint("issue_id", "journal_id", name="uq_inbox_journal"),
    Index("ix_inbox_due", "state", "next_attempt_at"),
    Index("ix_inbox_issue", "issue_id", "state", "received_at"),
    # AUTOINCREMENT: ids are never reused after purge_done, so a stale worker's
    # complete(id) can never hit a newer event.
    sqlite_autoincrement=True,
)

cursors = Table(
    "cursors",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("value", Text, nullable=False),
)

effect_keys = Table(
    "effect_keys",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("remembered_at", UtcDateTime, nullable=False),
)

notices = Table(
    "notices",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("channel", String(64), nullable=False),
    Column("recipient", Text, nullable=False),
    Column("payload", Text),  # what to resend on retry, if the notifier wants it kept
    Column("state", String(16), nullable=False, default=NOTICE_PENDING),
    Column("attempts", Integer, nullable=False, default=0),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("next_attempt_at", UtcDateTime),
    Column("sent_at", UtcDateTime),
    Column("last_error", Text),
    Index("ix_notices_due", "state", "next_attempt_at"),
)

leases = Table(
    "leases",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("holder", String(255), nullable=False),
    Column("acquired_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)
