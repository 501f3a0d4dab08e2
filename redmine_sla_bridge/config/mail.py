"""The `mail` config section: the bridge reads the support mailbox itself (issue 17).

Example::

    mail:
      imap:
        host: imap.example.ru
        security: tls                 # tls (993) | starttls (143) | none (loopback only)
        username: ${IMAP_USERNAME}
        password: ${IMAP_PASSWORD}
        folder: INBOX
        processed_folder: INBOX.Processed
        poll_interval_seconds: 60
        idle: false                   # wait with IMAP IDLE between passes
        ca_file: /etc/ssl/imap-ca.pem # optional: the server's CA (default: the system's)
      project: support                # default: intake_api.project
      tracker: Support                # default: intake_api.tracker, else "Support"
      requester_login: customer-mail  # Redmine user whose notes count as the requester's
      requester_api_key: ${CUSTOMER_MAIL_API_KEY}  # optional: else X-Redmine-Switch-User
      max_message_bytes: 26214400
      attachment_max_bytes: 5242880   # Redmine's attachment_max_size (Administration)
      rate_limit: {messages: 10, per_seconds: 3600}
      own_addresses: [support@example.ru]  # besides notify.from_address

`mail --stdin` (an MTA pipe) needs no `imap`.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from redmine_sla_bridge.config.base import StrictModel
from redmine_sla_bridge.config.types import Text, is_loopback_host
from redmine_sla_bridge.domain.addresses import normalize_address

_DEFAULT_PORTS = {"tls": 993, "starttls": 143, "none": 143}


class ImapConfig(StrictModel):
    host: str = Field(min_length=1, description="IMAP server host name or IP address.")
    port: int | None = Field(default=None, ge=1, le=65535,
                             description="Default: 993 for tls, 143 for starttls and none.")
    security: Literal["tls", "starttls", "none"] = Field(
        default="tls", description="tls: IMAPS; starttls: upgrade a plain connection (refused "
        "if the server cannot); none: plain text, only to a server on this host.")
    username: str = Field(min_length=1, description="Login, e.g. ${IMAP_USERNAME}.")
    password: SecretStr = Field(description="Write it as ${IMAP_PASSWORD}.")
    folder: Text = Field(default="INBOX", description="The folder new mail arrives in.")
    processed_folder: Text = Field(
        default="INBOX.Processed", description="Where a message goes once its effect is "
        "durable (created if missing).")
    poll_interval_seconds: float = Field(default=60.0, ge=1, le=3600)
    idle: bool = Field(default=False, description="Wait with IMAP IDLE (when the server "
                       "supports it) instead of sleeping between passes.")
    timeout_seconds: float = Field(default=30.0, gt=0, le=300)
    batch_size: int = Field(default=50, ge=1, le=1000, description="Messages per pass.")
    lease_seconds: float = Field(
        default=120.0, ge=2, le=3600, description="How long a reader holds the folder "
        "against a second `mail` process (renewed per message); after a crash the next "
        "reader waits this long.")
    verify_tls: bool = Field(
        default=True, description="Verify the server's certificate and host name (against "
        "ca_file, else the system's trusted CAs). false only for a test server.")
    ca_file: str | None = Field(
        default=None, description="A PEM file of the CA (or the self-signed certificate) "
        "the server's certificate is checked against, instead of the system's trusted CAs.")

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        return value.strip()

    @field_validator("ca_file")
    @classmethod
    def _ca_file(cls, value: str | None) -> str | None:
        if value is None:
            return None
        path = Path(value).expanduser()
        if not path.is_file():
            raise ValueError(f"no such file: {value!r} (a PEM file of the IMAP server's CA)")
        try:
            ssl.create_default_context(cafile=str(path))
        except (OSError, ssl.SSLError) as exc:
            raise ValueError(f"{value!r} is not a readable PEM certificate file: {exc}") from None
        return str(path)

    @model_validator(mode="after")
    def _plain_only_locally(self) -> ImapConfig:
        if self.security == "none" and not is_loopback_host(self.host):
            raise ValueError(f"security: none sends the password in clear text; allowed only "
                             f"to a server on this host, not {self.host!r} (use tls or starttls)")
        if self.folder == self.processed_folder:
            raise ValueError("processed_folder must differ from folder")
        return self

    @property
    def effective_port(self) -> int:
        return self.port or _DEFAULT_PORTS[self.security]


class RateLimit(StrictModel):
    messages: int = Field(default=10, ge=1, le=1000)
    per_seconds: int = Field(default=3600, ge=60, le=7 * 86400)


class MailConfig(StrictModel):
    """The support mailbox the bridge reads (see docs/mail.md)."""

    imap: ImapConfig | None = Field(default=None, description="Needed by `mail` without --stdin.")
    project: Text | None = Field(default=None, description="Default: intake_api.project.")
    tracker: Text | None = Field(default=None, description="Default: intake_api.tracker, "
                                 "else Support.")
    requester_login: Text = Field(
        description="The Redmine user (e.g. customer-mail) a customer's emailed reply is "
        "posted as; the bridge counts its notes as the requester's. Posted with "
        "X-Redmine-Switch-User (the bridge's key must be an admin's) unless "
        "requester_api_key is given.")
    requester_api_key: SecretStr | None = Field(
        default=None, description="That user's own API key, as ${ENV}: then no admin key "
        "is needed.")
    max_message_bytes: int = Field(default=25 * 1024 * 1024, ge=1024, le=1024 ** 3)
    attachment_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024, le=1024 ** 3,
                                      description="Redmine's attachment_max_size.")
    rate_limit: RateLimit = Field(default_factory=RateLimit)
    own_addresses: list[Text] = Field(
        default_factory=list, description="The bridge's own addresses (notify.from_address "
        "is added): their mail is never processed.")

    @field_validator("own_addresses")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        return [normalize_address(v) for v in value]
