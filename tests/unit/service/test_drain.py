"""`drain()` on fake ports: one failing issue is retried alone and ends as a dead letter,
while Redmine being down backs off everything; and the release of dead workers' leases.
No network, no database, no sleeping: the clock is a value the test moves."""

from __future__ import annotations

import datetime as dt
import os
import re
import socket
import threading
from dataclasses import dataclass

import pytest
import requests
from redminelib import exceptions as rex

from redmine_sla_bridge.adapters.redmine.gateway import _translated
from redmine_sla_bridge.domain.ports import RedmineUnavailable
from redmine_sla_bridge.entrypoints import scheduler
from redmine_sla_bridge.service import inbox as inbox_module
from redmine_sla_bridge.service.bridge import Bridge
from redmine_sla_bridge.service.inbox import (
    MAX_ISSUE_FAILURES,
    MAX_ISSUE_FAILURES_IN_A_ROW,
    MAX_PROBES_PER_DRAIN,
    DrainReport,
    drain,
    reclaim_dead_workers,
    worker_name,
)
from redmine_sla_bridge.service.settings import Settings
from tests.unit.service.fakes import FakeIssues, FakeStore, Log

T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
HTTP_500 = RedmineUnavailable("ServerError: Redmine returned internal error", status=500)
REFUSED = RedmineUnavailable("ConnectionError: connection refused")


@dataclass
class Row:
    id: int
    issue_id: int
    attempts: int = 0
    claims: int = 0
    last_error: str | None = None
    state: str = "pending"
    next_attempt_at: dt.datetime = T0
    lease_owner: str | None = None
    lease_until: dt.datetime | None = None
    dead_reason: str | None = None


class FakeInbox(FakeStore):
    """The inbox part of the store in memory, with the real claim rule: due, not
    leased, the oldest pending event of its issue, oldest first."""

    def __init__(self, log: Log) -> None:
        super().__init__(log)
        self.rows: list[Row] = []
        self.released: dict[str, int] = {}

    def add(self, issue_id: int, **values) -> Row:
        row = Row(id=len(self.rows) + 1, issue_id=issue_id, **values)
        self.rows.append(row)
        return row

    def row(self, issue_id: int) -> Row:
        (row,) = [r for r in self.rows if r.issue_id == issue_id]
        return row

    def claim(self, now, limit, lease_seconds, worker):
        heads: dict[int, Row] = {}
        for row in self.rows:
            if row.state == "pending":
                heads.setdefault(row.issue_id, row)
        due = [r for r in heads.values() if r.next_attempt_at <= now
               and (r.lease_until is None or r.lease_until <= now)][:limit]
        for row in due:
            row.lease_owner, row.lease_until = worker, now + dt.timedelta(seconds=lease_seconds)
            row.claims += 1
        self.log(f"claim {[r.issue_id for r in due]}")
        return [Row(**vars(r)) for r in due]  # a copy, as the store returns values

    def _held(self, event_id: int, worker: str) -> Row | None:
        row = self.rows[event_id - 1]
        return row if row.state == "pending" and row.lease_owner == worker else None

    def complete(self, event_id, worker, now):
        if (row := self._held(event_id, worker)) is None:
            return False
        row.state, row.lease_owner, row.lease_until = "done", None, None
        return True

    def retry(self, event_id, worker, now, error, delay):
        if (row := self._held(event_id, worker)) is None:
            return False
        self.log(f"retry {row.issue_id} in {delay.total_seconds():.0f}s")
        row.attempts += 1
        row.next_attempt_at, row.last_error = now + delay, error
        row.lease_owner = row.lease_until = None
        return True

    def postpone(self, event_ids, worker, until, note):
        held = [r for i in event_ids if (r := self._held(i, worker)) is not None]
        if held:
            self.log(f"postpone {[r.issue_id for r in held]}")
        for row in held:
            row.next_attempt_at, row.last_error = until, note
            row.lease_owner = row.lease_until = None
        return len(held)

    def dead(self, event_id, worker, reason, now):
        if (row := self._held(event_id, worker)) is None:
            return False
        self.log(f"dead {row.issue_id}")
        row.state, row.dead_reason, row.lease_owner, row.lease_until = "dead", reason, None, None
        return True

    def pending_count(self):
        return sum(r.state == "pending" for r in self.rows)

    def purge_done(self, older_than):
        return 0

    def release_dead_workers(self, now):
        self.log("release dead workers")
        return dict(self.released)


class FlakyIssues(FakeIssues):
    """Redmine whose calls for some issues fail, and whose probe may fail too. Issues
    without a snapshot load as None: processed as "skipped", which is all drain needs."""

    def __init__(self, log: Log) -> None:
        super().__init__(log)
        self.fail_load: dict[int, Exception] = {}
        self.ping_error: Exception | None = None

    def load(self, issue_id):
        snapshot = super().load(issue_id)
        if issue_id in self.fail_load:
            raise self.fail_load[issue_id]
        return snapshot

    def ping(self):
        super().ping()
        if self.ping_error is not None:
            raise self.ping_error


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture()
def world():
    log = Log()
    issues, store, clock = FlakyIssues(log), FakeInbox(log), Clock()
    bridge = Bridge(settings=Settings(), rules=None, redmine=issues, store=store, clock=clock)
    return bridge, issues, store, clock, log


