"""A value that came from the environment never appears in a message: wherever a `${NAME}`
lands where validation fails, the message shows `${NAME}` instead of the value."""

from __future__ import annotations

import textwrap

import pytest
from click.testing import CliRunner

from redmine_sla_bridge.config.environment import Redactor
from redmine_sla_bridge.config.loader import ConfigError, load_config, redact
from redmine_sla_bridge.entrypoints.cli import cli

SECRET = "Zq7-s3cr3t-Xv9-do-not-print"

POLICY = """\
policy:
  calendar: office
  tiers:
    - {name: everyone, when: {}}
  priority: {mode: impact, default_impact: P3}
"""

CALENDAR = """\
calendars:
  office:
    timezone: Europe/Moscow
    week: {mon-fri: [["09:00", "18:00"]]}
    holidays: RU
"""

REDMINE = """\
redmine:
  url: http://redmine.local
  api_key: k
"""


def document(kind: str) -> str:
    """A config with `${S}` put into one field of `kind` (the rest is valid)."""
    redmine, calendar, extra = REDMINE, CALENDAR, ""
    if kind == "url":
        redmine = redmine.replace("http://redmine.local", "${S}")
    elif kind == "url with a path":
        redmine = redmine.replace("http://redmine.local", "ftp://${S}/redmine/")
    elif kind == "timezone":
        calendar = calendar.replace("Europe/Moscow", "${S}")
    elif kind == "week spec":
        calendar = calendar.replace('{mon-fri: [["09:00", "18:00"]]}', "${S}")
    elif kind == "week interval":
        calendar = calendar.replace('"18:00"', '"${S}"')
    elif kind == "holiday country":
        calendar = calendar.replace("holidays: RU", "holidays: ${S}")
    elif kind == "date":
        calendar += '    extra_days_off: ["${S}"]\n'
    elif kind == "date list item":
        calendar += '    short_days: ["2026-12-30", "${S}"]\n'
    elif kind == "duration":
        extra = ('lifecycle:\n  auto_close:\n    - {name: x, from_statuses: [Feedback], '
                 'idle_since: status_change, after: "${S}"}\n')
    elif kind == "version list":
        extra = 'intake:\n  products:\n    - {name: P, supported_versions: ">=1.0, ${S}"}\n'
    elif kind == "version line":
        extra = 'intake:\n  products:\n    - {name: P, current_version: "${S}"}\n'
    elif kind == "list item":
        extra = 'intake:\n  required: [description, "${S}"]\n'
    elif kind == "string with a prefix":
        extra = ('notify:\n  smtp: {host: "mail ${S}"}\n')
    elif kind == "customer file name":
        extra = ""
    elif kind == "number":
        extra = 'polling: {interval_seconds: "${S}"}\n'
    elif kind == "dict value":
        extra = 'intake:\n  messages:\n    en: {note.footer: "Write to ${S} $"}\n'
    elif kind == "dict key":
        extra = 'entitlements:\n  by_tier:\n    "${S}": [support]\n'
    elif kind == "store url":
        extra = 'store: {url: "mongodb://${S}@db/bridge"}\n'
    elif kind == "notice template":
        extra = 'notices:\n  templates:\n    en: {ack.subject: "${S} $nubmer"}\n'
    else:  # pragma: no cover - a typo in the parameters below
        raise AssertionError(kind)
    policy = POLICY
    if kind == "customer file name":
        policy = policy.replace("  calendar: office\n", "  calendar: office\n  customers: {file: \"${S}\"}\n")
    return redmine + calendar + extra + policy


KINDS = ["url", "url with a path", "timezone", "week spec", "week interval", "holiday country",
         "date", "date list item", "duration", "version list", "version line", "list item",
         "string with a prefix", "customer file name", "number", "dict value", "dict key",
         "store url", "notice template"]


def _error(tmp_path, kind: str, value: str) -> str:
    path = tmp_path / "bridge.yaml"
    path.write_text(document(kind), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={"S": value})
    return info.value.render()


@pytest.mark.parametrize("kind", KINDS)
def test_a_secret_in_a_field_that_fails_is_shown_as_its_reference(tmp_path, kind):
    rendered = _error(tmp_path, kind, SECRET)
    assert SECRET not in rendered
    for piece in ("Zq7", "s3cr3t", "do-not-print"):
        assert piece not in rendered, rendered
    assert "(line " in rendered  # still says where


