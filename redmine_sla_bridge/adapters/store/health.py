"""The store's write probe: can it commit a transaction right now?

Reading tells nothing about a full disk, a read-only mount or a PostgreSQL standby: a
read succeeds on all three while every webhook fails. So the probe writes, and commits,
exactly as a webhook does (the same write lock, BEGIN IMMEDIATE on SQLite, the fsync of
the commit). It writes a row of `leases` that no one else ever names and deletes it in
the same transaction, so a probe leaves nothing behind, even when its process dies
halfway; it does not need a table of its own, so the schema version stays as it is.
"""

from __future__ import annotations

import os
import socket
import threading
from datetime import datetime

from sqlalchemy import delete

from .records import require_aware
from .schema import leases
from .transactions import Transactions

PROBE_PREFIX = "store-write-probe:"


def probe_name() -> str:
    """A lease name of this host, process and thread only: replicas sharing a PostgreSQL
    store, and threads of one worker, never probe the same row."""
    return f"{PROBE_PREFIX}{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def check_writable(tx: Transactions, now: datetime) -> None:
    """Commit one write to the store; raises what a real write would raise (an OSError
    for the SQLite lock file, SQLAlchemy's OperationalError for a read-only or full
    database, a refused PostgreSQL connection ...)."""
    require_aware(now, "now")
    name = probe_name()
    # Already expired: even if a crash could leave it, the row would hold nothing.
    upsert = tx.insert(leases).values(name=name, holder=name, acquired_at=now, expires_at=now)
    upsert = upsert.on_conflict_do_update(index_elements=[leases.c.name],
                                          set_={"acquired_at": now, "expires_at": now})
    with tx.write() as conn:
        conn.execute(upsert)
        conn.execute(delete(leases).where(leases.c.name == name))
