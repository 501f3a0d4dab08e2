"""Building the SQLAlchemy engine for a store URL, and the backend-specific bits of how
transactions begin.

SQLite is used by several processes on one machine (gunicorn workers + scheduler), so:
- WAL: readers never block the single writer, and a killed process cannot corrupt the
  database or lose a committed transaction.
- synchronous=FULL by default: in WAL mode NORMAL already survives a killed process;
  FULL also survives an OS crash or power loss, which "accepted means stored" asks for.
  The price is one fsync per commit, shared by concurrent webhooks (group_commit.py);
  `store.sqlite_synchronous: normal` trades it away.
- busy_timeout: a writer waits for the lock instead of failing with "database is locked".
- Every write transaction starts with BEGIN IMMEDIATE, taking the write lock up front.
  A deferred transaction that reads and then writes can fail with SQLITE_BUSY_SNAPSHOT
  without the busy handler ever being called; taking the lock first makes a
  read-check-then-write (claim, lease) atomic across processes, too.
  pysqlite's own transaction handling is switched off so that we emit BEGIN ourselves.
"""

from __future__ import annotations

import fcntl
import os
import threading
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
    assert parsed.database is not None  # no database is the in-memory one (_is_memory)
    path = Path(parsed.database)
    if not path.is_absolute():
        path = (base_dir or Path.cwd()) / path
    return parsed.set(database=str(path.resolve()))


DEFAULT_PG_CONNECT_TIMEOUT_S = 10


def build_engine(url: str | URL, base_dir: Path | None = None,
                 busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
                 synchronous: str = "full") -> Engine:
    resolved = resolve_url(url, base_dir)
    if resolved.get_backend_name() == "sqlite":
        if synchronous not in ("full", "normal"):
            raise ValueError(f"synchronous must be full or normal, not {synchronous!r}")
        return _sqlite_engine(resolved, busy_timeout_s, synchronous.upper())
    if resolved.get_backend_name() == "postgresql":
        # Replicas talk to a server over the network: drop connections it closed. libpq
        # waits forever for a server that accepts the connection and never answers (a
        # hung host, a half-open firewall): a worker would then hang instead of keeping
        # its events for a retry. `?connect_timeout=N` in the URL overrides the default.
        connect_args = ({} if "connect_timeout" in resolved.query
                        else {"connect_timeout": DEFAULT_PG_CONNECT_TIMEOUT_S})
        return create_engine(resolved, pool_pre_ping=True, connect_args=connect_args)
    raise ValueError(f"unsupported store backend {resolved.get_backend_name()!r}; "
                     "use sqlite:///path or postgresql+psycopg://...")


def _is_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:")


def _sqlite_engine(url: URL, busy_timeout_s: float, synchronous: str) -> Engine:
    memory = _is_memory(url)
    if memory:
        # One shared connection, or every pooled connection would see its own empty DB.
        engine = create_engine(url, poolclass=StaticPool,
                               connect_args={"check_same_thread": False})
    else:
        assert url.database is not None  # no database is the in-memory one (_is_memory)
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
            cursor.execute(f"PRAGMA synchronous = {synchronous}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        writing = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")

    return engine


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *_exc) -> None:
        return None

    def close(self) -> None:
        return None


class SqliteWriteLock:
    """Writers of one SQLite file queue on an OS lock instead of SQLite's busy handler.

    SQLite makes a writer that finds the database locked sleep and retry (1, 2, 5 ...
    100 ms), so under load a writer can lose the race again and again: webhooks then
    wait 100+ ms for a lock that was free most of the time. `flock` on a file beside
    the database queues waiters in the kernel, which wakes one as soon as the lock is
    released, across processes (the `filelock` package was not used: it retries a
    non-blocking lock on a timer, the very sleeping this avoids). Threads of one
    process first queue on a thread lock, because a flock belongs to the open file,
    which they share. The lock is advisory:
    other programs writing the database are still handled by busy_timeout. A process
    killed while holding it releases it with its file descriptors.
    """

    def __init__(self, database: str) -> None:
        self._path = database + "-writelock"
        self._thread_lock = threading.Lock()
        self._fd: int | None = None
        self._pid = 0

    def __enter__(self) -> None:
        self._thread_lock.acquire()
        try:
            fcntl.flock(self._file(), fcntl.LOCK_EX)
        except BaseException:
            self._thread_lock.release()
            raise

    def __exit__(self, *_exc) -> None:
        try:
            fcntl.flock(self._file(), fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()

    def close(self) -> None:
        """Close the lock file (reopened on the next write): a closed store must not
        keep a descriptor open in a long-lived process that opens stores again."""
        with self._thread_lock:
            if self._fd is not None and self._pid == os.getpid():
                os.close(self._fd)
            self._fd = None

    def _file(self) -> int:
        # A forked child must not share its parent's open file (and so its lock).
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._pid = os.getpid()
        return self._fd


def sqlite_write_lock(engine: Engine) -> SqliteWriteLock | _NoLock:
    """The lock to hold around a write transaction on this engine's database."""
    if engine.dialect.name != "sqlite" or _is_memory(engine.url):
        return _NoLock()
    assert engine.url.database is not None  # no database is the in-memory one (_is_memory)
    return SqliteWriteLock(engine.url.database)
