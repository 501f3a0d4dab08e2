"""Leases: named, expiring locks across processes and replicas (e.g. the scheduler's
leadership)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, delete, or_, select

from .records import require_aware
from .schema import leases
from .transactions import Transactions, wrote_row


class Leases:
    def __init__(self, tx: Transactions) -> None:
        self._tx = tx

    def try_lease(self, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
        """Acquire or renew the lease `name` for `holder` until now + ttl.

        True if `holder` now holds it: it was free, expired (expires_at <= now), or
        already held by `holder` (renewal). One atomic upsert, so of two contenders
        exactly one wins. Holders must renew well within ttl; a holder that cannot
        renew must assume it lost the lease.
        """
        require_aware(now, "now")
        stmt = self._tx.insert(leases).values(name=name, holder=holder, acquired_at=now,
                                              expires_at=now + ttl)
        upsert = stmt.on_conflict_do_update(
            index_elements=[leases.c.name],
            set_={
                "holder": stmt.excluded.holder,
                "expires_at": stmt.excluded.expires_at,
                # A renewal keeps the original acquisition time (useful in status output).
                "acquired_at": case((leases.c.holder == stmt.excluded.holder,
                                     leases.c.acquired_at),
                                    else_=stmt.excluded.acquired_at),
            },
            where=or_(leases.c.holder == stmt.excluded.holder, leases.c.expires_at <= now),
        ).returning(leases.c.holder)
        with self._tx.write() as conn:
            return wrote_row(conn, upsert)

    def release(self, name: str, holder: str) -> bool:
        """Give the lease up if `holder` holds it; False otherwise."""
        with self._tx.write() as conn:
            return conn.execute(delete(leases).where(leases.c.name == name,
                                                     leases.c.holder == holder)
                                ).rowcount == 1

    def lease_holder(self, name: str, now: datetime) -> str | None:
        """Who holds the lease at `now`, or None if nobody (free or expired)."""
        require_aware(now, "now")
        with self._tx.read() as conn:
            holder: str | None = conn.execute(select(leases.c.holder).where(
                leases.c.name == name, leases.c.expires_at > now)).scalar_one_or_none()
        return holder
