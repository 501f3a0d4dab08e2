"""Offline `check-config` and `simulate` need no secret; the commands that use one do."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from redmine_sla_bridge.config.loader import ConfigError, load_config, load_info
from redmine_sla_bridge.entrypoints.cli import cli

CONFIG = """\
redmine:
  url: http://127.0.0.1:9
  api_key: ${REDMINE_API_KEY}
  admin: {login: "${ADMIN_LOGIN}", password: "${ADMIN_PASSWORD}"}
  retries: 0
  timeout_seconds: 1
intake_api: {token: "${INTAKE_TOKEN}", project: support}
calendars:
  office:
    timezone: Europe/Moscow
    week: {mon-fri: [["09:00", "18:00"]]}
    holidays: RU
policy:
  calendar: office
  tiers:
    - {name: everyone, when: {}}
  priority: {mode: impact, default_impact: P3}
"""

UNSET = dict.fromkeys(("REDMINE_API_KEY", "ADMIN_LOGIN", "ADMIN_PASSWORD", "INTAKE_TOKEN", "REDMINE_URL"))


@pytest.fixture()
def config_path(tmp_path):
    path = tmp_path / "bridge.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_check_config_offline_needs_no_secret(config_path):
    result = CliRunner().invoke(cli, ["check-config", str(config_path)], env=UNSET)
    assert result.exit_code == 0, result.output
    assert f"OK: {config_path}" in result.output
    assert ("warning: redmine.api_key (line 3): environment variable REDMINE_API_KEY is not set: "
            "fine for this command") in result.output
    for path in ("redmine.admin.login", "redmine.admin.password", "intake_api.token"):
        assert f"warning: {path} (line" in result.output


def test_simulate_needs_no_secret(config_path, tmp_path):
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"subject": "Help", "description": "It broke.",
                                   "contact": {"name": "Ann", "email": "ann@example.com"}}),
                       encoding="utf-8")
    result = CliRunner().invoke(cli, ["simulate", "--config", str(config_path), "--request", str(request)],
                                env=UNSET)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["tier"] == "everyone"


@pytest.mark.parametrize("command", [["sync", "--once"], ["provision", "--dry-run"],
                                     ["serve", "--dev", "--bind", "127.0.0.1:1"]])
def test_commands_that_use_the_secrets_still_require_them(config_path, command):
    result = CliRunner().invoke(cli, [*command, "--config", str(config_path)], env=UNSET)
    assert result.exit_code == 2, result.output
    assert "redmine.api_key (line 3): environment variable REDMINE_API_KEY is not set" in result.output
    assert "fine for this command" not in result.output


def test_check_config_online_requires_them(config_path):
    result = CliRunner().invoke(cli, ["check-config", "--online", str(config_path)], env=UNSET)
    assert result.exit_code == 2
    assert "environment variable REDMINE_API_KEY is not set" in result.output


def test_an_unreachable_redmine_is_exit_1_for_the_online_check(config_path):
    result = CliRunner().invoke(cli, ["check-config", "--online", str(config_path)],
                                env={**UNSET, "REDMINE_API_KEY": "k", "ADMIN_LOGIN": "a",
                                     "ADMIN_PASSWORD": "p", "INTAKE_TOKEN": "t0ken-for-tests"})
    assert result.exit_code == 1, result.output
    assert "error: cannot check the config's names against Redmine at http://127.0.0.1:9" in result.output


def test_an_unresolved_secret_is_a_placeholder_that_is_named(config_path):
    config = load_config(config_path, env={}, require_secrets=False)
    assert config.redmine.api_key.get_secret_value() == "${REDMINE_API_KEY}"
    assert [i.path for i in load_info(config).unresolved_secrets] == [
        "redmine.api_key", "redmine.admin.login", "redmine.admin.password", "intake_api.token"]


def test_only_secrets_are_tolerated(tmp_path):
    # The URL is checked offline, so without it the config cannot be checked.
    path = tmp_path / "bridge.yaml"
    path.write_text(CONFIG.replace("http://127.0.0.1:9", "${REDMINE_URL}"), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={}, require_secrets=False)
    (issue,) = info.value.issues
    assert str(issue) == "redmine.url (line 2): environment variable REDMINE_URL is not set"
    assert "warning: redmine.api_key (line 3)" in info.value.render()


def test_by_default_every_secret_is_required(config_path):
    with pytest.raises(ConfigError) as info:
        load_config(config_path, env={})
    assert [i.path for i in info.value.issues] == [
        "redmine.api_key", "redmine.admin.login", "redmine.admin.password", "intake_api.token"]
