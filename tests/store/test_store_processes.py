"""Several real processes on one store: kill -9 loses nothing accepted, and two claiming
processes complete every event exactly once, one at a time per issue, in order."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from store_testing import T0

from redmine_sla_bridge.adapters.store import InboxEvent
from redmine_sla_bridge.adapters.store.schema import inbox_events

CHILD = Path(__file__).with_name("store_child.py")


def _spawn(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(CHILD), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_kill_9_loses_nothing_accepted(store, store_url):
    accepted: set[str] = set()
    for round_ in range(3):
        child = _spawn("enqueue", store_url, str(round_ * 1_000_000))
        lines = 0
        while lines < 40:  # then kill it, most likely inside a transaction
            line = child.stdout.readline()
            assert line, f"child exited early: {child.stderr.read()[-2000:]}"
            accepted.add(f"d{int(line)}")
            lines += 1
        child.send_signal(signal.SIGKILL)
        # Whatever it printed before dying was also accepted.
        accepted.update(f"d{int(line)}" for line in child.stdout.read().split())
        child.wait(timeout=10)
        assert child.returncode == -signal.SIGKILL

    with store.engine.connect() as conn:
        stored = set(conn.execute(select(inbox_events.c.delivery_id)).scalars())
        if store.backend == "sqlite":
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    assert accepted <= stored
    # At most the one event in flight at each kill is stored without having been reported.
    assert len(stored - accepted) <= 3


def test_two_processes_complete_each_event_exactly_once(store, store_url):
    issues, per_issue = 12, 12
    events = [
        InboxEvent(source="poll", issue_id=issue, journal_id=seq,
                   received_at=T0 + timedelta(seconds=seq, microseconds=issue),
                   payload=json.dumps({"seq": seq}))
        for seq in range(per_issue) for issue in range(issues)
    ]
    assert all(store.enqueue_many(events))

    workers = [_spawn("work", store_url, name) for name in ("w1", "w2")]
    outputs = []
    for worker in workers:
        out, err = worker.communicate(timeout=60)
        assert worker.returncode == 0, err[-2000:]
        outputs.append(out.split("\n"))

    done = [line for out in outputs for line in out if line.startswith("done ")]
    violations = [line for out in outputs for line in out if line.startswith("violation")]
    assert violations == []
    assert len(done) == len(set(done)) == issues * per_issue
    assert all(any(line.startswith("done ") for line in out) for out in outputs), \
        "one process did all the work; the test proved nothing about concurrency"
    assert store.stats()["done"] == issues * per_issue
