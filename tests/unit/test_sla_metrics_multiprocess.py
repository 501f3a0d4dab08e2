"""The SLA metrics under `serve`'s multiprocess mode (PROMETHEUS_MULTIPROC_DIR, one
process per gunicorn worker): outcome counts add up over workers, and the open-requests
gauge is the value of the most recent sweep, whichever worker (leader) ran it. Each
"worker" is a process of its own, as under gunicorn; a third one renders `/metrics`."""

from __future__ import annotations

import os
import subprocess
import sys

WORKER = """
import sys
from redmine_sla_bridge.telemetry import metrics
metrics.SLA_OUTCOMES.labels("breached", "premium", "P1").inc(int(sys.argv[1]))
metrics.set_open_requests({("on track", "premium"): int(sys.argv[2]), ("at risk", "premium"): 1})
"""
RENDER = """
from redmine_sla_bridge.telemetry import metrics
print(metrics.render()[0].decode())
"""


def run(code: str, *args: str, env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True,
                          text=True, timeout=60, check=True)
    return done.stdout


def test_outcomes_add_up_and_the_open_requests_are_the_latest_sweeps(tmp_path):
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    run(WORKER, "1", "7", env=env)  # the leader's sweep
    run(WORKER, "2", "3", env=env)  # a later sweep, by another worker that took the lease
    text = run(RENDER, env=env)
    lines = set(text.splitlines())
    assert 'bridge_sla_outcomes_total{outcome="breached",priority="P1",tier="premium"} 3.0' in lines
    assert 'bridge_open_requests{state="on track",tier="premium"} 3.0' in lines
    assert 'bridge_open_requests{state="at risk",tier="premium"} 1.0' in lines
