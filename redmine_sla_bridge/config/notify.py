"""The `notify` config section: customer notices by email (ID-10, BA-6).

Example::

    notify:
      enabled: true
      smtp:
        host: smtp.example.ru
        security: starttls            # starttls (port 587) | tls (465) | none (25)
        port: 587                     # optional: the default of the security mode
        username: ${SMTP_USERNAME}    # optional; secrets only as ${ENV} references
        password: ${SMTP_PASSWORD}
        timeout_seconds: 30
        ca_file: /etc/ssl/corp-ca.pem # optional: trust this CA instead of the system's
        helo_name: bridge.example.ru  # optional: the name sent in EHLO
      from_address: support@example.ru
      from_name: "Техподдержка ООО «Пример»"
      reply_to: support-in@example.ru # optional: the mailbox Redmine reads replies from
      max_attempts: 24                # about 3 hours of retries, then given up
      batch_size: 20                  # notices sent per delivery run

Without the section (or with `enabled: false`) nothing is emailed.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator

from redmine_sla_bridge.config.base import StrictModel
from redmine_sla_bridge.config.types import Text, is_loopback_host
from redmine_sla_bridge.domain.addresses import InvalidAddress, needs_smtputf8, normalize_address

_DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}


def _address(value: str | None) -> str | None:
    if value is None:
        return None
    address = normalize_address(value)
    if needs_smtputf8(address):
        # A customer's mailbox may need SMTPUTF8 (sent when the relay offers it); the
        # bridge's own address must not, or every notice depends on that extension.
        raise InvalidAddress("the bridge's own address must have only Latin letters "
                             "before the @")
    return address


class SmtpConfig(StrictModel):
    """The SMTP server the bridge sends customer emails through."""

    host: str = Field(min_length=1, description="SMTP server host name or IP address.")
    port: int | None = Field(default=None, ge=1, le=65535,
                             description="Default: 587 for starttls, 465 for tls, 25 for none.")
    security: Literal["starttls", "tls", "none"] = Field(
        default="starttls",
        description="starttls: upgrade a plain connection (refused if the server cannot); "
        "tls: TLS from the first byte; none: plain text, for a relay on this host only.",
    )
    username: str | None = Field(default=None, description="Login, e.g. ${SMTP_USERNAME}.")
    password: SecretStr | None = Field(
        default=None, description="Write it as an environment reference: ${SMTP_PASSWORD}."
    )
    timeout_seconds: float = Field(default=30.0, gt=0, le=300,
                                   description="Per network operation, not per message.")
    ca_file: Path | None = Field(
        default=None, description="PEM file of the CA(s) to trust instead of the system's "
        "(a relay with an internal CA). Relative to the config file.",
    )
    helo_name: str | None = Field(default=None,
                                  description="Name sent in EHLO; default: this host's FQDN.")

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        value = value.strip()
        bare = value[1:-1] if value.startswith("[") and value.endswith("]") else value
        try:
            return str(ipaddress.ip_address(bare))
        except ValueError:
            pass
        if not bare or any(ch.isspace() or ch in "/:@" for ch in bare):
            raise ValueError(
                f"expected a host name or IP address (the port goes in `port`), got {value!r}")
        return bare

    @field_validator("username", "helo_name", mode="before")
    @classmethod
    def _blank_is_none(cls, value):
        # `${SMTP_USERNAME:-}` substitutes to "": no login rather than an empty one.
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("password", mode="before")
    @classmethod
    def _blank_password_is_none(cls, value):
        return None if isinstance(value, str) and not value else value

    @field_validator("ca_file")
    @classmethod
    def _ca_file(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is None:
            return None
        base_dir = (info.context or {}).get("base_dir") or Path.cwd()
        path = value if value.is_absolute() else Path(base_dir) / value
        if not path.is_file():
            raise ValueError(f"CA file {str(path)!r} does not exist")
        return path

    @model_validator(mode="after")
    def _login(self) -> SmtpConfig:
        if (self.username is None) != (self.password is None):
            raise ValueError("give both smtp.username and smtp.password, or neither")
        if self.username is not None and self.security == "none" and not is_loopback_host(self.host):
            raise ValueError(
                "a password would travel in clear text: use security starttls or tls "
                "(security none with a login is only allowed for a relay on localhost)"
            )
        return self

    @property
    def effective_port(self) -> int:
        return self.port if self.port is not None else _DEFAULT_PORTS[self.security]


class NotifyConfig(StrictModel):
    """Emails to requesters who are not Redmine users (acknowledgement, rejection,
    auto-close and reopen-window notices). Sent after the Redmine update, retried apart."""

    enabled: bool = False
    smtp: SmtpConfig | None = None
    from_address: str | None = Field(default=None, description="Envelope sender and From.")
    from_name: Text = Field(default="", description="Display name in From, e.g. in Russian.")
    reply_to: str | None = Field(
        default=None, description="Where customer replies go, e.g. the mailbox Redmine "
        "receives email from; default: from_address."
    )
    max_attempts: int = Field(
        default=24, ge=1, le=1000,
        description="Tries before a notice is given up (24 is about 3 hours: the delay "
        "doubles from 5 s up to 10 min). A rejected address is given up at once.",
    )
    batch_size: int = Field(default=20, ge=1, le=500,
                            description="Notices sent per delivery run.")

    @field_validator("from_address", "reply_to")
    @classmethod
    def _addresses(cls, value: str | None) -> str | None:
        return _address(value)

    @model_validator(mode="after")
    def _complete_when_enabled(self) -> NotifyConfig:
        if self.enabled and (self.smtp is None or self.from_address is None):
            raise ValueError("notify.enabled needs notify.smtp and notify.from_address")
        return self
