"""Vendor version strings -> PEP 440 versions, and the per-product version policy.

Normalisation (`normalize_version`), written -> normalised:

- "7.2", "v7.2", "ИКС 7.2" -> 7.2 (leading words and a "v" are dropped);
- "7.2 build 456", "7.2 (сборка 456)", "7.2 сб. 456", "7.2-456" -> 7.2+456, and
  "7.2.0 (сборка 456)" -> 7.2.0+456 (equal to 7.2+456). A build number identifies a
  build OF release 7.2, not a newer release, so it becomes the PEP 440 local label:
  specifiers ignore it ("==7.2.*" and "<7.3" match, ">=7.2.1" does not). Reading it as
  7.2.456 would make it newer than 7.2.1;
- "2.3.1-hotfix", "2.3.1-hotfix2" -> 2.3.1+hotfix, 2.3.1+hotfix2: vendor fix tags
  (hotfix, hf, patch, fix, sp, update, upd, p) go to the local label for the same reason;
- "7.3-beta", "7.3 beta 2", "7.3 бета 2", "7.3rc1", "7.3-RC.1" -> 7.3b0, 7.3b2, 7.3b2,
  7.3rc1, 7.3rc1: pre-releases (a/alpha/альфа, b/beta/бета, c/rc/pre/preview) stay
  pre-releases, so the policy can refuse them;
- "7.2.post1", "7.2.dev3": as PEP 440 reads them (post/rev/r, dev).

Words after the version ("7.2 x64", "7.2 Стандарт") are ignored. Text without a number
that starts a word ("последняя", "ИКС7") is unknown: `normalize_version` returns None,
it never raises.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

_MAX_INPUT = 200

_BUILD = re.compile(
    r"[(\[]?\s*\b(?:build|bld|сборка|сб|билд)(?![^\W\d_])\.?\s*[#№:]?\s*"
    r"(?P<build>[0-9]{1,12})\s*[)\]]?",
    re.I,
)
# The release: the first run of dotted numbers that starts a word (or follows a "v").
_RELEASE = re.compile(r"(?:(?<!\w)|(?<=\b[vV]))(?P<release>[0-9]{1,12}(?:\.[0-9]{1,12}){0,9})")
_SUFFIX = re.compile(
    r"(?P<sep>[-_.]?\s?[-_.]?)(?P<word>[^\W\d_]+)(?:[-_.\s]?(?P<num>[0-9]{1,9}))?(?!\w)"
    r"|(?P<dashnum>-[0-9]{1,12})(?![\w.])"
)

_PRE = {"a": "a", "alpha": "a", "альфа": "a", "b": "b", "beta": "b", "бета": "b",
        "c": "rc", "rc": "rc", "pre": "rc", "preview": "rc"}
_POST = {"post": "post", "rev": "post", "r": "post"}
_DEV = {"dev": "dev"}
_LOCAL = {"hotfix", "hf", "patch", "fix", "sp", "update", "upd", "p"}


@dataclass(frozen=True, slots=True)
class NormalizedVersion:
    """A version as written (`raw`) and as understood (`version`, text `text`)."""

    raw: str
    version: Version

    @property
    def text(self) -> str:
        return str(self.version)


def normalize_version(raw: str) -> NormalizedVersion | None:
    """Read a vendor version string (see the module docstring); None if unreadable."""
    if not isinstance(raw, str) or len(raw) > _MAX_INPUT:
        return None
    text = raw.strip()
    local: list[str] = []
    builds: list[str] = []
    if match := _BUILD.search(text):
        builds.append(match["build"])
        text = text[: match.start()] + " " + text[match.end():]
    release = _RELEASE.search(text)
    if release is None:
        return None
    pep440 = release["release"]
    tail = text[release.end():]
    pre = post = dev = ""
    while tail:
        match = _SUFFIX.match(tail)
        if match is None:
            break
        if match["dashnum"]:
            builds.append(match["dashnum"][1:])
        else:
            word, num = match["word"].lower(), match["num"] or ""
            if " " in match["sep"] and len(word) == 1:
                break  # "7.2 a" is prose, "7.2a" is an alpha
            if word in _PRE and not pre:
                pre = f"{_PRE[word]}{num or 0}"
            elif word in _POST and not post:
                post = f".post{num or 0}"
            elif word in _DEV and not dev:
                dev = f".dev{num or 0}"
            elif word in _LOCAL:
                local.append(f"{word}{num}")
            else:
                break  # "x64", "Стандарт": trailing words are not part of the version
        tail = tail[match.end():]
    local += builds
    candidate = pep440 + pre + post + dev + (("+" + ".".join(local)) if local else "")
    try:
        return NormalizedVersion(raw, Version(candidate))
    except InvalidVersion:
        return None


def parse_version_line(text: str) -> SpecifierSet:
    """A version line as configured -> the specifier set it stands for.

    "6", "6.*" and "7.2" mean the line ("==6.*", "==7.2.*"); text starting with an
    operator (">=6,<7", "~=7.2") is used as a PEP 440 specifier set. Raises ValueError.
    """
    text = text.strip()
    if text[:1] in ("<", ">", "=", "!", "~"):
        return parse_specifiers(text)
    base = text[:-2] if text.endswith(".*") else text
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)*", base):
        raise ValueError(
            f'expected a version line such as "6", "6.*", "7.2" or a specifier such as '
            f'">=6,<7", got {text!r}'
        )
    return SpecifierSet(f"=={base}.*")


def describe_versions(text: str) -> str:
    """A version line as a customer reads it: "6", "6.*" and "==6.*" -> "6.x", "7.2" ->
    "7.2.x"; ">=6,<7" -> "6.x" too (the whole of one line); any other specifier set as
    written (">=2.0", "~=7.2")."""
    text = text.strip()
    base = text[2:] if text.startswith("==") and text.endswith(".*") else text
    base = base[:-2] if base.endswith(".*") else base
    if re.fullmatch(r"[0-9]+(\.[0-9]+)*", base):
        return f"{base}.x"
    specs = [s.strip() for s in text.split(",")]
    if len(specs) == 2:
        low, high = sorted(specs, key=lambda s: not s.startswith(">="))
        if low.startswith(">=") and high.startswith("<") and not high.startswith("<="):
            lower, upper = _release(low[2:]), _release(high[1:])
            if lower and upper:
                while len(lower) > 1 and lower[-1] == 0:
                    lower = lower[:-1]
                if upper == (*lower[:-1], lower[-1] + 1):
                    return ".".join(map(str, lower)) + ".x"
    return text


def _release(text: str) -> tuple[int, ...] | None:
    text = text.strip()
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)*", text):
        return None
    release = tuple(int(part) for part in text.split("."))
    while len(release) > 1 and release[-1] == 0:
        release = release[:-1]
    return release


def common_version(a: SpecifierSet, b: SpecifierSet) -> Version | None:
    """A version both specifier sets contain (pre-releases included), or None if they are
    disjoint: two lines of one product must never hold the same version.

    Membership of a specifier set only changes at the versions its specifiers name, so
    probing each named version, its neighbours (dev, pre- and post-release, just above)
    and the next release at each level (the upper end of "==6.*" and "~=7.2") finds a
    common version whenever there is one, for the specifiers configs use.
    """
    probes: set[Version] = {Version("0"), Version("0.0.0.0.0.0.1")}
    for spec in (*a, *b):
        text = spec.version.removesuffix(".*")
        try:
            release = Version(text).release
        except InvalidVersion:
            continue
        bases = [release, *((*release[:i], release[i] + 1) for i in range(len(release)))]
        for base in bases:
            dotted = ".".join(map(str, base))
            probes.update(Version(dotted + suffix)
                          for suffix in ("", ".dev0", "a0", "rc1", ".post1", ".0.0.0.0.0.0.1"))
        probes.add(Version(text))
    for probe in sorted(probes):
        if a.contains(probe, prereleases=True) and b.contains(probe, prereleases=True):
            return probe
    return None


def parse_specifiers(text: str) -> SpecifierSet:
    """A PEP 440 specifier set (">=7.0,<8"); raises ValueError with the reason."""
    try:
        return SpecifierSet(text)
    except InvalidSpecifier as exc:
        raise ValueError(f"not a valid version specifier set: {text!r} ({exc})") from None


@dataclass(frozen=True, slots=True)
class VersionLine:
    """A version line whose support ends on `end_of_support` (that day still served)."""

    text: str
    end_of_support: dt.date

    @property
    def specifiers(self) -> SpecifierSet:
        return parse_version_line(self.text)


@dataclass(frozen=True, slots=True)
class VersionPolicy:
    """Which versions of one product are served.

    - `supported`: a PEP 440 specifier set (text), or None for any version;
    - `allow_prereleases`: pre-releases (alpha/beta/RC/dev) are refused unless True;
    - `lines`: version lines with an end-of-support date, compared with the request date;
    - `current`: the current version line ("only the current version is served", ID-2),
      written like a `VersionLine.text`; None if any line is served.
    """

    supported: str | None = None
    allow_prereleases: bool = False
    lines: tuple[VersionLine, ...] = ()
    current: str | None = None

    def __post_init__(self) -> None:
        # Fail at construction, not at the first request: a bad policy is a config bug.
        if self.supported is not None:
            parse_specifiers(self.supported)
        if self.current is not None:
            parse_version_line(self.current)
        for line in self.lines:
            parse_version_line(line.text)


@dataclass(frozen=True, slots=True)
class VersionVerdict:
    """One reason a version is not served: `rule` is range|prerelease|end_of_support|
    not_current; `detail` is the specifier, the end date (ISO) or the current line."""

    rule: str
    detail: str


def judge_version(
    version: Version, policy: VersionPolicy, on: dt.date
) -> tuple[VersionVerdict, ...]:
    """Every rule of `policy` that `version` breaks on the request date `on`."""
    verdicts: list[VersionVerdict] = []
    if version.is_prerelease and not policy.allow_prereleases:
        verdicts.append(VersionVerdict("prerelease", str(version)))
    # Pre-releases were judged above; the other rules look at the release line only.
    if policy.supported is not None and not SpecifierSet(policy.supported).contains(
        version, prereleases=True
    ):
        verdicts.append(VersionVerdict("range", policy.supported))
    if policy.current is not None and not parse_version_line(policy.current).contains(
        version, prereleases=True
    ):
        verdicts.append(VersionVerdict("not_current", policy.current))
    for line in policy.lines:
        if line.specifiers.contains(version, prereleases=True) and on > line.end_of_support:
            verdicts.append(VersionVerdict("end_of_support", line.end_of_support.isoformat()))
            break
    return tuple(verdicts)
