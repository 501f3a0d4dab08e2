"""`serve`'s gunicorn hook: an exiting worker gives up the leader lease at once."""

from __future__ import annotations

from flask import Flask

from redmine_sla_bridge.entrypoints.serve import worker_exit


class Scheduler:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.shut = 0

    def shutdown(self) -> None:
        self.shut += 1
        if self.fail:
            raise RuntimeError("store gone")


class Worker:
    def __init__(self, app: object) -> None:
        self.wsgi = app


def app_with(scheduler: Scheduler) -> Flask:
    app = Flask("test")
    app.extensions["bridge_scheduler"] = scheduler
    return app


def test_an_exiting_worker_shuts_its_scheduler_down_which_releases_the_lease():
    scheduler = Scheduler()
    worker_exit(server=None, worker=Worker(app_with(scheduler)))
    assert scheduler.shut == 1


def test_a_failing_shutdown_does_not_stop_the_worker_from_exiting(caplog):
    scheduler = Scheduler(fail=True)
    worker_exit(server=None, worker=Worker(app_with(scheduler)))
    assert scheduler.shut == 1
    assert "scheduler shutdown failed" in caplog.text


def test_a_worker_that_never_built_its_app_exits_quietly():
    worker_exit(server=None, worker=Worker(None))
    worker_exit(server=None, worker=object())


# -- the drainer process ----------------------------------------------------------------

def test_a_webhook_wakes_the_drainer_process_and_never_blocks_on_a_full_queue():
    from redmine_sla_bridge.entrypoints.serve import DrainerSupervisor, _send_wake

    supervisor = DrainerSupervisor(config=None)  # type: ignore[arg-type]
    _send_wake(supervisor.wake_send)
    assert supervisor.wake_recv.recv(64) == b"w"
    for _ in range(100_000):  # far more than the socket buffer holds: dropped, not raised
        _send_wake(supervisor.wake_send)
    supervisor.wake_recv.close()
    _send_wake(supervisor.wake_send)  # the drainer's end gone (restarting): still quiet


def test_the_drainer_process_is_restarted_when_it_dies(monkeypatch, tmp_path):
    import time

    from redmine_sla_bridge.entrypoints import serve

    starts = tmp_path / "starts"

    def short_lived(config, wake) -> int:
        with starts.open("a") as fh:
            fh.write("x")
        return 1  # dies at once

    monkeypatch.setattr(serve, "_drainer_main", short_lived)
    monkeypatch.setattr(serve.DrainerSupervisor, "RESTART_DELAY_S", 0.01)
    supervisor = serve.DrainerSupervisor(config=None)  # type: ignore[arg-type]
    supervisor.start()
    deadline = time.monotonic() + 20
    while (not starts.exists() or len(starts.read_text()) < 3) and time.monotonic() < deadline:
        time.sleep(0.01)
    supervisor.stop(timeout=5)
    assert len(starts.read_text()) >= 3


def test_a_drainer_that_keeps_dying_at_once_is_restarted_ever_later_up_to_a_minute():
    from redmine_sla_bridge.entrypoints.serve import DrainerSupervisor

    supervisor = DrainerSupervisor(config=None)  # type: ignore[arg-type]
    quick = [supervisor._restart_delay(lived_s=0.2) for _ in range(9)]
    assert quick == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]
    # One that had run a while worked: its death starts the delays over.
    assert supervisor._restart_delay(lived_s=DrainerSupervisor.STABLE_AFTER_S) == 1.0
    assert supervisor._restart_delay(lived_s=0.2) == 2.0
