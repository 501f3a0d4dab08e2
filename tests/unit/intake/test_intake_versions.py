"""Vendor version strings and the per-product version policy."""

from __future__ import annotations

import datetime as dt

import pytest
from packaging.version import Version

from redmine_sla_bridge.domain.intake import (
    VersionLine,
    VersionPolicy,
    judge_version,
    normalize_version,
    parse_version_line,
)


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("7.2", "7.2"),
        ("v7.2", "7.2"),
        ("V7.2.1", "7.2.1"),
        ("ИКС 7.2", "7.2"),
        ("Версия 15.7", "15.7"),
        ("ver.7.2", "7.2"),
        ("7.2 build 456", "7.2+456"),
        ("7.2 build456", "7.2+456"),
        ("7.2 (build 456)", "7.2+456"),
        ("7.2.0 (сборка 456)", "7.2.0+456"),
        ("15.7 сборка 35", "15.7+35"),
        ("7.2 сб. 12", "7.2+12"),
        ("7.2-456", "7.2+456"),
        ("2.3.1-hotfix", "2.3.1+hotfix"),
        ("2.3.1-hotfix2", "2.3.1+hotfix2"),
        ("2.3.1-hotfix build 12", "2.3.1+hotfix.12"),
        ("7.3-beta", "7.3b0"),
        ("7.3 beta 2", "7.3b2"),
        ("7.3 бета 2", "7.3b2"),
        ("7.3rc1", "7.3rc1"),
        ("7.3-RC.1", "7.3rc1"),
        ("1.0.0-beta.1", "1.0.0b1"),
        ("7.2.post1", "7.2.post1"),
        ("7.2.dev3", "7.2.dev3"),
        ("7.2 x64", "7.2"),
        ("7.2 Стандарт", "7.2"),
        ("7.2 a", "7.2"),  # a lone letter after a space is prose, not "alpha"
        ("7.2.", "7.2"),
    ],
)
def test_normaliser(raw: str, normal: str) -> None:
    result = normalize_version(raw)
    assert result is not None
    assert result.text == normal
    assert result.raw == raw


@pytest.mark.parametrize("raw", ["", "   ", "последняя", "latest", "ИКС7", "x64", "v",
                                 "7" * 300])
def test_unreadable_version_is_none(raw: str) -> None:
    assert normalize_version(raw) is None


def test_build_is_a_build_of_its_release_not_a_newer_release() -> None:
    build = normalize_version("7.2 build 456").version
    assert build == normalize_version("7.2.0 (сборка 456)").version
    assert build < Version("7.2.1")  # "7.2.456" would wrongly be newer than 7.2.1


@pytest.mark.parametrize(
    ("text", "inside", "outside"),
    [
        ("6", "6.5", "7.0"),
        ("6.*", "6.0.1", "60.1"),
        ("7.2", "7.2.9", "7.3"),
        (">=6,<7", "6.9", "7.0"),
        ("~=7.2", "7.9", "8.0"),
    ],
)
def test_version_lines(text: str, inside: str, outside: str) -> None:
    spec = parse_version_line(text)
    assert spec.contains(Version(inside))
    assert not spec.contains(Version(outside))


@pytest.mark.parametrize("text", ["latest", "6.x", ">>7", ""])
def test_bad_version_line(text: str) -> None:
    with pytest.raises(ValueError):
        parse_version_line(text)


ON = dt.date(2025, 3, 1)


def _rules(version: str, policy: VersionPolicy, on: dt.date = ON) -> list[str]:
    parsed = normalize_version(version)
    assert parsed is not None
    return [v.rule for v in judge_version(parsed.version, policy, on)]


@pytest.mark.parametrize(
    ("version", "policy", "rules"),
    [
        ("7.2", VersionPolicy(supported=">=7.0,<8"), []),
        ("7.2 build 456", VersionPolicy(supported=">=7.0,<8"), []),
        ("6.9", VersionPolicy(supported=">=7.0,<8"), ["range"]),
        ("8.0", VersionPolicy(supported=">=7.0,<8"), ["range"]),
        # pre-releases: refused by default, whatever the range says
        ("7.3rc1", VersionPolicy(supported=">=7.0,<8"), ["prerelease"]),
        ("7.3rc1", VersionPolicy(supported=">=7.0,<8", allow_prereleases=True), []),
        ("7.3.dev1", VersionPolicy(), ["prerelease"]),
        # current version only (ID-2)
        ("15.7", VersionPolicy(current="15"), []),
        ("14.9", VersionPolicy(current="15"), ["not_current"]),
        ("7.2.5", VersionPolicy(current="7.2"), []),
        ("7.1", VersionPolicy(current="7.2"), ["not_current"]),
    ],
)
def test_policy(version: str, policy: VersionPolicy, rules: list[str]) -> None:
    assert _rules(version, policy) == rules


@pytest.mark.parametrize(
    ("on", "rules"),
    [
        (dt.date(2024, 12, 30), []),
        (dt.date(2024, 12, 31), []),  # the end date itself is still served
        (dt.date(2025, 1, 1), ["end_of_support"]),
    ],
)
def test_end_of_support_compares_with_request_date(on: dt.date, rules: list[str]) -> None:
    policy = VersionPolicy(lines=(VersionLine("6.*", dt.date(2024, 12, 31)),))
    assert _rules("6.5 build 3", policy, on) == rules
    assert _rules("7.0", policy, on) == []  # another line


def test_several_version_rules_at_once() -> None:
    policy = VersionPolicy(supported=">=7", current="8",
                           lines=(VersionLine("6", dt.date(2020, 1, 1)),))
    assert _rules("6.1b1", policy) == ["prerelease", "range", "not_current", "end_of_support"]


def test_policy_refuses_bad_specifiers_at_construction() -> None:
    with pytest.raises(ValueError):
        VersionPolicy(supported=">>7")
    with pytest.raises(ValueError):
        VersionPolicy(current="latest")
