"""One full pass of the bridge: poll, drain the inbox. `sync --once` and every scheduler
tick run this same code, so cron deployments and `serve` behave alike."""

from __future__ import annotations

from dataclasses import dataclass

from redmine_sla_bridge.service.inbox import DrainReport, drain
from redmine_sla_bridge.service.poll import PollReport, poll


@dataclass
class SyncReport:
    poll: PollReport | None
    drain: DrainReport


def sync_once(rt) -> SyncReport:
    polled = poll(rt) if rt.config.polling.enabled else None
    drained = drain(rt)
    return SyncReport(polled, drained)
