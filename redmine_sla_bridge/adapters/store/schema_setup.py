"""Creating the store's tables and checking the schema version they were written with."""

from __future__ import annotations

from sqlalchemy import inspect, select

from .schema import SCHEMA_VERSION, metadata, store_meta
from .transactions import PG_LOCK_SCHEMA, Transactions


class StoreSchemaError(RuntimeError):
    """The database holds a store schema this version cannot use."""


def ensure_schema(tx: Transactions) -> None:
    """Create missing tables and record or check the schema version."""
    with tx.write() as conn:
        # Several processes may start at once; serialise creation (SQLite already
        # is, by BEGIN IMMEDIATE) so that none sees a half-created schema.
        tx.pg_xact_lock(conn, PG_LOCK_SCHEMA)
        if inspect(conn).has_table(store_meta.name):
            found = conn.execute(select(store_meta.c.value).where(
                store_meta.c.key == "schema_version")).scalar_one_or_none()
            if found is not None and int(found) != SCHEMA_VERSION:
                newer = int(found) > SCHEMA_VERSION
                raise StoreSchemaError(
                    f"store schema version {found} is {'newer' if newer else 'older'} "
                    f"than this bridge's ({SCHEMA_VERSION}); "
                    + ("upgrade the bridge" if newer else "migrations are not "
                       "supported in v0.1: recreate the store (it holds no SLA state)")
                )
        metadata.create_all(conn)
        conn.execute(tx.insert(store_meta).values(
            key="schema_version", value=str(SCHEMA_VERSION)).on_conflict_do_nothing())


def schema_version(tx: Transactions) -> int | None:
    """The version recorded in `store_meta`, or None if none is (yet)."""
    with tx.read() as conn:
        value = conn.execute(select(store_meta.c.value).where(
            store_meta.c.key == "schema_version")).scalar_one_or_none()
    return None if value is None else int(value)
