"""The `intake` config section: YAML -> validated model -> domain rules."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from pydantic import ValidationError

from redmine_sla_bridge.config.intake import IntakeConfig
from redmine_sla_bridge.domain.intake import IntakeRequest, check, find_rude_words, rejection_note

YAML = """
required: [description, version, organization.inn]
first_request_only: [organization.name]
any_of:
  - fields: [contact.email, contact.phone]
products:
  - name: "ИКС Стандарт"
    aliases: ["ICS Standard"]
    supported_versions: ">=6.0"
    version_lines:
      "6.*": {end_of_support: 2024-12-31}
  - name: "Ideco ICS"
    current_version: "15"
    allow_prereleases: true
labels:
  organization.inn: ["ИНН заказчика"]
rudeness:
  stems: ["хам"]
messages:
  en:
    note.footer: "Reply and we will look again."
"""


def load(text: str) -> IntakeConfig:
    return IntakeConfig.model_validate(yaml.safe_load(text))


def test_yaml_to_domain_rules() -> None:
    rules = load(YAML).to_domain("en")
    assert rules.required == ("description", "version", "organization.inn")
    assert rules.first_request_only == ("organization.name",)
    assert rules.any_of[0].fields == ("contact.email", "contact.phone")
    standard, ideco = rules.products
    assert standard.versions.lines[0].end_of_support == dt.date(2024, 12, 31)
    assert ideco.versions.current == "15" and ideco.versions.allow_prereleases
    assert "ИНН заказчика" in rules.labels["organization.inn"]
    assert "ИНН" in rules.labels["organization.inn"]  # defaults kept
    assert find_rude_words("хамы", rules.rudeness) == ("хамы",)
    assert rules.messages.language == "en"

    request = IntakeRequest(description="ИНН заказчика: 7707083893\nhelp",
                            product="ics standard", version="6.2")
    decision = check(request, rules, request_date=dt.date(2025, 2, 1), known_contact=True)
    assert [(str(r.code), r.rule) for r in decision.reasons] == [
        ("missing_field", "any_of"), ("unsupported_version", "end_of_support")]
    assert rejection_note(decision, rules).endswith("Reply and we will look again.")


def test_defaults_demand_nothing() -> None:
    rules = IntakeConfig().to_domain()
    assert check(IntakeRequest(), rules, request_date=dt.date(2025, 1, 1)).accepted


def test_replace_default_labels() -> None:
    cfg = load("replace_default_labels: true\nlabels: {version: [Release]}")
    assert dict(cfg.to_domain().labels) == {"version": ("Release",)}


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        ("required: [contact.mail]", ("required", 0), "unknown field path"),
        ("required: [version]\nfirst_request_only: [version]", ("first_request_only",),
         "already in `required`"),
        ("any_of: [{fields: [contact.email]}]", ("any_of", 0, "fields"), "at least 2"),
        ("products: [{name: X, supported_versions: '>>7'}]",
         ("products", 0, "supported_versions"), "specifier"),
        ("products: [{name: X, current_version: latest}]",
         ("products", 0, "current_version"), "version line"),
        ("products: [{name: X, current_version: 7.10}]",
         ("products", 0, "current_version"), "quotes"),
        ("products: [{name: X, version_lines: {6.x: {end_of_support: 2024-12-31}}}]",
         ("products", 0, "version_lines"), "version line"),
        ("products: [{name: X, version_lines: {'6': {end_of_support: soon}}}]",
         ("products", 0, "version_lines", "6", "end_of_support"), "date"),
        ("products: [{name: A}, {name: B, aliases: ['a']}]", ("products",), "names both"),
        ("products: [{name: A, versions: '>=1'}]", ("products", 0, "versions"), "Extra"),
        ("labels: {contract_number: [ИНН]}", ("labels",), "already belongs"),
        ("labels: {description: [Текст]}", ("labels", "description", "[key]"), "no labels"),
        ("rudeness: {patterns: ['(']}", ("rudeness",), "regular expression"),
        ("messages: {ru: {note.footer: $vesion}}", ("messages",), "placeholder"),
        ("messages: {de: {}}", ("messages", "de", "[key]"), "'ru' or 'en'"),
        ("demo_once_per_days: 0", ("demo_once_per_days",), "greater than or equal to 1"),
    ],
)
def test_config_errors_name_their_place(text: str, where: tuple, what: str) -> None:
    with pytest.raises(ValidationError) as caught:
        load(text)
    errors = caught.value.errors()
    assert any(tuple(e["loc"])[: len(where)] == where and what in e["msg"] for e in errors), errors


def test_config_is_frozen() -> None:
    cfg = load(YAML)
    with pytest.raises(ValidationError):
        cfg.demo_once_per_days = 1  # type: ignore[misc]
