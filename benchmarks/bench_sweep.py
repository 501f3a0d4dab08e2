"""The periodic sweep over 10,000 open issues with no state change, against the floor of
merely paging through the same issues.

    .venv/bin/python benchmarks/bench_sweep.py [--issues 10000]

Setup (once; reused while the project holds the issues): the project `sla-bench-sweep`
gets 10,000 open issues of the "SLA Bench" tracker, bulk-inserted in Ruby (`rails
runner`, `insert_all`, ~1 min) with the bridge's fields already set as after an
acceptance: tier standard, priority P3, SLA state "on track", deadlines in 2031. So the
sweep reads every issue, recomputes its decision and clock, and changes nothing.

Measured in the same run, one after the other, each in a fresh subprocess:
- floor: `requests` paging /issues.json with limit=100 and the sweep's own filters
  (status open, sort by id, the project and tracker), `Connection: close` like the
  bridge (`redmine.keep_alive: false`, see docs/PERFORMANCE.md), JSON decoded;
- sweep: `sweep(rt)` with a config scoped to that project; Redmine facts are read before
  the clock starts (a serving process has them already).
Printed: wall time of both and their ratio, the sweep's API calls and state changes, and
the peak RSS of the sweep's process (ru_maxrss, after imports and after the sweep).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import common

PROJECT = "sla-bench-sweep"

_BULK_RUBY = """
p = Project.find_by!(identifier: %(project)r)
t = Tracker.find_by!(name: %(tracker)r)
have = Issue.where(project_id: p.id, tracker_id: t.id).open.count
need = %(count)d - have
cf = IssueCustomField.where(name: %(names)s).pluck(:name, :id).to_h
values = %(values)s
status = t.default_status
priority = IssuePriority.default || IssuePriority.active.first
author = User.find_by_login("admin")
now = Time.now.utc
made = 0
while made < need
  n = [1000, need - made].min
  rows = (1..n).map do |i|
    {project_id: p.id, tracker_id: t.id, status_id: status.id, priority_id: priority.id,
     author_id: author.id, subject: "Sweep benchmark #{have + made + i}",
     description: "The VPN client stops after the update.", start_date: now.to_date,
     done_ratio: 0, is_private: false, lock_version: 0, lft: 1, rgt: 2,
     created_on: now, updated_on: now}
  end
  Issue.transaction do
    Issue.insert_all(rows)
    ids = Issue.where(project_id: p.id, tracker_id: t.id, root_id: nil).pluck(:id)
    Issue.where(id: ids).update_all("root_id = id")
    cvs = ids.flat_map do |id|
      values.map { |name, value| {customized_type: "Issue", customized_id: id,
                                  custom_field_id: cf.fetch(name), value: value} }
    end
    CustomValue.insert_all(cvs)
  end
  made += n
end
puts "CREATED #{made}"
"""

VALUES = {"SLA tier": "standard", "License status": "none", "SLA priority": "P3",
          "SLA state": "on track", "First response due": "2031-01-10 18:00",
          "Resolution due": "2031-02-10 18:00"}

_FLOOR = """
import json, resource, sys, time, requests
url, key, filters = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
session = requests.Session()
headers = {"X-Redmine-API-Key": key, "Connection": "close"}
start = time.perf_counter()
offset = seen = calls = failed = 0
while True:
    answer = session.get(url + "/issues.json", params={**filters, "offset": offset, "limit": 100},
                         headers=headers, timeout=120)
    calls += 1
    if answer.status_code != 200:  # Redmine on SQLite: 500 after a 15 s lock wait
        failed += 1
        if failed > 30:
            sys.exit(f"Redmine answered {answer.status_code} {failed} times")
        continue
    page = answer.json()
    seen += len(page["issues"])
    offset += len(page["issues"])
    if not page["issues"] or offset >= page["total_count"]:
        break
