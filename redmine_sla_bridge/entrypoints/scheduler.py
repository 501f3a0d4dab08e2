"""Periodic jobs (APScheduler 3) and the inbox drainer of a serving process.

Every process of a deployment (each gunicorn worker, each replica) runs a scheduler,
but a job body runs only in the process holding the leader lease in the shared store:
APScheduler 3's own job stores must never be shared between schedulers, so the lease,
not APScheduler, decides who acts. Jobs are idempotent anyway (state lives in Redmine),
so a lease lost mid-job costs at most one repeated read.

The inbox drainer is different: claims are safe across processes, so every process
drains, woken at once by its own webhook handler (low latency) and every few seconds.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from redmine_sla_bridge.service.bridge import Bridge
from redmine_sla_bridge.service.inbox import drain, reclaim_dead_workers
from redmine_sla_bridge.service.poll import poll
from redmine_sla_bridge.service.sweep import sweep
from redmine_sla_bridge.service.sync import PURGE_AFTER

log = logging.getLogger(__name__)

LEADER_LEASE = "scheduler-leader"
FULL_PASS_GAP = dt.timedelta(seconds=300)
"""When a fast pass had to read every open issue (Redmine has no "Next SLA check" field
yet: before `provision`), the next passes wait this long, not the fast interval: full
passes every 30 s would keep a big Redmine busy all the time."""


class LeaderJobs:
    """The periodic jobs of a deployment, each run only by the lease holder."""

    def __init__(self, rt: Bridge, holder: str | None = None,
                 on_enqueue: Callable[[], None] | None = None) -> None:
        self.rt = rt
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.on_enqueue = on_enqueue
        settings = rt.settings
        # A fast pass never runs beside the full one: both would write the same changes.
        self._sweeping = threading.Lock()
        self._next_full_fallback: dt.datetime | None = None
        self.jobs: dict[str, tuple[Callable[[], object], float]] = {
            "sweep": (self._fast_sweep, settings.sweep_interval_seconds),
            "notify": (lambda: rt.notifier.deliver_due(rt.clock()) if rt.notifier else None, 30),
            "purge": (lambda: rt.store.purge_done(rt.clock() - PURGE_AFTER), 86400),
        }
        if settings.polling_enabled:
            self.jobs["poll"] = (self._poll, settings.poll_interval_seconds)
        # The lease outlives a few missed beats of the most frequent job, no more.
        self.lease_ttl = dt.timedelta(seconds=3 * min(interval for _, interval in self.jobs.values()))
        # Jobs on a calendar (crontab in the regulation's zone), not an interval.
        self.cron_jobs: dict[str, tuple[Callable[[], object], CronTrigger]] = {}
        if settings.sweep_fast:
            self.cron_jobs["reconcile"] = (self._full_sweep, CronTrigger.from_crontab(
                settings.reconcile_cron, timezone=rt.rules.timezone))

    def _fast_sweep(self) -> object:
        now = self.rt.clock()
        if self._next_full_fallback is not None and now < self._next_full_fallback:
            return None
        if not self._sweeping.acquire(blocking=False):
            return None  # the full pass is running and does what this one would
        try:
            report = sweep(self.rt)
        finally:
            self._sweeping.release()
        if report.full and self.rt.settings.sweep_fast:
            if self._next_full_fallback is None:
                log.warning("the fast sweep read every open issue: Redmine has no \"Next SLA "
                            "check\" field for the bridge (run `provision`); passes run every "
                            "%d s until it has", FULL_PASS_GAP.seconds)
            self._next_full_fallback = now + FULL_PASS_GAP
        else:
            self._next_full_fallback = None
        return report

    def _full_sweep(self) -> object:
        with self._sweeping:
            report = sweep(self.rt, full=True)
        log.info("full sweep done", extra={"seen": report.seen, "stamped": len(report.stamped),
                                           "changed": len(report.changed)})
        return report

    def _poll(self) -> None:
        # What polling found is processed at once, not at the drainer's next beat.
        if poll(self.rt).enqueued and self.on_enqueue is not None:
            self.on_enqueue()

    def is_leader(self) -> bool:
        return self.rt.store.try_lease(LEADER_LEASE, self.holder, self.rt.clock(), self.lease_ttl)

    def run(self, name: str) -> bool:
        """Run one job if this process leads; True if it ran."""
        if not self.is_leader():
            return False
        job = self.jobs[name][0] if name in self.jobs else self.cron_jobs[name][0]
        try:
            job()
        except Exception:  # a failing job must not kill the scheduler (logged below)
            log.exception("job failed", extra={"job": name})
        return True

    def release(self) -> None:
        self.rt.store.release(LEADER_LEASE, self.holder)


class Drainer:
    """A thread that drains the inbox when woken, and every `interval` seconds.

    Wakes that come while a drain runs are coalesced into one more drain, and two
    drains start at least `min_gap` seconds apart. Without that gap, webhooks for
    issues that wait for a retry (Redmine down) would each start a drain that finds
    nothing due: at a thousand webhooks a second the drainer would spend a CPU core
    re-reading the backlog. A new event for an idle issue waits at most `min_gap`.

    When it starts, and every `reclaim_interval` seconds after, it releases the inbox
    leases of this host's workers that are gone (a restart after kill -9, a gunicorn
    worker replaced after a crash), and drains at once if that released any: their
    events need not wait for the lease to lapse (`service.inbox.reclaim_dead_workers`).
    """

    def __init__(self, rt: Bridge, interval: float = 5.0, min_gap: float = 0.2,
                 reclaim_interval: float = 60.0) -> None:
        self.rt = rt
        self.interval = interval
        self.min_gap = min_gap
        self.reclaim_interval = reclaim_interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="bridge-drainer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=10)

    def _reclaim(self) -> None:
        try:
            if reclaim_dead_workers(self.rt):
                self._wake.set()  # their events are due now
        except Exception:  # a failing store must not kill the drainer (logged)
            log.exception("releasing dead workers' inbox leases failed")

    def _loop(self) -> None:
        next_reclaim = time.monotonic()
        while not self._stop.is_set():
            if time.monotonic() >= next_reclaim:
                self._reclaim()
                next_reclaim = time.monotonic() + self.reclaim_interval
            self._wake.wait(self.interval)
            if self._stop.is_set():
                break
            self._wake.clear()
            try:
                report = drain(self.rt)
                # Events wait for their backoff: do not spin on a dead Redmine.
                pause = self.interval if report.redmine_down else self.min_gap
            except Exception:
                log.exception("drain failed")
                pause = self.interval
            self._stop.wait(pause)


class BridgeScheduler:
    """APScheduler running the leader jobs, plus this process's drainer."""

    def __init__(self, rt: Bridge, holder: str | None = None) -> None:
        self.drainer = Drainer(rt)
        self.leader = LeaderJobs(rt, holder, on_enqueue=self.drainer.wake)
        self.scheduler = BackgroundScheduler(timezone=dt.UTC)
        for name, (_, interval) in self.leader.jobs.items():
            self.scheduler.add_job(self.leader.run, "interval", seconds=interval, args=[name],
                                   id=name, max_instances=1, coalesce=True,
                                   next_run_time=dt.datetime.now(dt.UTC))
        for name, (_, trigger) in self.leader.cron_jobs.items():
            self.scheduler.add_job(self.leader.run, trigger, args=[name], id=name,
                                   max_instances=1, coalesce=True)

    def start(self) -> None:
        self.drainer.start()
        self.scheduler.start()

    def shutdown(self) -> None:
        self.scheduler.shutdown(wait=False)
        self.drainer.stop()
        self.leader.release()
