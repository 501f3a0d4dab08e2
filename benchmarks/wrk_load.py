"""wrk as the signed-webhook load generator of bench_ingest.py.

wrk (Debian package `wrk`, 4.1.0) is a C event loop: on the 2-CPU benchmark machine it
leaves far more CPU to the server than Python clients do. Its Lua cannot compute
HMAC-SHA256, so every request is pre-generated here, before the measured window:

- `write_requests` writes a data file, one request per line,
  `delivery<TAB>signature<TAB>body` (body: `common.redmine7_body`, one line of JSON;
  signature: `common.sign(common.WEBHOOK_SECRET, body)`; delivery `bench-<journal id>`),
  in one contiguous slice per wrk thread. Thread t's journal ids are
  `journal_base + t * 10,000,000 + 1, 2, ...`: no two requests of a run share a body or
  a delivery id, across threads and connections, until a slice is exhausted (the thread
  then starts its slice again, and the run reports it: size the file generously).
- The Lua script (`SCRIPT`) loads its thread's slice in `init()` and builds each request
  from the next line in `request()` (POST, `Content-Type: application/json`, the two
  `X-Redmine-*` headers). `delay()` holds every connection until a common start instant
  and stops new requests at the end of the window; requests in flight then are answered
  and counted, never abandoned (the store check of bench_ingest.py compares rows with
  answers): each thread stops once its last one is answered, and when all have, wrk is
  ended with SIGINT (its `--duration` allows a grace of a few seconds for them).
- `response()` counts answers per status and the 202 answers whose JSON says
  `"duplicate": false` / `true`; `done()` gathers the threads' counters and the latency
  histogram and prints them on one line, `WRKRESULT {json}`.

Latency: wrk 4.1 "corrects" its histogram for coordinated omission before `done()`: every
recorded latency n >= 2e (e = run duration / (responses / connections)) adds synthetic
samples at n - e, n - 2e, ... > e. The Python generator reports raw latencies, so
`done()` reads the histogram through LuaJIT's FFI (wrk's `stats` struct: count, limit,
min, max, data[]) and undoes the correction exactly (raw[m] = c[m] - c[m + e] for m > e),
checking that the raw counts add up to the responses. The raw p50/p99/max are reported;
wrk's corrected p99 is kept as a note. If the check fails, the corrected figures are
reported and the note says so.

Window: requests start at `start_at` and stop at `start_at + seconds`; requests/s is
answers / seconds as with the Python generator. The CPU of wrk and of the server is read
from /proc at those two instants (loading the data file is outside the window).
"""

from __future__ import annotations

import json
import math
import os
import resource
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import common

MARKER = "WRKRESULT "
PATH = "/webhooks/redmine"
JOURNAL_STRIDE = 10_000_000  # journal ids per thread slice (as the Python generator's per process)


class WrkUnavailable(RuntimeError):
    pass


def ensure_wrk(log=common.log) -> str:
    """The path of `wrk`, installed with apt-get (root) if it is not on PATH."""
    found = shutil.which("wrk")
    if found:
        return found
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        raise WrkUnavailable("wrk is not installed, and it cannot be installed here "
                             "(needs root and apt-get: apt-get install -y wrk)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")

    def apt_get(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["apt-get", *args], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)

    log("installing wrk (apt-get install -y wrk) ...")
    done = apt_get("install", "-y", "-qq", "wrk")
    if done.returncode != 0:  # a fresh machine: no package lists yet
        apt_get("update", "-qq")
        done = apt_get("install", "-y", "-qq", "wrk")
    found = shutil.which("wrk")
    if done.returncode != 0 or not found:
        raise WrkUnavailable(f"apt-get could not install wrk: {done.stderr.strip()[-500:]}")
    return found


# -- the pre-generated requests ---------------------------------------------------------------

@dataclass(frozen=True)
class RequestFile:
    path: Path
    slices: tuple[tuple[int, int], ...]  # (byte offset, byte length) of each thread's slice
    per_thread: int
    journal_base: int

    @property
    def threads(self) -> int:
        return len(self.slices)

    @property
    def capacity(self) -> int:
        return self.per_thread * self.threads


def requests_needed(seconds: float, max_rate: float, margin: float = 1.5) -> int:
    """Requests to pre-generate for a run of `seconds` at up to `max_rate` requests/s."""
    return math.ceil(max_rate * seconds * margin)


