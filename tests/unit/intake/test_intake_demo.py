"""ID-4: at most one demo period a year, counted from the previous period's start."""

from __future__ import annotations

import datetime as dt

import pytest

from redmine_sla_bridge.domain.intake import check_demo

D = dt.date
PAST = [(D(2024, 3, 1), D(2024, 3, 30))]


@pytest.mark.parametrize(
    ("history", "on", "refused_until"),
    [
        ([], D(2024, 6, 1), None),
        (PAST, D(2024, 3, 15), None),  # inside the granted period: still served
        (PAST, D(2024, 3, 30), None),  # its last day
        (PAST, D(2024, 3, 31), D(2025, 3, 1)),  # the day after: a second period
        (PAST, D(2025, 2, 28), D(2025, 3, 1)),  # 364 days after the start
        (PAST, D(2025, 3, 1), None),  # 365 days after the start
        ([(D(2023, 1, 1), D(2023, 1, 30)), *PAST], D(2024, 12, 1), D(2025, 3, 1)),
        ([(D(2026, 1, 1), D(2026, 1, 30))], D(2025, 6, 1), None),  # future periods ignored
        ([(D(2024, 3, 1), D(2024, 2, 1))], D(2024, 3, 2), D(2025, 3, 1)),  # end < start
    ],
)
def test_demo_rule(history, on: dt.date, refused_until: dt.date | None) -> None:
    refusal = check_demo(history, on)
    assert (refusal.next_allowed if refusal else None) == refused_until


def test_window_is_configurable() -> None:
    assert check_demo(PAST, D(2024, 5, 1), min_days=60) is None
    assert check_demo(PAST, D(2024, 4, 29), min_days=60) is not None


def test_refusal_names_the_blocking_period() -> None:
    refusal = check_demo(PAST, D(2024, 6, 1))
    assert refusal is not None
    assert (refusal.previous_start, refusal.previous_end) == PAST[0]
