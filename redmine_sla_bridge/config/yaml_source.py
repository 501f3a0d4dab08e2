"""Reading YAML so that a problem found later can still be reported at its line.

Both the bridge config and the customer directory are YAML written by an admin, and
both report every problem as a path into the document plus the line it is on. This
module keeps what they share: safe loading that keeps the node tree (the only place
line numbers survive), finding the line of a path in it, and turning pydantic's error
locations and messages into the admin's terms. How a problem is finally worded stays
with each caller, since their messages differ.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

YamlPath = tuple[str | int, ...]
"""Keys and list indexes from the document's root, e.g. ("policy", "tiers", 0, "when")."""


class YamlSyntaxError(ValueError):
    """The text is not one valid YAML document; `line` is 1-based, when PyYAML knows it."""

    def __init__(self, problem: str, line: int | None) -> None:
        self.problem = problem
        self.line = line
        super().__init__(f"line {line}: {problem}" if line is not None else problem)


class DatesAsTextLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text: PyYAML would crash on 2025-02-30 with no line
    number; as text it reaches the field's own check, which names line and field."""


DatesAsTextLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _child(node: yaml.Node, part: str | int) -> tuple[yaml.Node | None, yaml.Node] | None:
    """(key node or None for a list item, value node) of `part` under `node`, if present."""
    if isinstance(node, yaml.MappingNode):
        # The last of duplicate keys, because that is the value the loaded data holds.
        found = None
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == part:
                found = (key, value)
        return found
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return None, node.value[part]
    return None


class YamlLines:
    """Where the values and keys of one composed YAML document start."""

    def __init__(self, root: yaml.Node | None) -> None:
        self._root = root

    @classmethod
    def of_text(cls, text: str) -> YamlLines:
        """Lines of `text`, which must be valid YAML (PyYAML's error propagates)."""
        return cls(yaml.compose(text, Loader=yaml.SafeLoader))

    def line_of(self, path: Iterable[str | int]) -> int | None:
        """1-based line of the value at `path`, else of its nearest ancestor in the
        document (a missing key has no line of its own); None for an empty document."""
        node = self._root
        if node is None:
            return None
        for part in path:
            found = _child(node, part)
            if found is None:
                break
            node = found[1]
        return node.start_mark.line + 1

    def key_line_of(self, path: Iterable[str | int]) -> int | None:
        """1-based line of the mapping key `path` ends with; None if it is not in the
        document or ends with a list index. An unknown key is best shown at the key."""
        parts = tuple(path)
        node = self._root
        for part in parts[:-1]:
            found = _child(node, part) if node is not None else None
            if found is None:
                return None
            node = found[1]
        found = _child(node, parts[-1]) if parts and node is not None else None
        key = found[0] if found is not None else None
        return None if key is None else key.start_mark.line + 1


@dataclass(frozen=True)
class YamlDocument:
    """The loaded data, and where each of its values was written."""

    data: Any
    lines: YamlLines


def load_yaml(text: str, *, dates_as_text: bool = False) -> YamlDocument:
    """Parse one YAML document safely (no Python tags), keeping its lines.

    Parsed once: the node tree gives the lines and is then constructed into the data,
    as `yaml.safe_load` would. Raises YamlSyntaxError for anything PyYAML refuses.
    """
    loader = (DatesAsTextLoader if dates_as_text else yaml.SafeLoader)(text)
    try:
        root = loader.get_single_node()
        data = None if root is None else loader.construct_document(root)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise YamlSyntaxError(problem, mark.line + 1 if mark is not None else None) from exc
    finally:
        loader.dispose()
    return YamlDocument(data, YamlLines(root))


def dotted(path: Iterable[str | int]) -> str:
    """("policy", "tiers", 0, "when") -> "policy.tiers[0].when"."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def error_path(loc: Iterable[Any]) -> YamlPath:
    """The document path of a pydantic error location.

    Pydantic inserts union-member and validator tags into locations
    ("function-after[...]", "list[...]"); the admin only needs the YAML path.
    """
    return tuple(
        part
        for part in loc
        if not (isinstance(part, str) and ("[" in part or part.startswith("function-")))
    )


def validator_message(error: Mapping[str, Any]) -> str:
    """A pydantic error's message without the prefix pydantic adds to a validator's own
    ValueError or assertion (the validators already write for the admin)."""
    message: str = error["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message


__all__ = [
    "DatesAsTextLoader",
    "YamlDocument",
    "YamlLines",
    "YamlPath",
    "YamlSyntaxError",
    "dotted",
    "error_path",
    "load_yaml",
    "validator_message",
]
