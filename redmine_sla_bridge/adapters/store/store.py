"""The bridge's own durable store: event inbox, cursors, effect keys, notices, leases.

Every method is one short transaction that has committed when it returns ("accepted
means stored"). No method reads the clock: callers pass `now` (timezone-aware), so the
scheduler, the tests and a replay all see the same time.

`Store` only composes the parts, one module each (inbox, cursors, effect_keys, notices,
leases, over the shared transactions), and keeps their methods under one name; code
that needs one part only can take `store.inbox`, `store.cursors`, `store.keys`,
`store.notices` or `store.leases` instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import URL

from . import health, schema_setup
from .cursors import Cursors
from .effect_keys import EffectKeys
from .engine import DEFAULT_BUSY_TIMEOUT_S, build_engine
from .inbox import Inbox, event_counts
from .leases import Leases
from .notices import Notices, notice_counts
from .records import ClaimedEvent, DeadLetter, DueNotice, InboxEvent
from .schema_setup import StoreSchemaError
from .transactions import Transactions

__all__ = ["Store", "StoreSchemaError"]


class Store:
    """The bridge's durable store over a SQLAlchemy engine (SQLite or PostgreSQL).

    Build it with `Store.from_url`. It is safe for several processes and threads at
    once. With forking servers (gunicorn --preload), build it after the fork, or call
    `close()` in the parent first: pooled connections must not cross a fork.
    """

    def __init__(self, engine: Engine) -> None:
        # One Transactions for all parts: they must share its SQLite write lock.
        self._tx = Transactions(engine)
        self.inbox = Inbox(self._tx)
        self.cursors = Cursors(self._tx)
        self.keys = EffectKeys(self._tx)
        self.notices = Notices(self._tx)
        self.leases = Leases(self._tx)

    @classmethod
    def from_url(cls, url: str | URL, base_dir: Path | None = None, *,
                 busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
                 synchronous: str = "full") -> Store:
        """Open (and create if missing) the store at a SQLAlchemy URL.

        A relative SQLite path (`sqlite:///bridge.sqlite3`) is relative to `base_dir`
        (the config file's directory), else to the current directory. Tables are created
        when missing. Migrations are out of scope for v0.1: the schema version is kept
        in `store_meta.schema_version`, and a store written by a newer (or, until
        migrations exist, an older) version is refused with StoreSchemaError.
        """
        store = cls(build_engine(url, base_dir, busy_timeout_s, synchronous))
        try:
            store.ensure_schema()
        except BaseException:
            store.close()
            raise
        return store

    @property
    def engine(self) -> Engine:
        return self._tx.engine

    @property
    def backend(self) -> str:
        """"sqlite" or "postgresql"."""
        return self._tx.backend

    def close(self) -> None:
        """Close pooled connections and files (the store can still be used; it reopens)."""
        self._tx.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- schema (schema_setup.py) ---------------------------------------------------

    def ensure_schema(self) -> None:
        """Create missing tables and record or check the schema version."""
        schema_setup.ensure_schema(self._tx)

    def schema_version(self) -> int | None:
        return schema_setup.schema_version(self._tx)

    # -- health (health.py) ---------------------------------------------------------

    def check_writable(self, now: datetime) -> None:
        """Commit one throw-away write (raises as a real write would): for /readyz and
        the start-up checks of `serve`."""
        health.check_writable(self._tx, now)

    # -- inbox (inbox.py) -----------------------------------------------------------

    def enqueue(self, event: InboxEvent) -> bool:
        return self.inbox.enqueue(event)

    def enqueue_many(self, events: Iterable[InboxEvent]) -> list[bool]:
        return self.inbox.enqueue_many(events)

    def claim(self, now: datetime, limit: int, lease_seconds: float,
              worker: str) -> list[ClaimedEvent]:
        return self.inbox.claim(now, limit, lease_seconds, worker)

    def complete(self, event_id: int, worker: str, now: datetime) -> bool:
        return self.inbox.complete(event_id, worker, now)

    def retry(self, event_id: int, worker: str, now: datetime, error: str,
              delay: timedelta) -> bool:
        return self.inbox.retry(event_id, worker, now, error, delay)

    def postpone(self, event_ids: list[int], worker: str, until: datetime,
                 note: str) -> int:
        return self.inbox.postpone(event_ids, worker, until, note)

    def dead(self, event_id: int, worker: str, reason: str, now: datetime) -> bool:
        return self.inbox.dead(event_id, worker, reason, now)

    def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        return self.inbox.dead_letters(limit)

    def requeue_dead(self, event_id: int, now: datetime) -> bool:
        return self.inbox.requeue_dead(event_id, now)

    def release_dead_workers(self, now: datetime) -> dict[str, int]:
        return self.inbox.release_dead_workers(now)

    def pending_count(self) -> int:
        return self.inbox.pending_count()

    def purge_done(self, older_than: datetime) -> int:
        return self.inbox.purge_done(older_than)

    def stats(self) -> dict[str, int]:
        """Counts for metrics: events by state (pending, in_flight ⊆ pending, done,
        dead) and notices by state (notices_pending, notices_sent, notices_failed)."""
        out = {"pending": 0, "in_flight": 0, "done": 0, "dead": 0,
               "notices_pending": 0, "notices_sent": 0, "notices_failed": 0}
        # One read transaction for both parts, so the counts are one snapshot.
        with self._tx.read() as conn:
            out.update(event_counts(conn))
            out.update({f"notices_{state}": count
                        for state, count in notice_counts(conn).items()})
        return out

    # -- cursors (cursors.py) -------------------------------------------------------

    def get_cursor(self, name: str) -> str | None:
        return self.cursors.get_cursor(name)

    def set_cursor(self, name: str, value: str) -> None:
        self.cursors.set_cursor(name, value)

    # -- effect keys (effect_keys.py) -----------------------------------------------

    def remember(self, key: str, now: datetime) -> bool:
        return self.keys.remember(key, now)

    def forget(self, key: str) -> bool:
        return self.keys.forget(key)

    def seen(self, key: str) -> bool:
        return self.keys.seen(key)

    # -- notices (notices.py) -------------------------------------------------------

    def record_notice(self, key: str, channel: str, recipient: str, now: datetime, *,
                      payload: str | None = None,
                      in_flight: timedelta = timedelta(minutes=10)) -> bool:
        return self.notices.record_notice(key, channel, recipient, now,
                                          payload=payload, in_flight=in_flight)

    def mark_notice_sent(self, key: str, now: datetime) -> bool:
        return self.notices.mark_notice_sent(key, now)

    def notice_failed(self, key: str, error: str, next_attempt_at: datetime | None) -> bool:
        return self.notices.notice_failed(key, error, next_attempt_at)

    def release_notice(self, key: str, now: datetime) -> bool:
        return self.notices.release_notice(key, now)

    def due_notices(self, now: datetime, *, limit: int = 50,
                    lease: timedelta = timedelta(minutes=10)) -> list[DueNotice]:
        return self.notices.due_notices(now, limit=limit, lease=lease)

    def notice_state(self, key: str) -> str | None:
        return self.notices.notice_state(key)

    # -- leases (leases.py) ---------------------------------------------------------

    def try_lease(self, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
        return self.leases.try_lease(name, holder, now, ttl)

    def release(self, name: str, holder: str) -> bool:
        return self.leases.release(name, holder)

    def lease_holder(self, name: str, now: datetime) -> str | None:
        return self.leases.lease_holder(name, now)
