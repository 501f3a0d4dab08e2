"""What every use case works with: the rules, the settings, and the ports.

Typed and frozen: built once per process by the composition root
(`redmine_sla_bridge.bootstrap`), or by a unit test with fakes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from redmine_sla_bridge.domain.processing import ProcessingRules
from redmine_sla_bridge.service.ports import IssueRepository, Notifier, StorePort
from redmine_sla_bridge.service.settings import Settings

Clock = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Bridge:
    settings: Settings
    rules: ProcessingRules
    redmine: IssueRepository
    store: StorePort
    notifier: Notifier | None = None
    clock: Clock = utcnow
