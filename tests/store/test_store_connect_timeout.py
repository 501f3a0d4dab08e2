"""A PostgreSQL server that accepts connections and never answers must not hang the
bridge: the connection attempt fails (and the event stays in the inbox) instead."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from redmine_sla_bridge.adapters.store.engine import DEFAULT_PG_CONNECT_TIMEOUT_S, build_engine


@pytest.fixture()
def silent_server():
    """A listening socket nobody accepts on: the kernel completes the TCP handshake,
    then nothing ever answers libpq's startup packet (a hung host)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


def test_a_silent_server_fails_the_connection_instead_of_hanging(silent_server):
    engine = build_engine(
        f"postgresql+psycopg://bridge@127.0.0.1:{silent_server}/bridge?connect_timeout=1")
    with pytest.raises(OperationalError, match="timeout"), engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def test_the_default_timeout_applies_unless_the_url_sets_one():
    assert _connect_params("postgresql+psycopg://bridge@127.0.0.1:1/bridge")[
        "connect_timeout"] == DEFAULT_PG_CONNECT_TIMEOUT_S
    assert _connect_params("postgresql+psycopg://bridge@127.0.0.1:1/bridge?connect_timeout=3")[
        "connect_timeout"] == "3"


class _Stop(Exception):
    pass


def _connect_params(url: str) -> dict:
    """The keyword arguments the driver would be called with (SQLAlchemy's do_connect
    event sees them just before connecting; the test stops there)."""
    engine = build_engine(url)
    seen: dict = {}

    @event.listens_for(engine, "do_connect")
    def _capture(_dialect, _record, _cargs, cparams):
        seen.update(cparams)
        raise _Stop

    with pytest.raises(_Stop):
        engine.connect()
    return seen
