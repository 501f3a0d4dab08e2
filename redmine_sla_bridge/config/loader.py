"""Reading a YAML config file into the validated model, with errors an admin can act on.

Every error names the dotted path of the offending value and, when the value exists in
the file, its line. Loading cannot crash: an unreadable, mis-encoded, oversized,
malformed or hostile file (alias bombs, runaway nesting) is a `ConfigError` like any
other mistake. Every message goes through the `Redactor` of the `${NAME}` values the
file used, so that a secret put where validation fails is shown as `${NAME}`, never
as its value (pydantic's own rendering is not used either: it echoes input values).
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from redmine_sla_bridge.config.base import ConfigValueError
from redmine_sla_bridge.config.environment import (
    Redactor,
    Substitution,
    empty_required_secrets,
    is_secret_path,
    substitute,
)
from redmine_sla_bridge.config.yaml_source import (
    YamlLines,
    YamlPath,
    YamlSyntaxError,
    dotted,
    error_path,
    load_yaml,
    validator_message,
)

if TYPE_CHECKING:
    from redmine_sla_bridge.config.model import BridgeConfig

Path_ = YamlPath
__all__ = ["ConfigError", "ConfigIssue", "ConfigValueError", "LoadInfo", "load_config", "load_info",
           "redact", "validate_document"]

MAX_FILE_BYTES = 4 * 1024 * 1024
"""A config is a few kilobytes (the customer directory is a file of its own); reading
stops here so that a wrong path (a log, /dev/zero) cannot exhaust memory."""


@dataclass(frozen=True)
class ConfigIssue:
    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path or '<root>'}"
        if self.line is not None:
            where += f" (line {self.line})"
        return f"{where}: {self.message}"


class ConfigError(Exception):
    """The config cannot be used; `issues` lists every problem found."""

    def __init__(self, source: str, issues: list[ConfigIssue],
                 warnings: tuple[ConfigIssue, ...] = ()):
        self.source = source
        self.issues = issues
        self.warnings = warnings  # not problems, but said along with them
        super().__init__(self.render())

    def render(self) -> str:
        lines = [f"{self.source}: {len(self.issues)} problem(s) in the config:"]
        lines += [f"  - {issue}" for issue in self.issues]
        lines += [f"  warning: {warning}" for warning in self.warnings]
        return "\n".join(lines)


@dataclass(frozen=True)
class LoadInfo:
    """What loading learnt beyond the model: kept on the config for its commands."""

    source: str
    lines: YamlLines
    redact: Redactor
    unresolved_secrets: tuple[ConfigIssue, ...] = field(default=())

    def line_of(self, path: YamlPath) -> int | None:
        return self.lines.line_of(path)


def load_info(config: BridgeConfig) -> LoadInfo:
    """How `config` was loaded (a config built in code: an empty record)."""
    info = getattr(config, "_load_info", None)
    return info if isinstance(info, LoadInfo) else LoadInfo("<config>", YamlLines(None), Redactor())


def redact(config: BridgeConfig, text: str) -> str:
    """`text` with every value the config took from the environment shown as `${NAME}`:
    for any message a command prints about the config (warnings, Redmine errors)."""
    return load_info(config).redact(text)


def _message(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key (check the spelling; see `redmine-sla-bridge schema`)"
    if kind == "missing":
        return "required key is missing"
    return validator_message(error)


def _template_hint(path: YamlPath) -> str:
    # `${x}` is also string.Template's braced placeholder, but the loader reads it first.
    if path[:2] in (("notices", "templates"), ("intake", "messages")):
        return " (a text placeholder is written $name, without braces)"
    return ""


def validate_document(data: Any, *, source: str, text: str | None = None,
                      env: Mapping[str, str] | None = None,
                      base_dir: Path | None = None, require_secrets: bool = True) -> BridgeConfig:
    """Validate an already-parsed document (used by the loader and by tests)."""
    lines = YamlLines.of_text(text) if text is not None else YamlLines(None)
    return _validate(data, lines, source=source, env=env, base_dir=base_dir,
                     require_secrets=require_secrets)


def _validate(data: Any, lines: YamlLines, *, source: str, env: Mapping[str, str] | None,
              base_dir: Path | None, require_secrets: bool) -> BridgeConfig:
    from redmine_sla_bridge.config.model import BridgeConfig

    env = os.environ if env is None else env

    def tolerated(path: YamlPath) -> bool:
        return not require_secrets and is_secret_path(BridgeConfig, path)

    sub = substitute(data, env, tolerate_missing=tolerated)
    redactor = Redactor(sub.from_environment(), sub.texts)

    def issue(path: YamlPath, message: str, line: int | None = None) -> ConfigIssue:
        return ConfigIssue(dotted(path), redactor(message),
                           line if line is not None else lines.line_of(path))

    issues = [issue(bad.path, bad.problem) for bad in sub.bad]
    issues += [issue(r.path, f"environment variable {r.name} is not set{_template_hint(r.path)}")
               for r in sub.references if r.outcome == "missing"]
    unresolved = tuple(
        issue(r.path, f"environment variable {r.name} is not set: fine for this command, "
                      "which does not use it; sync, serve, provision and check-config --online need it")
        for r in sub.references if r.outcome == "tolerated")
    # An unset variable already explains any error at its value (e.g. an empty URL).
    unset = [r.path for r in sub.references if r.outcome == "missing"]
    data = sub.data
    if not isinstance(data, dict):
        issues.append(ConfigIssue("", "the config must be a YAML mapping of sections", 1))
        raise ConfigError(source, issues, unresolved)
    config: BridgeConfig | None = None
    try:
        config = BridgeConfig.model_validate(
            data, context={"base_dir": base_dir or Path.cwd(), "source": source}
        )
    except ValidationError as exc:
        for error in exc.errors(include_input=False, include_url=False):
            loc = error_path(error["loc"])
            located = (error.get("ctx") or {}).get("error")
            if isinstance(located, ConfigValueError):
                loc = (*loc, *located.at)
            if any(loc[:len(p)] == p for p in unset):
                continue
            key_line = lines.key_line_of(loc) if error["type"] == "extra_forbidden" else None
            issues.append(issue(loc, _message(error), key_line))
    except RecursionError:
        issues.append(ConfigIssue("", "the config is nested too deeply to check"))
    except Exception as exc:  # noqa: BLE001 - a problem to report, never a traceback
        # A validator failing other than with ValueError is a bug of ours; the admin
        # still gets a message (with no value from the environment in it).
        issues.append(ConfigIssue("", redactor(
            f"the config could not be checked ({type(exc).__name__}: {exc}); this is a bug "
            "of redmine-sla-bridge, please report it with the config's structure")))
    if config is not None:
        issues += [_empty_secret(p, sub, issue) for p in empty_required_secrets(config)
                   if p not in unset]
    if issues:
        raise ConfigError(source, issues, unresolved)
    assert config is not None
    config._base_dir = base_dir or Path.cwd()
    config._load_info = LoadInfo(source, lines, redactor, unresolved)
    return config


def _empty_secret(path: YamlPath, sub: Substitution,
                  issue: Callable[[YamlPath, str], ConfigIssue]) -> ConfigIssue:
    refs = sub.at(path)
    defaulted = [r for r in refs if r.outcome == "default"]
    blank = [r for r in refs if r.outcome == "env"]
    if defaulted:
        name = defaulted[0].name
        return issue(path, f"is empty because {name} is not set and its default ${{{name}:-}} is "
                           f"empty, but this secret is required: set {name}, and write "
                           f"${{{name}}} without a default so that a missing value is reported")
    if blank:
        return issue(path, f"environment variable {blank[0].name} is set but empty, and this "
                           "secret is required: give it the value")
    return issue(path, "is empty, and this secret is required: write it as an environment "
                       "reference such as ${REDMINE_API_KEY} and set that variable")


def _decode(raw: bytes) -> str:
    """The text of a UTF-8 file (a byte-order mark is dropped); ValueError naming the
    encoding or the first bad byte otherwise."""
    for boms, encoding in (((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE), "UTF-32"),
                           ((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE), "UTF-16")):
        if raw.startswith(boms):
            raise ValueError(f"the file is {encoding}-encoded (it starts with a {encoding} byte-order "
                             f"mark); save it as UTF-8, e.g. `iconv -f {encoding} -t UTF-8`")
    head = raw[:200]
    if len(head) >= 4 and head.count(0) * 3 >= len(head):
        # ASCII text saved as UTF-16 without a mark: every other byte is zero.
        raise ValueError("the file looks UTF-16-encoded (every other byte is zero); save it as "
                         "UTF-8, e.g. `iconv -f UTF-16 -t UTF-8`")
    raw = raw.removeprefix(codecs.BOM_UTF8)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise _LineError(
            f"the file is not UTF-8: byte 0x{raw[exc.start]:02x} at column {column} cannot be "
            "decoded (Windows-1251 or another legacy encoding?); save the file as UTF-8, "
            "e.g. `iconv -f WINDOWS-1251 -t UTF-8`", line) from None


class _LineError(ValueError):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


def _read(file: Path) -> str:
    try:
        with file.open("rb") as stream:
            raw = stream.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(str(file), [ConfigIssue("", f"cannot read the file: {exc.strerror or exc}")]
                          ) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError(str(file), [ConfigIssue(
            "", f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB; a bridge config is "
                "a few kilobytes: is this the right file?")])
    try:
        return _decode(raw)
    except ValueError as exc:
        raise ConfigError(str(file), [ConfigIssue("", str(exc), getattr(exc, "line", None))]) from None


def load_config(path: str | os.PathLike[str], env: Mapping[str, str] | None = None, *,
                require_secrets: bool = True) -> BridgeConfig:
    """Read, substitute `${ENV}` references, validate; raise ConfigError listing everything.

    With `require_secrets=False` (commands that never contact Redmine, SMTP or clients:
    offline `check-config`, `simulate`), an unset variable in a secret field is not an
    error: the secret keeps the text `${NAME}` and `load_info(config).unresolved_secrets`
    names it. Everything else is checked as always.
    """
    file = Path(path)
    source = str(file)
    text = _read(file)
    try:
        document = load_yaml(text, dates_as_text=True)
    except YamlSyntaxError as exc:
        where = dotted(exc.path) if exc.path else ""
        raise ConfigError(source, [ConfigIssue(where, f"not valid YAML: {exc.problem}", exc.line)]
                          ) from None
    return _validate(document.data, document.lines, source=source, env=env,
                     base_dir=file.parent.resolve(), require_secrets=require_secrets)
