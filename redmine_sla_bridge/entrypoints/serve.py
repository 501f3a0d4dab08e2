"""`serve`: the Flask app under gunicorn, with the scheduler and drainer in every worker.

Each worker builds its own Runtime after the fork (a SQLite or PostgreSQL connection
must never cross a fork), starts a drainer woken by its own webhook handler, and a
scheduler whose jobs run only where the leader lease is held.
"""

from __future__ import annotations

import logging

from gunicorn.app.base import BaseApplication

log = logging.getLogger(__name__)


# How long a thread may hold the GIL while another wants it (Python's default: 5 ms).
# The drainer thread is CPU-bound for a few ms per event (HTTP client, JSON, policy);
# request threads that only parse a webhook and wait for a commit each queued behind it
# for up to 5 ms per GIL hand-over, which capped ingest while the drainer was working.
GIL_SWITCH_INTERVAL_S = 0.0005


def build_worker_app(config_path: str):
    """The WSGI app of one worker: runtime, scheduler, drainer, Flask app."""
    import sys

    from redmine_sla_bridge.entrypoints.cli import open_runtime
    from redmine_sla_bridge.entrypoints.scheduler import BridgeScheduler
    from redmine_sla_bridge.entrypoints.web.app import create_app

    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)

    rt = open_runtime(config_path)
    scheduler = BridgeScheduler(rt)
    app = create_app(rt, on_enqueue=scheduler.drainer.wake)
    scheduler.start()
    app.extensions["bridge_scheduler"] = scheduler
    return app


class BridgeServer(BaseApplication):
    def __init__(self, config_path: str, options: dict) -> None:
        self.config_path = config_path
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return build_worker_app(self.config_path)


def prepare_multiprocess_metrics() -> None:
    """Must run before anything in the process imports prometheus_client, which picks its
    value storage at import: counters then live in per-process files that /metrics sums
    across workers. A fresh directory per start, so old counts do not linger."""
    import os
    import sys
    import tempfile

    if "prometheus_client" in sys.modules:
        raise RuntimeError("prometheus_client was imported before serve set up its metrics")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="redmine-sla-bridge-metrics-")


def serve(config_path: str, *, bind: str, workers: int, timeout: int = 60) -> None:
    options = {
        "bind": bind,
        "workers": workers,
        "worker_class": "gthread",
        "threads": 8,
        "timeout": timeout,
        "graceful_timeout": 20,
        "accesslog": None,
        "preload_app": False,  # every worker opens its own store connection
    }
    BridgeServer(config_path, options).run()
