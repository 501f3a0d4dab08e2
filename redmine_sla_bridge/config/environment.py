"""`${NAME}` references in the config: substituting them, and keeping their values out of
every message.

A reference is `${NAME}` or `${NAME:-default}`, inside any string value (never a key).
The substitution records what each reference became, so that the loader can

* report a reference that is malformed, unset or empty where a value is required;
* tolerate an unset secret for a command that does not use it (the value then stays
  the literal `${NAME}`, which no Redmine or SMTP server accepts);
* mask every value that came from the environment in every message (`Redactor`): a
  validator that says "expected a URL, got '...'" must not print a secret someone put in
  the wrong place.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, SecretStr

from redmine_sla_bridge.config.yaml_source import YamlPath

_REFERENCE = re.compile(
    r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}"  # ${NAME}, ${NAME:-x}
    r"|(?P<bad>\$\{[^}]*\}?)"  # any other text starting with ${
)

MIN_MASKED_LENGTH = 4
"""Values this long or longer are masked wherever they appear in a message. A shorter
value would also match ordinary words and numbers ("1" in "line 12"), so it is masked
only where a message quotes it ('ab'); it is too short to be a secret anyway."""

Outcome = Literal["env", "default", "missing", "tolerated"]


@dataclass(frozen=True)
class Reference:
    """One `${NAME}` in the document and what it became."""

    path: YamlPath
    name: str
    outcome: Outcome  # env: from the environment; default: its `:-` text; missing: unset
    value: str
    has_default: bool = False


@dataclass(frozen=True)
class BadReference:
    path: YamlPath
    text: str
    problem: str


@dataclass
class Substitution:
    data: Any
    references: list[Reference] = field(default_factory=list)
    bad: list[BadReference] = field(default_factory=list)
    # (text after substitution, text as written) of each string that took a value from
    # the environment: a message quoting the value is shown as the admin wrote it.
    texts: list[tuple[str, str]] = field(default_factory=list)

    def from_environment(self) -> list[tuple[str, str]]:
        """(variable, value) of every value taken from the environment."""
        return [(r.name, r.value) for r in self.references if r.outcome == "env"]

    def at(self, path: YamlPath) -> list[Reference]:
        return [r for r in self.references if r.path == path]


def substitute(data: Any, env: Mapping[str, str],
               tolerate_missing: Callable[[YamlPath], bool] = lambda _path: False) -> Substitution:
    """`data` with every reference replaced. An unset variable without a default becomes
    "" (and is recorded as missing), or stays `${NAME}` where `tolerate_missing(path)`."""
    result = Substitution(None)

    def in_text(text: str, path: YamlPath) -> str:
        def replace(match: re.Match[str]) -> str:
            if match["bad"] is not None:
                result.bad.append(BadReference(path, match["bad"], _bad_problem(match["bad"])))
                return match["bad"]
            name, default = match["name"], match["default"]
            if default is not None and "${" in default:
                result.bad.append(BadReference(
                    path, match[0], "a default cannot contain another ${...} reference"))
                return match[0]
            has_default = default is not None
            if name in env:
                result.references.append(Reference(path, name, "env", env[name], has_default))
                return env[name]
            if default is not None:
                result.references.append(Reference(path, name, "default", default, True))
                return default
            if tolerate_missing(path):
                result.references.append(Reference(path, name, "tolerated", match[0]))
                return match[0]
            result.references.append(Reference(path, name, "missing", ""))
            return ""

        if "${" not in text:
            return text
        before = len(result.references)
        out = _REFERENCE.sub(replace, text)
        if any(r.outcome == "env" for r in result.references[before:]):
            result.texts.append((out, text))
        return out

    def walk(value: Any, path: YamlPath) -> Any:
        if isinstance(value, str):
            return in_text(value, path)
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                if isinstance(key, str) and "${" in key:
                    result.bad.append(BadReference(
                        (*path, key), key,
                        "environment references are not substituted in keys; write the key itself"))
                out[key] = walk(item, (*path, key))
            return out
        if isinstance(value, list):
            return [walk(item, (*path, index)) for index, item in enumerate(value)]
        return value

    result.data = walk(data, ())
    return result


def _bad_problem(text: str) -> str:
    if not text.endswith("}"):
        return f"unclosed environment reference {text!r}: add the closing }}"
    return (f"{text!r} is not an environment reference: write ${{NAME}} or ${{NAME:-default}} "
            "(NAME: letters, digits and _, not starting with a digit)")


# --- masking -------------------------------------------------------------------------

_QUOTED = re.compile(r"'([^'\n]*)'|\"([^\"\n]*)\"")


class Redactor:
    """Replaces every value that came from the environment by `${NAME}` in a message.

    `values` are (variable, value) pairs; `texts` are (substituted, as written) pairs of
    whole strings, masked first, so that "got '>=1.0, ${PIN}'" shows the admin's text
    even where the value alone is too short to mask everywhere.
    """

    def __init__(self, values: Iterable[tuple[str, str]] = (),
                 texts: Iterable[tuple[str, str]] = ()) -> None:
        self._long: dict[str, str] = {}  # text as it may appear -> its mask
        self._short: dict[str, str] = {}
        values = [(name, value) for name, value in values if value.strip()]
        # (value, ${NAME}), for the quoted pieces of a value that a validator split.
        self._values = [(value, f"${{{name}}}") for name, value in values]
        pairs = [(text, written) for text, written in texts if text.strip() and text != written]
        for value, mask in [*pairs, *self._values]:
            target = self._long if len(value.strip()) >= MIN_MASKED_LENGTH else self._short
            for variant in _variants(value):
                target.setdefault(variant, mask)
        # Longest first, so that a value containing another is masked as a whole.
        self._pattern = (re.compile("|".join(re.escape(v) for v in sorted(self._long, key=len,
                                                                           reverse=True)))
                         if self._long else None)

    def __bool__(self) -> bool:
        return bool(self._values)

    def __call__(self, text: str) -> str:
        if not self._values:
            return text
        if self._pattern is not None:
            text = self._pattern.sub(lambda m: self._long[m[0]], text)
        return _QUOTED.sub(self._quoted, text)

    def _quoted(self, match: re.Match[str]) -> str:
        # A validator may quote a piece of a value (one item of a list it split): a
        # quoted piece of three characters or more of a value from the environment.
        inner = match[1] if match[1] is not None else match[2]
        if inner in self._short:
            return self._short[inner]
        if len(inner) >= 3 and "${" not in inner:
            for value, mask in self._values:
                if any(inner in variant for variant in _variants(value)):
                    return mask
        return match[0]


def _variants(value: str) -> Iterator[str]:
    """How a value may be printed: as is, trimmed the way validators trim it, and as the
    inside of its repr (a validator's `{value!r}` escapes quotes, backslashes, newlines)."""
    seen: set[str] = set()
    for text in (value, value.strip(), value.strip().rstrip("/"), value.strip().lower()):
        for variant in (text, repr(text)[1:-1]):
            if variant and variant not in seen:
                seen.add(variant)
                yield variant


# --- which fields are secrets --------------------------------------------------------


def is_secret_path(model: type[BaseModel], path: YamlPath) -> bool:
    """Whether the value at `path` of a document of `model` is a `SecretStr` field."""
    return any(_is_secret(member, path) for member in _members(model))


def _members(annotation: Any) -> Iterator[Any]:
    """The alternatives of an annotation, through Annotated, Optional and unions."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        yield from _members(typing.get_args(annotation)[0])
    elif origin is typing.Union or origin is types.UnionType:
        for arg in typing.get_args(annotation):
            yield from _members(arg)
    else:
        yield annotation


def _is_secret(annotation: Any, path: YamlPath) -> bool:
    if not path:
        return annotation is SecretStr
    head, rest = path[0], path[1:]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for name, info in annotation.model_fields.items():
            if head in (name, info.alias):
                return any(_is_secret(m, rest) for m in _members(info.annotation))
        return False
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is dict and len(args) == 2:
        return any(_is_secret(m, rest) for m in _members(args[1]))
    if origin in (list, set, frozenset) and args and isinstance(head, int):
        return any(_is_secret(m, rest) for m in _members(args[0]))
    if origin is tuple and args and isinstance(head, int):
        item = args[0] if len(args) == 2 and args[1] is Ellipsis else (
            args[head] if head < len(args) else None)
        return item is not None and any(_is_secret(m, rest) for m in _members(item))
    return False


def empty_required_secrets(model: BaseModel, path: YamlPath = ()) -> list[YamlPath]:
    """Paths of the required `SecretStr` fields of a loaded config that hold only blanks."""
    found: list[YamlPath] = []
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        here = (*path, info.alias or name)
        if isinstance(value, SecretStr):
            if info.is_required() and not value.get_secret_value().strip():
                found.append(here)
        else:
            found += _secrets_below(value, here)
    return found


def _secrets_below(value: Any, path: YamlPath) -> list[YamlPath]:
    if isinstance(value, BaseModel):
        return empty_required_secrets(value, path)
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in _secrets_below(item, (*path, key))]
    if isinstance(value, (list, tuple)):
        return [p for index, item in enumerate(value) for p in _secrets_below(item, (*path, index))]
    return []


__all__ = [
    "MIN_MASKED_LENGTH",
    "BadReference",
    "Redactor",
    "Reference",
    "Substitution",
    "empty_required_secrets",
    "is_secret_path",
    "substitute",
]
