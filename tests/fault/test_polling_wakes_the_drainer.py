"""What polling enqueues is processed at once, not at the drainer's next 5 s tick.

Found by benchmarks/bench_latency.py: with polling.interval_seconds=5, an issue's SLA
fields appeared up to 8.2 s after its creation (target: interval + 1 s). The poll job
stores the events but does not wake the drainer (webhooks do, through `on_enqueue`), so
they wait for the drainer's own timer: up to `Drainer.interval` (5 s) more.
"""

from __future__ import annotations

from redmine_sla_bridge.entrypoints import scheduler as scheduler_module
from redmine_sla_bridge.service.poll import PollReport
from tests.conftest import write_config


def test_events_found_by_polling_are_drained_within_a_second(tmp_path, monkeypatch):
    from redmine_sla_bridge.bootstrap import bootstrap
    from redmine_sla_bridge.config.loader import load_config

    monkeypatch.setenv("POLL_TEST_KEY", "k" * 40)
    config = load_config(write_config(tmp_path / "bridge.yaml", {
        "language": "en",
        "redmine": {"url": "http://127.0.0.1:9", "api_key": "${POLL_TEST_KEY}"},
        "store": {"url": f"sqlite:///{tmp_path / 'bridge.sqlite3'}"},
        "polling": {"enabled": True, "interval_seconds": 5},
        "calendars": {"office": {"timezone": "Europe/Moscow",
                                 "week": {"mon-fri": [["09:00", "18:00"]]}, "holidays": "RU"}},
        "policy": {"calendar": "office", "tiers": [{"name": "standard", "when": {}}],
                   "priority": {"mode": "impact", "default_impact": "P3"}},
    }))
    rt = bootstrap(config, notifier=None)

    found = {"enqueued": 1}

    def fake_poll(rt, now=None):  # what poll() reports when Redmine shows changed issues
        return PollReport(seen=found["enqueued"], enqueued=found["enqueued"])

    woken: list[bool] = []
    monkeypatch.setattr(scheduler_module, "poll", fake_poll)
    leader = scheduler_module.LeaderJobs(rt, holder="only", on_enqueue=lambda: woken.append(True))
    try:
        assert leader.run("poll")
        assert woken == [True]  # the drainer is woken at once, not at its next beat
        found["enqueued"] = 0
        assert leader.run("poll")
        assert woken == [True]  # nothing new: nobody is woken
        # serve wires the poll job to this process's drainer.
        bridge = scheduler_module.BridgeScheduler(rt, holder="only")
        assert bridge.leader.on_enqueue == bridge.drainer.wake
    finally:
        rt.store.close()