print(json.dumps({"seconds": time.perf_counter() - start, "seen": seen, "calls": calls, "failed": failed,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

_SWEEP = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[2])
import common
from redmine_sla_bridge.service.sweep import sweep
rt = common.runtime_for(sys.argv[1])
rt.redmine.catalog.facts
rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
calls = rt.redmine.gateway.calls.total
start = time.perf_counter()
cpu = time.process_time()
report = sweep(rt)
print(json.dumps({"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu,
                  "seen": report.seen, "changed": len(report.changed), "closed": len(report.closed),
                  "calls": rt.redmine.gateway.calls.total - calls,
                  "by_method": dict(rt.redmine.gateway.calls.by_method),
                  "rss_before_mb": rss_before,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def open_count(rm, project_id: int, tracker_id: int) -> int:
    import requests

    answer = requests.get(rm.url + "/issues.json", params={
        "project_id": project_id, "tracker_id": tracker_id, "status_id": "open", "limit": 1},
        headers={"X-Redmine-API-Key": rm.api_key, "Connection": "close"}, timeout=60)
    answer.raise_for_status()
    return answer.json()["total_count"]


def run_json(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=dict(os.environ))
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--issues", type=int, default=10_000)
    args = parser.parse_args()
    print(f"machine: {common.machine()}")
    rm = common.redmine()
    tracker_id = common.bench_tracker(rm)
    project = common.bench_project(rm, PROJECT, tracker_id)
    have = open_count(rm, project["id"], tracker_id)
    if have < args.issues:
        common.log(f"bulk-creating {args.issues - have} issues in {PROJECT} (rails runner) ...")
        print(rm.local().runner(_BULK_RUBY % {
            "project": PROJECT, "tracker": common.BENCH_TRACKER, "count": args.issues,
            "names": json.dumps(list(VALUES)),
            "values": "{" + ", ".join(f"{json.dumps(k)} => {json.dumps(v)}" for k, v in VALUES.items()) + "}"}
        ).strip().splitlines()[-1])
        have = open_count(rm, project["id"], tracker_id)
    print(f"{have} open issues in {PROJECT}")
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        config = common.write_config(Path(tmp) / "bridge.yaml", common.document_for(
            rm, projects=[PROJECT], store=f"sqlite:///{tmp}/bridge.sqlite3"))
        filters = {"status_id": "open", "sort": "id", "tracker_id": str(tracker_id),
                   "project_id": str(project["id"])}
        floor = run_json(["-c", _FLOOR, rm.url, rm.api_key, json.dumps(filters)])
        for attempt in range(3):  # a 500 from Redmine's SQLite lock aborts a sweep
            try:
                swept = run_json(["-c", _SWEEP, str(config), str(Path(__file__).parent)])
                break
            except RuntimeError as exc:
                print(f"sweep attempt {attempt + 1} failed: {str(exc).strip().splitlines()[-1]}")
        else:
            raise SystemExit("the sweep failed three times")
    print(f"floor (raw paging, requests): {floor['seconds']:7.2f} s  {floor['seen']} issues  "
          f"{floor['calls']} calls ({floor['failed']} failed, retried)  peak RSS {floor['maxrss_mb']:.0f} MB")
    print(f"sweep(rt):                    {swept['seconds']:7.2f} s  {swept['seen']} issues  "
          f"{swept['calls']} calls {swept['by_method']}  {swept['changed']} state changes, "
          f"{swept['closed']} closed  CPU {swept['cpu']:.2f} s")
    ratio = swept["seconds"] / floor["seconds"]
    print(f"ratio sweep / floor = {ratio:.2f}x")
    print(f"sweep process peak RSS: {swept['maxrss_mb']:.0f} MB "
          f"({swept['rss_before_mb']:.0f} MB after imports and Redmine facts)")
    print(f"targets: ratio <= 1.2x ({ratio:.2f}x), peak RSS <= 150 MB ({swept['maxrss_mb']:.0f} MB)")


if __name__ == "__main__":
    main()
