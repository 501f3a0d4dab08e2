"""One full pass of the bridge: poll, drain the inbox, sweep (SLA states by time,
escalation, auto-close), send due mail. `sync --once` runs this; `serve` runs the same
steps as scheduled jobs, so cron deployments and `serve` behave alike."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from redmine_sla_bridge.service.inbox import DrainReport, drain
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


def sync_once(rt) -> SyncReport:
    polled = poll(rt) if rt.config.polling.enabled else None
    drained = drain(rt)
    swept = sweep(rt)
    # Mail goes out after Redmine is updated and apart from it: an SMTP outage delays
    # notices, never the issue.
    mail = rt.notifier.deliver_due(rt.clock()) if rt.notifier is not None else None
    rt.store.purge_done(rt.clock() - PURGE_AFTER)
    return SyncReport(polled, drained, swept, mail)
