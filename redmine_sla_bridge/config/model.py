"""The root of the bridge's YAML config; each section's model lives in its own module."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, PrivateAttr, SecretStr, field_validator, model_validator

from redmine_sla_bridge.config.base import StrictModel
from redmine_sla_bridge.config.calendars import ALWAYS_OPEN, CalendarConfig, build_schedules
from redmine_sla_bridge.config.entitlements import EntitlementsConfig
from redmine_sla_bridge.config.intake import IntakeConfig
from redmine_sla_bridge.config.lifecycle import LifecycleConfig
from redmine_sla_bridge.config.notify import NotifyConfig
from redmine_sla_bridge.config.policy import PolicyConfig
from redmine_sla_bridge.config.types import Text


class AdminLogin(StrictModel):
    """A Redmine administrator, used only by `provision` (the REST API cannot create
    custom fields, so provisioning goes through Redmine's admin web forms)."""

    login: SecretStr
    password: SecretStr


class RedmineConfig(StrictModel):
    url: str = Field(description="Base URL of Redmine, e.g. https://redmine.example.com")
    api_key: SecretStr = Field(
        description="API key of the bridge's own Redmine user (a non-admin account is enough "
        "at run time). Write it as an environment reference: ${REDMINE_API_KEY}."
    )
    admin: AdminLogin | None = Field(
        default=None, description="Only for `provision`; leave out in production run time."
    )
    timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    retries: int = Field(default=3, ge=0, le=10, description="Retries of idempotent calls.")
    keep_alive: bool = Field(
        default=True,
        description="Reuse HTTP connections. Turn off against WEBrick (the local dev "
        "Redmine), where a kept-alive connection waits for a delayed ACK (measured here: ~53 ms "
        "a call kept alive, ~13 ms with a new connection).",
    )
    verify_tls: bool = True

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"expected an http:// or https:// URL, got {value!r}")
        return value


class ScopeConfig(StrictModel):
    """Which issues the bridge manages."""

    projects: Literal["all"] | list[Text] = Field(
        default="all", description='Project identifiers, or "all".'
    )
    trackers: list[Text] = Field(default_factory=lambda: ["Support"], min_length=1)


class FieldNames(StrictModel):
    """Names of the Redmine custom fields the bridge provisions and fills.

    Renaming is allowed (e.g. to Russian); at run time names are mapped to ids through
    `GET /custom_fields.json`, so no id is ever written in the config.
    """

    tier: Text = "SLA tier"
    license_status: Text = "License status"
    sla_priority: Text = "SLA priority"
    sla_state: Text = "SLA state"
    first_response_due: Text = "First response due"
    resolution_due: Text = "Resolution due"
    first_response_at: Text = "First response at"
    contact_name: Text = "Contact name"
    contact_email: Text = "Contact email"
    contact_phone: Text = "Contact phone"
    contact_position: Text = "Contact position"
    organization: Text = "Organization"
    inn: Text = "INN"
    product: Text = "Product"
    product_version: Text = "Product version"
    contract_number: Text = "Contract number"
    intake_key: Text = "Intake key"
    impact: Text = "Impact"
    request_type: Text = "Request type"

    @field_validator("*")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a field name cannot be empty")
        return value.strip()


class StatusNames(StrictModel):
    """Redmine status names the bridge moves issues to or reads pauses from."""

    rejected: Text = Field(default="Rejected", description="Where the intake gate sends refused requests.")
    closed: Text = "Closed"
    reopened: Text = Field(default="New", description="Where a reopened request goes.")
    paused: list[Text] = Field(
        default_factory=lambda: ["Feedback"],
        description="While an issue is in one of these, the SLA clock stops (waiting for the customer).",
    )
    done: list[Text] = Field(
        default_factory=lambda: ["Resolved", "Closed"],
        description="Entering one of these meets the resolution target.",
    )


class PollingConfig(StrictModel):
    """Polling works on any Redmine without a plugin; with webhooks it is the safety net."""

    enabled: bool = True
    interval_seconds: int = Field(default=60, ge=5, le=86400)
    initial_lookback_hours: float = Field(
        default=24, ge=0,
        description="On the very first poll (no cursor yet), pick up issues updated this "
        "long ago; older issues are left alone.",
    )

    @property
    def initial_lookback(self) -> timedelta:
        return timedelta(hours=self.initial_lookback_hours)


class WebhooksConfig(StrictModel):
    """`POST /webhooks/redmine`. Redmine 7 native webhooks are signed with `secret`
    (HMAC-SHA256); the suer/redmine_webhook plugin cannot sign, so its URL carries
    `?token=<token>` (or the X-Bridge-Token header)."""

    secret: SecretStr | None = None
    token: SecretStr | None = None
    max_body_bytes: int = Field(default=1_048_576, ge=1024, le=64 * 1_048_576)


class IntakeApiConfig(StrictModel):
    """`POST /api/v1/requests`: the "request from the product's web interface" channel."""

    token: SecretStr = Field(description="Bearer token clients must send.")
    project: Text = Field(description="Identifier of the project new issues go to.")
    tracker: Text = "Support"


