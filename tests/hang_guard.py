"""A liveness guard for inputs that once made the bridge hang (catastrophic regex
backtracking, quadratic scans, alias bombs).

It is not a performance assertion: the call runs in a forked child, and the test fails
only when the child is still busy after `HANG_S`, a bound two orders of magnitude above
the measured cost, so a loaded machine cannot make it fail while a regression to the
old behaviour (minutes) still does. The measured figures live in
`benchmarks/bench_pathological.py`.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

T = TypeVar("T")
HANG_S = 60.0


def finishes(fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)` computed in a forked child: its result, or the test fails as hung."""
    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))
    try:
        future = pool.submit(fn, *args)
        try:
            return future.result(timeout=HANG_S)
        except FutureTimeout:
            for process in list(getattr(pool, "_processes", {}).values()):
                process.kill()  # a regex in C cannot be interrupted any other way
            raise AssertionError(
                f"{getattr(fn, '__name__', fn)} still running after {HANG_S:.0f} s: "
                "it hangs on this input") from None
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
