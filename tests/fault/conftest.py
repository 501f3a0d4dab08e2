"""Fault tests: crashes, outages, repeats, hostile input, concurrency, secrets.

Tests marked `slow` (a 60 s Redmine outage, waiting out a real 120 s inbox lease) run
only when selected explicitly (tests/conftest.py):

    scripts/test -m slow tests/fault

Every other test here is in the normal suite (the folder takes about two minutes).
Processes are started from benchmarks/common.py (`serve` under gunicorn, in its own
process group, always stopped in a finally block).
"""

from __future__ import annotations

import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.insert(0, str(BENCHMARKS))
