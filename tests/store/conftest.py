"""Fixtures for the store tests: every `store` test runs on SQLite (a temp file) and on a
real PostgreSQL (one local server per session, a fresh schema per test).

The server is our own cluster from `devtools.local_postgres` (installed and started when
missing, left running for the next session). Set STORE_TEST_POSTGRES_URL to use another
server instead, or STORE_TEST_PG_PORT to move the local one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from redmine_sla_bridge.adapters.store import Store
from tests.conftest import postgres_schema


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path) -> Iterator[str]:
    """A URL of an empty store location, one per test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite3'}"
        return
    with postgres_schema(request.getfixturevalue("postgres_url")) as url:
        yield url


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
