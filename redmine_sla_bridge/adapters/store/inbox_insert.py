"""The one INSERT on the webhook's critical path, prepared once.

Building an `insert(...).values(...).on_conflict_do_nothing()` construct per event and
having SQLAlchemy derive its cache key cost ~0.6 ms of CPU, more than the rest of the
webhook handler together. The statement never changes, so its SQL is fixed here and
values are converted with the columns' own bind processors (the same text SQLAlchemy
would store: tests compare both paths). On SQLite the whole transaction runs on a
DB-API cursor (SQLAlchemy's connection and transaction objects cost more than the
INSERT), whose rowcount tells a stored event (1) from a duplicate (0); on PostgreSQL it
goes through SQLAlchemy with RETURNING, because psycopg reports no rowcount for such an
INSERT.

On a SQLite store at `synchronous=FULL` (the default) the INSERT commits at NORMAL, so
that SQLite does not fsync while it holds the write lock, and `sync_sqlite` flushes the
WAL once the lock is released and before the webhook is answered (engine.WalSync: the
same durability, without every writer waiting for each other's fsync). At
`sqlite_synchronous: normal` nothing is flushed, as the setting says.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.dialects import postgresql

from .engine import WalSync
from .records import InboxEvent
from .schema import PENDING, inbox_events

_COLUMNS = ("source", "delivery_id", "issue_id", "journal_id", "received_at", "payload",
            "state", "attempts", "claims", "next_attempt_at")

# ON CONFLICT without a target: either dedupe constraint (see Inbox.enqueue) skips it.
_SQLITE_SQL = (f"INSERT INTO {inbox_events.name} ({', '.join(_COLUMNS)}) "
               f"VALUES ({', '.join('?' * len(_COLUMNS))}) ON CONFLICT DO NOTHING")


class InboxInsert:
    def __init__(self, engine: Engine, flush: WalSync | None = None) -> None:
        dialect = engine.dialect
        self._sqlite = dialect.name == "sqlite"
        self._wal_sync = flush
        # Whether the store runs at FULL, read from the first connection used (the
        # pragma is set per connection by engine.py); None until then.
        self._flush_after_commit: bool | None = None
        if self._sqlite:
            column_type = inbox_events.c.received_at.type
            timestamp = column_type.dialect_impl(dialect).bind_processor(dialect)
            assert timestamp is not None  # UtcDateTime converts every value it binds
            self._timestamp = timestamp
        else:
            self._statement = (postgresql.insert(inbox_events).on_conflict_do_nothing()
                               .returning(inbox_events.c.id))

    def row(self, event: InboxEvent) -> Any:
        """The bound values of one event (validated and converted here, in the caller's
        thread, so one bad event can never fail a group commit of others)."""
        values = {"source": event.source, "delivery_id": event.delivery_id,
                  "issue_id": int(event.issue_id), "journal_id": event.journal_id,
                  "received_at": event.received_at, "payload": event.payload,
                  "state": PENDING, "attempts": 0, "claims": 0,
                  "next_attempt_at": event.received_at}
        if not self._sqlite:
            return values
        received = self._timestamp(event.received_at)
        values["received_at"] = values["next_attempt_at"] = received
        return tuple(values[name] for name in _COLUMNS)

    def execute(self, conn: Connection, rows: list[Any]) -> list[bool]:
        """PostgreSQL: insert rows inside the caller's transaction; True where stored."""
        return [conn.execute(self._statement, values).first() is not None for values in rows]

    def write_sqlite(self, engine: Engine, rows: list[Any]) -> list[bool]:
        """SQLite: one write transaction of its own on a pooled DB-API connection (set up
        by engine.py; the caller holds the write lock); True where stored. At FULL the
        caller must then call `sync_sqlite` before it reports the rows stored."""
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                flush = self._flush_after_commit
                if flush is None:
                    level = cursor.execute("PRAGMA synchronous").fetchone()[0]
                    flush = self._flush_after_commit = self._wal_sync is not None and level >= 2
                if flush:
                    cursor.execute("PRAGMA synchronous = NORMAL")
                try:
                    cursor.execute("BEGIN IMMEDIATE")
                    stored = []
                    for values in rows:
                        cursor.execute(_SQLITE_SQL, values)
                        stored.append(cursor.rowcount == 1)
                    connection.commit()
                    return stored
                except BaseException:
                    connection.rollback()
                    raise
                finally:
                    if flush:
                        self._restore_full(connection, cursor)
            finally:
                cursor.close()
        finally:
            connection.close()  # back to the pool

    @staticmethod
    def _restore_full(connection: Any, cursor: Any) -> None:
        # The connection goes back to the pool, where every other write expects FULL: one
        # that cannot be set back is dropped instead.
        try:
            cursor.execute("PRAGMA synchronous = FULL")
        except BaseException:
            connection.invalidate()
            raise

    def sync_sqlite(self) -> None:
        """Make the rows `write_sqlite` committed durable (after the write lock is
        released): a no-op unless the store runs at FULL."""
        if self._flush_after_commit and self._wal_sync is not None:
            self._wal_sync.sync()
