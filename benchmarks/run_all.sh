#!/usr/bin/env bash
# Every benchmark, one after the other, printing all figures (no assertion on time):
#
#     benchmarks/run_all.sh            # from the repository root, after scripts/bootstrap
#
# Needs the local Redmine (started if it does not answer: `redmine-sla-bridge dev-redmine
# start`). The first run creates the "SLA Bench" tracker and bulk-inserts the 10,000
# issues of the sweep benchmark (about a minute); later runs reuse them. The whole run
# takes about 12 minutes, most of it the sweep paging 10,000 issues twice through WEBrick.
# Exits non-zero if any benchmark failed (after running the others).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
failed=()
run() {
  echo
  echo "=== $* ==="
  local start=$SECONDS
  if ! "$PY" "$@"; then
    failed+=("$1")
    echo "!!! $1 failed"
  fi
  echo "(took $((SECONDS - start)) s)"
}
echo "machine: nproc=$(nproc), memory $(free -g | awk '/^Mem:/{print $2}') GiB, $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet 2>/dev/null || echo '+changes')"
run benchmarks/bench_calendar.py
run benchmarks/bench_pathological.py
run benchmarks/bench_event_cost.py
run benchmarks/bench_ingest.py
run benchmarks/bench_ingest.py --synchronous normal --runs acceptance,hello
run benchmarks/bench_latency.py
run benchmarks/bench_sweep.py
if [ ${#failed[@]} -gt 0 ]; then
  echo
  echo "failed: ${failed[*]}"
  exit 1
fi
