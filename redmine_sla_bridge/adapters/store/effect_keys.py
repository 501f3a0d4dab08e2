"""Effect keys: which side effects (an acknowledgement, a comment ...) were already caused,
so that processing an event twice does not cause them twice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select

from .records import require_aware
from .schema import effect_keys
from .transactions import Transactions, wrote_row


class EffectKeys:
    def __init__(self, tx: Transactions) -> None:
        self._tx = tx

    def remember(self, key: str, now: datetime) -> bool:
        """Remember an effect key (e.g. "ack:issue:123"); True if it was new. Atomic:
        of several processes remembering one key, exactly one gets True."""
        require_aware(now, "now")
        stmt = self._tx.insert(effect_keys).values(key=key, remembered_at=now)
        with self._tx.write() as conn:
            return wrote_row(conn, stmt.on_conflict_do_nothing().returning(effect_keys.c.key))

    def forget(self, key: str) -> bool:
        """Forget an effect key (e.g. the effect failed and must be redone)."""
        with self._tx.write() as conn:
            return conn.execute(delete(effect_keys).where(effect_keys.c.key == key)
                                ).rowcount == 1

    def seen(self, key: str) -> bool:
        with self._tx.read() as conn:
            return conn.execute(select(effect_keys.c.key).where(effect_keys.c.key == key)
                                ).first() is not None
