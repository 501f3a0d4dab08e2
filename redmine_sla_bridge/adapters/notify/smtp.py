"""Sending through an SMTP server with `smtplib`: TLS modes, auth, timeouts, and every
failure classified for the retry policy (see `SmtpFailure`).

The password is read from its SecretStr only inside `login`, and smtplib's debug output
(which would print the base64 AUTH line) is never switched on.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import TYPE_CHECKING, Literal

from pydantic import SecretStr

if TYPE_CHECKING:
    from redmine_sla_bridge.config.notify import SmtpConfig

Security = Literal["starttls", "tls", "none"]
_SECURITY_MODES = ("starttls", "tls", "none")

# RFC 3463 enhanced status codes that condemn the address itself: 5.1.x (bad mailbox,
# bad domain, bad syntax, no MX) and 5.2.1 (mailbox disabled). Any other 5xx (relay
# denied 5.7.1, sender refused, content refused, auth) is usually our relay's or our
# config's problem, which an admin can fix while the notice waits for its next try.
_BAD_ADDRESS_STATUS = re.compile(r"^5\.(1\.\d{1,3}|2\.1)\b")
_ENHANCED_STATUS = re.compile(r"^[245]\.\d{1,3}\.\d{1,3}\b")
_MAX_REASON = 300


class SmtpFailure(Exception):
    """A send that did not go through.

    permanent: the address is undeliverable; retrying cannot help (give up now).
    session_broken: the connection is unusable (unreachable, TLS, auth, 421, dropped);
        the other notices of the batch would fail the same way, so stop the batch.
    """

    def __init__(self, reason: str, *, permanent: bool = False, session_broken: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.session_broken = session_broken


@dataclass(frozen=True)
class SmtpTransport:
    """Where and how to connect. Build it from config with `from_config`.

    ssl_context: the TLS trust settings; by default the system CAs with host name
    checking (a relay with an internal CA: give `ca_file` in the config).
    """

    host: str
    port: int
    security: Security = "starttls"
    username: str | None = None
    password: SecretStr | str | None = field(default=None, repr=False)
    timeout_seconds: float = 30.0
    helo_name: str | None = None
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.password, str):
            object.__setattr__(self, "password", SecretStr(self.password))
        if self.security not in _SECURITY_MODES:
            raise ValueError(f"unknown SMTP security {self.security!r}")
        if (self.username is None) != (self.password is None):
            raise ValueError("SMTP username and password go together")

    @classmethod
    def from_config(cls, config: SmtpConfig) -> SmtpTransport:
        context = None
        if config.ca_file is not None:
            context = ssl.create_default_context(cafile=str(config.ca_file))
        return cls(host=config.host, port=config.effective_port, security=config.security,
                   username=config.username, password=config.password,
                   timeout_seconds=config.timeout_seconds, helo_name=config.helo_name,
                   ssl_context=context)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def open(self) -> SmtpSession:
        """Connect, secure and log in; SmtpFailure(session_broken=True) if any step fails."""
        context = self.ssl_context or ssl.create_default_context()
        client: smtplib.SMTP | None = None
        try:
            if self.security == "tls":
                client = smtplib.SMTP_SSL(self.host, self.port, local_hostname=self.helo_name,
                                          timeout=self.timeout_seconds, context=context)
            else:
                client = smtplib.SMTP(self.host, self.port, local_hostname=self.helo_name,
                                      timeout=self.timeout_seconds)
            client.ehlo()
            if self.security == "starttls":
                # Raises SMTPNotSupportedError when not offered: never fall back to
                # plain text, or the password and the customer's data go out in clear.
                client.starttls(context=context)
                client.ehlo()
            if self.username is not None and isinstance(self.password, SecretStr):
                self._login(client, self.username, self.password)
        except (smtplib.SMTPException, OSError) as exc:
            if client is not None:
                _close_quietly(client)
            raise _connection_failure(exc, self.address) from None
        return SmtpSession(client, self.address)

    def _login(self, client: smtplib.SMTP, username: str, password: SecretStr) -> None:
        try:
            client.login(username, password.get_secret_value())
        except UnicodeError:
            # smtplib encodes AUTH as ASCII. The codec's own message is left out on
            # purpose: it quotes the offending character of the secret.
            raise smtplib.SMTPException(
                "login impossible: non-ASCII username or password") from None

    @contextmanager
    def session(self) -> Iterator[SmtpSession]:
        """`open()` as a context manager that always closes the connection."""
        opened = self.open()
        try:
            yield opened
        finally:
            opened.close()


class SmtpSession:
    """One open, authenticated connection; send several messages, then `close`."""

    def __init__(self, client: smtplib.SMTP, address: str):
        self._client = client
        self._address = address

    def send(self, message: EmailMessage, envelope_from: str, recipient: str) -> None:
        """Hand the message to the server for `recipient` alone; SmtpFailure if refused."""
        try:
            self._client.send_message(message, from_addr=envelope_from, to_addrs=[recipient])
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            raise _refusal("recipient refused", code, text, recipient=True) from None
        except smtplib.SMTPSenderRefused as exc:
            raise _refusal("sender refused", exc.smtp_code, exc.smtp_error) from None
        except smtplib.SMTPDataError as exc:
            raise _refusal("message refused", exc.smtp_code, exc.smtp_error) from None
        except smtplib.SMTPNotSupportedError:
            # Raised before MAIL FROM, so the session is intact: only this recipient,
            # whose mailbox name is not ASCII, cannot be reached through this relay.
            raise SmtpFailure("the SMTP server does not offer SMTPUTF8, which an address "
                              "with non-Latin letters before the @ needs",
                              permanent=True) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise SmtpFailure(_shorten(f"connection to {self._address} lost: {_describe(exc)}"),
                              session_broken=True) from None

    def close(self) -> None:
        _close_quietly(self._client)


def _refusal(what: str, code: int, text: bytes | str, *, recipient: bool = False) -> SmtpFailure:
    reply = _reply_text(text)
    enhanced = _ENHANCED_STATUS.match(reply)
    permanent = (recipient and code >= 500 and enhanced is not None
                 and _BAD_ADDRESS_STATUS.match(enhanced.group(0)) is not None)
    # 421: the server is closing the connection (smtplib has closed it already).
    return SmtpFailure(_shorten(f"{what}: {code} {reply}"), permanent=permanent,
                       session_broken=code == 421)


def _connection_failure(exc: BaseException, address: str) -> SmtpFailure:
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        reason = f"login to {address} refused: {exc.smtp_code} {_reply_text(exc.smtp_error)}"
    elif isinstance(exc, smtplib.SMTPNotSupportedError):
        reason = f"{address}: {exc}"  # names the missing extension (STARTTLS or AUTH)
    elif isinstance(exc, ssl.SSLError):
        reason = f"TLS with {address} failed: {getattr(exc, 'verify_message', None) or exc}"
    elif type(exc) is smtplib.SMTPException:
        # Ours (see `_login`) or smtplib's, e.g. "No suitable authentication method".
        reason = f"cannot use {address}: {exc}"
    else:
        reason = f"cannot use {address}: {_describe(exc)}"
    return SmtpFailure(_shorten(reason), session_broken=True)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_reply_text(exc.smtp_error)}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _reply_text(text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return " ".join(str(text).split())


def _shorten(reason: str) -> str:
    return reason if len(reason) <= _MAX_REASON else reason[: _MAX_REASON - 1] + "…"


def _close_quietly(client: smtplib.SMTP) -> None:
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()

