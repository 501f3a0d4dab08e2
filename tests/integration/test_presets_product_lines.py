"""ID-2 through `simulate` on the shipped ideco preset: "Ideco ICS" is served in its
current version and in its line 6 ("Ideco ICS 6"), one product with two lines.

No Redmine is needed; every request carries a fixed `created_at` (as in test_presets).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from redmine_sla_bridge.entrypoints.cli import cli

PRESETS_DIR = Path(__file__).resolve().parents[2] / "config" / "presets"
TUE = "2026-12-01T10:00:00+03:00"
INN = "6671470358"  # an active subscription in ideco-customers.yaml

LINES = "Ideco ICS (актуальная версия 20.x), Ideco ICS 6 (версии 6.x)"


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    monkeypatch.setenv("REDMINE_API_KEY", "test-key")
    monkeypatch.setenv("REDMINE_URL", "http://127.0.0.1:3999")
    monkeypatch.setenv("REDMINE_ADMIN_LOGIN", "admin")
    monkeypatch.setenv("REDMINE_ADMIN_PASSWORD", "admin")
    monkeypatch.setenv("REDMINE_WEBHOOK_SECRET", "")
    monkeypatch.setenv("BRIDGE_WEBHOOK_TOKEN", "")


def request(product: str, version: str, created_at: str = TUE) -> dict:
    """A complete ID-6 request (first contact: name, email, organization) about
    `product` `version`."""
    return {"created_at": created_at, "subject": "Вопрос", "description": "Опишите, пожалуйста.",
            "contact": {"name": "Сергей Волков", "email": "volkov@example.ru"},
            "organization": {"name": "ООО Пример", "inn": INN},
            "product": product, "version": version}


def simulate(document: dict, tmp_path: Path, config: Path = PRESETS_DIR / "ideco.yaml") -> dict:
    path = tmp_path / "request.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["simulate", "--config", str(config), "--request", str(path)],
        catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def reasons(decision: dict) -> list[tuple[str, str | None]]:
    return [(r["code"], r["params"].get("rule")) for r in decision["reasons"]]


ACCEPTED = [
    # written product, version: both served lines, whichever way the customer names them
    ("Ideco ICS", "20.3"),
    ("Ideco ICS", "6.5"),             # the version chooses line 6
    ("Ideco ICS", "6.0"),             # line 6's first version
    ("Ideco ICS", "6.99 build 4321"),
    ("Ideco ICS 6", "6.2"),           # the name with the line's name
    ("ICS 6", "6.2"),
    ("UTM 6", "6.2"),
    ("Ideco UTM", "20.1"),
    ("Ideco PBX", "4.1"),
    ("Ideco Selecta", "2.3"),
    ("МагПро ГОСТ-VPN", "1.2"),
]


@pytest.mark.parametrize(("product", "version"), ACCEPTED,
                         ids=[f"{p}+{v}" for p, v in ACCEPTED])
def test_id2_served_lines_are_accepted(product, version, tmp_path):
    decision = simulate(request(product, version), tmp_path)
    assert decision["accepted"], decision["reasons"]
    # ID-5: an active subscription, 4 working hours
    assert (decision["tier"], decision["deadlines"]["first_response"]) == (
        "subscription", "2026-12-01T14:00+03:00")


@pytest.mark.parametrize("version", ["19.5", "7.0", "5.9", "21.0"])
def test_id2_ideco_ics_outside_both_lines_is_refused_as_not_current(version, tmp_path):
    decision = simulate(request("Ideco ICS", version), tmp_path)
    assert not decision["accepted"]
    assert reasons(decision) == [("unsupported_version", "not_current")]
    reason, = decision["reasons"]
    assert reason["message"] == (f"Версия {version} продукта «Ideco ICS» не поддерживается. "
                                 f"Поддерживаются: {LINES}.")
    assert (reason["params"]["current"], reason["params"]["lines"]) == ("20", LINES)


def test_id2_ideco_ics_6_with_a_current_version_is_served_as_current(tmp_path):
    # CHOICE in the preset: the version decides where name and version disagree.
    assert simulate(request("Ideco ICS 6", "20.3"), tmp_path)["accepted"]
    refused = simulate(request("Ideco ICS 6", "19.5"), tmp_path)
    assert reasons(refused) == [("unsupported_version", "not_current")]


def test_id2_prereleases_are_refused_in_either_line(tmp_path):
    for product, version in (("Ideco ICS", "20.4-beta"), ("Ideco ICS 6", "6.1rc1")):
        decision = simulate(request(product, version), tmp_path)
        assert reasons(decision) == [("unsupported_version", "prerelease")], version


def test_id2_unsupported_product_lists_the_regulations_products(tmp_path):
    decision = simulate(request("Kerio Control", "9.4"), tmp_path)
    assert reasons(decision) == [("unsupported_product", None)]
    assert decision["reasons"][0]["params"]["supported"] == (
        "Ideco ICS, Ideco ICS 6, Ideco PBX, Ideco Selecta, Ideco МагПро ГОСТ-VPN")


def test_id2_line_6_past_an_end_of_support(tmp_path):
    """With the `end_of_support` the preset's comment suggests, line 6 is served through
    that day and refused after it; the current line is not affected."""
    text = (PRESETS_DIR / "ideco.yaml").read_text(encoding="utf-8")
    assert text.count('versions: "6"\n') == 1
    config = tmp_path / "ideco.yaml"
    config.write_text(text.replace('versions: "6"\n',
                                   'versions: "6"\n          end_of_support: 2027-12-31\n'),
                      encoding="utf-8")
    shutil.copy(PRESETS_DIR / "ideco-customers.yaml", tmp_path / "ideco-customers.yaml")
    last_day = simulate(request("Ideco ICS 6", "6.5", "2027-12-31T17:00:00+03:00"), tmp_path,
                        config)
    assert last_day["accepted"], last_day["reasons"]
    after = simulate(request("Ideco ICS 6", "6.5", "2028-01-10T10:00:00+03:00"), tmp_path,
                     config)
    assert reasons(after) == [("unsupported_version", "end_of_support")]
    assert after["reasons"][0]["message"] == (
        "Поддержка «Ideco ICS 6» прекращена 31.12.2027 (указана версия 6.5). "
        "Поддерживаются: Ideco ICS (актуальная версия 20.x).")
    current = simulate(request("Ideco ICS", "20.3", "2028-01-10T10:00:00+03:00"), tmp_path,
                       config)
    assert not [r for r in current["reasons"] if r["code"] == "unsupported_version"]
    before = simulate(request("Ideco ICS", "19.5"), tmp_path, config)
    assert before["reasons"][0]["params"]["lines"] == (
        "Ideco ICS (актуальная версия 20.x), Ideco ICS 6 (версии 6.x, до 31.12.2027)")
