"""`release_dead_workers`: the live leases of this host's workers that are gone are
released at once; every lease whose holder may be alive, or is not ours to judge, is
left to lapse. Names are `host:pid:start:pidns` (service.inbox.worker_name)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest
from store_testing import T0

from redmine_sla_bridge.adapters.store import InboxEvent
from redmine_sla_bridge.adapters.store.inbox import pid_namespace
from redmine_sla_bridge.service.inbox import worker_name

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/ns/pid"), reason="needs Linux /proc")

HOST = socket.gethostname()


def ev(issue: int, n: int = 0) -> InboxEvent:
    return InboxEvent(source="poll", issue_id=issue, received_at=T0 + timedelta(seconds=n),
                      delivery_id=f"d-{issue}-{n}")


def exited_pid() -> int:
    """The pid of a process that has exited and been reaped (not reused so soon)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def name(pid: int, start: int | str = 1, namespace: int | None = None) -> str:
    return f"{HOST}:{pid}:{start}:{namespace if namespace is not None else pid_namespace()}"


def hold(store, issue: int, worker: str, lease_seconds: float = 120) -> None:
    store.enqueue(ev(issue))
    (claimed,) = [e for e in store.claim(T0, 100, lease_seconds, worker) if e.issue_id == issue]
    assert claimed.lease_owner == worker


def test_the_leases_of_a_worker_that_exited_are_released_at_once(store):
    dead = name(exited_pid())
    hold(store, 1, dead)
    store.enqueue(ev(2))
    store.enqueue(ev(3))
    assert len(store.claim(T0, 100, 120, dead)) == 2  # it held three events in all
    assert store.claim(T0, 10, 120, "other") == []
    assert store.release_dead_workers(T0) == {dead: 3}
    taken = store.claim(T0, 10, 120, "other")
    assert sorted(e.issue_id for e in taken) == [1, 2, 3]
    assert {e.attempts for e in taken} == {0}  # no failure charged
    assert {e.claims for e in taken} == {2}  # but the earlier claim shows
    assert {e.last_error for e in taken} == {f"lease released: worker {dead} is gone"}
    assert store.release_dead_workers(T0) == {}


def test_a_live_worker_keeps_its_leases(store):
    hold(store, 1, worker_name())  # this very process
    assert store.release_dead_workers(T0) == {}
    assert store.claim(T0, 10, 120, "other") == []


def test_a_reused_pid_is_told_apart_by_its_start_time(store):
    # Our own pid, but "started" at another time: the worker that had it is gone.
    _host, pid, start, namespace = worker_name().rsplit(":", 3)
    reused = name(int(pid), int(start) - 1, int(namespace))
    hold(store, 1, reused)
    assert store.release_dead_workers(T0) == {reused: 1}


def test_a_zombie_is_gone(store):
    # Exited, not yet reaped by its parent (us): the pid exists, with its own start time.
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # wait, but leave it a zombie
        with open(f"/proc/{child.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        assert fields[0] == "Z"
        zombie = name(child.pid, int(fields[22 - 3]))
        hold(store, 1, zombie)
        assert store.release_dead_workers(T0) == {zombie: 1}
    finally:
        child.wait()


@pytest.mark.parametrize("owner", [
    pytest.param(f"elsewhere:{{pid}}:1:{pid_namespace()}", id="another host"),
    pytest.param(f"{HOST}:{{pid}}:1:1", id="another PID namespace (a container)"),
    pytest.param(f"{HOST}:{{pid}}", id="old name without start time"),
    pytest.param("doomed", id="a name of no known form"),
    pytest.param(f"{HOST}:{{pid}}:x:{pid_namespace()}", id="not numbers"),
])
def test_holders_that_are_not_ours_to_judge_keep_their_leases(store, owner):
    owner = owner.format(pid=exited_pid())
    hold(store, 1, owner)
    assert store.release_dead_workers(T0) == {}


def test_expired_leases_are_not_touched(store):
    # They are claimable already; releasing them would only rewrite their last error.
    dead = name(exited_pid())
    hold(store, 1, dead, lease_seconds=60)
    assert store.release_dead_workers(T0 + timedelta(seconds=60)) == {}


def test_done_and_dead_events_are_not_touched(store):
    dead = name(exited_pid())
    store.enqueue(ev(1))
    store.enqueue(ev(2))
    first, second = store.claim(T0, 10, 120, dead)
    store.complete(first.id, dead, T0)
    store.dead(second.id, dead, "bad", T0)
    assert store.release_dead_workers(T0) == {}
    assert [d.reason for d in store.dead_letters()] == ["bad"]


def test_a_worker_killed_while_holding_events_is_released_by_the_next_process(store, store_url):
    """The name the service makes and the store reads agree: a real process claims with
    `worker_name()` and dies by SIGKILL."""
    for issue in range(3):
        store.enqueue(ev(issue))
    script = textwrap.dedent(f"""
        import datetime as dt, os, signal
        from redmine_sla_bridge.adapters.store import Store
        from redmine_sla_bridge.service.inbox import worker_name
        store = Store.from_url({store_url!r})
        claimed = store.claim(dt.datetime({T0.year}, {T0.month}, {T0.day}, {T0.hour},
                                          tzinfo=dt.timezone.utc), 10, 120, worker_name())
        print(worker_name(), len(claimed), flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    child = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           env=dict(os.environ), timeout=60)
    assert child.returncode == -signal.SIGKILL, child.stderr
    dead, count = child.stdout.split()
    assert count == "3" and dead.rsplit(":", 3)[0] == HOST
    assert store.claim(T0, 10, 120, worker_name()) == []
    assert store.release_dead_workers(T0) == {dead: 3}
    assert len(store.claim(T0, 10, 120, worker_name())) == 3
