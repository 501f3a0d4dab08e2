"""Test helpers for the notifier: an SMTP server that records or refuses, and constants.

The handler keeps every accepted message and can be told to refuse (a reply per stage),
so tests drive temporary and permanent failures the way a real relay reports them.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from redmine_sla_bridge.adapters.notify import Sender, SmtpTransport
from tests.tls_testing import Certificate  # noqa: F401  (the notifier tests import it here)

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
SMTP_LOGIN = "bridge"
SMTP_PASSWORD = "s3cr3t-never-logged-42"


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.raw, policy=policy.default)  # type: ignore[return-value]

    def decoded_header(self, name: str) -> str:
        """A header decoded by the RFC 2047 rules (`email.header`), not by the address
        parser of policy.default, which keeps the space between two encoded words that
        a fold put inside one word ("Приме р")."""
        raw = message_from_bytes(self.raw, policy=policy.compat32)[name]
        return str(make_header(decode_header(raw)))


@dataclass
class RecordingHandler:
    """aiosmtpd handler: accepts and records, unless a refusal is set for a stage."""

    received: list[Received] = field(default_factory=list)
    rcpt_replies: dict[str, str] = field(default_factory=dict)  # address (or "*") -> reply
    data_reply: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.rcpt_replies.get(address) or self.rcpt_replies.get("*")
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_reply:
            return self.data_reply
        with self.lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                          envelope.original_content))
        return "250 2.0.0 Message accepted for delivery"


class SmtpServer:
    """An aiosmtpd server that tests can stop and start again on the same port.

    with_auth=True: AUTH is required (over plain text too, as a local test server may
    do), and only SMTP_LOGIN / SMTP_PASSWORD is accepted. Other options go to Controller.
    """

    def __init__(self, port: int, *, with_auth: bool = False, **controller_options: Any):
        self.host = "127.0.0.1"
        self.port = port
        self.handler = RecordingHandler()
        self.logins: list[tuple[Any, str]] = []  # (client peer, login) per AUTH command
        self._options = dict(controller_options)
        if with_auth:
            self._options.setdefault("auth_require_tls", False)
            self._options.update(authenticator=self._authenticate, auth_required=True)
        self._controller: Controller | None = None

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    @property
    def login_connections(self) -> int:
        """Connections that tried to log in (smtplib tries PLAIN, then LOGIN, on one)."""
        return len({peer for peer, _ in self.logins})

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        self.logins.append((session.peer, login))
        # handled=False: aiosmtpd then answers "535 5.7.8" itself (True means "already
        # answered", and the client would wait for a reply that never comes).
        return AuthResult(success=(login, password) == (SMTP_LOGIN, SMTP_PASSWORD),
                          handled=False)

    def start(self) -> SmtpServer:
        self._controller = Controller(self.handler, hostname=self.host, port=self.port,
                                      **self._options)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


SENDER = Sender("support@example.ru", "Техподдержка ООО «Пример»",
                reply_to="support-in@example.ru")


def plain_transport(server: SmtpServer, **overrides: Any) -> SmtpTransport:
    options: dict[str, Any] = dict(host=server.host, port=server.port, security="none",
                                   timeout_seconds=5.0, helo_name="bridge.test")
    options.update(overrides)
    return SmtpTransport(**options)


def later(**delta: float) -> datetime:
    return T0 + timedelta(**delta)
