"""`check-config`, `schema` and `--help` through the real command line."""

from __future__ import annotations

import json
import textwrap

from click.testing import CliRunner

from redmine_sla_bridge.entrypoints.cli import cli

BROKEN = textwrap.dedent("""\
    language: ru
    redmine:
      url: redmine.local
      api_key: ${NOT_SET_ANYWHERE}
    scope:
      trackers: [Support]
      projcts: [support]
    calendars:
      office:
        timezone: Europe/Moskow
        week:
          mon-fri: [["09:00", 18:00]]
        holidays: RU
    intake:
      products:
        - {name: ИКС, supported_versions: ">=7.0", current_version: 7.10}
    policy:
      calendar: office
      tiers: [{name: everyone, when: {}}]
      priority: {mode: impact, default_impact: P9}
    """)


def test_check_config_lists_every_mistake_with_its_path_and_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    result = CliRunner().invoke(cli, ["check-config", str(path)], env={"NOT_SET_ANYWHERE": None})
    assert result.exit_code == 2
    out = result.output
    expected = [
        "redmine.url (line 3): expected an http:// or https:// URL",
        "redmine.api_key (line 4): environment variable NOT_SET_ANYWHERE is not set",
        "scope.projcts (line 7): unknown key",
        "calendars.office.timezone (line 10): unknown time zone 'Europe/Moskow'",
        'write it in quotes, e.g. "18:00"',
        "intake.products[0].current_version (line 16)",
        "policy.priority (line 20)",
    ]
    for fragment in expected:
        assert fragment in out, (fragment, out)
    assert "7.10" in out and "quotes" in out


def test_check_config_accepts_the_example(tmp_path):
    result = CliRunner().invoke(cli, ["check-config", "config/example.yaml"],
                                env={"REDMINE_API_KEY": "x"})
    assert result.exit_code == 0, result.output
    assert "OK: config/example.yaml" in result.output


def test_schema_is_json_schema_of_the_whole_config():
    result = CliRunner().invoke(cli, ["schema"])
    schema = json.loads(result.output)
    assert {"redmine", "policy", "calendars", "intake", "lifecycle", "notify"} <= set(schema["properties"])
    assert schema["additionalProperties"] is False


def test_help_lists_the_commands():
    result = CliRunner().invoke(cli, ["--help"])
    for command in ("check-config", "schema", "provision", "sync", "serve", "simulate",
                    "dead-letters", "dev-redmine"):
        assert command in result.output
