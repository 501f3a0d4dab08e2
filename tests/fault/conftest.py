"""Fault tests: crashes, outages, repeats, hostile input, concurrency, secrets.

Tests marked `slow` (a 60 s Redmine outage, waiting out a real 120 s inbox lease) run
only when selected explicitly:

    scripts/test -m slow tests/fault

Every other test here is in the normal suite (the folder takes about two minutes).
Processes are started from benchmarks/common.py (`serve` under gunicorn, in its own
process group, always stopped in a finally block).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.insert(0, str(BENCHMARKS))


def pytest_collection_modifyitems(config, items):
    """`slow` tests of this folder are skipped unless `-m` names the marker."""
    if "slow" in (config.getoption("markexpr") or ""):
        return
    here = Path(__file__).parent
    skip = pytest.mark.skip(reason="slow: run with `scripts/test -m slow tests/fault`")
    for item in items:
        if item.get_closest_marker("slow") and here in Path(str(item.fspath)).parents:
            item.add_marker(skip)
