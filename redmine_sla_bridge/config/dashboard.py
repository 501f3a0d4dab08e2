"""The `dashboard` config section: the SLA report served live at `/dashboard` by `serve`.

Example::

    dashboard:
      enabled: true
      token: ${DASHBOARD_TOKEN}        # Authorization: Bearer <token>, or ?token=<token>
      users:                           # HTTP basic; values are werkzeug password hashes
        lead: ${DASHBOARD_LEAD_HASH}
      cache_seconds: 120               # one report per period and filter for this long

Never open by default: without the section, or with `enabled: false`, `/dashboard`
answers 404; enabled, it needs a token or at least one user. A hash is made with
`python -c 'from werkzeug.security import generate_password_hash as g; print(g("..."))'`
(see docs/dashboard.md).
"""

from __future__ import annotations

import re

from pydantic import Field, SecretStr, field_validator, model_validator

from redmine_sla_bridge.config.base import ConfigValueError, StrictModel
from redmine_sla_bridge.config.types import Text

# What werkzeug.security's generate_password_hash writes: "method:params$salt$hex".
HASH = re.compile(r"(scrypt(:\d+){3}|pbkdf2:sha(256|512)(:\d+)?)\$[^$\s]+\$[0-9a-f]+")
MIN_TOKEN_LENGTH = 16


class DashboardConfig(StrictModel):
    """`GET /dashboard`: the SLA report of a period (query string `from`, `to`, `project`,
    `customer`; default: this month to date), behind a token or HTTP basic."""

    enabled: bool = Field(default=False, description="Serve `/dashboard` (404 otherwise).")
    token: SecretStr | None = Field(
        default=None, description="Bearer token (`Authorization: Bearer ...` or `?token=`), "
        f"at least {MIN_TOKEN_LENGTH} characters. Write it as ${{DASHBOARD_TOKEN}}.")
    users: dict[Text, SecretStr] = Field(
        default_factory=dict, description="HTTP basic users: login to a werkzeug password hash "
        "(`generate_password_hash`), e.g. ${DASHBOARD_LEAD_HASH}.")
    cache_seconds: int = Field(
        default=120, ge=0, le=3600,
        description="How long a computed report is served again for the same period and "
        "filters before Redmine is asked again (0: every request computes).")

    @field_validator("token")
    @classmethod
    def _long_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_TOKEN_LENGTH:
            raise ValueError(f"the token is shorter than {MIN_TOKEN_LENGTH} characters; "
                             "use a random one, e.g. `openssl rand -hex 24`")
        return value

    @field_validator("users")
    @classmethod
    def _hashes(cls, value: dict[str, SecretStr]) -> dict[str, SecretStr]:
        for login, secret in value.items():
            if ":" in login:
                raise ConfigValueError("a login cannot contain ':' (HTTP basic splits on it)",
                                       (login,))
            if not HASH.fullmatch(secret.get_secret_value()):
                raise ConfigValueError(
                    "expected a werkzeug password hash (scrypt:...$salt$hash or pbkdf2:...), "
                    "never the password itself: see docs/dashboard.md", (login,))
        return value

    @model_validator(mode="after")
    def _never_open(self) -> DashboardConfig:
        if self.enabled and self.token is None and not self.users:
            raise ValueError("an enabled dashboard needs `token` or `users`: it is never open")
        return self
