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
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect

from .records import InboxEvent
from .schema import PENDING, inbox_events

_COLUMNS = ("source", "delivery_id", "issue_id", "journal_id", "received_at", "payload",
            "state", "attempts", "claims", "next_attempt_at")

# ON CONFLICT without a target: either dedupe constraint (see Inbox.enqueue) skips it.
_SQLITE_SQL = (f"INSERT INTO {inbox_events.name} ({', '.join(_COLUMNS)}) "
               f"VALUES ({', '.join('?' * len(_COLUMNS))}) ON CONFLICT DO NOTHING")


class InboxInsert:
    def __init__(self, dialect: Dialect) -> None:
        self._sqlite = dialect.name == "sqlite"
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

    @staticmethod
    def write_sqlite(engine: Engine, rows: list[Any]) -> list[bool]:
        """SQLite: one write transaction of its own on a pooled DB-API connection (set up
        by engine.py; the caller holds the write lock); True where stored."""
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
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
                cursor.close()
        finally:
            connection.close()  # back to the pool
