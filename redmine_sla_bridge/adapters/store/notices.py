"""Notices: messages to people (e-mail, chat ...), recorded before they are sent so that
each is sent once, and retried until delivered or given up on."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select, update

from .records import DueNotice, require_aware
from .schema import NOTICE_FAILED, NOTICE_PENDING, NOTICE_SENT, notices
from .transactions import Transactions, wrote_row


class Notices:
    def __init__(self, tx: Transactions) -> None:
        self._tx = tx

    def record_notice(self, key: str, channel: str, recipient: str, now: datetime, *,
                      payload: str | None = None,
                      in_flight: timedelta = timedelta(minutes=10)) -> bool:
        """Record that a notice is about to be sent; True means "new: send it now".

        Exactly one caller per key gets True. It must then call `mark_notice_sent` or
        `notice_failed`. If it dies first, the notice becomes due for a retry at
        now + in_flight (so a crash can at worst repeat one message, never lose it).
        `payload` is kept for a retry that needs the rendered message.
        """
        require_aware(now, "now")
        stmt = self._tx.insert(notices).values(
            key=key, channel=channel, recipient=recipient, payload=payload,
            state=NOTICE_PENDING, attempts=0, recorded_at=now,
            next_attempt_at=now + in_flight,
        ).on_conflict_do_nothing().returning(notices.c.key)
        with self._tx.write() as conn:
            return wrote_row(conn, stmt)

    def mark_notice_sent(self, key: str, now: datetime) -> bool:
        """The notice was delivered; it is never due again. False if not pending."""
        require_aware(now, "now")
        with self._tx.write() as conn:
            return conn.execute(
                update(notices)
                .where(notices.c.key == key, notices.c.state == NOTICE_PENDING)
                .values(state=NOTICE_SENT, sent_at=now, next_attempt_at=None)
            ).rowcount == 1

    def release_notice(self, key: str, now: datetime) -> bool:
        """A notice recorded on hold (its first attempt in the future) is due now.
        False if it is not pending, or due already."""
        require_aware(now, "now")
        with self._tx.write() as conn:
            return conn.execute(
                update(notices)
                .where(notices.c.key == key, notices.c.state == NOTICE_PENDING,
                       notices.c.attempts == 0, notices.c.next_attempt_at > now)
                .values(next_attempt_at=now)
            ).rowcount == 1

    def notice_failed(self, key: str, error: str, next_attempt_at: datetime | None) -> bool:
        """Sending failed: retry at `next_attempt_at`, or give up when it is None.
        False if the notice is not pending (e.g. already sent by another attempt)."""
        values: dict[str, Any] = {"attempts": notices.c.attempts + 1, "last_error": error,
                                  "next_attempt_at": next_attempt_at}
        if next_attempt_at is None:
            values["state"] = NOTICE_FAILED
        else:
            require_aware(next_attempt_at, "next_attempt_at")
        with self._tx.write() as conn:
            return conn.execute(
                update(notices)
                .where(notices.c.key == key, notices.c.state == NOTICE_PENDING)
                .values(**values)
            ).rowcount == 1

    def due_notices(self, now: datetime, *, limit: int = 50,
                    lease: timedelta = timedelta(minutes=10)) -> list[DueNotice]:
        """Take the notices due for a (re)send at `now`, oldest first.

        Taking them pushes their next_attempt_at to now + lease, so a concurrent caller
        does not get the same notices (no double send); the taker must report each one
        with `mark_notice_sent` or `notice_failed`, or it comes back after the lease.
        """
        require_aware(now, "now")
        due = (
            select(notices.c.key)
            .where(notices.c.state == NOTICE_PENDING, notices.c.next_attempt_at <= now)
            .order_by(notices.c.next_attempt_at, notices.c.key)
            .limit(limit)
        )
        if self._tx.is_postgresql:
            due = due.with_for_update(skip_locked=True)
        with self._tx.write() as conn:
            keys = list(conn.execute(due).scalars())
            if not keys:
                return []
            conn.execute(update(notices).where(notices.c.key.in_(keys))
                         .values(next_attempt_at=now + lease))
            rows = conn.execute(select(notices).where(notices.c.key.in_(keys))
                                .order_by(notices.c.recorded_at, notices.c.key)
                                ).mappings().all()
        return [DueNotice(key=r["key"], channel=r["channel"], recipient=r["recipient"],
                          payload=r["payload"], attempts=r["attempts"],
                          last_error=r["last_error"]) for r in rows]

    def notice_state(self, key: str) -> str | None:
        """"pending", "sent", "failed", or None if never recorded."""
        with self._tx.read() as conn:
            state: str | None = conn.execute(
                select(notices.c.state).where(notices.c.key == key)).scalar_one_or_none()
        return state


def notice_counts(conn: Connection) -> dict[str, int]:
    """Notices by state, in the caller's transaction (states without notices are absent)."""
    counts: dict[str, int] = {}
    for state, count in conn.execute(
        select(notices.c.state, func.count()).group_by(notices.c.state)
    ):
        counts[state] = count
    return counts
