"""Reading a YAML config file into the validated model, with errors an admin can act on.

Every error names the dotted path of the offending value and, when the value exists in
the file, its line. Pydantic's own rendering is not used because it echoes the input
value, and that value may be a secret substituted from the environment.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

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

_ENV_REF = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}")

Path_ = YamlPath


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

    def __init__(self, source: str, issues: list[ConfigIssue]):
        self.source = source
        self.issues = issues
        super().__init__(self.render())

    def render(self) -> str:
        lines = [f"{self.source}: {len(self.issues)} problem(s) in the config:"]
        lines += [f"  - {issue}" for issue in self.issues]
        return "\n".join(lines)


def _substitute_env(value: Any, path: Path_, env: Mapping[str, str], missing: list) -> Any:
    if isinstance(value, str):
        def repl(match: re.Match) -> str:
            name, default = match["name"], match["default"]
            if name in env:
                return env[name]
            if default is not None:
                return default
            missing.append((path, name))
            return ""

        return _ENV_REF.sub(repl, value)
    if isinstance(value, dict):
        return {k: _substitute_env(v, (*path, str(k)), env, missing) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute_env(v, (*path, i), env, missing) for i, v in enumerate(value)]
    return value


def _message(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key (check the spelling; see `redmine-sla-bridge schema`)"
    if kind == "missing":
        return "required key is missing"
    return validator_message(error)


def validate_document(data: Any, *, source: str, text: str | None = None,
                      env: Mapping[str, str] | None = None,
                      base_dir: Path | None = None) -> BridgeConfig:
    """Validate an already-parsed document (used by the loader and by tests)."""
    lines = YamlLines.of_text(text) if text is not None else YamlLines(None)
    return _validate(data, lines, source=source, env=env, base_dir=base_dir)


def _validate(data: Any, lines: YamlLines, *, source: str, env: Mapping[str, str] | None,
              base_dir: Path | None) -> BridgeConfig:
    from redmine_sla_bridge.config.model import BridgeConfig

    env = os.environ if env is None else env
    missing: list[tuple[YamlPath, str]] = []
    data = _substitute_env(data, (), env, missing)
    issues = [
        ConfigIssue(dotted(p), f"environment variable {name} is not set", lines.line_of(p))
        for p, name in missing
    ]
    if not isinstance(data, dict):
        issues.append(ConfigIssue("", "the config must be a YAML mapping of sections", 1))
        raise ConfigError(source, issues)
    try:
        config = BridgeConfig.model_validate(
            data, context={"base_dir": base_dir or Path.cwd(), "source": source}
        )
    except ValidationError as exc:
        for error in exc.errors(include_input=False, include_url=False):
            loc = error_path(error["loc"])
            key_line = lines.key_line_of(loc) if error["type"] == "extra_forbidden" else None
            issues.append(ConfigIssue(dotted(loc), _message(error), key_line or lines.line_of(loc)))
        raise ConfigError(source, issues) from None
    if issues:
        raise ConfigError(source, issues)
    config._base_dir = base_dir or Path.cwd()
    return config


def load_config(path: str | os.PathLike[str], env: Mapping[str, str] | None = None) -> BridgeConfig:
    """Read, substitute `${ENV}` references, validate; raise ConfigError listing everything."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(file), [ConfigIssue("", f"cannot read the file: {exc.strerror}")]) from None
    try:
        document = load_yaml(text)
    except YamlSyntaxError as exc:
        raise ConfigError(str(file), [ConfigIssue("", f"not valid YAML: {exc.problem}", exc.line)]) from None
    return _validate(document.data, document.lines, source=str(file), env=env,
                     base_dir=file.parent.resolve())
