"""The SLA report over 10,000 closed issues, against the floor of merely paging them.

    .venv/bin/python benchmarks/bench_report.py [--issues 10000]

Setup (once; reused while the project holds the issues): the project `sla-bench-report`
gets closed issues of the "SLA Bench" tracker, bulk-inserted in Ruby (`rails runner`,
`insert_all`, as benchmarks/bench_sweep.py does), received over January-February 2026,
with the bridge's fields as after a resolution, the recorded outcome included (one in
ten answered late). So the report reads every issue of the period and no journal.

Measured in the same run, one after the other, each in a fresh subprocess:
- floor: `requests` paging /issues.json with limit=100 and the report's own filters
  (any status, created in the period, the project and tracker, sort by id),
  `Connection: close` like the bridge, JSON decoded;
- report: `build_report(rt, ...)` and its JSON document, with a config scoped to that
  project; Redmine facts are read before the clock starts.
Printed: wall time of both and their ratio, the API calls of both, and the report's
totals (so a reader sees it counted what was inserted).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import common
from bench_sweep import run_json

PROJECT = "sla-bench-report"
PERIOD = ("2026-01-05", "2026-02-27")

_BULK_RUBY = """
p = Project.find_by!(identifier: %(project)r)
t = Tracker.find_by!(name: %(tracker)r)
have = Issue.where(project_id: p.id, tracker_id: t.id).count
need = %(count)d - have
cf = IssueCustomField.where(name: %(names)s).pluck(:name, :id).to_h
values = %(values)s
late = %(late)s
status = IssueStatus.find_by!(name: "Closed")
priority = IssuePriority.default || IssuePriority.active.first
author = User.find_by_login("admin")
first = Time.utc(2026, 1, 5, 7, 0, 0)
made = 0
while made < need
  n = [1000, need - made].min
  rows = (1..n).map do |i|
    k = have + made + i
    at = first + ((k * 7919) %% (53 * 24 * 60)) * 60
    {project_id: p.id, tracker_id: t.id, status_id: status.id, priority_id: priority.id,
     author_id: author.id, subject: "Report benchmark #{k}",
     description: "The VPN client stops after the update.", start_date: at.to_date,
     done_ratio: 100, is_private: false, lock_version: 0, lft: 1, rgt: 2,
     created_on: at, updated_on: at + 3600, closed_on: at + 3600}
  end
  Issue.transaction do
    Issue.insert_all(rows)
    ids = Issue.where(project_id: p.id, tracker_id: t.id, root_id: nil).pluck(:id)
    Issue.where(id: ids).update_all("root_id = id")
    cvs = ids.flat_map do |id|
      row = id %% 10 == 0 ? values.merge(late) : values
      row.map { |name, value| {customized_type: "Issue", customized_id: id,
                               custom_field_id: cf.fetch(name), value: value} }
    end
    CustomValue.insert_all(cvs)
  end
  made += n
end
puts "CREATED #{made}"
"""

VALUES = {"SLA tier": "standard", "License status": "none", "SLA priority": "P3",
          "SLA state": "met", "First response due": "2026-01-05 18:00",
          "Resolution due": "2026-01-12 18:00", "First response at": "2026-01-05 11:00",
          "INN": "7707083893", "Organization": "Alpha",
          "SLA outcome": "fr=met 60/480; res=met 240/3180"}
LATE = {"SLA state": "breached", "SLA outcome": "fr=breached 600/480; res=met 900/3180"}

_FLOOR = """
import json, sys, time, requests
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
print(json.dumps({"seconds": time.perf_counter() - start, "seen": seen, "calls": calls,
                  "failed": failed}))
"""

_REPORT = """
import datetime as dt, json, sys, time
sys.path.insert(0, sys.argv[2])
import common
from redmine_sla_bridge.service.report import build_report
rt = common.runtime_for(sys.argv[1])
rt.redmine.catalog.facts
start = time.perf_counter()
cpu = time.process_time()
report = build_report(rt, dt.date.fromisoformat(sys.argv[3]), dt.date.fromisoformat(sys.argv[4]))
document = report.as_dict()
print(json.dumps({"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu,
                  "cost": document["cost"], "overall": document["overall"],
                  "breaches": len(document["breaches"])}))
