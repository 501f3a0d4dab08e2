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
from typing import Any

import yaml
from pydantic import ValidationError

_ENV_REF = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}")

Path_ = tuple[str | int, ...]


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


def dotted(path: Path_) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _line_index(text: str) -> dict[Path_, int]:
    """Map each path in the document to the 1-based line where its value starts."""
    index: dict[Path_, int] = {}
    root = yaml.compose(text, Loader=yaml.SafeLoader)

    def walk(node: yaml.Node, path: Path_) -> None:
        index[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                walk(value, (*path, str(key.value)))
                # A wrong key is reported at the key, not at its value.
                index.setdefault((*path, str(key.value), "__key__"), key.start_mark.line + 1)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, (*path, i))

    if root is not None:
        walk(root, ())
    return index


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


def _line_for(index: dict[Path_, int], path: Path_) -> int | None:
    # Walk up to the nearest ancestor present in the file (a missing key has no line).
    probe = tuple(path)
    while probe:
        if probe in index:
            return index[probe]
        probe = probe[:-1]
    return index.get(())


def _message(error: Mapping[str, Any]) -> str:
    msg = error["msg"]
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key (check the spelling; see `redmine-sla-bridge schema`)"
    if kind == "missing":
        return "required key is missing"
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    if msg.startswith("Assertion failed, "):
        msg = msg[len("Assertion failed, "):]
    return msg


def _clean_loc(loc: tuple) -> Path_:
    # Pydantic inserts union-member and validator tags into locations
    # ("function-after[...]", "list[...]"); the admin only needs the YAML path.
    return tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or p.startswith("function-"))))


def validate_document(data: Any, *, source: str, text: str | None = None,
                      env: Mapping[str, str] | None = None, base_dir: Path | None = None):
    """Validate an already-parsed document (used by the loader and by tests)."""
    from redmine_sla_bridge.config.model import BridgeConfig

    index = _line_index(text) if text is not None else {}
    env = os.environ if env is None else env
    missing: list = []
    data = _substitute_env(data, (), env, missing)
    issues = [
        ConfigIssue(dotted(p), f"environment variable {name} is not set", _line_for(index, p))
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
            loc = _clean_loc(error["loc"])
            key_line = index.get((*loc, "__key__")) if error["type"] == "extra_forbidden" else None
            issues.append(ConfigIssue(dotted(loc), _message(error), key_line or _line_for(index, loc)))
        raise ConfigError(source, issues) from None
    if issues:
        raise ConfigError(source, issues)
    config._base_dir = base_dir or Path.cwd()
    return config


def load_config(path: str | os.PathLike, env: Mapping[str, str] | None = None):
    """Read, substitute `${ENV}` references, validate; raise ConfigError listing everything."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(file), [ConfigIssue("", f"cannot read the file: {exc.strerror}")]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(str(file), [ConfigIssue("", f"not valid YAML: {problem}", line)]) from None
    return validate_document(data, source=str(file), text=text, env=env, base_dir=file.parent.resolve())