def run(bridge, **kwargs):
    return drain(bridge, worker="w", **kwargs)


def states(store: FakeInbox) -> dict[int, str]:
    return {r.issue_id: r.state for r in store.rows}


# -- one failing issue while Redmine answers ---------------------------------------------

def test_one_issue_answering_500_does_not_hold_up_the_others(world):
    bridge, issues, store, _clock, log = world
    store.add(1)  # the oldest event: it leads the batch
    for issue_id in range(2, 12):
        store.add(issue_id)
    issues.fail_load[1] = HTTP_500
    report = run(bridge)
    assert report.processed == 10 and report.retried == 1 and not report.redmine_down
    assert report.issue_failures == 1 and report.probes == 1
    assert states(store) == {1: "pending", **dict.fromkeys(range(2, 12), "done")}
    assert all(r.claims == 1 for r in store.rows)  # nobody postponed, one drain for all
    assert log.calls[:4] == ["claim [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]", "load 1", "ping",
                             "retry 1 in 5s"]
    bad = store.row(1)
    assert bad.attempts == 1
    assert bad.last_error.startswith(f"issue failure 1 of {MAX_ISSUE_FAILURES}: HTTP 500")


def test_a_failing_issue_is_retried_with_backoff_then_dead_lettered_with_the_500(world):
    bridge, issues, store, clock, log = world
    store.add(1)
    issues.fail_load[1] = HTTP_500
    delays = []
    for _ in range(MAX_ISSUE_FAILURES):
        run(bridge)
        row = store.row(1)
        if row.state == "dead":
            break
        delays.append((row.next_attempt_at - clock.now).total_seconds())
        clock.advance(delays[-1] - 1)
        assert run(bridge).issue_failures == 0  # not due yet: not tried
        clock.advance(1)
    assert delays == [5, 10, 20, 40]
    row = store.row(1)
    assert row.state == "dead" and row.attempts == MAX_ISSUE_FAILURES - 1
    assert row.dead_reason == ("RedmineUnavailable: HTTP 500: ServerError: Redmine returned internal "
                               "error (this issue only: 5 failures in a row while Redmine answered "
                               "other calls)")
    assert log.calls.count("ping") == MAX_ISSUE_FAILURES


def test_retries_during_an_outage_do_not_use_up_the_issue_failures(world):
    # `attempts` counts every failure (it drives the backoff); an event that led many
    # batches while Redmine was down has a high count, and one 500 must not kill it.
    bridge, issues, store, _clock, _log = world
    store.add(1, attempts=12, last_error="ConnectionError: connection refused")
    issues.fail_load[1] = HTTP_500
    run(bridge)
    row = store.row(1)
    assert row.state == "pending" and row.last_error.startswith("issue failure 1 of 5: ")


def test_any_other_outcome_starts_the_count_again(world):
    bridge, issues, store, _clock, _log = world
    store.add(1, attempts=4, last_error="issue failure 4 of 5: HTTP 500: ...")
    store.add(2, attempts=4, last_error="lease released: worker h:1:2:3 is gone")
    issues.fail_load[1] = issues.fail_load[2] = HTTP_500
    run(bridge)
    assert states(store) == {1: "dead", 2: "pending"}
    assert store.row(2).last_error.startswith("issue failure 1 of 5: ")


def test_the_issue_recovers_and_is_processed(world):
    bridge, issues, store, clock, _log = world
    store.add(1)
    issues.fail_load[1] = HTTP_500
    run(bridge)
    del issues.fail_load[1]
    clock.advance(5)
    assert run(bridge).processed == 1 and states(store) == {1: "done"}


# -- Redmine down: everything waits ---------------------------------------------------------

def test_no_answer_at_all_backs_off_everything_without_a_probe(world):
    bridge, issues, store, _clock, log = world
    for issue_id in (1, 2, 3):
        store.add(issue_id)
    issues.fail_load[1] = REFUSED
    report = run(bridge)
    assert report.redmine_down and report.probes == 0 and report.processed == 0
    assert "ping" not in log.calls
    assert log.calls[-2:] == ["retry 1 in 5s", "postpone [2, 3]"]
    assert [r.attempts for r in store.rows] == [1, 0, 0]  # the others are not charged


def test_an_answered_failure_whose_probe_fails_too_is_redmine_down(world):
    bridge, issues, store, _clock, log = world
    for issue_id in (1, 2, 3):
        store.add(issue_id)
    issues.fail_load[1] = RedmineUnavailable("UnknownError: 502", status=502)
    issues.ping_error = RedmineUnavailable("UnknownError: 502", status=502)
    report = run(bridge)
    assert report.redmine_down and report.probes == 1 and report.issue_failures == 0
    assert log.calls[-3:] == ["ping", "retry 1 in 5s", "postpone [2, 3]"]
    assert store.row(1).last_error == "UnknownError: 502"  # not an issue failure


