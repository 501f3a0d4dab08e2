"""`serve`: the Flask app under gunicorn; the inbox drainer and the scheduler in a
process of their own, a child of the gunicorn master.

The config is loaded and checked once, in the master (`cli serve`), and so is what a
worker needs to start (`preflight`): the customer file, a store that takes a write, and
the names the config gives Redmine. A failure there ends `serve` once, with the reason,
before any worker exists. Each worker then builds its own bridge from the config after
the fork (a SQLite or PostgreSQL connection must never cross a fork) and only accepts
requests: a stored webhook wakes the drainer with a datagram on a socket pair the master
made before forking.

The drainer process (`DrainerSupervisor`) runs the inbox drainer and the scheduler
(whose jobs run only where the leader lease is held, as with several replicas). It is
forked by a thread of the master once gunicorn is ready, restarted a second after it
dies, and stopped when the master exits; it exits by itself when the master is gone.
Processing there no longer shares a GIL with the request threads, and it runs at a
lower CPU priority than they do (`DRAINER_NICENESS`; docs/PERFORMANCE.md, "Ingest").
`serve --dev` keeps everything in one process.

A worker that still cannot build its bridge (the store went away after the checks)
raises: gunicorn then stops the whole server ("worker failed to boot", exit 3) instead
of respawning the worker forever.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from gunicorn.errors import HaltServer
from sqlalchemy.exc import SQLAlchemyError

from redmine_sla_bridge.adapters.redmine.gateway import RedmineGateway
from redmine_sla_bridge.adapters.redmine.preflight import check_redmine_names
from redmine_sla_bridge.adapters.store import StoreSchemaError
from redmine_sla_bridge.bootstrap import BootstrapError, bootstrap, open_store, processing_rules
from redmine_sla_bridge.config.model import BridgeConfig
from redmine_sla_bridge.domain.ports import RedmineError
from redmine_sla_bridge.entrypoints.scheduler import BridgeScheduler
from redmine_sla_bridge.entrypoints.web.app import create_app
from redmine_sla_bridge.entrypoints.web.dashboard import dashboard_of
from redmine_sla_bridge.entrypoints.web.readiness import describe

log = logging.getLogger(__name__)


# How long a thread may hold the GIL while another wants it (Python's default: 5 ms).
# A drainer thread is CPU-bound for a few ms per event (HTTP client, JSON, policy);
# request threads that only parse a webhook and wait for a commit each queued behind it
# for up to 5 ms per GIL hand-over, which capped ingest while the drainer ran in the
# workers (it still does under `serve --dev`); request threads still hand over to each
# other.
GIL_SWITCH_INTERVAL_S = 0.0005

# gunicorn's timeouts (see docs/deployment.md). An idle keep-alive connection waits in
# gthread's poller, not in a thread, but takes one of a worker's 1000 connection slots,
# so it is not kept long. It must outlast the proxy's idle upstream connections (nginx:
# 10 s), or nginx may send a webhook down a connection gunicorn is closing, and a POST is
# not retried: the sender would get a 502.
KEEPALIVE_S = 15
# How long a stopping worker may finish its requests (systemd waits 90 s by default).
GRACEFUL_TIMEOUT_S = 20
# The master restarts a worker whose main loop has not reported for this long. gthread's
# main loop keeps reporting while request threads wait, so this catches a wedged
# worker, not a slow request: a client that sends half a request and stops holds its
# thread until it disconnects (gunicorn has no read timeout), which is why `serve` must
# sit behind a proxy that buffers requests (deploy/nginx/).
WORKER_TIMEOUT_S = 60
THREADS = 8
# The drainer process's niceness, above the workers' (whatever `serve` itself runs at):
# accepting a webhook is what a sender waits for (and times out on), processing it can
# wait a moment. On a machine short of CPU the kernel then serves the request threads
# first; the drainer still gets its share (nice 10 weighs ~1/10 of nice 0), enough for
# the scheduler's lease renewals, and the whole CPU when the workers are idle.
DRAINER_NICENESS = 10

# Options older gunicorn releases (the package allows >= 22) do not know: left out there.
NEWER_GUNICORN_OPTIONS = frozenset({"control_socket_disable"})

# What a worker that cannot start exits with: gunicorn's master then stops the server.
WORKER_BOOT_ERROR = Arbiter.WORKER_BOOT_ERROR

# Exit statuses of `serve` when a start-up check fails.
EXIT_CONFIG = 2  # the config, the customer file or a name in Redmine: fix and restart
EXIT_STORE = 1  # the store cannot be opened or written: may pass by itself


@dataclass
class PreflightReport:
    """What the start-up checks found: `problems` stop `serve` (with `exit_status`),
    `warnings` do not."""

    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    exit_status: int = 0

    def fail(self, message: str, exit_status: int) -> None:
        self.problems.append(message)
        self.exit_status = self.exit_status or exit_status


def preflight(config: BridgeConfig, *, gateway: RedmineGateway | None = None,
              now: dt.datetime | None = None) -> PreflightReport:
    """The checks a worker would otherwise fail at boot, run once in the gunicorn master
    before it forks: the customer file is valid, the store opens and commits a write,
    and, if Redmine answers, the names the config uses exist there. Redmine not
    answering is a warning only: the bridge must start (and store webhooks) during a
    Redmine outage."""
    report = PreflightReport()
    try:
        processing_rules(config)  # reads and checks the customer directory
    except BootstrapError as exc:
        report.fail(str(exc), EXIT_CONFIG)
    _check_store(config, report, now or dt.datetime.now(dt.UTC))
    if not report.problems:  # else exit now, not after Redmine's time-outs
        _check_redmine_names(config, gateway, report)
    return report


def _check_store(config: BridgeConfig, report: PreflightReport, now: dt.datetime) -> None:
    try:
        store = open_store(config)
    except BootstrapError as exc:  # the message names store.url already
        report.fail(f"{exc} (the store cannot be opened)", EXIT_STORE)
        return
    except (StoreSchemaError, SQLAlchemyError, OSError, ValueError,
            ImportError) as exc:  # ImportError: no PostgreSQL driver installed
        report.fail(f"store.url: the store cannot be opened: {describe(exc)}", EXIT_STORE)
        return
    try:
        store.check_writable(now)
    except (SQLAlchemyError, OSError) as exc:
        report.fail(f"store.url: the store does not take a write: {describe(exc)}", EXIT_STORE)
    finally:
        store.close()  # no pooled connection may cross the fork


def _check_redmine_names(config: BridgeConfig, gateway: RedmineGateway | None,
                         report: PreflightReport) -> None:
    gateway = gateway or RedmineGateway.from_config(config.redmine)
    try:
        problems = check_redmine_names(config, gateway)
    except RedmineError as exc:  # unreachable, or refused the reads the check needs
        report.warnings.append(f"Redmine could not be asked at start ({exc}); starting "
                               "anyway, the Redmine names in the config are not checked")
        return
    for problem in problems:
        report.fail(problem, EXIT_CONFIG)


def build_worker_app(config: BridgeConfig, wake: socket.socket | None = None) -> Flask:
    """The WSGI app of one worker. With `wake` (gunicorn: the drainer process's socket)
    a stored event sends it a datagram; without (`serve --dev`) the worker runs its own
    scheduler and drainer."""
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    bridge = bootstrap(config)
    dashboard = dashboard_of(config, bridge)
    if wake is not None:
        return create_app(bridge, on_enqueue=lambda: _send_wake(wake), dashboard=dashboard)
    scheduler = BridgeScheduler(bridge)
    app = create_app(bridge, on_enqueue=scheduler.drainer.wake, dashboard=dashboard)
    scheduler.start()
    app.extensions["bridge_scheduler"] = scheduler
    return app


def _send_wake(wake: socket.socket) -> None:
    # Queue full (the drainer is awake anyway) or the drainer restarting: nothing to do.
    with contextlib.suppress(OSError):
        wake.send(b"w")


class DrainerSupervisor:
    """The drainer process: forked from the gunicorn master, restarted when it dies.

    A child's death is seen on a pipe (EOF once its end closes), not by waitpid: the
    gunicorn master reaps every child itself."""

    RESTART_DELAY_S = 1.0
    MAX_RESTART_DELAY_S = 60.0
    STABLE_AFTER_S = 60.0
    """A drainer that lived this long had worked: its death starts the delays over. One
    that dies sooner (a store that refuses it, a database down) is restarted after twice
    the last delay, so a lasting fault logs a line a minute, not one a second."""
    TOLD_TO_STOP = b"stopped"
    """What a drainer stopped by a signal says on its pipe. SIGINT/SIGTERM reach the whole
    process group when serve itself stops, before the master's on_exit hook tells the
    supervisor: a drainer stopped so is not restarted unless serve goes on running."""
    SHUTDOWN_GRACE_S = GRACEFUL_TIMEOUT_S + 5

    def __init__(self, config: BridgeConfig) -> None:
        self.config = config
        self.wake_recv, self.wake_send = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.wake_send.setblocking(False)
        self.pid: int | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._delay = 0.0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._supervise, name="drainer-supervisor",
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout: float = GRACEFUL_TIMEOUT_S) -> None:
        self._stopping.set()
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)
        if self._thread is not None:
            self._thread.join(timeout)

    def _supervise(self) -> None:
        while not self._stopping.is_set():
            died, alive = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child
                os.close(died)
                code = 1
                try:
                    code = _drainer_main(self.config, self.wake_recv)
                    if code == 0:
                        with contextlib.suppress(OSError):
                            os.write(alive, self.TOLD_TO_STOP)
                except BootstrapError as exc:  # the reason is the message: no traceback
                    log.error("drainer process could not start: %s", exc)
                except BaseException:  # logged; the supervisor starts a new one
                    log.exception("drainer process failed")
                finally:
                    os._exit(code)
            os.close(alive)
            self.pid = pid
            started = time.monotonic()
            log.info("drainer process started", extra={"pid": pid})
            with os.fdopen(died, "rb") as watch:
                said = watch.read()  # EOF: the child is gone
            self.pid = None
            if said == self.TOLD_TO_STOP and self._stopping.wait(self.SHUTDOWN_GRACE_S):
                log.info("drainer process stopped with serve", extra={"pid": pid})
                return
            if self._stopping.is_set():
                return
            delay = self._restart_delay(time.monotonic() - started)
            # The message stays the same (logs are searched for it); the wait is a field.
            log.error("drainer process exited; restarting it",
                      extra={"pid": pid, "restart_in_s": delay})
            self._stopping.wait(delay)

    def _restart_delay(self, lived_s: float) -> float:
        if lived_s >= self.STABLE_AFTER_S or self._delay == 0.0:
            self._delay = self.RESTART_DELAY_S
        else:
            self._delay = min(self._delay * 2, self.MAX_RESTART_DELAY_S)
        return self._delay


def _drainer_main(config: BridgeConfig, wake: socket.socket) -> int:
    """The drainer process's body: scheduler and drainer until SIGTERM or the master's
    death. Returns the exit status."""
    stop = threading.Event()
    # Inherited from the gunicorn master: its handlers must not run here.
    for sig in (signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2, signal.SIGWINCH,
                signal.SIGTTIN, signal.SIGTTOU, signal.SIGCHLD):
        signal.signal(sig, signal.SIG_DFL)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    master = os.getppid()
    with contextlib.suppress(OSError):  # a container may forbid it: then it stays level
        os.nice(DRAINER_NICENESS)
    bridge = bootstrap(config)
    scheduler = BridgeScheduler(bridge)
    wake.settimeout(1.0)

    def listen() -> None:
        while not stop.is_set():
            try:
                wake.recv(64)
            except TimeoutError:
                if os.getppid() != master:  # the master died (kill -9): so do we
                    stop.set()
                continue
            except OSError:
                return
            scheduler.drainer.wake()

    scheduler.start()
    listener = threading.Thread(target=listen, name="drainer-wake", daemon=True)
    listener.start()
    stop.wait()
    try:
        scheduler.shutdown()  # releases the leader lease at once
    except Exception:  # exiting anyway (logged)
        log.exception("scheduler shutdown failed")
    return 0


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
            if key == "drainer" or (key in NEWER_GUNICORN_OPTIONS and key not in self.cfg.settings):
                continue
            self.cfg.set(key, value)

    # types-gunicorn wants environ as a MutableMapping, Flask's __call__ takes a dict: both
    # are WSGI apps, the two third-party annotations just disagree.
    def load(self) -> Flask:  # type: ignore[override]
        wake = self.options.get("drainer")
        try:
            return build_worker_app(self.bridge_config,
                                    wake.wake_send if isinstance(wake, DrainerSupervisor) else None)
        except BootstrapError as exc:
            # The start-up checks passed, so this came after them (a store that went
            # read-only, a database gone): one line with the reason, not gunicorn's
            # traceback. SystemExit passes gunicorn's handler untouched and its status
            # tells the master the worker failed to boot, which stops the server.
            log.error("worker could not start: %s", exc)
            raise SystemExit(WORKER_BOOT_ERROR) from None


def serve(config: BridgeConfig, *, bind: str, workers: int,
          timeout: int = WORKER_TIMEOUT_S) -> None:
    """Run gunicorn until it stops. A worker that fails to boot stops the server: this
    then raises SystemExit with gunicorn's status (3)."""
    drainer = DrainerSupervisor(config)
    options = {
        "bind": bind,
        "workers": workers,
        "worker_class": "gthread",
        "threads": THREADS,
        "timeout": timeout,
        "keepalive": KEEPALIVE_S,
        "graceful_timeout": GRACEFUL_TIMEOUT_S,
        "accesslog": None,
        "preload_app": False,  # every worker opens its own store connection
        "worker_exit": worker_exit,
        "when_ready": lambda server: drainer.start(),
        "on_exit": lambda server: drainer.stop(),
        "drainer": drainer,
        # gunicorn >= 25 opens a control socket at one path per user ($HOME/.gunicorn):
        # every `serve` of a host would take it from the one before, and nothing of the
        # bridge uses it.
        "control_socket_disable": True,
    }
    try:
        BridgeServer(config, options).run()
    except HaltServer as halt:
        # gunicorn raises this a second time while stopping, when two workers failed to
        # boot; its own handler then never runs and the process died with a traceback.
        log.error("serve stopped: %s", halt.reason)
        raise SystemExit(halt.exit_status) from None
