"""Issue 16 in the presets: ID-8 queue, ID-1/AR-7 lead's decision, BA-7 extension, BA-3
hint, and nothing left "NOT YET AUTOMATED"; `simulate` explains the new outcomes. No
Redmine is needed (simulate decides offline)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from redmine_sla_bridge.entrypoints.cli import cli
from tests.integration.test_presets import (
    PRESETS,
    UNKNOWN_INN,
    _config,
    _env,  # noqa: F401  (autouse fixture: the presets' environment)
    config_of,
    request,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "presets.md"


def simulate(preset: str, document: dict, tmp_path: Path, *extra: str) -> dict:
    path = tmp_path / "request.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["simulate", "--config", str(config_of(preset)), "--request", str(path), *extra],
        catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("preset", PRESETS)
def test_nothing_is_left_not_yet_automated_and_every_left_rule_says_why(preset):
    text = config_of(preset).read_text(encoding="utf-8")
    assert "NOT YET AUTOMATED" not in text
    for left in re.findall(r"# LEFT TO PEOPLE - ([A-Z]{2}-\d+)([^\n]*)", text):
        assert len(left[1].strip()) > 20, left  # the rule and its reason
    assert "NOT YET AUTOMATED" not in DOCS.read_text(encoding="utf-8")


def test_the_presets_switch_on_their_rules():
    ideco, barier, a_real = (_config(p).lifecycle for p in ("ideco", "barier", "a-real"))
    assert ideco.one_request_at_a_time and ideco.needs_decision.tiers == ["none"]
    assert ideco.flag_questions_from == 2 and barier.flag_questions_from == 2
    assert len(barier.extension.reasons) == 7  # BA-10 (7.9) lists seven
    assert a_real.needs_decision is not None and a_real.needs_decision.tiers == []
    for other in ("ascon", "rusbitech"):
        lifecycle = _config(other).lifecycle
        assert not lifecycle.one_request_at_a_time and lifecycle.needs_decision is None


def test_simulate_ideco_no_subscription_needs_the_leads_decision(tmp_path):
    out = simulate("ideco", request("ideco", UNKNOWN_INN), tmp_path)
    assert out["accepted"] and out["tier"] == "none"
    lifecycle = out["lifecycle"]
    assert lifecycle["outcome"] == "needs decision"
    assert lifecycle["assigned_to"] == "Руководитель ОТП"
    assert "ID-1" in lifecycle["why"] and "serve" in lifecycle["how"]


def test_simulate_ideco_a_second_open_request_is_queued_with_its_position(tmp_path):
    document = request("ideco", "6671470358")
    assert simulate("ideco", document, tmp_path)["lifecycle"]["outcome"] == "accepted"
    out = simulate("ideco", document, tmp_path, "--open-requests", "2")
    assert out["lifecycle"]["outcome"] == "queued" and out["lifecycle"]["position"] == 3
    assert out["lifecycle"]["open_requests"] == 2
    # ASCON works requests in parallel: the same count queues nothing.
    ascon = simulate("ascon", request("ascon", "7802849641"), tmp_path, "--open-requests", "2")
    assert ascon["lifecycle"]["outcome"] in ("accepted", "rejected")


def test_simulate_barier_explains_the_agreed_extension(tmp_path):
    out = simulate("barier", request("barier", "3662579177", impact="P2"), tmp_path)
    extension = out["lifecycle"]["extension"]
    assert "extended" in extension["how"] and len(extension["reasons"]) == 7
