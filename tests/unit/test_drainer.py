"""The drainer thread coalesces wakes and keeps a gap between drains (no Redmine here:
`drain` is replaced by a stand-in that reports what it was asked)."""

from __future__ import annotations

import threading

import pytest

from redmine_sla_bridge.entrypoints import scheduler
from redmine_sla_bridge.service.inbox import DrainReport


class StandInDrain:
    def __init__(self, redmine_down: bool = False) -> None:
        self.calls = 0
        self.started = [threading.Event() for _ in range(5)]
        self.release = [threading.Event() for _ in range(5)]
        self.redmine_down = redmine_down

    def __call__(self, rt) -> DrainReport:
        index = self.calls
        self.calls += 1
        self.started[index].set()
        assert self.release[index].wait(10)
        return DrainReport(redmine_down=self.redmine_down)


@pytest.fixture()
def stand_in(monkeypatch):
    fake = StandInDrain()
    monkeypatch.setattr(scheduler, "drain", fake)
    return fake


def test_many_wakes_during_a_drain_make_one_more_drain(stand_in):
    drainer = scheduler.Drainer(rt=None, interval=60, min_gap=0)
    drainer.start()
    drainer.wake()
    assert stand_in.started[0].wait(10)
    for _ in range(100):
        drainer.wake()
    stand_in.release[0].set()
    assert stand_in.started[1].wait(10)
    stand_in.release[1].set()
    drainer.stop()
    assert stand_in.calls == 2


def test_a_wake_right_after_a_drain_waits_for_the_gap(stand_in):
    drainer = scheduler.Drainer(rt=None, interval=60, min_gap=60)
    drainer.start()
    drainer.wake()
    assert stand_in.started[0].wait(10)
    stand_in.release[0].set()
    drainer.wake()  # lands in the 60 s gap
    drainer.stop()  # ends the gap; stopping never starts another drain
    assert stand_in.calls == 1


def test_redmine_down_pauses_for_the_whole_interval(monkeypatch):
    fake = StandInDrain(redmine_down=True)
    monkeypatch.setattr(scheduler, "drain", fake)
    drainer = scheduler.Drainer(rt=None, interval=60, min_gap=0)
    drainer.start()
    drainer.wake()
    assert fake.started[0].wait(10)
    fake.release[0].set()
    drainer.wake()
    drainer.stop()
    assert fake.calls == 1
