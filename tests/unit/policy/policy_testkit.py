"""Builders shared by the policy tests (not a conftest: plain imports stay explicit)."""

from __future__ import annotations

import datetime as dt
import textwrap

import yaml

from redmine_sla_bridge.config.policy import PolicyConfig
from redmine_sla_bridge.domain.calendar.duration import Duration, WorkingDays, WorkingMinutes
from redmine_sla_bridge.domain.policy import ContractTerms, Customer, DemoPeriod, License, Policy

TODAY = dt.date(2025, 6, 16)  # a Monday; every test injects it, nothing reads the clock


def days(n: int) -> dt.date:
    """TODAY shifted by n days (negative = in the past)."""
    return TODAY + dt.timedelta(days=n)


def lic(
    kind: str,
    starts: int,
    expires: int | None = None,
    product: str | None = None,
    contract: ContractTerms | None = None,
) -> License:
    """A license with dates given as day offsets from TODAY."""
    return License(
        kind, days(starts), None if expires is None else days(expires), product, contract
    )


def demo(starts: int, ends: int, product: str | None = None) -> DemoPeriod:
    return DemoPeriod(days(starts), days(ends), product)


def customer(
    *licenses: License, partner: bool = False, demos: tuple[DemoPeriod, ...] = ()
) -> Customer:
    return Customer("7701234567", "ООО Тест", partner=partner, licenses=licenses, demos=demos)


def config_from_yaml(text: str) -> PolicyConfig:
    return PolicyConfig.model_validate(yaml.safe_load(textwrap.dedent(text)))


def policy_from_yaml(text: str) -> Policy:
    return config_from_yaml(text).to_domain()


class WallClock:
    """A trivial 24x7 schedule: working time is wall time, a working day is 24 h."""

    def add(self, start: dt.datetime, duration: Duration) -> dt.datetime:
        if isinstance(duration, WorkingDays):
            return start + dt.timedelta(days=duration.days)
        assert isinstance(duration, WorkingMinutes)
        return start + dt.timedelta(minutes=duration.minutes)


class RecordingSchedule:
    """Answers a fixed moment and remembers what it was asked, to see which calendar ran."""

    def __init__(self, answer: dt.datetime) -> None:
        self.answer = answer
        self.calls: list[tuple[dt.datetime, Duration]] = []

    def add(self, start: dt.datetime, duration: Duration) -> dt.datetime:
        self.calls.append((start, duration))
        return self.answer
