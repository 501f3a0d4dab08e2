"""Issue 16: the fields support people set (the lead's decision, the engineer's
extension) exist only where the config uses them, and only support roles may edit them."""

from __future__ import annotations

from redmine_sla_bridge.adapters.redmine.fields import field_specs
from redmine_sla_bridge.adapters.redmine.workflow_permissions import Roles, Tracker, wanted
from redmine_sla_bridge.config.model import FieldNames
from redmine_sla_bridge.domain.lifecycle.clock import SlaState


def _specs(**kwargs):
    from redmine_sla_bridge.config.model import DEFAULT_FIELD_NAMES

    names = FieldNames.model_validate(DEFAULT_FIELD_NAMES["en"])
    return {s.key: s for s in field_specs(names, tiers=["standard"], priorities=["P1"], **kwargs)}


def test_the_people_fields_come_with_the_rules_that_use_them():
    plain = _specs()
    assert not {"lead_decision", "extension_reason", "extended_due"} & set(plain)
    assert {"queued", "needs decision", "extended"} <= set(plain["sla_state"].possible_values)
    assert {str(SlaState.QUEUED), str(SlaState.EXTENDED)} <= set(plain["sla_state"].possible_values)
    full = _specs(lead_decision=True, extension_reasons=("Not reproducible", "Unclear"))
    assert full["lead_decision"].possible_values == ("needed", "serve", "refuse")
    assert full["extension_reason"].possible_values == ("Not reproducible", "Unclear")
    assert full["extended_due"].field_format == "string"
    assert {full[k].written_by for k in ("lead_decision", "extension_reason", "extended_due")} == {
        "people"}
    assert "(set by redmine-sla-bridge)" not in full["lead_decision"].description


def test_only_support_roles_may_set_the_people_fields_in_any_status():
    spec = _specs(lead_decision=True)["lead_decision"]
    tracker = Tracker(3, "Support", default_status_id=1)
    roles = Roles(workflow={4: "Reporter", 5: "Manager", 9: "SLA bridge"}, bridge=9,
                  support=frozenset({5}))
    for status in (1, 2):  # the New issue form's status too: a customer never decides
        assert wanted(spec, 4, tracker, status, roles) == "readonly"
        assert wanted(spec, 5, tracker, status, roles) == "editable"
        assert wanted(spec, 9, tracker, status, roles) == ""
