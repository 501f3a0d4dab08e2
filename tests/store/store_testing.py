"""Helpers shared by the store tests (a uniquely named module: tests has no packages)."""

from __future__ import annotations

from datetime import UTC, datetime

# Every test's "now" starts here; tests move time by adding timedeltas, never by sleeping.
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
