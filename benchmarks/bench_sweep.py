"""Growth curves of the sweep: the full reconciliation pass and the fast pass (only
issues whose "Next SLA check" day has come), at 1,000 and 10,000 open issues.

    .venv/bin/python benchmarks/bench_sweep.py [--sizes 1000,10000] [--big] [--keep]

`--big` adds 100,000 open issues (the full pass there takes about 25 min on this machine:
not for CI). Each size gets its own project `sla-bench-sweep-<n>-<random>`, inserted in
SQL in one transaction (`common.bulk_issues`, one `rails runner`), and deleted afterwards
in SQL (`--keep` keeps them) so the Redmine stays small.

The issues of the "SLA Bench" tracker carry the bridge's fields as after an acceptance,
with a 24x7 calendar and an 8 h first-response target. 1 % of them are due on the pass's
day: first response due at 10:00 that day (so at risk at 08:00), `next_check` that day;
the rest are due in 2031. Every value matches what the bridge would compute, so neither
pass writes anything: the figures are what reading costs. The clock is injected: the
pass runs at 06:00 (Moscow) on the due day, before any of them changes.

Each pass runs in a fresh subprocess (peak RSS is that process's ru_maxrss, after
imports and after the pass); the Redmine facts are read before the clock starts (a
serving process has them). API calls come from the gateway's counter. Targets (issue
19): fast pass time <= 5 % of the full pass's, and API calls <= 2 + due/100.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import common

DAY = "2030-06-03"  # a Monday; the pass runs at 06:00 Moscow time
NOW = f"{DAY}T06:00:00+03:00"

COMMON = {"SLA tier": "standard", "License status": "none", "SLA priority": "P3",
          "SLA state": "on track"}
PLAIN = {**COMMON, "First response due": "2031-01-10 18:00", "Next SLA check": "2031-01-10"}
DUE = {**COMMON, "First response due": f"{DAY} 10:00", "Next SLA check": DAY}

_PASS = """
import datetime as dt, json, resource, sys, time
sys.path.insert(0, sys.argv[2])
import common
from redmine_sla_bridge.service.sweep import sweep
rt = common.runtime_for(sys.argv[1])
rt.redmine.catalog.facts
rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
full = sys.argv[3] == "full"
now = dt.datetime.fromisoformat(sys.argv[4])
if not full:
    rt.redmine._due_field_map()  # the field ids, as a serving process has them
calls = rt.redmine.gateway.calls.total
start = time.perf_counter()
cpu = time.process_time()
report = sweep(rt, now=now, full=full)
print(json.dumps({"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu,
                  "full": report.full, "seen": report.seen, "changed": len(report.changed),
                  "stamped": len(report.stamped), "failed": len(report.failed),
                  "calls": rt.redmine.gateway.calls.total - calls,
                  "by_method": dict(rt.redmine.gateway.calls.by_method),
                  "rss_before_mb": rss_before,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_json(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=dict(os.environ))
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def one_pass(config: Path, kind: str) -> dict:
    for attempt in range(3):  # a 500 from Redmine's SQLite lock aborts a pass
        try:
            return run_json(["-c", _PASS, str(config), str(Path(__file__).parent), kind, NOW])
        except RuntimeError as exc:
            print(f"{kind} pass attempt {attempt + 1} failed: {str(exc).strip().splitlines()[-1]}")
    raise SystemExit(f"the {kind} pass failed three times")


def measure(rm, tracker_id: int, size: int, keep: bool) -> dict:
    identifier = f"sla-bench-sweep-{size}-{uuid.uuid4().hex[:6]}"
    common.bench_project(rm, identifier, tracker_id)
    try:
        common.log(f"bulk-creating {size} issues in {identifier} (rails runner, SQL) ...")
        started = time.perf_counter()
        common.bulk_issues(rm, identifier, size, subject="Sweep benchmark", values=PLAIN,
                           every=100, due=DUE,
                           at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        common.log(f"  inserted in {time.perf_counter() - started:.1f} s")
        with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
            document = common.document_for(rm, projects=[identifier],
                                           store=f"sqlite:///{tmp}/bridge.sqlite3")
            document["policy"]["calendar"] = "24x7"
            document["policy"]["targets"] = [{"when": {}, "first_response": "8h"}]
            config = common.write_config(Path(tmp) / "bridge.yaml", document)
            full = one_pass(config, "full")
            fast = one_pass(config, "fast")
    finally:
        if not keep:
            common.delete_project(rm, identifier)
    return {"size": size, "due": size // 100, "full": full, "fast": fast}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000",
                        help="open issues per curve point, comma-separated [1000,10000]")
    parser.add_argument("--big", action="store_true", help="add 100,000 (not for CI)")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark projects")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s] + ([100_000] if args.big else [])
    print(f"machine: {common.machine()}")
    rm = common.redmine()
    print(f"Redmine: {rm.url} served by {rm.server}, keep-alive {'on' if rm.keep_alive else 'off'}")
    tracker_id = common.bench_tracker(rm)
    rows = [measure(rm, tracker_id, size, args.keep) for size in sizes]
    print(f"{'open':>7} {'pass':>5} {'seconds':>8} {'CPU s':>6} {'read':>6} {'calls':>6} "
          f"{'writes':>6} {'RSS MB':>7}")
    for row in rows:
        for kind in ("full", "fast"):
            r = row[kind]
            print(f"{row['size']:>7} {kind:>5} {r['seconds']:8.2f} {r['cpu']:6.2f} {r['seen']:>6} "
                  f"{r['calls']:>6} {r['changed'] + r['stamped']:>6} {r['maxrss_mb']:7.0f}")
    for row in rows:
        full, fast, due = row["full"], row["fast"], row["due"]
        ratio = fast["seconds"] / full["seconds"]
        budget = 2 + due / 100
        print(f"{row['size']} open, {due} due: fast / full = {ratio * 100:.1f} % (target <= 5 %), "
              f"fast-pass calls {fast['calls']} (target <= 2 + due/100 = {budget:g}); "
              f"full pass {full['calls']} calls, peak RSS {full['maxrss_mb']:.0f} MB "
              f"({full['rss_before_mb']:.0f} MB before the pass)")
        if fast["full"] or full["changed"] or fast["changed"] or full["stamped"] or fast["stamped"]:
            print(f"  unexpected: a pass wrote something or the fast pass fell back: {row}")


if __name__ == "__main__":
    main()
