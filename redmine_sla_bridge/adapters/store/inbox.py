"""The event inbox: events to process, deduplicated on the way in, leased to workers,
retried with backoff, and kept as dead letters when given up on."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, RowMapping, delete, func, select, update

from redmine_sla_bridge.telemetry import metrics

from .group_commit import GroupCommit
from .inbox_claim import candidate, claimable, issue_heads_due
from .inbox_insert import InboxInsert
from .records import ClaimedEvent, DeadLetter, InboxEvent, require_aware
from .schema import DEAD, DONE, PENDING, inbox_events
from .transactions import PG_LOCK_CLAIM, Transactions


class Inbox:
    def __init__(self, tx: Transactions) -> None:
        self._tx = tx
        self._sqlite = tx.backend == "sqlite"
        self._inbox_insert = InboxInsert(tx.engine.dialect)
        self._enqueue_group: GroupCommit[Any, bool] = GroupCommit(
            self._insert_rows_locked,
            lock=tx.write_lock if self._sqlite else None,
            on_batch=metrics.INBOX_COMMIT_EVENTS.observe)

    def enqueue(self, event: InboxEvent) -> bool:
        """Store an event unless it is a duplicate; True if stored, False if duplicate.

        Dedupe rule: an event is a duplicate of a stored one (done, pending or dead) when
          - it has a delivery_id and (source, delivery_id) matches, or
          - it has a journal_id and (issue_id, journal_id) matches, whatever the source:
            the same Redmine change seen by a webhook and by polling is one event.
        An event with neither is always stored. Duplicates are detected by unique
        constraints (atomic across processes), so nothing about a duplicate is stored.
        The dedupe memory lasts as long as the row: `purge_done` ends it, so keep done
        events longer than any source's redelivery window or polling overlap.
        """
        # Concurrent callers (request threads) share one transaction: see group_commit.
        return self._enqueue_group.submit(self._inbox_insert.row(event))

    def enqueue_many(self, events: Iterable[InboxEvent]) -> list[bool]:
        """`enqueue` for a batch in one transaction (one fsync); a result per event."""
        rows = [self._inbox_insert.row(event) for event in events]
        if self._sqlite:
            with self._tx.write_lock:
                return self._insert_rows_locked(rows)
        return self._insert_rows_locked(rows)

    def _insert_rows_locked(self, rows: list[Any]) -> list[bool]:
        """Insert rows in one transaction; on SQLite the caller holds the write lock."""
        if self._sqlite:
            return self._inbox_insert.write_sqlite(self._tx.engine, rows)
        with self._tx.write() as conn:
            return self._inbox_insert.execute(conn, rows)

    def claim(self, now: datetime, limit: int, lease_seconds: float,
              worker: str) -> list[ClaimedEvent]:
        """Lease up to `limit` due events to `worker` until now + lease_seconds.

        Due: pending, next_attempt_at <= now, and no live lease (a lease whose
        lease_until <= now has expired, so a crashed worker's event comes back).
        Per-issue order: only the oldest pending event of an issue (by received_at, then
        id) can be claimed, and only while no other event of that issue is leased. So
        events of one issue are processed one at a time, in order; an event waiting for
        its retry holds back the later events of its issue (not other issues).
        Results are ordered by received_at. Two workers never hold the same event.
        """
        require_aware(now, "now")
        if limit <= 0:
            return []
        until = now + timedelta(seconds=lease_seconds)
        if not self._sqlite:
            with self._tx.write() as conn:
                # The per-issue rule reads other rows than the ones it locks, which row
                # locks alone cannot protect (two claimers could pick different events
                # of one issue). Claims are short, so serialise them; SKIP LOCKED still
                # keeps a claim from waiting on rows another transaction is updating.
                self._tx.pg_xact_lock(conn, PG_LOCK_CLAIM)
                candidates = claimable(now).limit(limit).with_for_update(
                    skip_locked=True, of=candidate)
                return _lease(conn, list(conn.execute(candidates).scalars()), worker, until)
        # SQLite has one write lock for everything: finding the candidates can mean
        # reading the whole backlog, so it happens in a read transaction (WAL: writers
        # go on meanwhile), and the write transaction only re-checks those few rows.
        for _ in range(3):
            with self._tx.read() as conn:
                found = list(conn.execute(issue_heads_due(now, limit)).scalars())
            if not found:
                return []
            with self._tx.write() as conn:
                ids = list(conn.execute(
                    claimable(now).where(candidate.c.id.in_(found))).scalars())
                if ids:
                    return _lease(conn, ids, worker, until)
            # Every candidate was taken or overtaken meanwhile: look again.
        return []

    def complete(self, event_id: int, worker: str, now: datetime) -> bool:
        """Mark a claimed event done. False if `worker` no longer holds it (its lease
        expired and another worker claimed it): the caller's work was a duplicate."""
        require_aware(now, "now")
        return self._update_held(event_id, worker, state=DONE, finished_at=now,
                                 lease_owner=None, lease_until=None)

    def retry(self, event_id: int, worker: str, now: datetime, error: str,
              delay: timedelta) -> bool:
        """Release a claimed event for another try at now + delay (see `backoff`),
        counting the failure. False if `worker` no longer holds it."""
        require_aware(now, "now")
        return self._update_held(event_id, worker, attempts=inbox_events.c.attempts + 1,
                                 next_attempt_at=now + delay, last_error=error,
                                 lease_owner=None, lease_until=None)

    def postpone(self, event_ids: list[int], worker: str, until: datetime,
                 note: str) -> int:
        """Release claimed events that were not tried (e.g. Redmine went down before their
        turn) until `until`, without counting a failure; one transaction for all. Returns
        how many `worker` still held."""
        require_aware(until, "until")
        if not event_ids:
            return 0
        with self._tx.write() as conn:
            return conn.execute(
                update(inbox_events)
                .where(inbox_events.c.id.in_(event_ids),
                       inbox_events.c.state == PENDING,
                       inbox_events.c.lease_owner == worker)
                .values(next_attempt_at=until, last_error=note,
                        lease_owner=None, lease_until=None)
            ).rowcount

    def dead(self, event_id: int, worker: str, reason: str, now: datetime) -> bool:
        """Give up on a claimed event: it moves to the dead letters with the reason and
        no longer holds back its issue. False if `worker` no longer holds it."""
        require_aware(now, "now")
        return self._update_held(event_id, worker, state=DEAD, dead_reason=reason,
                                 finished_at=now, lease_owner=None, lease_until=None)

    def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        """Dead events, oldest first."""
        with self._tx.read() as conn:
            rows = conn.execute(
                select(inbox_events).where(inbox_events.c.state == DEAD)
                .order_by(inbox_events.c.id).limit(limit)
            ).mappings().all()
        return [_dead_letter(row) for row in rows]

    def requeue_dead(self, event_id: int, now: datetime) -> bool:
        """Put a dead event back in the queue, due at `now`, with fresh attempt counts
        (the last error is kept). False if it is not dead."""
        require_aware(now, "now")
        with self._tx.write() as conn:
            result = conn.execute(
                update(inbox_events)
                .where(inbox_events.c.id == event_id, inbox_events.c.state == DEAD)
                .values(state=PENDING, next_attempt_at=now, attempts=0, claims=0,
                        dead_reason=None, finished_at=None,
                        lease_owner=None, lease_until=None)
            )
        return result.rowcount == 1

    def release_dead_workers(self, now: datetime) -> dict[str, int]:
        """Release the live leases held by workers of this machine that are gone, so
        their events can be claimed at once instead of when the lease lapses (a restart
        after kill -9, an OOM kill, a gunicorn worker replaced after a crash).

        A worker named `host:pid:start:pidns` (service.inbox.worker_name) is gone when
        `host` is this host and `pidns` this PID namespace, and its pid either does not
        exist or belongs to a process started at another time (the pid was reused).
        Any other name (another host or container, a name in another format) is left
        alone: its leases lapse as usual. The events keep their attempt counts; their
        `last_error` says whose lease was released. Returns events released by worker.
        """
        require_aware(now, "now")
        with self._tx.read() as conn:
            owners = conn.execute(
                select(inbox_events.c.lease_owner).distinct()
                .where(inbox_events.c.state == PENDING,
                       inbox_events.c.lease_owner.is_not(None),
                       inbox_events.c.lease_until > now)
            ).scalars().all()
        here = _this_machine()
        gone = [owner for owner in owners if owner is not None and _is_gone(owner, here)]
        released: dict[str, int] = {}
        if not gone:
            return released
        with self._tx.write() as conn:
            for owner in gone:
                count = conn.execute(
                    update(inbox_events)
                    .where(inbox_events.c.state == PENDING,
                           inbox_events.c.lease_owner == owner)
                    .values(lease_owner=None, lease_until=None,
                            last_error=f"lease released: worker {owner} is gone")
                ).rowcount
                if count:
                    released[owner] = count
        return released

    def pending_count(self) -> int:
        """Events not yet done or dead (in flight and waiting for a retry included)."""
        with self._tx.read() as conn:
            count: int = conn.execute(select(func.count()).select_from(inbox_events)
                                      .where(inbox_events.c.state == PENDING)).scalar_one()
        return count

    def purge_done(self, older_than: datetime) -> int:
        """Delete done events finished before `older_than`; returns how many. This also
        ends their dedupe memory (see `enqueue`). Dead events are kept until requeued."""
        require_aware(older_than, "older_than")
        with self._tx.write() as conn:
            result = conn.execute(delete(inbox_events).where(
                inbox_events.c.state == DONE, inbox_events.c.finished_at < older_than))
        return result.rowcount

    def _update_held(self, event_id: int, worker: str, **values: Any) -> bool:
        """Update an event only while `worker` holds its lease. An expired lease still
        counts until someone else claims the event: the work was done by the holder."""
        with self._tx.write() as conn:
            return conn.execute(
                update(inbox_events)
                .where(inbox_events.c.id == event_id,
                       inbox_events.c.state == PENDING,
                       inbox_events.c.lease_owner == worker)
                .values(**values)
            ).rowcount == 1


def event_counts(conn: Connection) -> dict[str, int]:
    """Events by state, plus "in_flight" (pending with a lease, live or expired), in the
    caller's transaction (states without events are absent)."""
    counts: dict[str, int] = {}
    for state, count in conn.execute(
        select(inbox_events.c.state, func.count()).group_by(inbox_events.c.state)
    ):
        counts[state] = count
    counts["in_flight"] = conn.execute(
        select(func.count()).select_from(inbox_events).where(
            inbox_events.c.state == PENDING, inbox_events.c.lease_owner.is_not(None))
    ).scalar_one()
    return counts


# -- which workers are gone (names made by service.inbox.worker_name) ------------------

def _this_machine() -> tuple[str, int | None]:
    return socket.gethostname(), pid_namespace()


def pid_namespace() -> int | None:
    """The inode number of this process's PID namespace (/proc/self/ns/pid), or None."""
    try:
        link = os.readlink("/proc/self/ns/pid")  # "pid:[4026531836]"
    except OSError:
        return None
    digits = link.partition("[")[2].rstrip("]")
    return int(digits) if digits.isdigit() else None


def _process_stat(pid: int) -> tuple[bytes, int] | None:
    """(state, start time in clock ticks since boot) of process `pid`, from fields 3 and
    22 of /proc/<pid>/stat; None if it does not exist or /proc cannot tell."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            text = stat.read()
    except OSError:
        return None
    # Field 2 (the command) is in parentheses and may hold spaces or parentheses itself.
    fields = text[text.rfind(b")") + 2:].split()
    try:
        return fields[0], int(fields[22 - 3])
    except (IndexError, ValueError):
        return None


def _is_gone(worker: str, here: tuple[str, int | None]) -> bool:
    """Whether the worker named `worker` is a dead process of this host (see
    `Inbox.release_dead_workers`); False whenever that cannot be known for sure."""
    parts = worker.rsplit(":", 3)
    if len(parts) != 4 or not all(part.isdigit() for part in parts[1:]):
        return False
    host, pid, start, namespace = parts[0], int(parts[1]), int(parts[2]), int(parts[3])
    if here[1] is None or (host, namespace) != here or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # it exists, under another user: compare its start time
    except OSError:
        return False
    stat = _process_stat(pid)
    if stat is None:
        return False  # gone just now, or unreadable: the next look will tell
    state, started = stat
    # A reused pid has another start time. A zombie (Z) has exited and waits for its
    # parent to reap it.
    return started != start or state in (b"Z", b"X")


def _lease(conn: Connection, ids: list[int], worker: str,
           until: datetime) -> list[ClaimedEvent]:
    if not ids:
        return []
    conn.execute(
        update(inbox_events)
        .where(inbox_events.c.id.in_(ids))
        .values(lease_owner=worker, lease_until=until, claims=inbox_events.c.claims + 1)
    )
    rows = conn.execute(
        select(inbox_events)
        .where(inbox_events.c.id.in_(ids))
        .order_by(inbox_events.c.received_at, inbox_events.c.id)
    ).mappings().all()
    return [_claimed(row) for row in rows]


def _claimed(row: RowMapping) -> ClaimedEvent:
    return ClaimedEvent(
        id=row["id"], source=row["source"], delivery_id=row["delivery_id"],
        issue_id=row["issue_id"], journal_id=row["journal_id"],
        received_at=row["received_at"], payload=row["payload"], attempts=row["attempts"],
        claims=row["claims"], lease_owner=row["lease_owner"],
        lease_until=row["lease_until"], last_error=row["last_error"],
    )


def _dead_letter(row: RowMapping) -> DeadLetter:
    return DeadLetter(
        id=row["id"], source=row["source"], delivery_id=row["delivery_id"],
        issue_id=row["issue_id"], journal_id=row["journal_id"],
        received_at=row["received_at"], payload=row["payload"], attempts=row["attempts"],
        reason=row["dead_reason"] or "", last_error=row["last_error"],
        died_at=row["finished_at"],
    )
