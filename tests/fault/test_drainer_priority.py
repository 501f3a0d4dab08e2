"""Under `serve` the drainer process runs at a lower CPU priority than the workers that
accept webhooks (serve.DRAINER_NICENESS): on a machine short of CPU, accepting comes
first (docs/PERFORMANCE.md, "Ingest"). A drainer that dies is started again; one stopped
with serve itself is not."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import common

from redmine_sla_bridge.entrypoints.serve import DRAINER_NICENESS
from tests.conftest import write_config


def niceness(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def _config(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("PRIORITY_TEST_KEY", "k" * 40)
    return write_config(tmp_path / "bridge.yaml", {
        "language": "en",
        "redmine": {"url": f"http://127.0.0.1:{common.free_port()}", "api_key": "${PRIORITY_TEST_KEY}",
                    "retries": 0, "timeout_seconds": 1},
        "store": {"url": f"sqlite:///{tmp_path / 'bridge.sqlite3'}"},
        "polling": {"enabled": False},
        "calendars": {"office": {"timezone": "Europe/Moscow",
                                 "week": {"mon-fri": [["09:00", "18:00"]]}, "holidays": "RU"}},
        "policy": {"calendar": "office", "tiers": [{"name": "standard", "when": {}}],
                   "priority": {"mode": "impact", "default_impact": "P3"}},
    })


def _logged(log: Path, message: str) -> list[dict]:
    lines = log.read_text(errors="replace").splitlines()
    return [json.loads(line) for line in lines if f'"{message}"' in line]


def _drainers_started(log: Path, count: int) -> list[int]:
    """The pids of the first `count` drainer processes serve started (waits for them)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        started = [entry["pid"] for entry in _logged(log, "drainer process started")]
        if len(started) >= count:
            return started
        time.sleep(0.05)
    raise AssertionError(log.read_text()[-2000:])


@contextlib.contextmanager
def _serving(tmp_path, monkeypatch) -> Iterator[tuple[subprocess.Popen, Path]]:
    """`serve` with its JSON log in a file; stopped by SIGTERM to its whole process group,
    as a service manager stops it."""
    config = _config(tmp_path, monkeypatch)
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = common.start_serve(config, common.free_port(), output=out, log_level="INFO")
        try:
            yield proc, log
        finally:
            common.stop(proc)


def _workers(master: int, drainer: int, count: int) -> list[int]:
    """The master's children but the drainer, once `count` are up: /healthz answers as
    soon as one worker does, and the second may still be booting on a loaded machine."""
    deadline = time.monotonic() + 30
    while True:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        workers = [int(pid) for pid in children if int(pid) != drainer]
        if len(workers) >= count or time.monotonic() > deadline:
            assert len(workers) == count, workers
            return workers
        time.sleep(0.05)


def test_the_drainer_process_is_nicer_than_the_workers(tmp_path, monkeypatch):
    with _serving(tmp_path, monkeypatch) as (proc, log):
        (drainer,) = _drainers_started(log, 1)
        workers = _workers(proc.pid, drainer, 2)
        master = niceness(proc.pid)
        assert master == os.getpriority(os.PRIO_PROCESS, 0)  # started at our own level
        assert [niceness(pid) for pid in workers] == [master, master]
        assert niceness(drainer) == min(19, master + DRAINER_NICENESS)


def test_a_killed_drainer_is_restarted_and_one_stopped_with_serve_is_not(tmp_path, monkeypatch):
    with _serving(tmp_path, monkeypatch) as (proc, log):
        (first,) = _drainers_started(log, 1)
        os.kill(first, signal.SIGKILL)
        second = _drainers_started(log, 2)[1]
        assert second != first
        assert len(_logged(log, "drainer process exited; restarting it")) == 1
    assert proc.returncode is not None
    # Stopped with serve: not taken for a death, not restarted.
    assert len(_logged(log, "drainer process exited; restarting it")) == 1, log.read_text()[-2000:]
    assert len(_logged(log, "drainer process started")) == 2