def write_requests(path: Path, *, issue_ids: list[int], threads: int, total: int,
                   journal_base: int = 0) -> RequestFile:
    """`total` signed requests (rounded up to a multiple of `threads`), one slice per
    thread; journal id `journal_base + t * 10,000,000 + k` (k = 1..) in thread t's slice."""
    per_thread = math.ceil(total / threads)
    if per_thread >= JOURNAL_STRIDE:
        raise ValueError(f"{per_thread} requests per thread: journal ids would overlap")
    secret = common.WEBHOOK_SECRET
    slices = []
    with open(path, "wb") as fh:
        for t in range(threads):
            offset = fh.tell()
            lines = []
            for k in range(1, per_thread + 1):
                journal = journal_base + t * JOURNAL_STRIDE + k
                body = common.redmine7_body(issue_ids[(t + k) % len(issue_ids)], journal)
                if b"\n" in body or b"\t" in body:  # json.dumps escapes both; never expected
                    raise ValueError("a body is not a single line")
                lines.append(b"bench-%d\t%s\t%s\n" % (journal, common.sign(secret, body).encode(), body))
            fh.writelines(lines)
            slices.append((offset, fh.tell() - offset))
    return RequestFile(path, tuple(slices), per_thread, journal_base)


# -- the wrk script ----------------------------------------------------------------------------

SCRIPT = r"""
-- Written by benchmarks/wrk_load.py (see its docstring). wrk 4.1, LuaJIT.
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_usec; } bench_timeval;
int gettimeofday(bench_timeval *tv, void *tz);
]]
local tv = ffi.new("bench_timeval")
local function now()
  ffi.C.gettimeofday(tv, nil)
  return tonumber(tv.tv_sec) + tonumber(tv.tv_usec) / 1e6
end

local find, sub, floor = string.find, string.sub, math.floor

-- setup phase (wrk's main Lua state): number the threads
local threads, next_id = {}, 0
function setup(thread)
  thread:set("id", next_id)
  threads[#threads + 1] = thread
  next_id = next_id + 1
end

-- args after wrk's "--": data file, start_at, stop_at (epoch seconds), connections,
-- then "offset:length" of each thread's slice
function init(args)
  start_at, stop_at = tonumber(args[2]), tonumber(args[3])
  local offset, length = args[5 + id]:match("^(%d+):(%d+)$")
  offset, length = tonumber(offset), tonumber(length)
  local f = assert(io.open(args[1], "rb"))
  f:seek("set", offset)
  data = f:read(length)
  f:close()
  assert(data and #data == length, "short read of " .. args[1])
  pos = 1
  prefix = "POST " .. wrk.path .. " HTTP/1.1\r\nHost: " .. wrk.headers["Host"]
           .. "\r\nContent-Type: application/json\r\nContent-Length: "
  -- wrk builds one request of thread 0 before the run to check it; it is never sent
  verify_pending = (id == 0)
  sent, answered, wrapped, stored, duplicates, other_202 = 0, 0, 0, 0, 0, 0
  statuses = {}
  first_sent = 0
  finished = false
end

function delay()
  local t = now()
  if t < start_at then return math.ceil((start_at - t) * 1000) end
  if t >= stop_at then
    -- No new request. Once every request of this thread is answered, its event loop
    -- stops (idle keep-alive connections closed by the server are then no read errors)
    -- and it says so: wrk_load.py ends wrk (SIGINT) when every thread has.
    if answered >= sent and not finished then
      finished = true
      io.write("WRKTHREADDONE ", id, "\n")
      io.flush()
      wrk.thread:stop()
    end
    return 86400000
  end
  return 0
end

function request()
  local nl = find(data, "\n", pos, true)
  if not nl then  -- slice exhausted: events repeat from here on (reported)
    wrapped = wrapped + 1
    pos = 1
    nl = find(data, "\n", pos, true)
  end
  local t1 = find(data, "\t", pos, true)
  local t2 = find(data, "\t", t1 + 1, true)
  local req = prefix .. (nl - t2 - 1)
              .. "\r\nX-Redmine-Delivery: " .. sub(data, pos, t1 - 1)
              .. "\r\nX-Redmine-Signature-256: " .. sub(data, t1 + 1, t2 - 1)
              .. "\r\n\r\n" .. sub(data, t2 + 1, nl - 1)
  pos = nl + 1
  if verify_pending then
    verify_pending = false
  else
    sent = sent + 1
    if first_sent == 0 then first_sent = now() end
  end
  return req
end

function response(status, headers, body)
  answered = answered + 1
  statuses[status] = (statuses[status] or 0) + 1
  if status == 202 then
    local compact = body:gsub("%s+", "")
    if find(compact, '"duplicate":false', 1, true) then
      stored = stored + 1
    elseif find(compact, '"duplicate":true', 1, true) then
      duplicates = duplicates + 1
    else
      other_202 = other_202 + 1
    end
  end
end

-- Raw latencies (us): undo wrk's coordinated-omission correction (stats_correct).
local function raw_latency(latency, summary, connections)
  local base = ffi.cast("uint64_t **", ffi.cast("void *", latency))[0]
  local min, max = tonumber(base[2]), tonumber(base[3])
  if summary.requests == 0 or min ~= latency.min or max ~= latency.max then
    return nil, "wrk's histogram layout is not the expected one"
  end
  local hist = base + 4
  local per_connection = floor(summary.requests / connections)
  local e = per_connection > 0 and floor(summary.duration / per_connection) or math.huge
  local values, counts, total, sum = {}, {}, 0, 0
  for m = min, max do
    local c = tonumber(hist[m])
    if c > 0 and m > e and m + e <= max then c = c - tonumber(hist[m + e]) end
    if c < 0 then return nil, "negative count after undoing the correction" end
    if c > 0 then
      values[#values + 1], counts[#counts + 1] = m, c
      total, sum = total + c, sum + c * m
    end
  end
  if total ~= summary.requests - summary.errors.timeout then
    return nil, ("%d raw latencies for %d responses"):format(total, summary.requests)
  end
  local function pct(p)  -- nearest rank, as common.percentile
    local rank = math.max(1, math.min(total, math.ceil(p / 100 * total)))
    local seen = 0
    for i = 1, #values do
      seen = seen + counts[i]
      if seen >= rank then return values[i] end
    end
  end
  return {p50 = pct(50), p90 = pct(90), p99 = pct(99), p999 = pct(99.9), max = values[#values],
          mean = sum / total, count = total, e = e}
end

local function encode(v)
  local kind = type(v)
  if kind == "table" then
    local parts = {}
    if #v > 0 then  -- a sequence (the threads)
      for i = 1, #v do parts[i] = encode(v[i]) end
      return "[" .. table.concat(parts, ",") .. "]"
    end
    for k, x in pairs(v) do parts[#parts + 1] = ("%q:%s"):format(tostring(k), encode(x)) end
    return "{" .. table.concat(parts, ",") .. "}"
  elseif kind == "number" then
    if v ~= v or v == math.huge or v == -math.huge then return "null" end
    return ("%.17g"):format(v)
  elseif kind == "string" then
    return ("%q"):format(v)
  elseif kind == "boolean" then
    return tostring(v)
  end
  return "null"
end

function done(summary, latency, requests)
  local per_thread = {}
  for _, t in ipairs(threads) do
    per_thread[#per_thread + 1] = {
      id = t:get("id"), sent = t:get("sent"), answered = t:get("answered"),
      wrapped = t:get("wrapped"),
      stored = t:get("stored"), duplicates = t:get("duplicates"),
      other_202 = t:get("other_202"), statuses = t:get("statuses"),
      first_sent = t:get("first_sent"),
    }
  end
  local connections = tonumber(wrk_args_connections)
  local raw, why = raw_latency(latency, summary, connections)
  local result = {
    threads = per_thread, summary = {duration = summary.duration, requests = summary.requests,
                                     bytes = summary.bytes, errors = summary.errors},
    corrected = {p50 = latency:percentile(50), p99 = latency:percentile(99), max = latency.max,
                 mean = latency.mean},
    raw = raw or false, raw_failed = why or false,
  }
  io.write("\n", "WRKRESULT ", encode(result), "\n")
  io.flush()
end
"""


