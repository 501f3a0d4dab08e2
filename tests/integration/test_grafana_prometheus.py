"""Every query of deploy/grafana/redmine-sla-bridge.json, run by a real Prometheus
(Debian's, a private instance on a free port) that scrapes the bridge's `/metrics`
served by its Flask app under a real HTTP server: each one is valid PromQL that
Prometheus evaluates without error, and the SLA panels find the outcomes and open
requests the bridge counted, with their labels.

Grafana itself is not started: the variables are substituted as Grafana does (`$job`,
`$tier` as regexes, `$__range` as a duration), and `label_values(metric, label)` is
Prometheus's label-values API, which is what Grafana calls for it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from redmine_sla_bridge.bootstrap import bootstrap
from redmine_sla_bridge.config.loader import load_config
from redmine_sla_bridge.entrypoints.web.app import create_app
from redmine_sla_bridge.telemetry import metrics
from tests.conftest import write_config
from tests.integration.test_dashboard_browser import config_document
from tests.unit.test_grafana_dashboard import DASHBOARD, expressions

JOB = "redmine-sla-bridge-grafana-test"
# Tiers of this test only: other tests of the session count into the same registry.
TIERS = ("grafana-gold", "grafana-silver", "grafana-bronze")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def api(base: str, path: str, **params: str) -> dict:
    url = f"{base}{path}?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url, timeout=30) as answer:
        return json.loads(answer.read())


def scrapes(base: str) -> float:
    """How many scrapes of the bridge Prometheus has stored (0 before the first)."""
    result = api(base, "/api/v1/query", query=f'count_over_time(up{{job="{JOB}"}}[10m])')["data"]["result"]
    return float(result[0]["value"][1]) if result else 0.0


def wait_for(condition, what: str, seconds: float = 60) -> None:
    """Poll a real process until it has done something (never a fixed sleep)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {seconds:.0f} s")
        time.sleep(0.2)


@pytest.fixture()
def bridge_url(tmp_path, monkeypatch) -> Iterator[str]:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    monkeypatch.setenv("DASH_REDMINE_KEY", "k" * 40)
    bridge = bootstrap(load_config(write_config(tmp_path / "bridge.yaml", config_document(tmp_path))),
                       notifier=None)
    http = make_server("127.0.0.1", 0, create_app(bridge), threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{http.server_port}"
    finally:
        http.shutdown()
        thread.join(10)
        bridge.store.close()


@pytest.fixture()
def prometheus(bridge_url, tmp_path) -> Iterator[str]:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("Debian's prometheus is not installed (apt-get install prometheus; "
                    "scripts/test installs it)")
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(json.dumps({  # JSON is YAML
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [{"job_name": JOB, "static_configs": [{"targets": [bridge_url]}]}],
    }))
    log = (tmp_path / "prometheus.log").open("w")
    process = subprocess.Popen(
        [binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=1h"],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        def ready() -> bool:
            if process.poll() is not None:
                output = (tmp_path / "prometheus.log").read_text()
                raise AssertionError(f"prometheus exited: {output[-2000:]}")
            try:
                with urllib.request.urlopen(base + "/-/ready", timeout=2) as answer:
                    return answer.status == 200
            except OSError:
                return False

        wait_for(ready, "prometheus ready")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def substitute(expr: str, tiers: str) -> str:
    return (expr.replace("$job", JOB).replace("$tier", tiers).replace("$__range", "10m"))


def test_every_dashboard_query_runs_on_prometheus_and_the_sla_panels_see_the_counts(prometheus):
    # Every series exists at 0 before the first scrape, so `increase` sees the whole rise
    # (Prometheus counts nothing for a series' first sample).
    for tier in TIERS:
        for outcome in ("met", "breached"):
            metrics.SLA_OUTCOMES.labels(outcome, tier, "P1")
    metrics.set_open_requests({("at risk", "grafana-gold"): 2, ("breached", "grafana-silver"): 1,
                               ("on track", "grafana-gold"): 5})
    wait_for(lambda: scrapes(prometheus) >= 2, "two scrapes before the outcomes")
    metrics.SLA_OUTCOMES.labels("met", "grafana-gold", "P1").inc(3)
    metrics.SLA_OUTCOMES.labels("breached", "grafana-gold", "P1").inc()
    metrics.SLA_OUTCOMES.labels("breached", "grafana-silver", "P1").inc(2)
    metrics.SLA_OUTCOMES.labels("met", "grafana-bronze", "P1").inc()
    seen = scrapes(prometheus)
    wait_for(lambda: scrapes(prometheus) >= seen + 2, "two scrapes after the outcomes")

    document = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    tiers = "|".join(TIERS)
    results: dict[str, list[dict]] = {}
    for expr in expressions(document):
        match = re.fullmatch(r"label_values\((\w+), (\w+)\)", expr)
        if match:  # a Grafana variable: Prometheus's label values of the metric
            values = api(prometheus, f"/api/v1/label/{match[2]}/values", **{"match[]": match[1]})
            assert values["status"] == "success", expr
            results[expr] = [{"value": v} for v in values["data"]]
            continue
        answer = api(prometheus, "/api/v1/query", query=substitute(expr, tiers))
        assert answer["status"] == "success", (expr, answer)
        results[expr] = answer["data"]["result"]

    def by_label(fragment: str, label: str) -> dict[str, float]:
        (expr,) = [e for e in results if fragment in e]
        return {r["metric"].get(label, ""): float(r["value"][1]) for r in results[expr]}

    # The variables have values on a bridge that has processed nothing yet (a labelled
    # counter has no series before its first count: the job must come from elsewhere).
    assert JOB in {r["value"] for r in results["label_values(bridge_inbox_pending, job)"]}
    assert {r["value"] for r in results["label_values(bridge_open_requests, tier)"]} >= {
        "grafana-gold", "grafana-silver"}
    # Breached by tier in the range: the tiers with a breach, and only them.
    breached = by_label('sum by (tier) (increase(bridge_sla_outcomes_total{outcome="breached"', "tier")
    assert {t for t, v in breached.items() if v > 0} == {"grafana-gold", "grafana-silver"}
    assert breached["grafana-silver"] > breached["grafana-gold"] > 0
    compliance = by_label('sum by (tier) (increase(bridge_sla_outcomes_total{outcome="met"', "tier")
    assert compliance["grafana-bronze"] == 1.0 and compliance["grafana-silver"] == 0.0
    assert 0.5 < compliance["grafana-gold"] < 1.0  # 3 met, 1 breached (extrapolated alike)
    assert by_label("sum by (state) (bridge_open_requests", "state") == {
        "at risk": 2.0, "breached": 1.0, "on track": 5.0}
    (at_risk,) = [e for e in results if 'state="at risk"' in e]
    assert float(results[at_risk][0]["value"][1]) == 2.0
