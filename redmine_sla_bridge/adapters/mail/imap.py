"""The IMAP side of the support mailbox (imapclient): list, fetch, move.

A message is fetched with BODY.PEEK (it stays unseen) and leaves the inbox folder only
through `done`, which the reader calls once the message's effect is durable: MOVE when
the server has it (RFC 6851), else COPY, \\Deleted and EXPUNGE (UID EXPUNGE with UIDPLUS).
"""

from __future__ import annotations

import contextlib
import logging
import ssl
import threading
import time
from dataclasses import dataclass

from imapclient import IMAPClient  # type: ignore[import-untyped]
from imapclient.exceptions import IMAPClientError  # type: ignore[import-untyped]

from redmine_sla_bridge.config.mail import ImapConfig

log = logging.getLogger(__name__)

DELETED = b"\\Deleted"
IDLE_SLICE = 1.0
"""Seconds of one IDLE listen: how soon a stop request ends an IDLE wait."""


class MailboxUnavailable(Exception):
    """The IMAP server cannot be used now (down, TLS, login, folder)."""


@dataclass(frozen=True)
class Listed:
    uid: int
    size: int


class ImapMailbox:
    def __init__(self, config: ImapConfig, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self.config = config
        self._ssl_context = ssl_context
        self._client: IMAPClient | None = None

    def _context(self) -> ssl.SSLContext:
        if self._ssl_context is not None:
            return self._ssl_context
        # The certificate and host name are checked against ca_file, else the system's CAs.
        context = ssl.create_default_context(cafile=self.config.ca_file)
        if not self.config.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def open(self) -> None:
        config = self.config
        try:
            client = IMAPClient(config.host, port=config.effective_port,
                                ssl=config.security == "tls",
                                ssl_context=self._context() if config.security == "tls" else None,
                                timeout=config.timeout_seconds)
            if config.security == "starttls":
                client.starttls(self._context())
            client.login(config.username, config.password.get_secret_value())
            for folder in (config.processed_folder,):
                if not client.folder_exists(folder):
                    client.create_folder(folder)
            client.select_folder(config.folder)
        except (IMAPClientError, OSError, ssl.SSLError) as exc:
            raise MailboxUnavailable(f"IMAP {config.host}:{config.effective_port}: {exc}") from exc
        self._client = client

    @property
    def client(self) -> IMAPClient:
        if self._client is None:
            self.open()
        assert self._client is not None
        return self._client

    def close(self) -> None:
        if self._client is not None:
            with contextlib.suppress(IMAPClientError, OSError):
                self._client.logout()
            self._client = None

    def list(self, limit: int) -> list[Listed]:
        """The oldest `limit` messages of the folder not marked deleted, with sizes."""
        client = self.client
        client.select_folder(self.config.folder)  # a fresh view: mail delivered meanwhile
        uids = sorted(client.search(["NOT", "DELETED"]))[:limit]
        if not uids:
            return []
        sizes = client.fetch(uids, ["RFC822.SIZE"])
        return [Listed(uid, int(sizes[uid][b"RFC822.SIZE"])) for uid in uids if uid in sizes]

    def fetch(self, uid: int, *, header_only: bool = False) -> bytes | None:
        item = b"BODY[HEADER]" if header_only else b"BODY[]"
        found = self.client.fetch([uid], ["BODY.PEEK[HEADER]" if header_only else "BODY.PEEK[]"])
        data = found.get(uid, {}).get(item)
        return bytes(data) if data is not None else None

    def done(self, uid: int) -> None:
        client = self.client
        target = self.config.processed_folder
        if client.has_capability("MOVE"):
            client.move([uid], target)
            return
        client.copy([uid], target)
        client.add_flags([uid], [DELETED], silent=True)
        if client.has_capability("UIDPLUS"):
            client.uid_expunge([uid])
        else:
            client.expunge()

    def wait(self, seconds: float, stop: threading.Event | None = None) -> bool:
        """IDLE up to `seconds` (when configured and supported) or until the server
        reports a change; True if it waited. The server is listened to in slices of
        `IDLE_SLICE` seconds, so a `stop` set meanwhile ends the wait promptly."""
        client = self.client
        if not (self.config.idle and client.has_capability("IDLE")):
            return False
        deadline = time.monotonic() + seconds
        client.idle()
        try:
            while not (stop is not None and stop.is_set()):
                left = deadline - time.monotonic()
                if left <= 0 or client.idle_check(timeout=min(left, IDLE_SLICE)):
                    break
        finally:
            client.idle_done()
        return True
