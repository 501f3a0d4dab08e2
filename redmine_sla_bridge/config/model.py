"""The root of the bridge's YAML config; each section's model lives in its own module."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator

from redmine_sla_bridge.config.base import StrictModel
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
        "Redmine), where a kept-alive connection waits for a delayed ACK (~70 ms a call).",
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
    contact_name: Text = "Contact name"
    contact_email: Text = "Contact email"
    contact_phone: Text = "Contact phone"
    contact_position: Text = "Contact position"
    organization: Text = "Organization"
    inn: Text = "INN"
    product: Text = "Product"
    product_version: Text = "Product version"
    contract_number: Text = "Contract number"
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

    rejected: Text = "Rejected"
    closed: Text = "Closed"
    reopened: Text = "New"
    paused: list[Text] = Field(default_factory=lambda: ["Feedback"])


class StoreConfig(StrictModel):
    url: str = Field(
        default="sqlite:///bridge.sqlite3",
        description="SQLAlchemy URL of the bridge's own store (inbox, cursors, dedupe keys, "
        "notices, locks). A relative sqlite path is relative to the config file.",
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
    policy: PolicyConfig
