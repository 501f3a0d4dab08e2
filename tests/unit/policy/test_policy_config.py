"""The `policy:` section: what it accepts, what it refuses and how it says so."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from redmine_sla_bridge.config.policy import PolicyConfig
from redmine_sla_bridge.domain.policy import LICENSE_KINDS

BASE = yaml.safe_load(
    """
    calendar: moscow
    customers: {file: customers.csv}
    tiers:
      - {name: partner, when: {partner: true}}
      - {name: premium, when: {license_active: [premium]}}
      - {name: other, when: {}}
    unknown_customer_tier: other
    priority:
      mode: tier
      levels: [high, normal, low]
      from_tier: {partner: high, premium: normal, other: low}
      redmine: {high: Immediate}
    targets:
      - {when: {tier: premium}, first_response: 8h, calendar: "24x7"}
    product_exceptions:
      - {product: Lite, resolution: unlimited, calendar: lite-hours}
    """
)


def with_changes(**changes):
    doc = copy.deepcopy(BASE)
    for dotted, value in changes.items():
        node = doc
        *path, last = dotted.split("__")
        for key in path:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if value is DELETE:
            del node[last]
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return doc


DELETE = object()


def test_base_is_valid_and_reports_its_calendars():
    config = PolicyConfig.model_validate(BASE)
    assert config.referenced_calendars() == {"moscow", "24x7", "lite-hours"}
    assert config.tier_names() == ("partner", "premium", "other")
    assert config.known_license_kinds() == LICENSE_KINDS
    assert config.customers.path(Path("/etc/bridge")) == Path("/etc/bridge/customers.csv")
    assert config.to_domain().tiers.tier_names == ("partner", "premium", "other")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (dict(unknown_customer_tier="nobody"), "unknown_customer_tier 'nobody' is not a tier"),
        (
            dict(tiers__2={"name": "other", "when": {"partner": False}}),
            "the last rule must be a catch-all",
        ),
        (
            dict(tiers__0={"name": "all", "when": {}}),
            "tiers[0] (all) matches everyone; the rules after it never apply: premium, other",
        ),
        (
            dict(tiers__1={"name": "premium", "when": {"license_active": ["gold"]}}),
            "unknown license kind gold",
        ),
        (dict(tiers__1={"name": "premium"}), "when"),
        (
            dict(tiers__1={"name": "premium", "when": {"license_active": "premium"}}),
            "expected a list of license kinds",
        ),
        (
            dict(tiers__1={"name": "premium", "when": {"in_demo": "yes"}}),
            "Input should be a valid boolean",
        ),
        (
            dict(priority__from_tier={"partner": "high", "premium": "normal"}),
            "no entry for tier other",
        ),
        (
            dict(
                priority__from_tier={
                    "partner": "high",
                    "premium": "normal",
                    "other": "low",
                    "vip": "high",
                }
            ),
            "vip is not a tier",
        ),
        (
            dict(priority__from_tier={"partner": "top", "premium": "normal", "other": "low"}),
            "from_tier: top not among the levels",
        ),
        (dict(priority__redmine={"P1": "Immediate"}), "redmine: P1 not among the levels"),
        (dict(priority__mode="impact"), "mode impact needs default_impact"),
        (dict(priority__mode="matrix", priority__default_impact="low"), "mode matrix needs matrix"),
        (
            dict(
                priority__mode="matrix",
                priority__default_impact="low",
                priority__matrix={"partner": {"high": "high"}},
            ),
            "matrix.partner: no priority for impact normal, low",
        ),
        (dict(priority__levels=["high", "high", "low"]), "priority level listed twice: high"),
        (
            dict(targets=[{"when": {"tier": "gold"}, "first_response": "8h"}]),
            "targets[0].when.tier: unknown gold",
        ),
        (
            dict(targets=[{"when": {"priority": "P1"}, "first_response": "8h"}]),
            "targets[0].when.priority: unknown P1",
        ),
        (
            dict(targets=[{"when": {}, "first_response": "8 hours"}]),
            'expected a duration such as "30m"',
        ),
        (dict(targets=[{"when": {}, "calendar": "24x7"}]), "set at least one of acknowledgement"),
        (
            dict(targets=[{"when": {"license_status": "lapsed"}, "first_response": "8h"}]),
            "license_status",
        ),
        (dict(targets=[{"first_response": "8h"}]), "when"),
        (dict(license_status={"expiring_days": -1}), "greater than or equal to 0"),
        (dict(license_status={"kinds": ["gold"]}), "license_status: unknown license kind gold"),
        (dict(extra_license_kinds=["demo"]), '"demo" is reserved'),
        (dict(customers={"file": "customers.xlsx"}), "must end in .yaml, .yml or .csv"),
        (dict(calendar=DELETE), "calendar"),
        (dict(tiers__0={"name": True, "when": {}}), "YAML reads unquoted yes/no"),
        (dict(surprise=1), "Extra inputs are not permitted"),
    ],
)
def test_invalid_policy_is_refused_with_a_clear_message(changes, message):
    with pytest.raises(ValidationError) as error:
        PolicyConfig.model_validate(with_changes(**changes))
    assert message in str(error.value)


def test_extra_license_kinds_can_be_used_in_rules():
    doc = with_changes(
        extra_license_kinds=["gold"],
        tiers__1={"name": "premium", "when": {"license_active": ["gold"]}},
    )
    assert "gold" in PolicyConfig.model_validate(doc).known_license_kinds()


def test_config_is_frozen():
    config = PolicyConfig.model_validate(BASE)
    with pytest.raises(ValidationError):
        config.calendar = "other"
