"""Priority modes (tier / impact / matrix), defaults, Redmine names, high criticality."""

from __future__ import annotations

import pytest

from redmine_sla_bridge.domain.policy import HighCriticality, PriorityMode, PriorityPolicy

MATRIX = PriorityPolicy(
    mode=PriorityMode.MATRIX,
    levels=("P1", "P2", "P3"),
    impacts=("down", "degraded", "question"),
    default_impact="question",
    matrix={
        "gold": {"down": "P1", "degraded": "P1", "question": "P2"},
        "basic": {"down": "P2", "degraded": "P3", "question": "P3"},
    },
    redmine={"P1": "Immediate"},
)


@pytest.mark.parametrize(
    ("tier", "impact", "priority", "impact_used", "redmine"),
    [
        ("gold", "down", "P1", "down", "Immediate"),
        ("gold", "degraded", "P1", "degraded", "Immediate"),
        ("gold", "question", "P2", "question", None),  # no Redmine name: Redmine's own stays
        ("basic", "down", "P2", "down", None),
        ("basic", "Degraded ", "P3", "degraded", None),
        ("basic", None, "P3", "question", None),  # default impact
        ("gold", "apocalypse", "P2", "question", None),  # unknown impact: the default, explained
    ],
)
def test_matrix_mode(tier, impact, priority, impact_used, redmine):
    result = MATRIX.resolve(tier, impact)
    assert (result.priority, result.impact, result.redmine_priority) == (
        priority,
        impact_used,
        redmine,
    )


def test_unrecognised_impact_is_explained_not_fatal():
    result = MATRIX.resolve("gold", "apocalypse")
    assert (
        result.reason
        == "priority P2: matrix[gold][question] (impact 'apocalypse' not recognised, default question used)"
    )


def test_tier_mode_ignores_impact():
    policy = PriorityPolicy(
        PriorityMode.TIER, ("high", "low"), from_tier={"partner": "high", "other": "low"}
    )
    assert policy.resolve("partner", "P4").priority == "high"
    assert policy.resolve("other", None).priority == "low"


@pytest.mark.parametrize(
    ("impact", "request_type", "critical", "priority"),
    [
        ("P1", None, True, "P1"),
        ("P3", "Restore access", True, "P1"),  # RB-4: handled out of turn
        ("P3", "restore ACCESS ", True, "P1"),
        ("P3", "Question", False, "P3"),
        (None, None, False, "P3"),  # a defaulted impact never makes a request critical
    ],
)
def test_high_criticality(impact, request_type, critical, priority):
    policy = PriorityPolicy(
        PriorityMode.IMPACT,
        ("P1", "P2", "P3", "P4"),
        default_impact="P3",
        high_criticality=HighCriticality(
            frozenset({"P1"}), frozenset({"Restore access"}), priority="P1"
        ),
    )
    result = policy.resolve("any", impact, request_type)
    assert (result.high_criticality, result.priority) == (critical, priority)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(mode=PriorityMode.IMPACT, levels=("P1", "P2")),  # no default impact
        dict(mode=PriorityMode.IMPACT, levels=("P1",), default_impact="P9"),
        dict(mode=PriorityMode.TIER, levels=("P1",), from_tier={"gold": "P0"}),
        dict(mode=PriorityMode.TIER, levels=()),
    ],
)
def test_inconsistent_priority_policy_is_refused(kwargs):
    with pytest.raises(ValueError):
        PriorityPolicy(**kwargs)
