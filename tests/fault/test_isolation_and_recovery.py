"""One issue failing does not stall the others; a restarted bridge takes its dead
workers' events back at once.

Both run the real `redmine-sla-bridge serve` (gunicorn, 2 workers, each with its
drainer) on a fresh SQLite store against the local Redmine.

- Isolation: an HTTP-aware proxy (tests/fault/http_faults.py) answers 500 to
  `GET /issues/<one id>.json` and forwards everything else. Its event is the oldest, so
  it leads the batch; the ten other issues' events are all processed in that same drain
  (each claimed once: nobody was postponed behind it), and the bad one is retried alone
  until it is a dead letter whose reason names the 500. The fast variant makes each
  retry due at once by hand; the `slow` one waits the real backoff (5+10+20+40 s).
- Recovery: `serve` is killed with SIGKILL mid-burst while its drainers hold leases;
  the restarted `serve` releases them when its drainers start (the dead workers' pids
  are gone) instead of waiting LEASE_SECONDS (120 s), and is drained within 10 s.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import time

import common
import pytest

from redmine_sla_bridge.adapters.store import InboxEvent, Store
from tests.fault.http_faults import FORWARD, FaultProxy
from tests.fault.support import (
    SECRET,
    Sender,
    counts,
    create_issues,
    notes,
    patient_gateway,
    serve_config,
    wait_drained,
)

pytestmark = pytest.mark.redmine


@pytest.fixture()
def gateway(redmine):
    return patient_gateway(redmine)


@pytest.fixture()
def fault_env(monkeypatch, redmine_env, provisioned):
    monkeypatch.setenv("FAULT_WEBHOOK_SECRET", SECRET)


def _rows(store, where: str = "1=1") -> list[sqlite3.Row]:
    with sqlite3.connect(store, timeout=30) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute(f"SELECT * FROM inbox_events WHERE {where} ORDER BY id").fetchall()


# -- one issue answering 500 ------------------------------------------------------------

@pytest.mark.parametrize("real_backoff", [
    pytest.param(False, id="retries-made-due-by-hand"),
    pytest.param(True, id="real-backoff", marks=pytest.mark.slow),
])
def test_one_issue_answering_500_holds_up_no_other_issue(
        redmine, gateway, project, support_tracker, fault_env, tmp_path, real_backoff):
    bad, *good = create_issues(gateway, project, support_tracker, 11, "Isolation")
    bad_get = ("GET", f"/issues/{bad}.json")

    def rule(method: str, path: str, _count: int) -> str | int:
        return 500 if (method, path) == bad_get else FORWARD

    with FaultProxy(redmine.url, rule) as proxy:
        config, store = serve_config(redmine, tmp_path, project, url=proxy.url)
        # The events are in the inbox before serve starts, the bad issue's the oldest:
        # the first drain claims all eleven in one batch, the bad one first.
        now = dt.datetime.now(dt.UTC)
        with Store.from_url(f"sqlite:///{store}") as inbox:
            for n, issue_id in enumerate([bad, *good]):
                assert inbox.enqueue(InboxEvent(source="redmine7", issue_id=issue_id,
                                                received_at=now + dt.timedelta(milliseconds=n),
                                                delivery_id=f"isolation-{n}"))
        proc = common.start_serve(config, common.free_port())
        try:
            _wait(lambda: _rows(store, "claims > 0"), 60, proc, "no claim")
            started = time.monotonic()
            _wait(lambda: len(_rows(store, f"state = 'done' AND issue_id != {bad}")) == 10,
                  60, proc, "the ten good issues were not processed")
            others_done_in = time.monotonic() - started
            at_that_moment = _rows(store, f"issue_id = {bad}")[0]
            # Each good event claimed once, never charged: processed in the first drain
            # that took it, not postponed behind the failing issue.
            good_rows = _rows(store, f"issue_id != {bad}")
            assert {(r["claims"], r["attempts"]) for r in good_rows} == {(1, 0)}, [dict(r) for r in good_rows]
            assert at_that_moment["state"] == "pending"
            assert at_that_moment["last_error"].startswith("issue failure 1 of 5: HTTP 500")

            deadline = time.monotonic() + (150 if real_backoff else 90)
            while _rows(store, f"issue_id = {bad} AND state = 'pending'"):
                assert time.monotonic() < deadline, dict(_rows(store, f"issue_id = {bad}")[0])
                assert proc.poll() is None
                if not real_backoff:
                    with sqlite3.connect(store, timeout=30) as conn:
                        conn.execute("UPDATE inbox_events SET next_attempt_at = received_at "
                                     f"WHERE issue_id = {bad} AND state = 'pending' "
                                     "AND lease_owner IS NULL")
                time.sleep(0.3)
            dead_after = time.monotonic() - started
        finally:
            common.stop(proc)
        bad_gets = proxy.seen.get(bad_get, 0)
        probes = proxy.seen.get(("GET", "/users/current.json"), 0)
    (dead,) = _rows(store, "state = 'dead'")
    print(f"one issue answering 500: the other 10 processed {others_done_in:.1f} s after the "
          f"first claim; dead-lettered {dead_after:.1f} s after it, after {bad_gets} GETs of the "
          f"issue and {probes} probes; reason: {dead['dead_reason']}")
    assert dead["issue_id"] == bad
    assert dead["dead_reason"].startswith("RedmineUnavailable: HTTP 500: ServerError")
    assert "this issue only: 5 failures in a row" in dead["dead_reason"]
    assert bad_gets == 5  # one GET per try: a 500 is not retried inside the call
    assert probes >= 5
    assert counts(store) == {"pending": 0, "done": 10, "dead": 1}
    for issue_id in good:
        written = notes(gateway, issue_id)
        assert len(written) == 1 and f"#{issue_id}" in written[0], (issue_id, written)
    assert notes(gateway, bad) == []


def _wait(probe, seconds: float, proc, what: str):
    deadline = time.monotonic() + seconds
    while not (found := probe()):
        assert proc.poll() is None, f"serve exited ({proc.returncode})"
        assert time.monotonic() < deadline, what
        time.sleep(0.1)
    return found


# -- kill -9, restart ----------------------------------------------------------------------

ISSUES = 20
EVENTS = 80  # one per issue first (each issue is accepted), then a burst of 60


def test_a_restart_after_kill9_takes_the_dead_workers_events_back_at_once(
        redmine, gateway, project, support_tracker, fault_env, tmp_path):
    issues = create_issues(gateway, project, support_tracker, ISSUES, "Recovery")
    config, store = serve_config(redmine, tmp_path, project)
    port = common.free_port()
    events = [(n, issues[n % ISSUES], 20_000 + n, f"recovery-{n}") for n in range(EVENTS)]
    proc = common.start_serve(config, port)
    sender = Sender(port)
    try:
        # Each issue is accepted first, so that what is measured after the restart is
        # the wait for the dead workers' events, not the acknowledgement of 20 issues.
        for n in range(ISSUES):
            assert sender.send(*events[n])
        wait_drained(store, ISSUES, 120, proc)
        # Two thirds of the burst, then kill -9 as soon as the drainers hold leases on
        # several events they have not finished (sending is much faster than draining).
        sent = ISSUES
        while sent < EVENTS - ISSUES:
            assert sender.send(*events[sent])
            sent += 1
        _wait(lambda: len(_rows(store, "state = 'pending' AND lease_owner IS NOT NULL")) >= 5,
              30, proc, "the drainers never held 5 events at once")
        os.killpg(proc.pid, signal.SIGKILL)  # master and workers
        proc.wait(10)
        held = _rows(store, "state = 'pending' AND lease_owner IS NOT NULL")
        assert len(held) >= 5, (sent, counts(store))
        held_ids = ",".join(str(r["id"]) for r in held)
        restarted = time.monotonic()
        proc = common.start_serve(config, port)
        serving_in = time.monotonic() - restarted
        for index in range(sent, EVENTS):  # the rest of the burst, to the restarted serve
            deadline = time.monotonic() + 30
            while not sender.send(*events[index]):
                assert time.monotonic() < deadline, f"event {index} never accepted"
                time.sleep(0.2)
        redelivered_in = time.monotonic() - restarted
        # Claimed again (or done) by the new workers: no wait for the lease to lapse.
        _wait(lambda: not _rows(store, f"id IN ({held_ids}) AND claims < 2"), 60, proc,
              "the dead workers' events were not claimed again")
        held_claimed_in = time.monotonic() - restarted
        final = wait_drained(store, EVENTS, 120, proc)
        drained_in = time.monotonic() - restarted
    finally:
        sender.close()
        common.stop(proc)
    released = _rows(store, "last_error LIKE 'lease released: worker %'")
    print(f"kill -9 after {sent} of {EVENTS} deliveries, {len(held)} events leased by the dead "
          f"workers; after the restart: serving in {serving_in:.1f} s, the rest delivered in "
          f"{redelivered_in:.1f} s, the dead workers' events claimed again in "
          f"{held_claimed_in:.1f} s, all drained in {drained_in:.1f} s (the lease is 120 s); "
          f"{len(released)} released")
    assert final == {"pending": 0, "done": EVENTS, "dead": 0}, final
    # Released by the restarted workers (not lapsed after the 120 s lease): the store says
    # so in each event's last_error; the times printed above are figures, not a bound.
    assert {r["id"] for r in held} <= {r["id"] for r in released}
    for issue_id in issues:  # nothing repeated: one acknowledgement each
        written = notes(gateway, issue_id)
        assert len(written) == 1 and f"#{issue_id}" in written[0], (issue_id, written)
