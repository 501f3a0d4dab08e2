"""Webhook ingest: durably accepted Redmine 7 webhooks per second under `serve`, against a
Flask hello-world under the same gunicorn settings.

    .venv/bin/python benchmarks/bench_ingest.py [--seconds 10] [--clients 4] [--workers 2]

What runs:
- `redmine-sla-bridge serve` (gunicorn, gthread, 8 threads per worker) on a loopback
  port, with a fresh SQLite store (WAL, synchronous=FULL: one fsync per accepted event),
  polling off. Its drainers really process the events in the background against the
  local Redmine: the events name 20 real issues of the dedicated project
  `sla-bench-ingest` (tracker "SLA Bench"), so the measured rate includes that work
  competing for the same CPUs, as in production. (At most one Redmine call at a time
  per worker: the load on the shared Redmine stays bounded.)
- The load generator: `--clients` processes, each with one keep-alive connection, in a
  closed loop; every request is a fresh Redmine 7 `issue.updated` body (the example's
  size, ~1 KB) with its own journal id and `X-Redmine-Delivery`, signed with HMAC-SHA256.
  The generator runs on the same 2 CPUs as the server (its CPU time is printed).
- The same again with Redmine's URL pointing at a closed port ("acceptance only"): the
  drainers fail at once and back off, so the figure is the acceptance path alone.
- The same generator against a Flask app that reads the body and answers 202 JSON,
  under the same gunicorn options as `serve`.

Printed: accepted events/s, p50/p99 latency, the ratio to hello-world, and the check that
the store holds exactly as many events as were answered 202 "stored". No assertion.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import common

PROJECT = "sla-bench-ingest"
ISSUES = 20


def issues(rm, tracker_id: int) -> list[int]:
    project = common.bench_project(rm, PROJECT, tracker_id)
    ids = common.open_issue_ids(rm, project["id"], tracker_id)
    if len(ids) < ISSUES:
        ids += common.create_issues(rm, project["id"], tracker_id, ISSUES - len(ids),
                                    "Ingest benchmark")
    return ids[:ISSUES]


def report(name: str, result: common.LoadResult) -> float:
    bridge = name.startswith("bridge")
    rate = (result.stored if bridge else result.statuses.get(202, 0)) / result.seconds
    lat = result.latencies
    print(f"{name}: {result.requests} requests in {result.seconds:.0f} s:\n    "
          f"{rate:8.1f} {'accepted events' if bridge else 'answers'}/s  "
          f"p50 {common.percentile(lat, 50) * 1e3:6.2f} ms  p99 {common.percentile(lat, 99) * 1e3:6.2f} ms  "
          f"max {max(lat) * 1e3:7.2f} ms  statuses {dict(sorted(result.statuses.items()))}  "
          f"client errors {result.errors}\n    server CPU {result.server_cpu:.1f} s = "
          f"{result.server_cpu / max(1, result.requests) * 1e3:.2f} ms per request (all its processes, "
          f"background work included); load generator CPU {result.client_cpu:.1f} s")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    print(f"machine: {common.machine()}")
    rm = common.redmine()
    tracker_id = common.bench_tracker(rm)
    issue_ids = issues(rm, tracker_id)
    print(f"serve: {args.workers} gunicorn gthread workers x 8 threads; "
          f"{args.clients} client processes x 1 keep-alive connection; {args.seconds:.0f} s each")
    runs = {}
    for name, url in (("bridge", rm.url), ("bridge, acceptance only", f"http://127.0.0.1:{common.free_port()}")):
        runs[name] = run_bridge(rm, args, issue_ids, redmine_url=url)
    hello_port = common.free_port()
    hello_proc = common.start_hello(hello_port, workers=args.workers)
    try:
        common.generate_load(hello_port, issue_ids=issue_ids, processes=args.clients, seconds=1.0)
        hello = common.generate_load(hello_port, issue_ids=issue_ids, processes=args.clients,
                                     seconds=args.seconds, server=hello_proc)
    finally:
        common.stop(hello_proc)

    hello_rate = report("hello-world", hello)
    for name, (result, stored_rows, processed) in runs.items():
        rate = report(name, result)
        p99 = common.percentile(result.latencies, 99) * 1e3
        print(f"  ratio to hello-world = {rate / hello_rate * 100:5.1f} %; store check: "
              f"{stored_rows} rows written, {result.stored} answered 202 stored, "
              f"{result.duplicates} answered duplicate -> "
              f"{'EXACT' if stored_rows == result.stored else 'MISMATCH'}; processed in the "
              f"background meanwhile: {processed}")
        print(f"  targets: >= 1000 accepted events/s ({rate:.0f}), >= 50 % of hello-world "
              f"({rate / hello_rate * 100:.0f} %), p99 <= 50 ms ({p99:.1f} ms)")


def run_bridge(rm, args, issue_ids, *, redmine_url: str):
    """One `serve` on a fresh store; with a closed port as Redmine's URL the drainers fail
    fast and back off, which leaves the acceptance path alone on the CPUs."""
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        store = Path(tmp) / "bridge.sqlite3"
        document = common.document_for(rm, projects=[PROJECT], store=f"sqlite:///{store}",
                                        lifecycle={"sweep_interval_seconds": 86400})
        document["redmine"].update(url=redmine_url, **({} if redmine_url == rm.url else
                                                       {"retries": 0, "timeout_seconds": 1}))
        config = common.write_config(Path(tmp) / "bridge.yaml", document)
        port = common.free_port()
        proc = common.start_serve(config, port, workers=args.workers)
        try:
            common.generate_load(port, issue_ids=issue_ids, processes=args.clients, seconds=1.0,
                                 journal_base=900_000_000)  # warm-up (stored too)
            warm = common.count_rows(store)
            result = common.generate_load(port, issue_ids=issue_ids, processes=args.clients,
                                          seconds=args.seconds, server=proc)
            processed = common.count_rows(store, "state = 'done'")
        finally:
            common.stop(proc)
        return result, common.count_rows(store) - warm, processed


if __name__ == "__main__":
    main()
