"""Loading a config cannot crash or hang: every broken or hostile file is a ConfigError
with a path and a line, and `check-config`, `sync` and `serve` exit 2 with it."""

from __future__ import annotations

import codecs

import pytest
from click.testing import CliRunner

from redmine_sla_bridge.config.loader import ConfigError, load_config
from redmine_sla_bridge.entrypoints.cli import cli
from tests.hang_guard import finishes

VALID = """\
redmine:
  url: http://redmine.local
  api_key: ${KEY}
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

ENV = {"KEY": "a-key-for-the-tests"}


def billion_laughs() -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 10):
        name, previous = chr(ord("a") + level), chr(ord("a") + level - 1)
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
    return "\n".join(lines) + "\n" + VALID


CASES: dict[str, tuple[bytes, str, int | None, str]] = {
    # name: (file content, path in the message, line, words of the message)
    "billion laughs": (billion_laughs().encode(), "f[0]", 6, "alias bomb"),
    "5,000-deep nesting": (("x: " + "[" * 5000 + "]" * 5000 + "\n" + VALID).encode(),
                           "x[0][0]", 1, "nested more than 64 levels deep"),
    "5,000-deep mappings": (("x: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n" + VALID).encode(),
                            "x.a.a", 1, "nested more than 64 levels deep"),
    "recursive anchor": (("x: &r [1, *r]\n" + VALID).encode(), "x[1]", 1, "recursive alias"),
    "recursive mapping anchor": (("x: &r {self: *r}\n" + VALID).encode(), "x.self", 1,
                                 "recursive alias"),
    "duplicate key": (VALID.replace("  api_key: ${KEY}\n", "  api_key: ${KEY}\n  url: http://other\n")
                      .encode(), "redmine.url", 4, "duplicate key 'url': first on line 2, again on line 4"),
    "duplicate section": ((VALID + "redmine: {url: http://x, api_key: y}\n").encode(), "redmine", 14,
                          "first on line 1, again on line 14"),
    "UTF-16 with a byte-order mark": (codecs.BOM_UTF16_LE + VALID.encode("utf-16-le"), "", None,
                                      "UTF-16-encoded"),
    "UTF-16 without a byte-order mark": (VALID.encode("utf-16-be"), "", None, "UTF-16-encoded"),
    "UTF-32": (codecs.BOM_UTF32_LE + VALID.encode("utf-32-le"), "", None, "UTF-32-encoded"),
    "Windows-1251": (("# Конфигурация\n" + VALID).encode("cp1251"), "", 1, "not UTF-8: byte 0xca"),
    "control character": (VALID.replace("holidays: RU", "holidays: R\x07U").encode(), "", 8,
                          "U+0007 is not allowed"),
    "impossible date": (VALID.replace("    holidays: RU\n", "    holidays: RU\n    extra_days_off: "
                                      "[2026-01-05, 2026-02-30]\n").encode(),
                        "calendars.office.extra_days_off[1]", 9, "'2026-02-30', which is not a real date"),
    "impossible explicit timestamp": (("x: !!timestamp 2026-02-30\n" + VALID).encode(), "", 1,
                                      "cannot read the value: day is out of range"),
    "an integer that is not": (("x: !!int abc\n" + VALID).encode(), "", 1, "cannot read the value"),
    "unknown store scheme": ((VALID + "store: {url: 'mongodb://db/bridge'}\n").encode(), "store.url", 14,
                             "cannot use a 'mongodb' database"),
    "garbage store url": ((VALID + "store: {url: '::: not a url'}\n").encode(), "store.url", 14,
                          "not a database URL"),
    "store driver not installed": ((VALID + "store: {url: 'postgresql+psycopg2://db/b'}\n").encode(),
                                   "store.url", 14, "driver 'psycopg2' is not installed"),
    "async store driver": ((VALID + "store: {url: 'sqlite+aiosqlite:///b.db'}\n").encode(),
                           "store.url", 14, "asynchronous"),
    "unclosed reference": (VALID.replace("${KEY}", "${KEY").encode(), "redmine.api_key", 3,
                           "unclosed environment reference '${KEY': add the closing }"),
    "malformed reference": (VALID.replace("${KEY}", "${KEY:default}").encode(), "redmine.api_key", 3,
                            "is not an environment reference"),
    "empty default for a required secret": (VALID.replace("${KEY}", "${UNSET_VAR:-}").encode(),
                                            "redmine.api_key", 3,
                                            "is empty because UNSET_VAR is not set"),
    "reference in a key": ((VALID + "entitlements: {by_tier: {'${KEY}': [x]}}\n").encode(),
                           "entitlements.by_tier.${KEY}", 14, "not substituted in keys"),
    "not a mapping": (b"- just\n- a list\n", "", 1, "must be a YAML mapping"),
}


def _write(tmp_path, content: bytes):
    path = tmp_path / "bridge.yaml"
    path.write_bytes(content)
    return path


@pytest.mark.parametrize("case", CASES)
def test_load_config_reports_it_with_path_and_line(tmp_path, case):
    content, path, line, words = CASES[case]
    config = _write(tmp_path, content)
    # Never a hang: an alias bomb or a deep nest is refused before anything is expanded.
    hostile = case in ("billion laughs", "5,000-deep nesting", "5,000-deep mappings",
                       "recursive anchor", "recursive mapping anchor")
    issues = finishes(_config_issues, config) if hostile else _config_issues(config)
    assert any(i.path == path and i.line == line and words in i.message for i in issues), [
        str(i) for i in issues]


@pytest.mark.parametrize("case", CASES)
def test_check_config_exits_2_with_the_message(tmp_path, case):
    content, path, line, words = CASES[case]
    result = CliRunner().invoke(cli, ["check-config", str(_write(tmp_path, content))], env=ENV)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # not a traceback
    where = (path or "<root>") + (f" (line {line})" if line is not None else "")
    assert f"{where}: " in result.output and words in result.output, result.output


def _config_issues(path) -> list:
    try:
        load_config(path, env=ENV)
    except ConfigError as exc:
        return list(exc.issues)
    raise AssertionError("the config was accepted")


def _check_config(path: str) -> tuple[int | None, str]:
    result = CliRunner().invoke(cli, ["check-config", path], env=ENV)
    return result.exit_code, result.output


def test_billion_laughs_is_refused_without_expanding(tmp_path):
    path = _write(tmp_path, billion_laughs().encode())
    # 9^10 values if expanded: a loader that expanded them would never finish.
    exit_code, output = finishes(_check_config, str(path))
    assert exit_code == 2
    assert "aliases (*name) expand the document" in output, output


@pytest.mark.parametrize("command", [["sync", "--once"], ["serve", "--dev", "--bind", "127.0.0.1:1"]])
@pytest.mark.parametrize("case", ["billion laughs", "5,000-deep nesting", "impossible date",
                                  "Windows-1251", "unknown store scheme", "duplicate key"])
def test_sync_and_serve_exit_2_with_the_message(tmp_path, command, case):
    content, _path, _line, words = CASES[case]
    config = _write(tmp_path, content)
    result = CliRunner().invoke(cli, [*command, "--config", str(config)], env=ENV)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert words in result.output


def test_anchors_aliases_and_merge_keys_keep_working(tmp_path):
    path = _write(tmp_path, (VALID.replace(
        "    holidays: RU\n", "    holidays: RU\n  plant: &plant\n    timezone: Asia/Yekaterinburg\n"
        "    week: &week {mon-fri: [[\"08:00\", \"17:00\"]]}\n    holidays: RU\n"
        "  plant2:\n    <<: *plant\n    timezone: Asia/Omsk\n") + "statuses:\n  paused: &waiting [Feedback]\n"
        "  done: *waiting\n").encode())
    config = load_config(path, env=ENV)
    assert config.calendars["plant2"].timezone == "Asia/Omsk"
    assert config.calendars["plant2"].week == config.calendars["plant"].week
    assert config.statuses.done == ["Feedback"]


def test_a_byte_order_mark_is_tolerated(tmp_path):
    config = load_config(_write(tmp_path, codecs.BOM_UTF8 + VALID.encode()), env=ENV)
    assert config.redmine.url == "http://redmine.local"


def test_unquoted_dates_still_load(tmp_path):
    path = _write(tmp_path, VALID.replace("    holidays: RU\n", "    holidays: RU\n    extra_days_off: "
                                          "[2026-01-05, 2026-1-6]\n").encode())
    config = load_config(path, env=ENV)
    assert [d.isoformat() for d in config.calendars["office"].extra_days_off] == [
        "2026-01-05", "2026-01-06"]


@pytest.mark.parametrize("url", ["sqlite:///bridge.sqlite3", "sqlite://", "postgresql+psycopg://u:p@db/b",
                                 "postgresql://db/bridge"])
def test_supported_store_urls_pass(tmp_path, url):
    assert load_config(_write(tmp_path, (VALID + f"store: {{url: '{url}'}}\n").encode()),
                       env=ENV).store.url == url


def test_a_store_url_error_never_repeats_the_url(tmp_path):
    # It usually carries the database password.
    path = _write(tmp_path, (VALID + "store: {url: 'mysql://bridge:pa55word@db/b'}\n").encode())
    with pytest.raises(ConfigError) as info:
        load_config(path, env=ENV)
    assert "pa55word" not in info.value.render()


def test_an_optional_secret_may_be_empty(tmp_path):
    path = _write(tmp_path, (VALID + "webhooks: {secret: '${UNSET_VAR:-}'}\n").encode())
    assert load_config(path, env=ENV).webhooks.secret is not None


def test_a_required_secret_set_but_empty_is_reported(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, VALID.encode()), env={"KEY": ""})
    (issue,) = info.value.issues
    assert issue.path == "redmine.api_key" and issue.line == 3
    assert "KEY is set but empty" in issue.message


def test_a_directory_or_an_oversized_file_is_reported(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path, env=ENV)
    assert "cannot read the file" in info.value.render()
    big = _write(tmp_path, VALID.encode() + b"#" * (5 * 1024 * 1024))
    with pytest.raises(ConfigError) as info:
        load_config(big, env=ENV)
    assert "larger than 4 MiB" in info.value.render()


def test_many_ordinary_aliases_are_within_the_budget(tmp_path):
    # A config that reuses a block a few hundred times is nowhere near the alias budget.
    reuse = "".join(f"  r{i}: *week\n" for i in range(300))
    path = _write(tmp_path, (f"shared:\n  base: &week {{mon: [[\"09:00\", \"18:00\"]], tue: []}}\n{reuse}"
                             ).encode())
    with pytest.raises(ConfigError) as info:
        load_config(path, env=ENV)
    assert sorted(i.path for i in info.value.issues) == ["policy", "redmine", "shared"]
