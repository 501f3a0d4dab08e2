"""Building the SQLAlchemy engine for a store URL, and the backend-specific bits of how
transactions begin.

SQLite is used by several processes on one machine (gunicorn workers + scheduler), so:
- WAL: readers never block the single writer, and a killed process cannot corrupt the
  database or lose a committed transaction.
- synchronous=FULL: in WAL mode NORMAL already survives a killed process; FULL also
  survives an OS crash or power loss, which "accepted means stored" asks for. The price
  is one fsync per commit, trivial at a support desk's event rate.
- busy_timeout: a writer waits for the lock instead of failing with "database is locked".
- Every write transaction starts with BEGIN IMMEDIATE, taking the write lock up front.
  A deferred transaction that reads and then writes can fail with SQLITE_BUSY_SNAPSHOT
  without the busy handler ever being called; taking the lock first makes a
  read-check-then-write (claim, lease) atomic across processes, too.
  pysqlite's own transaction handling is switched off so that we emit BEGIN ourselves.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import StaticPool

DEFAULT_BUSY_TIMEOUT_S = 30.0
# Execution option set on a Connection whose next transaction is going to write.
WRITE_OPTION = "redmine_sla_bridge_store_write"


def resolve_url(url: str | URL, base_dir: Path | None = None) -> URL:
    """The URL with a relative SQLite path made relative to base_dir (or the cwd)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or _is_memory(parsed):
        return parsed
    path = Path(parsed.database)
    if not path.is_absolute():
        path = (base_dir or Path.cwd()) / path
    return parsed.set(database=str(path.resolve()))


def build_engine(url: str | URL, base_dir: Path | None = None,
                 busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S) -> Engine:
    resolved = resolve_url(url, base_dir)
    if resolved.get_backend_name() == "sqlite":
        return _sqlite_engine(resolved, busy_timeout_s)
    if resolved.get_backend_name() == "postgresql":
        # Replicas talk to a server over the network: drop connections it closed.
        return create_engine(resolved, pool_pre_ping=True)
    raise ValueError(f"unsupported store backend {resolved.get_backend_name()!r}; "
                     "use sqlite:///path or postgresql+psycopg://...")


def _is_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:")


def _sqlite_engine(url: URL, busy_timeout_s: float) -> Engine:
    memory = _is_memory(url)
    if memory:
        # One shared connection, or every pooled connection would see its own empty DB.
        engine = create_engine(url, poolclass=StaticPool,
                               connect_args={"check_same_thread": False})
    else:
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": busy_timeout_s})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, see below
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
            if not memory:
                cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = FULL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        writing = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")

    return engine
