"""Under `serve` the drainer process runs at a lower CPU priority than the workers that
accept webhooks (serve.DRAINER_NICENESS): on a machine short of CPU, accepting comes
first (docs/PERFORMANCE.md, "Ingest")."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import common

from redmine_sla_bridge.entrypoints.serve import DRAINER_NICENESS
from tests.conftest import write_config


def niceness(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def test_the_drainer_process_is_nicer_than_the_workers(tmp_path, monkeypatch):
    monkeypatch.setenv("PRIORITY_TEST_KEY", "k" * 40)
    config = write_config(tmp_path / "bridge.yaml", {
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
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = common.start_serve(config, common.free_port(), output=out, log_level="INFO")
        try:
            drainer = None
            deadline = time.monotonic() + 30
            while drainer is None and time.monotonic() < deadline:
                for line in log.read_text(errors="replace").splitlines():
                    if '"drainer process started"' in line:
                        drainer = json.loads(line)["pid"]
                time.sleep(0.05)
            assert drainer is not None, log.read_text()[-2000:]
            children = [int(p) for p in Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
                        .read_text().split()]
            workers = [pid for pid in children if pid != drainer]
            assert len(workers) == 2
            master = niceness(proc.pid)
            assert master == os.getpriority(os.PRIO_PROCESS, 0)  # started at our own level
            assert [niceness(pid) for pid in workers] == [master, master]
            assert niceness(drainer) == min(19, master + DRAINER_NICENESS)
        finally:
            common.stop(proc)
