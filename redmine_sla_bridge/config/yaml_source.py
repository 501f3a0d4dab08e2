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


MAX_DEPTH = 64
"""Deepest nesting accepted: real configs stay under 10 levels; PyYAML's composer and
every later walk recurse once per level, and 5,000 levels crash them."""

MAX_ALIAS_NODES = 100_000
"""Values an alias may add to the document, summed over all aliases. A few anchors
reused a few times add hundreds; "billion laughs" (aliases of aliases) add 10**9 and
would take minutes and all memory to expand."""


class YamlSyntaxError(ValueError):
    """The text is not one valid, bounded YAML document; `line` is 1-based, when known,
    and `path` is where in the document the problem is, when known."""

    def __init__(self, problem: str, line: int | None, path: YamlPath | None = None) -> None:
        self.problem = problem
        self.line = line
        self.path = path
        super().__init__(f"line {line}: {problem}" if line is not None else problem)


class _BoundedError(yaml.MarkedYAMLError):
    """A limit of `BoundedSafeLoader` was hit (carries the document path)."""

    def __init__(self, problem: str, mark: yaml.Mark | None, path: YamlPath) -> None:
        super().__init__(None, None, problem, mark)
        self.path = path


_MERGE_TAG = "tag:yaml.org,2002:merge"
_KEY = object()  # path marker while a mapping key itself is composed


class BoundedSafeLoader(yaml.SafeLoader):
    """SafeLoader that refuses what would otherwise crash or hang the process, each
    with the line and path of the cause: nesting beyond `MAX_DEPTH` (counting what
    aliases bring in), aliases adding more than `MAX_ALIAS_NODES` values, recursive
    aliases, and duplicate keys (PyYAML silently keeps the last one, so a second
    `url:` further down would quietly win). A value PyYAML cannot construct (an
    explicit `!!int abc`) is reported at its line instead of raising a bare ValueError.
    """

    max_depth = MAX_DEPTH
    max_alias_nodes = MAX_ALIAS_NODES

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        # One entry per node being composed: [expanded size of its children, their height].
        self._open: list[list[int]] = []
        self._path: list[Any] = []
        self._shapes: dict[int, tuple[int, int]] = {}  # id(anchored node) -> (size, height)
        self._alias_nodes = 0

    def _where(self) -> YamlPath:
        return tuple(part for part in self._path if part is not _KEY)

    def _add_to_parent(self, size: int, height: int) -> None:
        if self._open:
            parent = self._open[-1]
            parent[0] += size
            parent[1] = max(parent[1], height)

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        part = index.value if isinstance(index, yaml.ScalarNode) else _KEY if index is None else index
        self._path.append(part)
        try:
            if self.check_event(yaml.AliasEvent):
                return self._compose_alias(parent, index)
            event = self.peek_event()
            if len(self._open) >= self.max_depth:
                raise _BoundedError(
                    f"nested more than {self.max_depth} levels deep; a config needs far fewer "
                    "(check for a runaway indentation or generated text)",
                    event.start_mark, self._where()[:3])  # the section it is in, not 64 parts
            self._open.append([0, 0])
            node = super().compose_node(parent, index)
            children, height = self._open.pop()
            if event.anchor is not None:
                self._shapes[id(node)] = (1 + children, 1 + height)
            self._add_to_parent(1 + children, 1 + height)
            return node
        finally:
            self._path.pop()

    def _compose_alias(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()
        target = self.anchors.get(event.anchor)
        if target is not None:  # an undefined alias is PyYAML's own error, raised below
            shape = self._shapes.get(id(target))
            if shape is None:
                raise _BoundedError(
                    f"alias *{event.anchor} is inside the value anchored as &{event.anchor}, "
                    "so it would repeat itself forever; a recursive alias cannot be loaded",
                    event.start_mark, self._where())
            size, height = shape
            self._alias_nodes += size
            if self._alias_nodes > self.max_alias_nodes:
                raise _BoundedError(
                    f"aliases (*name) expand the document to more than {self.max_alias_nodes} "
                    f"values by here (an alias bomb?); write the values out or use fewer aliases",
                    event.start_mark, self._where())
            if len(self._open) + height > self.max_depth:
                raise _BoundedError(
                    f"alias *{event.anchor} nests the document more than {self.max_depth} "
                    "levels deep", event.start_mark, self._where()[:3])
            self._add_to_parent(size, height)
        return super().compose_node(parent, index)

    def compose_mapping_node(self, anchor: Any) -> yaml.MappingNode:
        node = super().compose_mapping_node(anchor)
        seen: dict[tuple[str, str], yaml.Node] = {}
        repeated: set[int] = set()  # the same key node twice: `*k: 1` and `*k: 2`
        for key, _value in node.value:
            if not isinstance(key, yaml.ScalarNode) or key.tag == _MERGE_TAG:
                continue
            first = seen.setdefault((key.tag, key.value), key)
            if first is not key or id(key) in repeated:
                raise _BoundedError(
                    f"duplicate key {key.value!r}: first on line {first.start_mark.line + 1}, "
                    f"again on line {key.start_mark.line + 1}; YAML would silently keep only the "
                    "last one, so remove or merge one of them",
                    key.start_mark, (*self._where(), key.value))
            repeated.add(id(key))
        return node

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except yaml.YAMLError:
            raise
        except Exception as exc:  # ValueError, OverflowError... from a tag's constructor
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read the value: {exc}", node.start_mark) from exc


class DatesAsTextLoader(BoundedSafeLoader):
    """BoundedSafeLoader that leaves dates as text: PyYAML would crash on 2025-02-30 with
    no line number; as text it reaches the field's own check, which names line and field."""


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
        return cls(yaml.compose(text, Loader=BoundedSafeLoader))

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
    """Parse one YAML document safely (no Python tags) and within bounds (see
    `BoundedSafeLoader`), keeping its lines.

    Parsed once: the node tree gives the lines and is then constructed into the data,
    as `yaml.safe_load` would. Raises YamlSyntaxError for anything PyYAML refuses.
    """
    loader: BoundedSafeLoader | None = None
    try:
        # The reader checks the characters of the whole text as it is created.
        loader = (DatesAsTextLoader if dates_as_text else BoundedSafeLoader)(text)
        root = loader.get_single_node()
        data = None if root is None else loader.construct_document(root)
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        what = f"U+{exc.character:04X}" if isinstance(exc.character, int) else repr(exc.character)
        raise YamlSyntaxError(
            f"character {what} is not allowed in YAML (a control character: is this a binary "
            "file, or text pasted from a terminal?)", line) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context:  # "but found another document" alone does not say what was expected
            where = f" (line {context_mark.line + 1})" if context_mark is not None else ""
            problem = f"{context}{where}: {problem}"
        raise YamlSyntaxError(problem, mark.line + 1 if mark is not None else None,
                              getattr(exc, "path", None)) from exc
    finally:
        if loader is not None:
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
    "MAX_ALIAS_NODES",
    "MAX_DEPTH",
    "BoundedSafeLoader",
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
