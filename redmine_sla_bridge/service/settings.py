"""The service layer's settings: plain frozen values, built once from the config by the
composition root (`redmine_sla_bridge.bootstrap`), so no use case reads the config."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class IntakeApiSettings:
    token: str
    project: str  # identifier of the project new issues go to
    tracker: str


@dataclass(frozen=True)
class Settings:
    language: str = "en"
    polling_enabled: bool = True
    poll_interval_seconds: int = 60
    initial_lookback: dt.timedelta = dt.timedelta(hours=24)
    sweep_interval_seconds: int = 30  # bootstrap.sweep_interval: 300 without the fast pass
    sweep_fast: bool = True  # between full passes, read only the issues due (sweep.py)
    reconcile_cron: str = "30 2 * * *"  # the full pass, in the policy calendar's zone
    webhook_secret: str | None = None
    webhook_token: str | None = None
    max_body_bytes: int = 1_048_576
    intake_api: IntakeApiSettings | None = None
    store_url: str = ""
