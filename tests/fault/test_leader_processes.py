"""Two bridge processes on one store: each scheduled job runs once per trigger.

Two OS processes (forked before either opens the store) each build a bridge on the same
SQLite file and run `LeaderJobs.run` for every job at every tick of an injected clock
(10 s of simulated time per tick), in lock-step through a barrier, as two gunicorn
workers whose APScheduler fires at the same moments. Each job execution appends one
line to a shared file. Then the leading process is killed (SIGKILL) and the other runs
on alone: it must take over exactly when the dead leader's lease lapses, not before.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import signal
from collections import Counter
from pathlib import Path

from tests.conftest import write_config

T0 = dt.datetime(2026, 3, 3, 7, 0, tzinfo=dt.UTC)
TICK = dt.timedelta(seconds=10)
JOINT_TICKS = 60
ALONE_TICKS = 40


def _config(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("LEADER_TEST_KEY", "k" * 40)
    return write_config(tmp_path / "bridge.yaml", {
        "language": "en",
        "redmine": {"url": "http://127.0.0.1:9", "api_key": "${LEADER_TEST_KEY}"},
        "store": {"url": f"sqlite:///{tmp_path / 'shared.sqlite3'}"},
        "polling": {"enabled": True, "interval_seconds": 30},
        "calendars": {"office": {"timezone": "Europe/Moscow",
                                 "week": {"mon-fri": [["09:00", "18:00"]]}, "holidays": "RU"}},
        "policy": {"calendar": "office", "tiers": [{"name": "standard", "when": {}}],
                   "priority": {"mode": "impact", "default_impact": "P3"}},
    })


def _process(config_path: str, holder: str, ticks: range, barrier, log_path: str, done) -> None:
    from redmine_sla_bridge.bootstrap import bootstrap
    from redmine_sla_bridge.config.loader import load_config
    from redmine_sla_bridge.entrypoints.scheduler import LeaderJobs

    clock = {"now": T0}
    config = load_config(config_path)
    rt = bootstrap(config, clock=lambda: clock["now"], notifier=None)
    leader = LeaderJobs(rt, holder=holder)
    fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)

    def job(name):
        def run():
            os.write(fd, f"{clock['now'].isoformat()} {name} {holder}\n".encode())
        return run

    # The real jobs would call Redmine; their names, intervals and lease stay as built.
    leader.jobs = {name: (job(name), interval) for name, (_, interval) in leader.jobs.items()}
    for tick in ticks:
        clock["now"] = T0 + tick * TICK
        if barrier is not None:
            barrier.wait(timeout=60)
        for name in leader.jobs:
            leader.run(name)
    os.close(fd)
    done.set()
    signal.pause()  # stays alive (holding nothing but its lease) until killed


def test_two_processes_on_one_store_run_each_job_once(tmp_path, monkeypatch):
    config = _config(tmp_path, monkeypatch)
    log = tmp_path / "executions.log"
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(2)
    a_done, b_done = ctx.Event(), ctx.Event()
    a = ctx.Process(target=_process, args=(str(config), "process-a", range(JOINT_TICKS),
                                           barrier, str(log), a_done))
    b = ctx.Process(target=_process, args=(str(config), "process-b", range(JOINT_TICKS),
                                           barrier, str(log), b_done))
    procs = [a, b]
    try:
        for proc in procs:
            proc.start()
        assert a_done.wait(120) and b_done.wait(120)
        lines = [line.split() for line in log.read_text().splitlines()]
        runs = Counter((when, name) for when, name, _ in lines)
        jobs = {name for _, name, _ in lines}
        assert jobs == {"sweep", "notify", "purge", "poll"}
        # Every (moment, job) ran exactly once across the two processes.
        assert len(runs) == JOINT_TICKS * len(jobs)
        assert set(runs.values()) == {1}
        leaders = {holder for _, _, holder in lines}
        assert len(leaders) == 1, leaders
        dead = a if leaders == {"process-a"} else b
        alive_name = "process-b" if dead is a else "process-a"

        # The leader dies; the survivor keeps ticking alone.
        os.kill(dead.pid, signal.SIGKILL)
        dead.join(10)
        survivor_done = ctx.Event()
        survivor = ctx.Process(target=_process, args=(
            str(config), alive_name, range(JOINT_TICKS, JOINT_TICKS + ALONE_TICKS), None,
            str(log), survivor_done))
        procs.append(survivor)
        survivor.start()
        assert survivor_done.wait(120)
        later = [line.split() for line in log.read_text().splitlines()[len(lines):]]
        assert {holder for _, _, holder in later} == {alive_name}
        assert set(Counter((when, name) for when, name, _ in later).values()) == {1}
        # lease_ttl = 3 x the shortest interval (30 s) = 90 s after the last renewal at
        # tick JOINT_TICKS - 1: the survivor takes over at the first tick >= that.
        first = min(dt.datetime.fromisoformat(when) for when, _, _ in later)
        assert first == T0 + (JOINT_TICKS - 1) * TICK + dt.timedelta(seconds=90)
        takeover_tick = JOINT_TICKS - 1 + 9
        assert len(later) == (JOINT_TICKS + ALONE_TICKS - takeover_tick) * len(jobs)
    finally:
        for proc in procs:
            if proc.is_alive():
                os.kill(proc.pid, signal.SIGKILL)
            proc.join(10)
