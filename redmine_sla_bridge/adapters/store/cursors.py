"""Cursors: each source's position (e.g. the last journal polled), by name."""

from __future__ import annotations

from sqlalchemy import select

from .schema import cursors
from .transactions import Transactions


class Cursors:
    def __init__(self, tx: Transactions) -> None:
        self._tx = tx

    def get_cursor(self, name: str) -> str | None:
        with self._tx.read() as conn:
            value: str | None = conn.execute(
                select(cursors.c.value).where(cursors.c.name == name)).scalar_one_or_none()
        return value

    def set_cursor(self, name: str, value: str) -> None:
        stmt = self._tx.insert(cursors).values(name=name, value=value)
        stmt = stmt.on_conflict_do_update(index_elements=[cursors.c.name],
                                          set_={"value": stmt.excluded.value})
        with self._tx.write() as conn:
            conn.execute(stmt)
