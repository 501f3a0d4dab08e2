"""Cost of one event against the real Redmine: API calls and the bridge's own CPU time.

    .venv/bin/python benchmarks/bench_event_cost.py [--issues 30]

Workload: `--issues` new requests filed (untimed) in the dedicated project
`sla-bench-cost` (tracker "SLA Bench"), then `process_issue` on each, one after the
other in this process (no other thread runs), then once more on each (the repeat
delivery: nothing changed).

Method:
- API calls: the gateway's `calls` counter (every HTTP request to Redmine, by method)
  before and after each `process_issue`. Redmine facts (statuses, trackers, the
  bridge's user) are read once per process before timing, as in `serve`.
- CPU: `time.process_time()` (CPU time of this whole process, user + system) around
  each `process_issue`. Waiting for Redmine's answer is not CPU time, so this is the
  bridge's own cost: its logic plus the HTTP client (requests, urllib3, JSON). The part
  spent inside Redmine calls (building requests, parsing answers) is measured the same
  way around each gateway call and printed apart. Wall time is printed too; it is mostly
  Redmine (WEBrick, `Connection: close` as configured by `redmine.keep_alive: false`).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import common

PROJECT = "sla-bench-cost"


class CpuInCalls:
    """Wraps the gateway's one HTTP entry point to add up CPU and wall time inside it."""

    def __init__(self, gateway) -> None:
        self.cpu = 0.0
        self.wall = 0.0
        inner = gateway._call

        def timed(fn, *args, **kwargs):
            c, w = time.process_time(), time.perf_counter()
            try:
                return inner(fn, *args, **kwargs)
            finally:
                self.cpu += time.process_time() - c
                self.wall += time.perf_counter() - w

        gateway._call = timed


def measure(rt, issue_ids, probe: CpuInCalls, label: str) -> None:
    from redmine_sla_bridge.service.process_issue import process_issue

    cpu, wall, http_cpu, http_wall, calls, actions = [], [], [], [], [], {}
    for issue_id in issue_ids:
        before = dict(rt.redmine.gateway.calls.by_method)
        probe.cpu = probe.wall = 0.0
        c, w = time.process_time(), time.perf_counter()
        outcome = process_issue(rt, issue_id)
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
        http_cpu.append(probe.cpu)
        http_wall.append(probe.wall)
        spent = {m: n - before.get(m, 0) for m, n in rt.redmine.gateway.calls.by_method.items()}
        calls.append({m: n for m, n in spent.items() if n})
        actions[outcome.action] = actions.get(outcome.action, 0) + 1
    totals = [sum(c.values()) for c in calls]
    shapes = sorted({" + ".join(f"{n} {m}" for m, n in sorted(c.items())) for c in calls})

    def ms(xs: list[float]) -> str:
        return f"median {statistics.median(xs) * 1e3:6.2f} ms, p90 {common.percentile(xs, 90) * 1e3:6.2f} ms"

    print(f"{label} ({len(issue_ids)} issues, outcomes {actions}):")
    print(f"  Redmine API calls per event: max {max(totals)}, mean {statistics.mean(totals):.2f} "
          f"({'; '.join(shapes)})")
    print(f"  bridge CPU per event:        {ms(cpu)}")
    print(f"    of which in HTTP calls:    {ms(http_cpu)}")
    print(f"    bridge logic alone:        {ms([a - b for a, b in zip(cpu, http_cpu, strict=True)])}")
    print(f"  wall time per event:         {ms(wall)} (waiting on Redmine: "
          f"median {statistics.median(http_wall) * 1e3:.1f} ms)")
    return max(totals), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--issues", type=int, default=30)
    args = parser.parse_args()
    print(f"machine: {common.machine()}")
    rm = common.redmine()
    tracker_id = common.bench_tracker(rm)
    project = common.bench_project(rm, PROJECT, tracker_id)
    with tempfile.TemporaryDirectory(prefix="bench-cost-") as tmp:
        config = common.write_config(Path(tmp) / "bridge.yaml", common.document_for(
            rm, projects=[PROJECT], store=f"sqlite:///{tmp}/bridge.sqlite3"))
        rt = common.runtime_for(config)
        probe = CpuInCalls(rt.redmine.gateway)
        _ = rt.redmine.catalog.facts  # once per process, as in serve
        issue_ids = common.create_issues(rm, project["id"], tracker_id, args.issues,
                                         "Cost benchmark")
        calls, cpu = measure(rt, issue_ids, probe, "new request (intake, SLA fields, acknowledgement)")
        measure(rt, issue_ids, probe, "repeat delivery (nothing changed)")
        rt.store.close()
    print(f"targets: <= 2 Redmine calls per new request ({calls}), "
          f"<= 5 ms bridge CPU per event ({cpu * 1e3:.2f} ms median)")


if __name__ == "__main__":
    main()