def _script(path: Path, connections: int) -> Path:
    # done() runs in wrk's main Lua state, which never sees init()'s args: the
    # connection count (for undoing the latency correction) is written into the script.
    path.write_text(SCRIPT + f"\nwrk_args_connections = {connections}\n", encoding="utf-8")
    return path


# -- a run ---------------------------------------------------------------------------------

def run(port: int, data: RequestFile, *, connections: int, seconds: float,
        server: subprocess.Popen | None = None, grace: float = 5.0,
        wrk: str | None = None, log=common.log) -> common.LoadResult:
    """One closed-loop wrk run of `seconds` (plus start-up and `grace`) against
    127.0.0.1:`port`, `data.threads` threads, `connections` keep-alive connections."""
    wrk = wrk or ensure_wrk(log)
    threads = data.threads
    if connections < threads:
        raise ValueError("wrk needs at least one connection per thread")
    script = _script(data.path.with_suffix(".lua"), connections)
    # Start-up: wrk starts and each thread reads its slice (allow 200 MB/s); then the
    # common start.
    lead = 0.5 + data.path.stat().st_size / 2e8
    launched = time.time()
    start_at = launched + lead
    stop_at = start_at + seconds
    duration = math.ceil(lead + seconds + grace)
    command = [wrk, "--threads", str(threads), "--connections", str(connections),
               "--duration", f"{duration}s", "--timeout", "30s", "--latency",
               "--script", str(script), f"http://127.0.0.1:{port}{PATH}", "--",
               str(data.path), repr(start_at), repr(stop_at), str(connections)]
    command += [f"{offset}:{length}" for offset, length in data.slices]
    out_path = data.path.with_suffix(".out")
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(out_path, "wb") as out:  # wrk's; read through separate handles
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        try:
            time.sleep(max(0.0, start_at - time.time()))
            client_before = common.server_cpu(proc)
            server_before = common.server_cpu(server) if server is not None else 0.0
            time.sleep(max(0.0, stop_at - time.time()))
            client_cpu = common.server_cpu(proc) - client_before
            server_cpu = common.server_cpu(server) - server_before if server is not None else 0.0
            # Every thread stops once its last request is answered: then end wrk's run
            # (SIGINT: wrk stops sleeping, prints and calls done()) rather than idle
            # until --duration; a thread that never finishes leaves it to --duration.
            while proc.poll() is None and time.time() < launched + duration:
                if out_path.read_text(errors="replace").count("WRKTHREADDONE ") >= threads:
                    time.sleep(0.05)  # let the threads leave their loops
                    proc.send_signal(signal.SIGINT)
                    break
                time.sleep(0.02)
            returncode = proc.wait(timeout=duration + 60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    output = out_path.read_text(errors="replace")
    line = next((ln for ln in output.splitlines() if ln.startswith(MARKER)), None)
    if returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed (exit {returncode}); its output:\n{output[-3000:]}")
    found = json.loads(line[len(MARKER):])
    return _result(found, seconds=seconds, start_at=start_at, client_cpu=client_cpu,
                   server_cpu=server_cpu,
                   wrk_cpu_total=(children_after.ru_utime + children_after.ru_stime
                                  - children_before.ru_utime - children_before.ru_stime),
                   log=log)


def _result(found: dict, *, seconds: float, start_at: float, client_cpu: float,
            server_cpu: float, wrk_cpu_total: float, log) -> common.LoadResult:
    result = common.LoadResult(seconds=seconds, client_cpu=client_cpu, server_cpu=server_cpu,
                               generator="wrk")
    sent = other_202 = wrapped = 0
    late = []
    for thread in found["threads"]:
        for status, count in (thread["statuses"] or {}).items():
            result.statuses[int(status)] = result.statuses.get(int(status), 0) + int(count)
        result.stored += int(thread["stored"])
        result.duplicates += int(thread["duplicates"])
        other_202 += int(thread["other_202"])
        sent += int(thread["sent"])
        wrapped += int(thread["wrapped"])
        if thread["first_sent"] and thread["first_sent"] - start_at > 0.05:
            late.append(f"thread {thread['id']} +{(thread['first_sent'] - start_at) * 1e3:.0f} ms")
    errors = found["summary"]["errors"]
    result.errors = sum(int(errors[k]) for k in ("connect", "read", "write", "timeout"))
    if result.errors:
        result.notes.append("wrk socket errors: " + ", ".join(
            f"{k} {int(errors[k])}" for k in ("connect", "read", "write", "timeout")))
    corrected = found["corrected"]
    raw = found["raw"]
    if raw:
        result.p50, result.p99, result.max_latency = raw["p50"] / 1e6, raw["p99"] / 1e6, raw["max"] / 1e6
        result.notes.append(f"wrk: raw latencies (wrk's coordinated-omission correction undone); "
                            f"wrk's corrected p99 {corrected['p99'] / 1e3:.2f} ms")
    else:
        result.p50, result.p99 = corrected["p50"] / 1e6, corrected["p99"] / 1e6
        result.max_latency = corrected["max"] / 1e6
        result.notes.append(f"wrk: latencies as corrected by wrk for coordinated omission "
                            f"(raw histogram unavailable: {found['raw_failed']})")
    result.notes.append(f"wrk: {sent} requests sent, {result.requests} answered, "
                        f"{wrk_cpu_total:.1f} s wrk CPU in all (data loading included)")
    warnings = []
    if wrapped:
        warnings.append(f"the pre-generated requests ran out ({wrapped} time(s) a thread "
                        f"restarted its slice): events were sent twice (raise --max-rate)")
    if sent != result.requests:
        warnings.append(f"{sent - result.requests} requests sent but not answered by the end "
                        f"of the grace period")
    if late:
        warnings.append("wrk started late: " + ", ".join(late))
    if other_202 and result.stored + result.duplicates:
        warnings.append(f"{other_202} answers 202 without a duplicate flag")
    for warning in warnings:
        log(f"WARNING: {warning}")
        result.notes.append(f"WARNING: {warning}")
    return result
