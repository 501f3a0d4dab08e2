"""`/metrics` of a running `serve` counts what its workers did.

Found by the outage test, which first read its figures from /metrics: under `serve`
every counter stays absent. `cli serve` calls `config.warnings()`, which imports
the bridge's runtime -> the gateway -> `telemetry.metrics` -> prometheus_client in the
gunicorn master, before `entrypoints.serve.serve` sets PROMETHEUS_MULTIPROC_DIR;
prometheus_client picks its value class at import, so the forked workers count in
their own memory while `/metrics` renders the (empty) multiprocess directory.
"""

from __future__ import annotations

import http.client
import re
import urllib.request

import common

from tests.conftest import write_config


def test_metrics_of_serve_count_accepted_webhooks(tmp_path, monkeypatch):
    monkeypatch.setenv("METRICS_TEST_KEY", "k" * 40)
    monkeypatch.setenv("METRICS_TEST_SECRET", "metrics-secret")
    config = write_config(tmp_path / "bridge.yaml", {
        "language": "en",
        # No Redmine needed: the drainer's calls fail and the events wait for a retry.
        "redmine": {"url": f"http://127.0.0.1:{common.free_port()}", "api_key": "${METRICS_TEST_KEY}",
                    "retries": 0, "timeout_seconds": 1},
        "store": {"url": f"sqlite:///{tmp_path / 'bridge.sqlite3'}"},
        "polling": {"enabled": False},
        "webhooks": {"secret": "${METRICS_TEST_SECRET}"},
        "calendars": {"office": {"timezone": "Europe/Moscow",
                                 "week": {"mon-fri": [["09:00", "18:00"]]}, "holidays": "RU"}},
        "policy": {"calendar": "office", "tiers": [{"name": "standard", "when": {}}],
                   "priority": {"mode": "impact", "default_impact": "P3"}},
    })
    port = common.free_port()
    proc = common.start_serve(config, port)
    try:
        for journal in range(1, 6):
            body = common.redmine7_body(4242, journal)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("POST", "/webhooks/redmine", body=body, headers={
                "Content-Type": "application/json",
                "X-Redmine-Signature-256": common.sign("metrics-secret", body)})
            assert conn.getresponse().status == 202
            conn.close()
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    finally:
        common.stop(proc)
    received = sum(float(v) for v in re.findall(
        r'^bridge_events_received_total\{source="redmine7"\} ([0-9.e+]+)$', text, re.MULTILINE))
    assert received == 5, text[:2000]
