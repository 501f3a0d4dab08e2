"""An INN the gate finds in the description names the customer; the gate judges the
request again only when that customer's demo facts (ID-4) differ from those it was
first told, since with the same facts it decides the same."""

from __future__ import annotations

import pytest

from redmine_sla_bridge.domain import request_decision
from redmine_sla_bridge.domain.request_decision import decide_request
from tests.unit.processing.builders import at, document, request, rules_of

PLAIN = "7707083893"  # a customer without demo periods
DEMO = "7714036196"   # in its second demo period within a year


@pytest.fixture
def rules(tmp_path):
    (tmp_path / "customers.yaml").write_text(
        "customers:\n"
        f'  - inn: "{PLAIN}"\n'
        "    name: Romashka\n"
        "    licenses:\n"
        "      - {kind: premium, product: VPN, starts: 2026-01-01, expires: 2026-12-31}\n"
        f'  - inn: "{DEMO}"\n'
        "    name: Lютик\n"
        "    demos:\n"
        "      - {starts: 2025-11-01, ends: 2025-11-30}\n"
        "      - {starts: 2026-03-01, ends: 2026-03-31}\n",
        encoding="utf-8")
    doc = document()
    doc["policy"]["customers"] = {"file": "customers.yaml"}
    premium = {"license_active": {"kinds": ["premium"], "same_product": False}}
    doc["policy"]["tiers"] = [{"name": "premium", "when": premium},
                              {"name": "standard", "when": {}}]
    return rules_of(tmp_path, doc).decision


@pytest.fixture
def gate_runs(monkeypatch):
    runs = []
    check = request_decision.gate.check

    def counted(*args, **kwargs):
        runs.append(kwargs["is_demo"])
        return check(*args, **kwargs)

    monkeypatch.setattr(request_decision.gate, "check", counted)
    return runs


def test_a_customer_without_demo_periods_is_judged_once(rules, gate_runs):
    decision = decide_request(request(at(2, 10), description=f"VPN is down.\nINN: {PLAIN}"),
                              rules, received_at=at(2, 10))
    assert decision.accepted
    assert decision.intake.normalized.organization.inn == PLAIN
    assert decision.policy.tier == "premium"  # the customer the description names
    assert gate_runs == [False]


def test_a_customer_in_a_demo_period_is_judged_again_with_it(rules, gate_runs):
    decision = decide_request(request(at(2, 10), description=f"VPN is down.\nINN: {DEMO}"),
                              rules, received_at=at(2, 10))
    assert [r.code for r in decision.intake.reasons] == ["demo_already_used"]
    assert gate_runs == [False, True]
