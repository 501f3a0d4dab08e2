"""Fixtures for the store tests: every `store` test runs on SQLite (a temp file) and on a
real PostgreSQL (one local server per session, a fresh schema per test).

The server is our own cluster from `devtools.local_postgres` (installed and started when
missing, left running for the next session). Set STORE_TEST_POSTGRES_URL to use another
server instead, or STORE_TEST_PG_PORT to move the local one.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from redmine_sla_bridge.adapters.store import Store
from redmine_sla_bridge.devtools.local_postgres import DEFAULT_PORT, LocalPostgres


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = os.environ.get("STORE_TEST_POSTGRES_URL")
    if url:
        return url
    local = LocalPostgres(port=int(os.environ.get("STORE_TEST_PG_PORT", DEFAULT_PORT)))
    return local.start(log=print)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path) -> Iterator[str]:
    """A URL of an empty store location, one per test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite3'}"
        return
    base = request.getfixturevalue("postgres_url")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    # search_path via libpq options: every connection of the store lands in the schema.
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture()
def open_store(store_url) -> Iterator[Callable[[], Store]]:
    """Opens further Store instances on the same database (as another process would)."""
    opened: list[Store] = []

    def _open() -> Store:
        store = Store.from_url(store_url)
        opened.append(store)
        return store

    yield _open
    for store in opened:
        store.close()


@pytest.fixture()
def store(open_store) -> Store:
    return open_store()
