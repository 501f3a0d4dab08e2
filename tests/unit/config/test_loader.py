"""The loader: path-precise errors with lines, env references, secrets never echoed."""

from __future__ import annotations

import textwrap

import pytest

from redmine_sla_bridge.config.loader import ConfigError, load_config

MINIMAL_POLICY = """\
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


def _write(tmp_path, text: str, *, policy: bool = True):
    path = tmp_path / "bridge.yaml"
    path.write_text(textwrap.dedent(text) + (MINIMAL_POLICY if policy else ""), encoding="utf-8")
    return path


def _issues(path, env=None):
    with pytest.raises(ConfigError) as info:
        load_config(path, env=env or {})
    return {issue.path: issue for issue in info.value.issues}


def test_unknown_key_is_reported_with_its_path_and_line(tmp_path):
    path = _write(tmp_path, """\
        redmine:
          url: http://redmine.local
          api_key: abc
          timout_seconds: 5
        """)
    issues = _issues(path)
    assert list(issues) == ["redmine.timout_seconds"]
    assert issues["redmine.timout_seconds"].line == 4
    assert "unknown key" in issues["redmine.timout_seconds"].message


def test_every_problem_is_listed_not_only_the_first(tmp_path):
    path = _write(tmp_path, """\
        language: de
        redmine:
          url: redmine.local
          api_key: abc
          retries: -1
        scope:
          trackers: []
        """)
    issues = _issues(path)
    assert set(issues) == {"language", "redmine.url", "redmine.retries", "scope.trackers"}
    assert issues["redmine.url"].line == 3
    assert "http://" in issues["redmine.url"].message
    assert issues["scope.trackers"].line == 7


def test_missing_section_is_named(tmp_path):
    issues = _issues(_write(tmp_path, "language: en\n", policy=False))
    assert set(issues) == {"redmine", "policy"}  # calendars are optional
    assert issues["redmine"].message == "required key is missing"


def test_environment_references_are_substituted_and_missing_ones_named(tmp_path):
    path = _write(tmp_path, """\
        redmine:
          url: ${REDMINE_URL:-http://localhost:3000}
          api_key: ${REDMINE_API_KEY}
        """)
    config = load_config(path, env={"REDMINE_API_KEY": "s3cret-key"})
    assert config.redmine.url == "http://localhost:3000"
    assert config.redmine.api_key.get_secret_value() == "s3cret-key"
    issues = _issues(path, env={})
    assert issues["redmine.api_key"].message == "environment variable REDMINE_API_KEY is not set"
    assert issues["redmine.api_key"].line == 3


def test_a_secret_never_appears_in_an_error(tmp_path):
    # api_key given as a mapping is a type error; the message must not echo the value.
    path = _write(tmp_path, """\
        redmine:
          url: http://r
          api_key:
            nested: ${SECRET}
        """)
    with pytest.raises(ConfigError) as info:
        load_config(path, env={"SECRET": "do-not-print-me"})
    assert "do-not-print-me" not in info.value.render()
    assert "redmine.api_key" in info.value.render()
    assert "do-not-print-me" not in repr(load_config(_write(tmp_path, """\
        redmine:
          url: http://r
          api_key: ${SECRET}
        """), env={"SECRET": "do-not-print-me"}))


def test_unparseable_yaml_reports_the_line(tmp_path):
    path = _write(tmp_path, "redmine:\n  url: [unclosed\n  api_key: x\n", policy=False)
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    (issue,) = info.value.issues
    assert issue.message.startswith("not valid YAML")
    assert issue.line == 3


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.yaml")
    assert "cannot read the file" in info.value.render()


def test_an_unquoted_time_is_reported_with_a_hint_to_quote_it(tmp_path):
    # PyYAML reads 18:00 unquoted as the base-60 integer 1080.
    path = _write(tmp_path, """\
        redmine: {url: http://r, api_key: k}
        """, policy=False)
    path.write_text(path.read_text() + textwrap.dedent("""\
        calendars:
          office:
            timezone: Europe/Moscow
            week:
              mon-fri: [["09:00", 18:00]]
            holidays: RU
        policy:
          calendar: office
          tiers: [{name: everyone, when: {}}]
          priority: {mode: impact, default_impact: P3}
        """))
    issues = _issues(path)
    (where,) = [p for p in issues if p.startswith("calendars.office.week")]
    assert "quote" in issues[where].message and '"18:00"' in issues[where].message
    assert issues[where].line == 6


def test_a_policy_naming_an_undefined_calendar_is_refused(tmp_path):
    path = _write(tmp_path, """\
        redmine: {url: http://r, api_key: k}
        """)
    path.write_text(path.read_text().replace("  office:", "  elsewhere:"))
    issues = _issues(path)
    assert "calendar(s) 'office'" in issues[""].message


def test_check_config_warns_about_years_without_official_data(tmp_path):
    import datetime as dt

    from redmine_sla_bridge.config.loader import load_config as load

    config = load(_write(tmp_path, "redmine: {url: http://r, api_key: k}\n"), env={})
    assert config.warnings(dt.date(2026, 5, 1)) == []
    warnings = config.warnings(dt.date(2027, 5, 1))
    assert warnings and all(w.startswith("calendars.office: ") for w in warnings)
    assert any("2028" in w for w in warnings)