@pytest.mark.parametrize("status", [401, 429])
def test_a_bad_api_key_or_a_rate_limit_is_about_every_call(world, status):
    bridge, issues, store, _clock, log = world
    store.add(1)
    store.add(2)
    issues.fail_load[1] = RedmineUnavailable(f"UnknownError: {status}", status=status)
    report = run(bridge)
    assert report.redmine_down and report.probes == 0 and "ping" not in log.calls


def test_many_issues_failing_in_a_row_is_redmine_failing(world):
    # Redmine answers /users/current but no issue: after a few such failures with no
    # success in between, the drain stops probing and backs off everything, so that the
    # whole inbox does not go to the dead letters.
    bridge, issues, store, _clock, log = world
    for issue_id in range(1, 11):
        store.add(issue_id)
        issues.fail_load[issue_id] = HTTP_500
    report = run(bridge)
    assert report.probes == MAX_ISSUE_FAILURES_IN_A_ROW == report.issue_failures
    assert report.redmine_down and report.processed == 0
    assert log.calls[-1] == f"postpone {list(range(MAX_ISSUE_FAILURES_IN_A_ROW + 2, 11))}"
    assert sum(r.state == "dead" for r in store.rows) == 0


def test_failures_between_successes_are_isolated_up_to_the_probe_budget(world):
    bridge, issues, store, _clock, _log = world
    for issue_id in range(1, 41):
        store.add(issue_id)
        if issue_id % 2:
            issues.fail_load[issue_id] = HTTP_500  # every other issue fails
    report = run(bridge)
    assert report.probes == MAX_PROBES_PER_DRAIN == report.issue_failures
    assert report.redmine_down  # the next failure past the budget
    assert report.processed == MAX_PROBES_PER_DRAIN  # the good ones in between


# -- leases of dead workers -------------------------------------------------------------------

def test_reclaim_asks_the_store_and_counts_what_it_released(world):
    bridge, _issues, store, _clock, log = world
    store.released = {"h:1:2:3": 4, "h:5:6:3": 1}
    assert reclaim_dead_workers(bridge) == 5
    assert log.calls == ["release dead workers"]


def test_reclaim_is_a_no_op_for_a_store_that_cannot(world):
    _bridge, issues, _store, clock, _log = world
    plain = Bridge(settings=Settings(), rules=None, redmine=issues, store=FakeStore(Log()), clock=clock)
    assert reclaim_dead_workers(plain) == 0


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs /proc")
def test_the_worker_name_says_host_pid_start_and_pid_namespace():
    name = worker_name()
    host, pid, start, namespace = name.rsplit(":", 3)
    assert host == socket.gethostname() and int(pid) == os.getpid()
    assert start.isdigit() and namespace.isdigit()
    assert worker_name() is name  # computed once per process
    assert re.search(r"\d+\]$", os.readlink("/proc/self/ns/pid")).group(0)[:-1] == namespace


def test_the_worker_name_is_computed_again_after_a_fork(monkeypatch):
    first = worker_name()
    monkeypatch.setattr(inbox_module.os, "getpid", lambda: 4_000_000)
    assert ":4000000" in worker_name() and worker_name() != first


# -- the gateway says whether Redmine answered -------------------------------------------------

@pytest.mark.parametrize(("error", "status"), [
    (rex.ServerError(), 500),
    (rex.UnknownError(502), 502),
    (rex.UnknownError(408), 408),
    (rex.AuthError(), 401),
    (requests.ConnectionError("refused"), None),
    (requests.ReadTimeout("read timed out"), None),
])
def test_an_unavailable_redmine_says_whether_it_answered(error, status):
    translated = _translated(error)
    assert isinstance(translated, RedmineUnavailable)
    assert translated.status == status and translated.unreachable == (status is None)


# -- the drainer thread releases dead workers' leases when it starts ---------------------------

@pytest.mark.parametrize("released", [3, 0])
def test_a_drainer_starts_by_releasing_dead_workers_leases_and_drains_at_once_if_any(
        monkeypatch, released):
    calls: list[str] = []
    reclaimed, drained = threading.Event(), threading.Event()

    def reclaim(rt):
        calls.append("reclaim")
        reclaimed.set()
        return released

    def stand_in_drain(rt):
        calls.append("drain")
        drained.set()
        return DrainReport()

    monkeypatch.setattr(scheduler, "reclaim_dead_workers", reclaim)
    monkeypatch.setattr(scheduler, "drain", stand_in_drain)
    drainer = scheduler.Drainer(rt=None, interval=60, min_gap=0)
    drainer.start()
    assert reclaimed.wait(10)
    if released:  # their events are due now: drained without a wake, before the 60 s interval
        assert drained.wait(10)
    drainer.stop()  # ends the interval wait; stopping never starts another drain
    assert calls == (["reclaim", "drain"] if released else ["reclaim"])
