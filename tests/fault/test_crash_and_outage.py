"""`serve` killed with SIGKILL during a burst, and Redmine gone during a burst.

Both run the real `redmine-sla-bridge serve` (gunicorn, 2 workers, each with its
drainer) on a fresh SQLite store against the local Redmine, with real issues of a fresh
project: 1000 deliveries over 20 issues (each its own journal id and delivery id).
"0 duplicated notes" means each issue ends with exactly one note, the acknowledgement.

The outage test puts a loopback TCP proxy between the bridge and Redmine and "stops"
it; the shared Redmine itself is never stopped. The `slow` variants (a real 120 s inbox
lease, a 60 s outage) run only with `scripts/test -m slow tests/fault`.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import time

import common
import pytest

from tests.fault.support import (
    SECRET,
    RedmineProxy,
    Sender,
    counts,
    create_issues,
    notes,
    patient_gateway,
    serve_config,
    wait_drained,
    wait_workers,
    worker_pids,
)

pytestmark = pytest.mark.redmine

EVENTS = 1000
ISSUES = 20


@pytest.fixture()
def gateway(redmine):
    return patient_gateway(redmine)


@pytest.fixture()
def issues(gateway, project, support_tracker, monkeypatch, redmine_env, provisioned):
    monkeypatch.setenv("FAULT_WEBHOOK_SECRET", SECRET)
    return create_issues(gateway, project, support_tracker, ISSUES, "Burst")


def _assert_one_acknowledgement_each(gateway, issue_ids) -> None:
    for issue_id in issue_ids:
        written = notes(gateway, issue_id)
        assert len(written) == 1 and f"#{issue_id}" in written[0], (issue_id, written)
        fields = {f["name"]: f.get("value") for f in gateway.issue(issue_id, journals=False)["custom_fields"]}
        assert fields["SLA state"] == "on track"


@pytest.mark.parametrize("wait_for_lease", [
    pytest.param(False, id="leases-expired-by-hand"),
    pytest.param(True, id="real-lease-lapse", marks=pytest.mark.slow),
])
def test_kill9_of_serve_during_a_burst_loses_and_repeats_nothing(
        redmine, gateway, project, issues, tmp_path, wait_for_lease):
    config, store = serve_config(redmine, tmp_path, project)
    port = common.free_port()
    events = [(n, issues[n % ISSUES], 10_000 + n, f"burst-{n}") for n in range(EVENTS)]
    proc = common.start_serve(config, port)
    sender = Sender(port)
    try:
        sent = 0
        while sent < EVENTS and sender.send(*events[sent]):
            sent += 1
            if sent == 300:
                os.killpg(proc.pid, signal.SIGKILL)  # master and workers, mid-burst
        proc.wait(10)
        killed = counts(store)
        assert sent < EVENTS and killed["pending"] > 0, killed
        if not wait_for_lease:
            # The dead workers' claims hold their events for LEASE_SECONDS (120 s);
            # let them lapse now instead of waiting.
            with sqlite3.connect(store) as conn:
                conn.execute("UPDATE inbox_events SET lease_until = received_at "
                             "WHERE state = 'pending' AND lease_owner IS NOT NULL")
        proc = common.start_serve(config, port)
        # Redelivery, as Redmine does for what got no answer: from the first unanswered.
        for index in range(sent, EVENTS):
            deadline = time.monotonic() + 30
            while not sender.send(*events[index]):
                assert time.monotonic() < deadline, f"event {index} never accepted"
                time.sleep(0.2)
        final = wait_drained(store, EVENTS, 420, proc)  # generous: a slow shared Redmine
    finally:
        sender.close()
        common.stop(proc)
    assert final == {"pending": 0, "done": EVENTS, "dead": 0}, final  # 0 lost, 0 dead
    assert all(sender.answers[n][0] == 202 for n in range(EVENTS))
    with sqlite3.connect(store) as conn:
        assert conn.execute("SELECT count(DISTINCT delivery_id) FROM inbox_events").fetchone()[0] == EVENTS
        reclaimed = conn.execute("SELECT count(*) FROM inbox_events WHERE claims > 1").fetchone()[0]
    print(f"{killed['pending']} events pending at the kill, {reclaimed} claimed again after it")
    _assert_one_acknowledgement_each(gateway, issues)


def _outage(redmine, gateway, project, issues, tmp_path, outage_seconds: float) -> None:
    redmine_port = int(redmine.url.rsplit(":", 1)[1])
    with RedmineProxy(redmine_port) as proxy:
        config, store = serve_config(redmine, tmp_path, project, url=proxy.url)
        port = common.free_port()
        proc = common.start_serve(config, port)
        sender = Sender(port)
        try:
            workers = wait_workers(proc, 2)
            assert len(workers) == 2
            half = EVENTS // 2
            for n in range(half // 2):  # a first part while Redmine answers
                assert sender.send(n, issues[n % ISSUES], 10_000 + n, f"outage-{n}")
            time.sleep(0.5)
            proxy.down = True
            down_at = time.monotonic()
            # The rest of the burst arrives while Redmine is down: still accepted.
            pace = outage_seconds / (half - half // 2)
            for n in range(half // 2, half):
                assert sender.send(n, issues[n % ISSUES], 10_000 + n, f"outage-{n}")
                time.sleep(max(0.0, down_at + (n - half // 2 + 1) * pace - time.monotonic()))
            time.sleep(max(0.0, down_at + outage_seconds - time.monotonic()))
            refused = proxy.refused
            proxy.down = False
            up_at = time.monotonic()
            final = wait_drained(store, half, 300 + outage_seconds, proc)
            recovered_in = time.monotonic() - up_at
            assert proc.poll() is None and worker_pids(proc) == workers  # no crash, no restart
        finally:
            sender.close()
            common.stop(proc)
    with sqlite3.connect(store) as conn:
        retried, failed_events = conn.execute(
            "SELECT sum(attempts), sum(last_error IS NOT NULL) FROM inbox_events").fetchone()
    print(f"outage {outage_seconds:.0f} s: {refused} connection attempts refused, {retried} "
          f"retries scheduled over {failed_events} events; all processed "
          f"{recovered_in:.1f} s after Redmine returned")
    assert final == {"pending": 0, "done": half, "dead": 0}, final
    # No busy loop: per worker at most one failing drain every 5 s (its pause after a
    # failed drain), each call at most 1 + 3 urllib3 retries; plus one of slack.
    assert 0 < refused <= 2 * (outage_seconds / 5 + 2) * 4, refused
    assert retried > 0
    _assert_one_acknowledgement_each(gateway, issues)


def test_redmine_down_for_5_s_during_a_burst(redmine, gateway, project, issues, tmp_path):
    _outage(redmine, gateway, project, issues, tmp_path, outage_seconds=5)


@pytest.mark.slow
def test_redmine_down_for_60_s_during_a_burst(redmine, gateway, project, issues, tmp_path):
    _outage(redmine, gateway, project, issues, tmp_path, outage_seconds=60)