"""


def count(rm, project_id: int, tracker_id: int) -> int:
    import requests

    answer = requests.get(rm.url + "/issues.json", params={
        "project_id": project_id, "tracker_id": tracker_id, "status_id": "*", "limit": 1},
        headers={"X-Redmine-API-Key": rm.api_key, "Connection": "close"}, timeout=60)
    answer.raise_for_status()
    return answer.json()["total_count"]


def _ruby_hash(values: dict[str, str]) -> str:
    return "{" + ", ".join(f"{json.dumps(k)} => {json.dumps(v)}" for k, v in values.items()) + "}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--issues", type=int, default=10_000)
    args = parser.parse_args()
    print(f"machine: {common.machine()}")
    rm = common.redmine()
    tracker_id = common.bench_tracker(rm)
    fields = {f["name"]: f for f in common.retrying(rm.gateway().custom_fields)}
    outcome = fields.get("SLA outcome")
    if outcome is None or tracker_id not in {t["id"] for t in outcome.get("trackers", ())}:
        common.provision(rm)  # this version's field, for the benchmark tracker
    project = common.bench_project(rm, PROJECT, tracker_id)
    have = count(rm, project["id"], tracker_id)
    if have < args.issues:
        common.log(f"bulk-creating {args.issues - have} closed issues in {PROJECT} (rails runner) ...")
        print(rm.local().runner(_BULK_RUBY % {
            "project": PROJECT, "tracker": common.BENCH_TRACKER, "count": args.issues,
            "names": json.dumps(list(VALUES)), "values": _ruby_hash(VALUES),
            "late": _ruby_hash(LATE)}).strip().splitlines()[-1])
        have = count(rm, project["id"], tracker_id)
    print(f"{have} closed issues in {PROJECT}, received {PERIOD[0]} .. {PERIOD[1]}")
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        config = common.write_config(Path(tmp) / "bridge.yaml", common.document_for(
            rm, projects=[PROJECT], store=f"sqlite:///{tmp}/bridge.sqlite3"))
        # The report's own filters: a day of margin each side, filtered in Moscow time.
        filters = {"status_id": "*", "sort": "id", "tracker_id": str(tracker_id),
                   "project_id": str(project["id"]), "created_on": "><2026-01-04|2026-02-28"}
        floor = run_json(["-c", _FLOOR, rm.url, rm.api_key, json.dumps(filters)])
        for attempt in range(3):  # a 500 from Redmine's SQLite lock aborts a run
            try:
                made = run_json(["-c", _REPORT, str(config), str(Path(__file__).parent), *PERIOD])
                break
            except RuntimeError as exc:
                print(f"report attempt {attempt + 1} failed: {str(exc).strip().splitlines()[-1]}")
        else:
            raise SystemExit("the report failed three times")
    overall, cost = made["overall"], made["cost"]
    print(f"floor (raw paging, requests): {floor['seconds']:7.2f} s  {floor['seen']} issues  "
          f"{floor['calls']} calls ({floor['failed']} failed, retried)")
    print(f"build_report + as_dict:       {made['seconds']:7.2f} s  {cost['issues']} issues  "
          f"{cost['api_calls']} calls  {cost['journal_reads']} journal reads  CPU {made['cpu']:.2f} s")
    print(f"report totals: received {overall['received']}, first response met "
          f"{overall['first_response']['met']} / breached {overall['first_response']['breached']}, "
          f"{made['breaches']} breaches listed")
    print(f"ratio report / floor = {made['seconds'] / floor['seconds']:.2f}x; "
          f"calls per 100 issues = {100 * cost['api_calls'] / max(cost['issues'], 1):.2f}")


if __name__ == "__main__":
    main()
