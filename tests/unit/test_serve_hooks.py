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
