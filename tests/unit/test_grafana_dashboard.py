"""deploy/grafana/redmine-sla-bridge.json queries only what the bridge exports: every
metric name in its PromQL is a series of telemetry/metrics.py (a counter's `_total`, a
histogram's `_bucket`), every label it selects or groups by is one of that metric's
labels (or Prometheus's own `job`/`instance`), and every metric of metrics.py is
documented in docs/monitoring.md."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.metrics import MetricWrapperBase

from redmine_sla_bridge.telemetry import metrics

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "redmine-sla-bridge.json"
TARGET_LABELS = {"job", "instance"}  # added by Prometheus when it scrapes


def exported() -> dict[str, tuple[str, set[str]]]:
    """Series name -> (metric, its labels), as Prometheus stores them."""
    out: dict[str, tuple[str, set[str]]] = {}
    for value in vars(metrics).values():
        if not isinstance(value, MetricWrapperBase):
            continue
        name, labels = value._name, set(value._labelnames)
        if isinstance(value, Counter):
            out[name + "_total"] = (name, labels)
        elif isinstance(value, Histogram):
            for suffix in ("_bucket", "_sum", "_count"):
                out[name + suffix] = (name, labels | ({"le"} if suffix == "_bucket" else set()))
        elif isinstance(value, Gauge):
            out[name] = (name, labels)
    return out


def expressions(document: dict) -> list[str]:
    """The PromQL of every panel (rows nest panels) and of every query variable."""
    found = [v["definition"] for v in document["templating"]["list"] if v["type"] == "query"]

    def walk(panels):
        for panel in panels:
            found.extend(t["expr"] for t in panel.get("targets", []))
            walk(panel.get("panels", []))

    walk(document["panels"])
    return found


def test_every_metric_and_label_the_dashboard_queries_is_exported():
    document = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    series = exported()
    queries = expressions(document)
    assert len(queries) >= 20
    used = set()
    for query in queries:
        names = set(re.findall(r"\bbridge_[a-z0-9_]+\b", query))
        assert names, query
        for name in names:
            assert name in series, f"{name} is not exported by telemetry/metrics.py: {query}"
            used.add(series[name][0])
        labels = set(series[next(iter(names))][1]).union(*(series[n][1] for n in names))
        selected = set(re.findall(r"([a-z_]+)\s*(?:=~|!=|!~|=)\s*\"", query))
        grouped = {g.strip() for group in re.findall(r"by \(([^)]*)\)", query)
                   for g in group.split(",")}
        assert (selected | grouped) - labels - TARGET_LABELS == set(), query
    # The SLA panels the issue asks for read the SLA metrics.
    assert {"bridge_sla_outcomes", "bridge_open_requests"} <= used


def test_panels_have_unique_ids_and_legends_name_real_labels():
    document = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    ids = [p["id"] for p in document["panels"]]
    assert len(ids) == len(set(ids))
    series = exported()
    for panel in document["panels"]:
        for target in panel.get("targets", []):
            names = re.findall(r"\bbridge_[a-z0-9_]+\b", target["expr"])
            labels = set().union(*(series[n][1] for n in names))
            for label in re.findall(r"\{\{(\w+)\}\}", target.get("legendFormat", "")):
                assert label in labels, (panel["title"], label)


def test_every_metric_is_documented():
    text = (ROOT / "docs" / "monitoring.md").read_text(encoding="utf-8")
    for series in exported():
        if series.endswith(("_sum", "_count")):
            continue
        base = series.removesuffix("_bucket")
        assert f"`{base}`" in text, f"{base} is not in docs/monitoring.md"
