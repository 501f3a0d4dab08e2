"""`serve`: the Flask app under gunicorn, with the scheduler and drainer in every worker.

The config is loaded and checked once, in the master (`cli serve`); each worker builds
its own bridge from it after the fork (a SQLite or PostgreSQL connection must never
cross a fork), starts a drainer woken by its own webhook handler, and a scheduler whose
jobs run only where the leader lease is held. A worker that exits releases the lease,
so the next leader takes over at once instead of after the lease's time-out.

A worker that cannot build its bridge raises: gunicorn then stops the whole server
("worker failed to boot", exit 3) instead of respawning the worker forever.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from redmine_sla_bridge.bootstrap import bootstrap
from redmine_sla_bridge.config.model import BridgeConfig
from redmine_sla_bridge.entrypoints.scheduler import BridgeScheduler
from redmine_sla_bridge.entrypoints.web.app import create_app

log = logging.getLogger(__name__)


# How long a thread may hold the GIL while another wants it (Python's default: 5 ms).
# The drainer thread is CPU-bound for a few ms per event (HTTP client, JSON, policy);
# request threads that only parse a webhook and wait for a commit each queued behind it
# for up to 5 ms per GIL hand-over, which capped ingest while the drainer was working.
GIL_SWITCH_INTERVAL_S = 0.0005


def build_worker_app(config: BridgeConfig) -> Flask:
    """The WSGI app of one worker: bridge, scheduler, drainer, Flask app."""
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    bridge = bootstrap(config)
    scheduler = BridgeScheduler(bridge)
    app = create_app(bridge, on_enqueue=scheduler.drainer.wake)
    scheduler.start()
    app.extensions["bridge_scheduler"] = scheduler
    return app


def worker_exit(server: Any, worker: Any) -> None:
    """gunicorn hook, run in the worker process as it exits."""
    app = getattr(worker, "wsgi", None)
    scheduler = app.extensions.get("bridge_scheduler") if isinstance(app, Flask) else None
    if scheduler is not None:
        try:
            scheduler.shutdown()
        except Exception:  # an exiting worker must still exit (logged below)
            log.exception("scheduler shutdown failed")


class BridgeServer(BaseApplication):
    def __init__(self, config: BridgeConfig, options: dict[str, Any]) -> None:
        self.bridge_config = config
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    # types-gunicorn wants environ as a MutableMapping, Flask's __call__ takes a dict: both
    # are WSGI apps, the two third-party annotations just disagree.
    def load(self) -> Flask:  # type: ignore[override]
        return build_worker_app(self.bridge_config)


def serve(config: BridgeConfig, *, bind: str, workers: int, timeout: int = 60) -> None:
    options = {
        "bind": bind,
        "workers": workers,
        "worker_class": "gthread",
        "threads": 8,
        "timeout": timeout,
        "graceful_timeout": 20,
        "accesslog": None,
        "preload_app": False,  # every worker opens its own store connection
        "worker_exit": worker_exit,
    }
    BridgeServer(config, options).run()
