"""Fixtures for the notifier tests: a real SMTP server (aiosmtpd on a loopback port, in a
thread), a real SQLite store, and a self-signed certificate for the TLS modes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from notify_testing import SENDER, Certificate, SmtpServer, free_port, plain_transport

from redmine_sla_bridge.adapters.notify import Notifier
from redmine_sla_bridge.adapters.store import Store
from tests.tls_testing import self_signed


@pytest.fixture()
def start_server() -> Iterator:
    """Start SmtpServer(s) with Controller options; all are stopped after the test."""
    servers: list[SmtpServer] = []

    def _start(**options: Any) -> SmtpServer:
        server = SmtpServer(free_port(), **options).start()
        servers.append(server)
        return server

    yield _start
    for server in servers:
        server.stop()


@pytest.fixture()
def smtp_server(start_server) -> SmtpServer:
    return start_server()


@pytest.fixture()
def store(tmp_path) -> Iterator[Store]:
    with Store.from_url("sqlite:///" + str(tmp_path / "store.sqlite3")) as opened:
        yield opened


@pytest.fixture()
def make_notifier(store):
    """A Notifier on the test store, sending to `server` in plain SMTP by default."""

    def _make(server: SmtpServer, *, max_attempts: int = 24, notice_store: Any = None,
              **transport: Any) -> Notifier:
        return Notifier(notice_store or store, plain_transport(server, **transport), SENDER,
                        max_attempts=max_attempts)

    return _make


@pytest.fixture(scope="session")
def certificate(tmp_path_factory) -> Certificate:
    """A self-signed certificate for 127.0.0.1 and localhost (openssl CLI)."""
    return self_signed(tmp_path_factory.mktemp("tls"))
