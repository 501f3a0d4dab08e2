"""`intake.products[].lines`: YAML -> validated model -> domain lines, and errors that
name the exact value at fault."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from redmine_sla_bridge.config.base import ConfigValueError
from redmine_sla_bridge.config.intake import IntakeConfig
from redmine_sla_bridge.config.loader import ConfigError, validate_document
from redmine_sla_bridge.domain.intake import IntakeRequest, check

PRESETS = Path(__file__).resolve().parents[3] / "config" / "presets"

YAML = """
products:
  - name: "Ideco ICS"
    aliases: ["Ideco UTM"]
    lines:
      current:
        current: true
        current_version: "20"
      "6":
        versions: ">=6,<7"
        end_of_support: 2027-12-31
        allow_prereleases: true
        aliases: ["ICS 6"]
      legacy:
        versions: "5.5"
        title: "Ideco ICS 5.5 (архив)"
  - name: "Ideco PBX"
    current_version: "4"
"""


def load(text: str) -> IntakeConfig:
    return IntakeConfig.model_validate(yaml.safe_load(text))


def test_lines_to_domain() -> None:
    ics, pbx = load(YAML).to_domain().products
    assert ics.versions is None and pbx.lines == ()
    current, six, legacy = ics.lines
    assert (current.name, current.title, current.members, current.is_current) == (
        "current", "Ideco ICS", "20", True)
    assert (six.title, six.members, six.end_of_support, six.aliases) == (
        "Ideco ICS 6", ">=6,<7", dt.date(2027, 12, 31), ("ICS 6",))
    assert six.policy.allow_prereleases and not current.policy.allow_prereleases
    assert legacy.title == "Ideco ICS 5.5 (архив)"
    assert {"ideco ics 6", "ideco utm 6", "ics 6", "ideco ics legacy",
            "ideco ics 5.5 (архив)"} <= set(ics.keys())
    rules = load(YAML).to_domain()
    decision = check(IntakeRequest(product="ICS 6", version="6.1rc2"), rules,
                     request_date=dt.date(2027, 6, 1))
    assert decision.accepted and decision.product_line == "6"
    decision = check(IntakeRequest(product="Ideco ICS", version="5.5.3"), rules,
                     request_date=dt.date(2027, 6, 1))
    assert decision.accepted and decision.product_line == "legacy"


def test_the_single_policy_form_is_unchanged() -> None:
    product, = load("products: [{name: X, supported_versions: '>=7', "
                    "version_lines: {'7': {end_of_support: 2025-01-01}}}]").to_domain().products
    assert product.lines == () and product.versions.supported == ">=7"
    assert [line.name for line in product.served_lines] == [""]


def where(error: dict) -> tuple:
    """The path the loader reports: pydantic's location plus a ConfigValueError's own."""
    located = (error.get("ctx") or {}).get("error")
    return (*error["loc"], *(located.at if isinstance(located, ConfigValueError) else ()))


def line(name: str, body: str) -> str:
    return f"products: [{{name: X, aliases: [Y], lines: {{{name}: {body}}}}}]"


@pytest.mark.parametrize(("text", "at", "what"), [
    (line("a", "{}"), ("products", 0, "lines", "a"), "needs `versions`"),
    (line("a", "{current: true}"), ("products", 0, "lines", "a", "current"),
     "needs `current_version`"),
    (line("a", "{current_version: '20'}"), ("products", 0, "lines", "a", "current_version"),
     "add `current: true`"),
    (line("a", "{current: true, current_version: '20', versions: '20'}"),
     ("products", 0, "lines", "a", "versions"), "not `versions`"),
    (line("a", "{versions: six}"), ("products", 0, "lines", "a", "versions"), "version line"),
    (line("a", "{versions: 6.10}"), ("products", 0, "lines", "a", "versions"), "quotes"),
    (line("6", "{versions: '6'}"), ("products", 0, "lines", 6, "[key]"), 'e.g. "6"'),
    (line("a", "{versions: '6', end_of_support: soon}"),
     ("products", 0, "lines", "a", "end_of_support"), "date"),
    (line("a", "{versions: '6', title: ''}"), ("products", 0, "lines", "a", "title"),
     "at least 1"),
    (line("a", "{versions: '6', since: '6'}"), ("products", 0, "lines", "a", "since"), "Extra"),
    ("products: [{name: X, lines: {a: {versions: '6'}, b: {versions: '>=6.5,<8'}}}]",
     ("products", 0, "lines", "b", "versions"), "both hold version 6.5"),
    ("products: [{name: X, lines: {a: {current: true, current_version: '20'}, "
     "b: {versions: '>=15'}}}]", ("products", 0, "lines", "b", "versions"), "both hold"),
    ("products: [{name: X, lines: {a: {current: true, current_version: '20'}, "
     "b: {current: true, current_version: '21'}}}]",
     ("products", 0, "lines", "b", "current"), "both the current one"),
    ("products: [{name: X, current_version: '20', lines: {a: {versions: '6'}}}]",
     ("products", 0, "current_version"), "exclude each other"),
    ("products: [{name: X, allow_prereleases: true, lines: {a: {versions: '6'}}}]",
     ("products", 0, "allow_prereleases"), "exclude each other"),
    (line("'6'", "{versions: '6', aliases: [A, y]}"),
     ("products", 0, "lines", "6", "aliases", 1), "names both product 'X' and line '6'"),
    ("products: [{name: X, lines: {'6': {versions: '6'}, '7': {versions: '7', "
     "title: 'X 6'}}}]", ("products", 0, "lines", "7", "title"),
     "names both line '6' of 'X' and line '7' of 'X'"),
    ("products: [{name: X, lines: {'6': {versions: '6'}}}, {name: 'X 6'}]",
     ("products", 1, "name"), "'x 6' names both 'X' and 'X 6'"),
    ("products: [{name: Z}, {name: X, lines: {'6': {versions: '6', aliases: [z]}}}]",
     ("products", 1, "lines", "6", "aliases", 0), "'z' names both 'Z' and 'X'"),
    ("products: [{name: Z, lines: {'6': {versions: '6'}}}, {name: X, aliases: [Z 6]}]",
     ("products", 1, "aliases", 0), "'z 6' names both 'Z' and 'X'"),
])
def test_line_errors_name_their_place(text: str, at: tuple, what: str) -> None:
    with pytest.raises(ValidationError) as caught:
        load(text)
    errors = caught.value.errors()
    assert any(where(e) == at and what in e["msg"] for e in errors), [
        (where(e), e["msg"]) for e in errors]


def test_the_loader_shows_the_line_of_an_overlap() -> None:
    text = (PRESETS / "ideco.yaml").read_text(encoding="utf-8")
    assert text.count('versions: "6"\n') == 1
    text = text.replace('versions: "6"\n', 'versions: ">=6,<21"\n')
    env = {"REDMINE_API_KEY": "k", "REDMINE_URL": "http://127.0.0.1:3999"}
    with pytest.raises(ConfigError) as caught:
        validate_document(yaml.safe_load(text), source="ideco.yaml", text=text, env=env,
                          base_dir=PRESETS)
    issue, = caught.value.issues
    assert issue.path == "intake.products[0].lines.6.versions"
    assert text.splitlines()[issue.line - 1].strip() == 'versions: ">=6,<21"'
    assert "lines 'current' (20) and '6' (>=6,<21) both hold version 20" in issue.message