@pytest.mark.parametrize("kind", ["url", "timezone", "week spec", "date", "duration",
                                  "version list", "list item", "string with a prefix"])
def test_the_message_shows_the_reference_where_it_quoted_the_value(tmp_path, kind):
    assert "${S}" in _error(tmp_path, kind, SECRET)


@pytest.mark.parametrize("kind", KINDS)
def test_the_cli_never_prints_the_secret_either(tmp_path, kind):
    path = tmp_path / "bridge.yaml"
    path.write_text(document(kind), encoding="utf-8")
    result = CliRunner().invoke(cli, ["check-config", str(path)], env={"S": SECRET})
    assert result.exit_code == 2, result.output
    assert SECRET not in result.output and "s3cr3t" not in result.output


@pytest.mark.parametrize("value", ["ab", "Zq7", "x'y\\z\nsecret", "  padded-secret  ", "ftp://x.example/"])
def test_short_and_odd_values_are_masked_where_quoted(tmp_path, value):
    rendered = _error(tmp_path, "url", value)
    assert repr(value.strip().rstrip("/")) not in rendered
    assert any(f"got {form}" in rendered for form in ("${S}", "'${S}'", '"${S}"')), rendered


def test_a_short_value_inside_a_longer_quoted_text_is_masked(tmp_path):
    rendered = _error(tmp_path, "version list", "zz")
    assert "'>=1.0, ${S}'" in rendered
    assert "zz" not in rendered


def test_a_value_from_a_default_is_not_masked(tmp_path):
    # The default is written in the file: showing it hides nothing.
    path = tmp_path / "bridge.yaml"
    path.write_text(document("url").replace("${S}", "${S:-redmine.local}"), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert "'redmine.local'" in info.value.render()


def test_a_bootstrap_error_about_the_customer_file_is_masked(tmp_path):
    path = tmp_path / "bridge.yaml"
    path.write_text(document("customer file name"), encoding="utf-8")
    secret_name = "hidden-dir-4711/customers.yaml"
    result = CliRunner().invoke(cli, ["check-config", str(path)], env={"S": secret_name})
    assert result.exit_code == 2, result.output
    assert "hidden-dir-4711" not in result.output
    assert "${S}" in result.output


def test_a_loaded_config_masks_its_values_for_other_messages(tmp_path):
    path = tmp_path / "bridge.yaml"
    path.write_text(REDMINE.replace("api_key: k", "api_key: ${KEY}") + CALENDAR + POLICY,
                    encoding="utf-8")
    config = load_config(path, env={"KEY": SECRET})
    assert redact(config, f"Redmine said: bad key {SECRET}") == "Redmine said: bad key ${KEY}"
    assert SECRET not in repr(config)


def test_the_redactor_masks_the_longest_value_first_and_repr_forms():
    mask = Redactor([("A", "abcd"), ("B", "abcdefgh"), ("Q", "it's\\here")])
    assert mask("x abcdefgh y abcd") == "x ${B} y ${A}"
    assert mask(repr("it's\\here")) == '"${Q}"'  # repr quotes it with " and doubles the \\
    assert mask("nothing to hide") == "nothing to hide"
    assert Redactor()("abcd") == "abcd"


def test_yaml_errors_cannot_hold_a_value_from_the_environment(tmp_path):
    # References are substituted after parsing, so a YAML error shows the file's text.
    path = tmp_path / "bridge.yaml"
    path.write_text("redmine:\n  url: [${S}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={"S": SECRET})
    assert SECRET not in info.value.render()
    assert "not valid YAML" in info.value.render()


def test_unknown_placeholder_in_a_notice_is_reported_without_the_value(tmp_path):
    rendered = _error(tmp_path, "notice template", SECRET)
    assert "notices.templates.en.ack.subject" in rendered and "$nubmer" in rendered


def test_every_field_kind_loads_when_the_value_is_right(tmp_path):
    # The masking is only for messages: a right value from the environment is used as is.
    path = tmp_path / "bridge.yaml"
    path.write_text(textwrap.dedent("""\
        redmine:
          url: ${URL}
          api_key: ${KEY}
        """) + CALENDAR.replace("Europe/Moscow", "${TZ}") + POLICY, encoding="utf-8")
    config = load_config(path, env={"URL": "https://r.example/", "KEY": SECRET, "TZ": "Europe/Samara"})
    assert config.redmine.url == "https://r.example"
    assert config.calendars["office"].timezone == "Europe/Samara"
    assert config.redmine.api_key.get_secret_value() == SECRET
