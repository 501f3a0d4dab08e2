"""The issue reader resolves the bridge's field ids by name once per set of fields, and
again whenever Redmine's set changes (a field renamed, added or removed)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from redmine_sla_bridge.adapters.redmine import issues as issues_module
from redmine_sla_bridge.adapters.redmine.fields import FieldMap, FieldSpec
from redmine_sla_bridge.adapters.redmine.issues import RedmineIssues

SPECS = (FieldSpec("tier", "Tier", "string"), FieldSpec("inn", "INN", "string"),
         FieldSpec("contact_phone", "Phone", "string", required=False))


def listed(issue_id: int, fields: list[tuple[int, str, str]]) -> dict:
    return {"id": issue_id, "project": {"id": 1}, "status": {"name": "New"},
            "created_on": "2026-12-01T09:00:00Z", "priority": {"name": "Normal"},
            "custom_fields": [{"id": i, "name": n, "value": v} for i, n, v in fields]}


@pytest.fixture
def reader(monkeypatch):
    catalog = SimpleNamespace(specs=SPECS, in_scope=lambda issue: True, priority_order=())
    reader = RedmineIssues(SimpleNamespace(), catalog)
    resolved = []
    real = FieldMap.resolve.__func__

    def counting(cls, specs, redmine_fields):
        resolved.append([f["name"] for f in redmine_fields])
        return real(cls, specs, redmine_fields)

    monkeypatch.setattr(FieldMap, "resolve", classmethod(counting))
    reader.resolved = resolved
    return reader


def test_issues_with_the_same_fields_are_resolved_once(reader):
    fields = [(7, "Tier", "gold"), (8, "INN", "7707083893"), (9, "Other", "x")]
    first = reader._listed(listed(1, fields))
    second = reader._listed(listed(2, [(7, "Tier", "silver"), (8, "INN", ""), (9, "Other", "y")]))
    assert first.values == {"tier": "gold", "inn": "7707083893"}
    assert second.values == {"tier": "silver", "inn": None}  # the values are each issue's own
    assert len(reader.resolved) == 1


def test_a_renamed_or_added_field_is_resolved_again(reader):
    reader._listed(listed(1, [(7, "Tier", "gold"), (8, "INN", "")]))
    # The optional field appears (provisioned later): its value is read from then on.
    added = reader._listed(listed(2, [(7, "Tier", "gold"), (8, "INN", ""), (9, "Phone", "+7 1")]))
    assert added.values["contact_phone"] == "+7 1"
    # A required field renamed in Redmine is no longer the bridge's: not manageable.
    assert reader._listed(listed(3, [(7, "Level", "gold"), (8, "INN", "")])) is None
    assert reader._listed(listed(4, [(7, "Level", "gold"), (8, "INN", "")])) is None
    # Renamed back: the first set is still known.
    assert reader._listed(listed(5, [(7, "Tier", "gold"), (8, "INN", "")])).values["tier"] == "gold"
    assert len(reader.resolved) == 4  # 3 sets resolved, the failing one each time it came


def test_the_remembered_sets_are_bounded(reader, monkeypatch):
    monkeypatch.setattr(issues_module, "_RESOLVED_SETS", 3)
    for n in range(10):
        reader._listed(listed(n, [(7, "Tier", "gold"), (8, "INN", ""), (100 + n, f"Other {n}", "")]))
    assert len(reader._resolved) <= 3
    assert len(reader.resolved) == 10
