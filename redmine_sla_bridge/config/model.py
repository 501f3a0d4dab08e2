"""The root of the bridge's YAML config; each section's model lives in its own module."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PrivateAttr, SecretStr, field_validator, model_validator

from redmine_sla_bridge.config.base import StrictModel
from redmine_sla_bridge.config.calendars import ALWAYS_OPEN, CalendarConfig, build_schedules
from redmine_sla_bridge.config.dashboard import DashboardConfig
from redmine_sla_bridge.config.entitlements import EntitlementsConfig
from redmine_sla_bridge.config.intake import IntakeConfig
from redmine_sla_bridge.config.lifecycle import LifecycleConfig
from redmine_sla_bridge.config.mail import MailConfig
from redmine_sla_bridge.config.notify import NotifyConfig
from redmine_sla_bridge.config.policy import PolicyConfig
from redmine_sla_bridge.config.provision import ProvisionConfig
from redmine_sla_bridge.config.sweep import SweepConfig
from redmine_sla_bridge.config.types import Text
from redmine_sla_bridge.domain.markup import TextFormatting


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
    timeout_seconds: float = Field(
        default=10.0, gt=0, le=300,
        description="To connect, and again to wait for an answer: an issue's GET or PUT "
        "(libcurl) takes at most twice this in all, any other call (requests) this per read.")
    retries: int = Field(default=3, ge=0, le=10, description="Retries of idempotent calls.")
    keep_alive: bool = Field(
        default=True,
        description="Reuse HTTP connections. Turn off against WEBrick (the local dev "
        "Redmine), where a kept-alive connection waits for a delayed ACK (measured here: ~53 ms "
        "a call kept alive, ~13 ms with a new connection).",
    )
    verify_tls: bool = True
    text_formatting: TextFormatting = Field(
        default="textile",
        description="Redmine's text formatting (Administration > Settings > General > Text "
        "formatting; `common_mark` is \"CommonMark Markdown\"). Values a customer sent are "
        "escaped for it wherever a note quotes them, so they show as text, never as links, "
        "images or macros. `textile` and `markdown` are escaped alike; notes written for "
        "`common_mark` show stray `<wbr>` tags under `textile`.",
    )

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


DEFAULT_FIELD_NAMES: dict[str, dict[str, str]] = {
    "en": {
        "tier": "SLA tier",
        "license_status": "License status",
        "sla_priority": "SLA priority",
        "sla_state": "SLA state",
        "first_response_due": "First response due",
        "resolution_due": "Resolution due",
        "first_response_at": "First response at",
        "first_response_day": "First response due (date)",
        "contact_name": "Contact name",
        "contact_email": "Contact email",
        "contact_phone": "Contact phone",
        "contact_position": "Contact position",
        "organization": "Organization",
        "inn": "INN",
        "product": "Product",
        "product_version": "Product version",
        "contract_number": "Contract number",
        "intake_key": "Intake key",
        "next_check": "Next SLA check",
        "sla_outcome": "SLA outcome",
        "impact": "Impact",
        "request_type": "Request type",
        "lead_decision": "Lead decision",
        "extension_reason": "Delay reason",
        "extended_due": "Agreed resolution due",
    },
    "ru": {
        "tier": "Уровень поддержки",
        "license_status": "Статус лицензии",
        "sla_priority": "Приоритет SLA",
        "sla_state": "Состояние SLA",
        "first_response_due": "Срок первого ответа",
        "resolution_due": "Срок решения",
        "first_response_at": "Первый ответ",
        "first_response_day": "Срок первого ответа (дата)",
        "contact_name": "Контактное лицо",
        "contact_email": "Email контакта",
        "contact_phone": "Телефон контакта",
        "contact_position": "Должность контакта",
        "organization": "Организация",
        "inn": "ИНН",
        "product": "Продукт",
        "product_version": "Версия продукта",
        "contract_number": "Номер договора",
        "intake_key": "Ключ обращения",
        "next_check": "Следующая проверка SLA",
        "sla_outcome": "Итог SLA",
        "impact": "Влияние",
        "request_type": "Тип обращения",
        "lead_decision": "Решение руководителя",
        "extension_reason": "Причина задержки",
        "extended_due": "Согласованный срок решения",
    },
}
"""The names `provision` gives the fields when `fields` leaves them out, by `language`."""


def _field_name(key: str):
    defaults = ", ".join(f"\"{names[key]}\" ({language})"
                         for language, names in DEFAULT_FIELD_NAMES.items())
    return Field(default=None, description=f"Default by language: {defaults}.")


class FieldNames(StrictModel):
    """Names of the Redmine custom fields the bridge provisions and fills.

    A name left out takes the default of the config's `language` (Russian names for
    `ru`). Renaming is allowed: `provision` finds each field by the marker in its
    description and renames it. At run time names are mapped to ids, so no id is ever
    written in the config.
    """

    tier: Text | None = _field_name("tier")
    license_status: Text | None = _field_name("license_status")
    sla_priority: Text | None = _field_name("sla_priority")
    sla_state: Text | None = _field_name("sla_state")
    first_response_due: Text | None = _field_name("first_response_due")
    resolution_due: Text | None = _field_name("resolution_due")
    first_response_at: Text | None = _field_name("first_response_at")
    first_response_day: Text | None = _field_name("first_response_day")
    contact_name: Text | None = _field_name("contact_name")
    contact_email: Text | None = _field_name("contact_email")
    contact_phone: Text | None = _field_name("contact_phone")
    contact_position: Text | None = _field_name("contact_position")
    organization: Text | None = _field_name("organization")
    inn: Text | None = _field_name("inn")
    product: Text | None = _field_name("product")
    product_version: Text | None = _field_name("product_version")
    contract_number: Text | None = _field_name("contract_number")
    intake_key: Text | None = _field_name("intake_key")
    next_check: Text | None = _field_name("next_check")
    sla_outcome: Text | None = _field_name("sla_outcome")
    impact: Text | None = _field_name("impact")
    request_type: Text | None = _field_name("request_type")
    lead_decision: Text | None = _field_name("lead_decision")
    extension_reason: Text | None = _field_name("extension_reason")
    extended_due: Text | None = _field_name("extended_due")

    @field_validator("*")
    @classmethod
    def _not_blank(cls, value: str | None) -> str:
        # Runs only on names the config gives: an empty `tier:` is an error, not a default.
        if value is None or not value.strip():
            raise ValueError("a field name cannot be empty")
        return value.strip()

    @model_validator(mode="after")
    def _distinct(self) -> FieldNames:
        by_name: dict[str, list[str]] = {}
        for key, name in self.model_dump().items():
            if name is not None:
                by_name.setdefault(name, []).append(key)
        same = [keys for keys in by_name.values() if len(keys) > 1]
        if same:
            raise ValueError("; ".join(
                f"{' and '.join(keys)} have the same name {getattr(self, keys[0])!r}"
                for keys in same) + ": Redmine needs a field of its own for each")
        return self


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
        from redmine_sla_bridge.config.notice_templates import check_notice_templates

        check_notice_templates(value)
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

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        from redmine_sla_bridge.config.store_url import check_store_url

        return check_store_url(value)


class BridgeConfig(StrictModel):
    """redmine-sla-bridge configuration (one file per deployment)."""

    language: Literal["ru", "en"] = Field(
        default="ru", description="Language of notes and emails to customers, and of the "
        "names `provision` gives the custom fields (unless `fields` names them), their list "
        "values and the saved queries (unless `field_language` says otherwise)."
    )
    field_language: Literal["ru", "en"] | None = Field(
        default=None, description="Language of the custom fields' default names, their list "
        "values as Redmine shows them and the saved queries, where the engineers' Redmine "
        "speaks another language than the customers (default: `language`). Changing it is a "
        "migration: run `provision`."
    )
    redmine: RedmineConfig
    scope: ScopeConfig = Field(default_factory=ScopeConfig)
    fields: FieldNames = Field(default_factory=FieldNames)
    provision: ProvisionConfig = Field(default_factory=ProvisionConfig)
    statuses: StatusNames = Field(default_factory=StatusNames)
    store: StoreConfig = Field(default_factory=StoreConfig)
    polling: PollingConfig = Field(default_factory=PollingConfig)
    webhooks: WebhooksConfig = Field(default_factory=WebhooksConfig)
    intake_api: IntakeApiConfig | None = None
    mail: MailConfig | None = Field(
        default=None, description="The support mailbox the bridge reads itself (`mail`).")
    sla: SlaConfig = Field(default_factory=SlaConfig)
    notify: NotifyConfig = Field(default_factory=NotifyConfig)
    dashboard: DashboardConfig = Field(default_factory=DashboardConfig)
    lifecycle: LifecycleConfig = Field(default_factory=LifecycleConfig)
    sweep: SweepConfig = Field(default_factory=SweepConfig)
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
    _load_info: object = PrivateAttr(default=None)  # config.loader.LoadInfo, set by the loader

    @model_validator(mode="before")
    @classmethod
    def _field_names_of_language(cls, data: Any) -> Any:
        # The names' defaults depend on `language`, which FieldNames alone cannot see.
        if not isinstance(data, dict):
            return data
        language = data.get("field_language") or data.get(
            "language", cls.model_fields["language"].default)
        if language not in DEFAULT_FIELD_NAMES:
            return data  # `language` itself reports the error
        names = data.get("fields")
        if isinstance(names, FieldNames):
            names = names.model_dump(exclude_none=True)
        if names is not None and not isinstance(names, dict):
            return data  # `fields` reports the error
        return {**data, "fields": {**DEFAULT_FIELD_NAMES[language], **(names or {})}}

    @property
    def redmine_language(self) -> str:
        """The language of what Redmine itself shows of the bridge: field names and values,
        saved queries."""
        return self.field_language or self.language

    @model_validator(mode="after")
    def _internal_fields_known(self) -> BridgeConfig:
        unknown = sorted(set(self.provision.internal_fields) - set(FieldNames.model_fields))
        if unknown:
            raise ValueError(f"provision.internal_fields names unknown field key(s) "
                             f"{', '.join(map(repr, unknown))} (keys: "
                             f"{', '.join(FieldNames.model_fields)})")
        return self

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
