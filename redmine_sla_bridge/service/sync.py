"""One full pass of the bridge: poll, drain the inbox, sweep (SLA states by time,
escalation, auto-close), send due mail. `sync --once` runs this; `serve` runs the same
steps as scheduled jobs, so cron deployments and `serve` behave alike."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from redmine_sla_bridge.service.bridge import Bridge
from redmine_sla_bridge.service.inbox import DrainReport, drain, reclaim_dead_workers
from redmine_sla_bridge.service.poll import PollReport, poll
from redmine_sla_bridge.service.sweep import SweepReport, sweep

PURGE_AFTER = dt.timedelta(days=30)
"""Done inbox rows are kept this long (for audit and dedupe of late repeats)."""


@dataclass
class SyncReport:
    poll: PollReport | None
    drain: DrainReport
    sweep: SweepReport | None = None
    mail: object | None = None


def sync_once(bridge: Bridge) -> SyncReport:
    # Events a crashed `serve` or `sync` of this host still holds are due at once.
    reclaim_dead_workers(bridge)
    polled = poll(bridge) if bridge.settings.polling_enabled else None
    drained = drain(bridge)
    swept = sweep(bridge)
    # Mail goes out after Redmine is updated and apart from it: an SMTP outage delays
    # notices, never the issue.
    mail = bridge.notifier.deliver_due(bridge.clock()) if bridge.notifier is not None else None
    bridge.store.purge_done(bridge.clock() - PURGE_AFTER)
    return SyncReport(polled, drained, swept, mail)
