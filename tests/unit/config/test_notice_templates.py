"""`notices.templates`: each key may use only the placeholders the code passes to it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from click.testing import CliRunner

from redmine_sla_bridge.config.loader import ConfigError, load_config
from redmine_sla_bridge.config.notice_templates import PLACEHOLDERS
from redmine_sla_bridge.domain.notices import DEFAULTS
from redmine_sla_bridge.entrypoints.cli import cli

PACKAGE = Path(__file__).resolve().parents[3] / "redmine_sla_bridge"

BASE = """\
redmine: {url: http://redmine.local, api_key: k}
calendars:
  office: {timezone: Europe/Moscow, week: {mon-fri: [["09:00", "18:00"]]}, holidays: RU}
policy:
  calendar: office
  tiers: [{name: everyone, when: {}}]
  priority: {mode: impact, default_impact: P3}
notices:
  templates:
    en:
"""


def passed_placeholders() -> dict[str, set[str]]:
    """What `texts.get(key, name=...)` calls pass, read from the source: the table in
    config.notice_templates must say the same."""
    found: dict[str, set[str]] = {}
    for path in [*PACKAGE.joinpath("domain").rglob("*.py"), *PACKAGE.joinpath("service").rglob("*.py")]:
        module = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(module):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "get" and node.args):
                continue
            receiver = ast.unparse(node.func.value)
            if not (receiver.endswith("texts") or (receiver == "self" and path.name == "notices.py")):
                continue
            key = node.args[0]
            names = {k.arg for k in node.keywords if k.arg}
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                keys = [key.value]
            elif isinstance(key, ast.JoinedStr) and isinstance(key.values[0], ast.Constant):
                prefix = str(key.values[0].value)
                keys = [k for k in DEFAULTS["en"] if k.startswith(prefix) and "." not in k[len(prefix):]]
                assert keys, f"{path}: no notice key starts with {prefix!r}"
            elif isinstance(key, ast.Name):  # key = "a" if ... else "b"
                keys = assigned_strings(module, key.id)
                assert keys, f"{path}:{node.lineno}: cannot read the key of {ast.unparse(node)}"
            else:
                raise AssertionError(f"{path}:{node.lineno}: cannot read the key of {ast.unparse(node)}")
            for k in keys:
                found.setdefault(k, set()).update(names)
    return found


def assigned_strings(module: ast.Module, name: str) -> list[str]:
    """The string constants assigned to `name` anywhere in `module`."""
    out = []
    for node in ast.walk(module):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name
                                                for t in node.targets):
            out += [c.value for c in ast.walk(node.value)
                    if isinstance(c, ast.Constant) and isinstance(c.value, str)]
    return out


def test_the_table_is_what_the_code_passes():
    passed = passed_placeholders()
    assert set(passed) == set(PLACEHOLDERS) == set(DEFAULTS["en"]) == set(DEFAULTS["ru"])
    assert {k: set(v) for k, v in PLACEHOLDERS.items()} == passed


@pytest.mark.parametrize("language", ["ru", "en"])
def test_the_shipped_texts_use_only_what_they_are_given(language):
    from string import Template

    for key, text in DEFAULTS[language].items():
        assert set(Template(text).get_identifiers()) <= PLACEHOLDERS[key], key


def _load(tmp_path, overrides: str):
    path = tmp_path / "bridge.yaml"
    path.write_text(BASE + overrides, encoding="utf-8")
    return load_config(path, env={})


def _issue(tmp_path, overrides: str):
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, overrides)
    (issue,) = info.value.issues
    return issue


def test_known_placeholders_pass(tmp_path):
    config = _load(tmp_path, '      closed.note: "Closed $number: $idle; reply by $reopen_until ($$0)"\n'
                             '      escalation.breached: "Late: $targets ($share%)"\n')
    assert config.notices.templates["en"]["escalation.breached"] == "Late: $targets ($share%)"


def test_an_unknown_placeholder_is_refused_at_its_line(tmp_path):
    issue = _issue(tmp_path, '      ack.header: "Registered"\n      ack.subject: "Request $nubmer"\n')
    assert issue.path == "notices.templates.en.ack.subject"
    assert issue.line == 12
    assert issue.message == ("unknown placeholder(s) $nubmer: this text is given $number, and anything "
                             "else would reach the customer as written")


def test_a_placeholder_of_another_key_is_refused(tmp_path):
    issue = _issue(tmp_path, '      ack.subject: "Request $number due $due"\n')
    assert "$due" in issue.message


def test_a_stray_dollar_is_refused(tmp_path):
    issue = _issue(tmp_path, '      ack.priority: "Priority $priority costs $5"\n')
    assert issue.path == "notices.templates.en.ack.priority"
    assert "write a literal $ as $$" in issue.message


def test_an_unknown_key_is_refused_at_its_line(tmp_path):
    issue = _issue(tmp_path, '      ack.sujbect: "x"\n')
    assert issue.path == "notices.templates.en.ack.sujbect" and issue.line == 11
    assert "unknown template keys for en: ack.sujbect" in issue.message


def test_a_braced_placeholder_is_read_as_an_environment_reference_and_says_so(tmp_path):
    issue = _issue(tmp_path, '      ack.subject: "Request ${number}"\n')
    assert issue.message == ("environment variable number is not set (a text placeholder is "
                             "written $name, without braces)")


def test_check_config_reports_it(tmp_path):
    path = tmp_path / "bridge.yaml"
    path.write_text(BASE + '      reopened.note: "Reopened $numbr"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["check-config", str(path)])
    assert result.exit_code == 2
    assert "notices.templates.en.reopened.note (line 11): unknown placeholder(s) $numbr" in result.output
