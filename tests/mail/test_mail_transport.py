"""The IMAP transport against the private Dovecot: IMAPS and STARTTLS with a
self-signed certificate checked through `imap.ca_file`, and IDLE (a message delivered
while the reader idles is processed at once, not at the next poll)."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import threading
from pathlib import Path

import pytest
from imapclient import IMAPClient
from pydantic import ValidationError

from redmine_sla_bridge.adapters.mail.imap import ImapMailbox, MailboxUnavailable
from redmine_sla_bridge.adapters.mail.reader import MailReader
from redmine_sla_bridge.adapters.store import Store
from redmine_sla_bridge.config.mail import ImapConfig
from tests.mail import samples
from tests.mail.dovecot import IMAP_PASSWORD, IMAP_USER, Dovecot, self_signed

WAIT = 60.0  # seconds: an upper bound for a loaded machine, never a sleep


@pytest.fixture()
def tls_dovecot():
    root = Path(tempfile.mkdtemp(prefix="dovecot-tls-"))
    server = Dovecot(root, tls=self_signed(root)).start()
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


def _imap(server: Dovecot, **settings) -> ImapConfig:
    return ImapConfig.model_validate({"host": "127.0.0.1", "username": IMAP_USER,
                                      "password": IMAP_PASSWORD, **settings})


def _deliver(server: Dovecot, raw: bytes) -> None:
    client = IMAPClient("127.0.0.1", port=server.port, ssl=False)
    client.login(IMAP_USER, IMAP_PASSWORD)
    client.append("INBOX", raw)
    client.logout()


def _read_all(mailbox: ImapMailbox) -> list[bytes]:
    mailbox.open()
    try:
        out = []
        for listed in mailbox.list(10):
            raw = mailbox.fetch(listed.uid)
            assert raw is not None
            out.append(raw)
            mailbox.done(listed.uid)
        return out
    finally:
        mailbox.close()


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_tls_with_the_servers_certificate_as_ca_file(tls_dovecot, security):
    raw = samples.html_only("tls@example.ru", samples.mid())
    _deliver(tls_dovecot, raw)
    cert = tls_dovecot.tls[0]
    port = tls_dovecot.imaps_port if security == "tls" else tls_dovecot.port
    mailbox = ImapMailbox(_imap(tls_dovecot, port=port, security=security, ca_file=str(cert)))
    got = _read_all(mailbox)
    assert [g.replace(b"\r\n", b"\n") for g in got] == [raw.replace(b"\r\n", b"\n")]
    assert _read_all(mailbox) == []  # moved to the processed folder


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_an_untrusted_certificate_is_refused(tls_dovecot, security):
    port = tls_dovecot.imaps_port if security == "tls" else tls_dovecot.port
    mailbox = ImapMailbox(_imap(tls_dovecot, port=port, security=security))
    with pytest.raises(MailboxUnavailable, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify"):
        mailbox.open()


def test_a_missing_ca_file_is_a_config_error_naming_the_field(tmp_path):
    with pytest.raises(ValidationError) as caught:
        _imap(None, ca_file=str(tmp_path / "nope.pem"))  # type: ignore[arg-type]
    (error,) = caught.value.errors()
    assert error["loc"] == ("ca_file",) and "no such file" in error["msg"]
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate")
    with pytest.raises(ValidationError, match="not a readable PEM certificate"):
        _imap(None, ca_file=str(bad))  # type: ignore[arg-type]


class _Watched(ImapMailbox):
    """Tells the test when the server has accepted IDLE (its "+ idling" answer)."""

    def __init__(self, config: ImapConfig, idling: threading.Event) -> None:
        super().__init__(config)
        self.idling = idling

    def wait(self, seconds, stop=None):
        client = self.client
        original = client.idle

        def idle():
            answer = original()
            self.idling.set()
            return answer

        client.idle = idle
        try:
            return super().wait(seconds, stop)
        finally:
            client.idle = original


def test_idle_processes_a_message_delivered_while_waiting_before_the_poll_interval(
        dovecot, tmp_path):
    # An hour between polls: only IDLE can bring the message in within the test.
    config = _imap(dovecot, port=dovecot.port, security="none", idle=True,
                   poll_interval_seconds=3600, lease_seconds=30)
    idling, handled, stop = threading.Event(), threading.Event(), threading.Event()
    seen: list[str | None] = []

    def handle(mail):
        seen.append(mail.message_id)
        handled.set()
        return "filed"

    store = Store.from_url(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    reader = MailReader(handle, store, lambda: dt.datetime.now(dt.UTC), imap=config,
                        max_message_bytes=1 << 20, mailbox=_Watched(config, idling))
    thread = threading.Thread(target=reader.run, args=(stop,), daemon=True)
    thread.start()
    try:
        assert idling.wait(WAIT), "the reader never entered IDLE"
        message_id = samples.mid()
        _deliver(dovecot, samples.html_only("idle@example.ru", message_id))
        assert handled.wait(WAIT), "the message was not processed while idling"
        assert [m.strip("<>") for m in seen if m] == [message_id.strip("<>")]
    finally:
        stop.set()
        thread.join(WAIT)
    assert not thread.is_alive(), "stop did not end the IDLE wait"
    store.close()