class SlaConfig(StrictModel):
    at_risk_share: float = Field(
        default=0.75, gt=0, lt=1,
        description="A target is at risk once this share of its working time is used.",
    )


class NoticesConfig(StrictModel):
    templates: dict[Literal["ru", "en"], dict[Text, Text]] = Field(
        default_factory=dict,
        description="Overrides of the acknowledgement and lifecycle texts, per language "
        "(keys: see redmine_sla_bridge.domain.notices.DEFAULTS).",
    )

    @field_validator("templates")
    @classmethod
    def _known_keys(cls, value):
        from redmine_sla_bridge.domain.notices import DEFAULTS

        for language, overrides in value.items():
            unknown = sorted(set(overrides) - set(DEFAULTS[language]))
            if unknown:
                raise ValueError(f"unknown template keys for {language}: {', '.join(unknown)}")
        return value


class StoreConfig(StrictModel):
    url: str = Field(
        default="sqlite:///bridge.sqlite3",
        description="SQLAlchemy URL of the bridge's own store (inbox, cursors, dedupe keys, "
        "notices, locks). A relative sqlite path is relative to the config file.",
    )
    sqlite_synchronous: Literal["full", "normal"] = Field(
        default="full",
        description="SQLite only: when a commit is on disk. `full` (default): every accepted "
        "webhook is fsynced before the 202, so not even a power cut loses it. `normal`: "
        "survives a killed or crashed bridge but not a power cut or kernel crash, which "
        "can lose the last commits, which then only polling finds again. It accepts more "
        "webhooks a second (figures in docs/PERFORMANCE.md); keep `full` unless you need "
        "that and polling is on.",
    )


class BridgeConfig(StrictModel):
    """redmine-sla-bridge configuration (one file per deployment)."""

    language: Literal["ru", "en"] = Field(
        default="ru", description="Language of notes and emails to customers."
    )
    redmine: RedmineConfig
    scope: ScopeConfig = Field(default_factory=ScopeConfig)
    fields: FieldNames = Field(default_factory=FieldNames)
    statuses: StatusNames = Field(default_factory=StatusNames)
    store: StoreConfig = Field(default_factory=StoreConfig)
    polling: PollingConfig = Field(default_factory=PollingConfig)
    webhooks: WebhooksConfig = Field(default_factory=WebhooksConfig)
    intake_api: IntakeApiConfig | None = None
    sla: SlaConfig = Field(default_factory=SlaConfig)
    notify: NotifyConfig = Field(default_factory=NotifyConfig)
    lifecycle: LifecycleConfig = Field(default_factory=LifecycleConfig)
    notices: NoticesConfig = Field(default_factory=NoticesConfig)
    calendars: dict[Text, CalendarConfig] = Field(
        default_factory=dict,
        description='Working calendars by name; "24x7" (always open) is built in.',
    )
    intake: IntakeConfig = Field(default_factory=IntakeConfig)
    policy: PolicyConfig
    entitlements: EntitlementsConfig = Field(
        default_factory=EntitlementsConfig,
        description="AR-9: what licenses, products and tiers give access to, listed in the "
        "acknowledgement.")

    _base_dir: Path | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _calendars_exist(self) -> BridgeConfig:
        known = set(self.calendars) | {ALWAYS_OPEN}
        used = self.policy.referenced_calendars() | self.lifecycle.referenced_calendars()
        missing = sorted(used - known)
        if missing:
            raise ValueError(
                f"policy or lifecycle use calendar(s) {', '.join(map(repr, missing))} that `calendars` "
                f"does not define (defined: {', '.join(sorted(known))})"
            )
        return self

    @model_validator(mode="after")
    def _entitlements_known(self) -> BridgeConfig:
        kinds = set(self.policy.known_license_kinds())
        unknown = sorted(set(self.entitlements.by_license) - kinds)
        if unknown:
            raise ValueError(f"entitlements.by_license names unknown license kind(s) "
                             f"{', '.join(map(repr, unknown))} (known: {', '.join(sorted(kinds))})")
        tiers = set(self.policy.tier_names())
        unknown = sorted(set(self.entitlements.by_tier) - tiers)
        if unknown:
            raise ValueError(f"entitlements.by_tier names unknown tier(s) "
                             f"{', '.join(map(repr, unknown))} (tiers: {', '.join(sorted(tiers))})")
        return self

    @property
    def base_dir(self) -> Path:
        """The folder of the config file: relative paths in the config start here."""
        return self._base_dir or Path.cwd()

    def warnings(self, today: date) -> list[str]:
        """What works but an admin should know: calendars used beyond their official data
        (deadlines run up to a year ahead, so this year and the next are checked)."""
        out: list[str] = []
        for name, schedule in build_schedules(self.calendars, self.policy.calendar).items():
            if name in self.calendars:
                gaps = schedule.data_gaps(today.year, today.year + 1)
                out += [f"calendars.{name}: {gap}" for gap in gaps]
        return out
