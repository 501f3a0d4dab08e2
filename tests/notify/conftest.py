"""Fixtures for the notifier tests: a real SMTP server (aiosmtpd on a loopback port, in a
thread), a real SQLite store, and a self-signed certificate for the TLS modes."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from notify_testing import SENDER, Certificate, SmtpServer, free_port, plain_transport

from redmine_sla_bridge.adapters.notify import Notifier
from redmine_sla_bridge.adapters.store import Store


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
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    return Certificate(cert, key)
