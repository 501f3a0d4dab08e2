"""Scheduled jobs run once per deployment, however many processes run a scheduler."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from redmine_sla_bridge.entrypoints import scheduler
from redmine_sla_bridge.entrypoints.scheduler import BridgeScheduler, LeaderJobs
from redmine_sla_bridge.service.sweep import SweepReport
from tests.conftest import base_document

pytestmark = pytest.mark.redmine


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 3, 3, 7, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


def _two_processes(make_runtime, redmine, tmp_path):
    """Two runtimes on one store file, as two gunicorn workers or two replicas are."""
    clock = Clock()
    document = base_document(redmine)
    document["store"] = {"url": f"sqlite:///{tmp_path / 'shared.sqlite3'}"}
    first = make_runtime(document, clock=clock, name="first")
    second = make_runtime(dict(document), clock=clock, name="second")
    ran: list[str] = []
    jobs = []
    for rt, holder in ((first, "worker-a"), (second, "worker-b")):
        leader = LeaderJobs(rt, holder=holder)
        leader.jobs = {"sweep": (lambda h=holder: ran.append(h), 300)}
        jobs.append(leader)
    return clock, jobs, ran


def test_two_schedulers_started_at_once_run_each_job_once(make_runtime, redmine, tmp_path):
    _clock, (a, b), ran = _two_processes(make_runtime, redmine, tmp_path)
    barrier = threading.Barrier(2)
    results = {}

    def tick(leader):
        barrier.wait()
        results[leader.holder] = leader.run("sweep")

    threads = [threading.Thread(target=tick, args=(leader,)) for leader in (a, b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results.values()) == [False, True]
    assert len(ran) == 1


def test_the_leader_keeps_leading_and_a_dead_leader_is_replaced(make_runtime, redmine, tmp_path):
    clock, (a, b), ran = _two_processes(make_runtime, redmine, tmp_path)
    assert a.run("sweep") and not b.run("sweep")
    clock.now += dt.timedelta(seconds=300)
    assert a.run("sweep") and not b.run("sweep")  # renewed on every run
    # a dies: its lease lapses after three beats, then b takes over.
    clock.now += a.lease_ttl + dt.timedelta(seconds=1)
    assert b.run("sweep") and not a.run("sweep")
    assert ran == ["worker-a", "worker-a", "worker-b"]


def test_the_scheduler_registers_every_job_at_its_interval(make_runtime, redmine):
    document = base_document(redmine)
    document["polling"] = {"interval_seconds": 45}
    document["lifecycle"] = {"sweep_interval_seconds": 120}
    document["sweep"] = {"fast": True}
    rt = make_runtime(document)
    scheduler = BridgeScheduler(rt, holder="x")
    jobs = {job.id: job.trigger for job in scheduler.scheduler.get_jobs()}
    reconcile = jobs.pop("reconcile")  # the full sweep: nightly, in the policy's zone
    intervals = {name: trigger.interval.total_seconds() for name, trigger in jobs.items()}
    assert intervals == {"poll": 45, "sweep": 120, "notify": 30, "purge": 86400}
    assert str(reconcile.timezone) == "Europe/Moscow"
    assert {f.name: str(f) for f in reconcile.fields if f.name in ("hour", "minute")} == {
        "hour": "2", "minute": "30"}


@pytest.mark.parametrize("full", [True, False])
def test_fast_passes_that_must_read_everything_run_every_five_minutes(
        make_runtime, redmine, tmp_path, monkeypatch, full):
    # Before `provision` made "Next SLA check", every pass reads every open issue.
    clock = Clock()
    document = base_document(redmine)
    document.pop("sweep")  # the product's defaults: the fast pass, every 30 s
    rt = make_runtime(document, clock=clock)
    assert rt.settings.sweep_fast and rt.settings.sweep_interval_seconds == 30
    passes: list[dt.datetime] = []

    def sweep(bridge, now=None, *, full_pass=full):
        passes.append(bridge.clock())
        return SweepReport(full=full_pass)

    monkeypatch.setattr(scheduler, "sweep", sweep)
    leader = LeaderJobs(rt, holder="only")
    for _ in range(12):  # six minutes of 30 s ticks
        leader.run("sweep")
        clock.now += dt.timedelta(seconds=30)
    start = dt.datetime(2026, 3, 3, 7, 0, tzinfo=dt.UTC)
    if full:
        assert passes == [start, start + dt.timedelta(minutes=5)]
    else:
        assert len(passes) == 12
