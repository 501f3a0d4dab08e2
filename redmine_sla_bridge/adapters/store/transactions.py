"""The transactions every part of the store runs in: one engine, one write lock.

Every store method is one short transaction that has committed when it returns
("accepted means stored"). The parts of the store (inbox, cursors, effect keys, notices,
leases) share one `Transactions`, so that all their writers queue on the same SQLite
write lock (see engine.py) and the same PostgreSQL advisory-lock namespace.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, TypeAlias

from sqlalchemy import Connection, Engine, Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import ReturningInsert

from .engine import WRITE_OPTION, sqlite_write_lock

# PostgreSQL advisory lock keys (two-int form: our namespace, then the purpose). All
# purposes live here, so that two parts of the store can never pick the same one.
PG_LOCK_NAMESPACE = 0x51A_B51D  # "SLA bridge"
PG_LOCK_SCHEMA = 1
PG_LOCK_CLAIM = 2

# The dialects' INSERTs, which have on_conflict_do_nothing/do_update.
UpsertInsert: TypeAlias = postgresql.Insert | sqlite.Insert


class Transactions:
    """Read and write transactions on one store's engine (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._backend = engine.dialect.name
        if self._backend not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported store backend {self._backend!r}")
        self._write_lock = sqlite_write_lock(engine)

    @property
    def engine(self) -> Engine:
        return self._engine

    def close(self) -> None:
        """Close pooled connections and the write-lock file; both reopen on next use."""
        self._engine.dispose()
        self._write_lock.close()

    @property
    def backend(self) -> str:
        """"sqlite" or "postgresql"."""
        return self._backend

    @property
    def is_postgresql(self) -> bool:
        return self._backend == "postgresql"

    @property
    def write_lock(self) -> AbstractContextManager[None]:
        """Held around every write transaction (a no-op except on a SQLite file)."""
        return self._write_lock

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction that will write: BEGIN IMMEDIATE on SQLite (see engine.py)."""
        with self._write_lock, self._engine.connect() as conn:
            conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self._engine.connect() as conn, conn.begin():
            yield conn

    def insert(self, table: Table) -> UpsertInsert:
        """The dialect's INSERT, which has on_conflict_do_nothing/do_update."""
        return (postgresql.insert if self.is_postgresql else sqlite.insert)(table)

    def pg_xact_lock(self, conn: Connection, purpose: int) -> None:
        """Serialise with other transactions of the same purpose until commit.
        (No-op on SQLite, where BEGIN IMMEDIATE already serialises all writers.)"""
        if self.is_postgresql:
            conn.execute(select(func.pg_advisory_xact_lock(PG_LOCK_NAMESPACE, purpose)))


def wrote_row(conn: Connection, insert_returning: ReturningInsert[Any]) -> bool:
    """Whether an INSERT ... ON CONFLICT ... RETURNING wrote its row.

    RETURNING rather than rowcount: SQLAlchemy guarantees rowcount for UPDATE and
    DELETE only, and with psycopg an INSERT construct's rowcount reads -1.
    """
    return conn.execute(insert_returning).first() is not None
