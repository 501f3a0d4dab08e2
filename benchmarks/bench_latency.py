"""Latency from an issue's creation in Redmine to its SLA fields being visible in Redmine.

    .venv/bin/python benchmarks/bench_latency.py [--webhook-issues 20] [--poll-issues 10]

Both modes run `redmine-sla-bridge serve` (2 gunicorn workers) against the local
Redmine, on issues of the dedicated project `sla-bench-latency` (tracker "SLA Bench"):

- webhook push: create an issue over REST; as soon as Redmine answers, POST the signed
  Redmine 7 `issue.created` webhook to `serve` (what Redmine 7 does), then read the
  issue every 25 ms until "SLA state" is set. Latency = creation answered -> fields
  visible. Webhooks wake the receiving worker's drainer at once.
- polling: `serve` with polling.interval_seconds=5 and no webhook; create an issue and
  read it every 100 ms until "SLA state" is set; each creation waits a random part of
  the interval first, so creations fall at every phase of the poll cycle.

Reading the issue costs a GET on the same Redmine the bridge uses; it is counted in
the figures (it competes with the bridge's own GET and PUT). No assertion.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path

import common

PROJECT = "sla-bench-latency"


def sla_state(rm, issue_id: int) -> str | None:
    import requests

    answer = requests.get(f"{rm.url}/issues/{issue_id}.json",
                          headers={"X-Redmine-API-Key": rm.api_key, "Connection": "close"},
                          timeout=60)
    fields = {f["name"]: f.get("value") for f in answer.json()["issue"].get("custom_fields", ())}
    return fields.get("SLA state") or None


def wait_visible(rm, issue_id: int, every: float, limit: float = 60.0) -> float | None:
    start = time.perf_counter()
    while time.perf_counter() - start < limit:
        if sla_state(rm, issue_id):
            return time.perf_counter()
        time.sleep(every)
    return None


def post_webhook(port: int, issue_id: int) -> float:
    document = json.loads((common.ROOT / "webhooks/examples/redmine7-issue-created.json").read_text())
    document["data"]["issue"]["id"] = issue_id
    body = json.dumps(document).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/webhooks/redmine", data=body, method="POST",
        headers={"Content-Type": "application/json",
                 common.SIGNATURE_HEADER: common.sign(common.WEBHOOK_SECRET, body),
                 "X-Redmine-Delivery": f"latency-{issue_id}"})
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.status == 202, answer.status
    return time.perf_counter() - start


def summary(name: str, values: list[float]) -> str:
    return (f"{name}: n={len(values)} p50 {common.percentile(values, 50):.3f} s  "
            f"p95 {common.percentile(values, 95):.3f} s  max {max(values):.3f} s  "
            f"mean {statistics.mean(values):.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--webhook-issues", type=int, default=20)
    parser.add_argument("--poll-issues", type=int, default=10)
    parser.add_argument("--interval", type=int, default=5)
    args = parser.parse_args()
    print(f"machine: {common.machine()}")
    rm = common.redmine()
    tracker_id = common.bench_tracker(rm)
    project = common.bench_project(rm, PROJECT, tracker_id)
    gateway = rm.gateway()

    def create(n: int) -> tuple[int, float]:
        issue = common.retrying(gateway.create_issue, project_id=project["id"], tracker_id=tracker_id,
                                subject=f"Latency benchmark {n}", description="VPN is down.")
        return issue["id"], time.perf_counter()

    webhook, posts, missing = [], [], 0
    with tempfile.TemporaryDirectory(prefix="bench-latency-") as tmp:
        config = common.write_config(Path(tmp) / "push.yaml", common.document_for(
            rm, projects=[PROJECT], store=f"sqlite:///{tmp}/push.sqlite3"))
        port = common.free_port()
        proc = common.start_serve(config, port)
        try:
            time.sleep(1)  # let the startup jobs (sweep) finish
            for n in range(args.webhook_issues):
                issue_id, created = create(n)
                posts.append(post_webhook(port, issue_id))
                seen = wait_visible(rm, issue_id, every=0.025)
                if seen is None:
                    missing += 1
                else:
                    webhook.append(seen - created)
        finally:
            common.stop(proc)

        polled = []
        config = common.write_config(Path(tmp) / "poll.yaml", common.document_for(
            rm, projects=[PROJECT], store=f"sqlite:///{tmp}/poll.sqlite3",
            polling={"enabled": True, "interval_seconds": args.interval, "initial_lookback_hours": 0},
            webhooks={}))
        proc = common.start_serve(config, port)
        try:
            time.sleep(2)
            rng = random.Random(5)
            for n in range(args.poll_issues):
                # Each creation at a random phase of the poll cycle (right after the last
                # one became visible would always be just after a poll).
                time.sleep(rng.uniform(0, args.interval))
                issue_id, created = create(1000 + n)
                seen = wait_visible(rm, issue_id, every=0.1)
                if seen is None:
                    missing += 1
                else:
                    polled.append(seen - created)
        finally:
            common.stop(proc)

    print(f"Redmine: {rm.url} served by {rm.server}; the bridge's redmine.keep_alive: "
          f"{str(rm.keep_alive).lower()}; 2 serve workers")
    print(summary("webhook push: creation -> SLA fields visible", webhook))
    print(f"  (the webhook POST itself: p50 {common.percentile(posts, 50) * 1e3:.1f} ms)")
    print(summary(f"polling every {args.interval} s: creation -> SLA fields visible", polled))
    print(f"issues never updated within 60 s: {missing}")
    print(f"targets: webhook p95 <= 1 s ({common.percentile(webhook, 95):.2f} s); polling <= "
          f"interval + 1 s = {args.interval + 1} s (max {max(polled):.2f} s)")


if __name__ == "__main__":
    main()
