"""Set up Prometheus' multiprocess storage; imports nothing that imports prometheus_client."""

from __future__ import annotations

import os
import sys
import tempfile


def prepare_multiprocess_metrics() -> None:
    """Must run before anything in the process imports prometheus_client, which picks its
    value storage at import: counters then live in per-process files that /metrics sums
    across workers. A fresh directory per start, so old counts do not linger."""
    if "prometheus_client" in sys.modules:
        raise RuntimeError("prometheus_client was imported before serve set up its metrics")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="redmine-sla-bridge-metrics-")
