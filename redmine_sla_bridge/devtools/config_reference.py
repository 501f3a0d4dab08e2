"""Generate docs/config-reference.md from the config's JSON Schema.

The reference is never kept by hand: every section, key, type, default, allowed value
and description comes from `BridgeConfig`'s JSON Schema (the same one
`redmine-sla-bridge schema` prints), with nested models resolved from `$defs`::

    python -m redmine_sla_bridge.devtools.config_reference > docs/config-reference.md
    python -m redmine_sla_bridge.devtools.config_reference --check docs/config-reference.md

`--check` exits 1 when the file differs from what would be generated now.

One addition to the plain schema: defaults made by a `default_factory` (e.g.
`scope.trackers: ["Support"]`) are computed and shown, because pydantic leaves them out
of the schema and an admin needs to know them.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic.json_schema import GenerateJsonSchema

REGENERATE = (
    "python -m redmine_sla_bridge.devtools.config_reference > docs/config-reference.md"
)

_NULL = {"type": "null"}


class _WithFactoryDefaults(GenerateJsonSchema):
    """The standard schema, plus the defaults that `default_factory` would produce."""

    def get_default_value(self, schema):
        factory = schema.get("default_factory")
        if factory is not None and not schema.get("default_factory_takes_data"):
            return factory()
        return super().get_default_value(schema)


def config_schema() -> dict[str, Any]:
    """The JSON Schema of BridgeConfig, with factory defaults filled in."""
    from redmine_sla_bridge.config.model import BridgeConfig

    return BridgeConfig.model_json_schema(schema_generator=_WithFactoryDefaults)


# --- walking the schema ----------------------------------------------------------------


@dataclass
class Section:
    """One object of the config, documented under the dotted path where it first occurs."""

    path: str
    schema: dict[str, Any]
    ref: str | None = None  # the $defs name, when the object is a model
    children: list[Section] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return anchor_of(self.path)


def anchor_of(path: str) -> str:
    """An HTML id for a dotted config path (`policy.tiers[].when` -> `policy-tiers-when`)."""
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9_]+", "-", path.lower())).strip("-")


def _ref_name(schema: dict[str, Any]) -> str | None:
    ref = schema.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def _branches(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The alternatives of a union, without `null` (which only means "optional")."""
    for key in ("anyOf", "oneOf"):
        if key in schema:
            out: list[dict[str, Any]] = []
            for branch in schema[key]:
                if branch == _NULL:
                    continue
                nested = "anyOf" in branch or "oneOf" in branch
                out.extend(_branches(branch) if nested else [branch])
            return out
    return [schema]


def _nested_objects(schema: dict[str, Any], path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Model-typed places inside one property's schema, with the path each one gets:
    `x` for a model, `x[]` for a list of models, `x.<name>` for a mapping of models."""
    for branch in _branches(schema):
        if "$ref" in branch:
            yield path, branch
        elif branch.get("type") == "array" and isinstance(branch.get("items"), dict):
            yield from _nested_objects(branch["items"], f"{path}[]")
        elif (branch.get("type") == "object"
              and isinstance(branch.get("additionalProperties"), dict)):
            yield from _nested_objects(branch["additionalProperties"],
                                       f"{path}.<{_key_word(branch)}>")


def _key_word(schema: dict[str, Any]) -> str:
    names = schema.get("propertyNames") or {}
    if "enum" in names:
        return "|".join(names["enum"])
    return "name"


def build_sections(schema: dict[str, Any]) -> tuple[Section, dict[str, list[str]]]:
    """The tree of sections (depth first, in the schema's key order) and, for every
    model, the paths where it is used; the first one is the section documenting it."""
    defs = schema.get("$defs", {})
    used_at: dict[str, list[str]] = {}
    root = Section("", schema)

    def visit(section: Section) -> None:
        for key, prop in section.schema.get("properties", {}).items():
            prefix = f"{section.path}.{key}" if section.path else key
            for path, ref_schema in _nested_objects(prop, prefix):
                name = _ref_name(ref_schema)
                if name is None:
                    continue
                if name in used_at:
                    used_at[name].append(path)
                    continue
                used_at[name] = [path]
                child = Section(path, defs[name], ref=name)
                section.children.append(child)
                visit(child)

    visit(root)
    return root, used_at


# --- rendering values ------------------------------------------------------------------


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell (one line, no bare pipes)."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _code(value: Any) -> str:
    text = value if isinstance(value, str) else _json(value)
    return f"`{text}`"


class Renderer:
    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self.defs = schema.get("$defs", {})
        self.root, self.used_at = build_sections(schema)
        self.documented = {name: paths[0] for name, paths in self.used_at.items()}

    # -- types -----------------------------------------------------------------------

    def link(self, ref_name: str) -> str:
        path = self.documented[ref_name]
        return f"[`{path}`](#{anchor_of(path)})"

    def type_text(self, schema: dict[str, Any]) -> str:
        branches = _branches(schema)
        if (len(branches) == 2 and branches[1].get("type") == "array"
                and branches[1].get("items") == branches[0]):
            return f"{self.type_text(branches[0])}, or a list of them"
        if len(branches) > 1:
            return " or ".join(self.type_text(b) for b in branches)
        s = branches[0]
        if "$ref" in s:
            ref = _ref_name(s)
            assert ref is not None  # a JSON schema `$ref` is a string
            return f"mapping, see {self.link(ref)}"
        if "const" in s:
            return _code(_json(s["const"]))
        if "enum" in s:
            return " or ".join(_code(_json(v)) for v in s["enum"])
        kind = s.get("type")
        if kind == "array":
            items = s.get("items", {})
            inner = self.type_text(items) if items else "value"
            if s.get("minItems") is not None and s.get("minItems") == s.get("maxItems"):
                count = s["minItems"]
                return f"pair of {inner}" if count == 2 else f"{count} × {inner}"
            if " " in inner and not inner.startswith("mapping,"):
                return f"list of ({inner})"
            return f"list of {inner}"
        if kind == "object":
            values = s.get("additionalProperties")
            if isinstance(values, dict):
                names = s.get("propertyNames") or {}
                if "enum" in names:
                    keys = " or ".join(_code(v) for v in names["enum"])
                elif "pattern" in names:
                    keys = "key"
                else:
                    keys = "name"
                return f"mapping of {keys} to ({self.type_text(values)})"
            return "mapping"
        fmt = s.get("format")
        if kind == "string":
            strings: dict[str | None, str] = {"date": "date (YYYY-MM-DD)", "password": "secret string",
                                              "path": "file path"}
            return strings.get(fmt, "string")
        if kind in ("integer", "number", "boolean"):
            return kind
        if kind == "null":
            return "null"
        return "any"

    # -- constraints -----------------------------------------------------------------

    def allowed(self, schema: dict[str, Any]) -> list[str]:
        out: list[str] = []
        for s in _branches(schema):
            if "$ref" in s:
                continue
            for key, word in (("minimum", ">="), ("exclusiveMinimum", ">"),
                              ("maximum", "<="), ("exclusiveMaximum", "<")):
                if key in s:
                    out.append(f"{word} {_json(s[key])}")
            if "minLength" in s:
                out.append(f"at least {s['minLength']} character(s)")
            if s.get("type") == "array":
                fixed = s.get("minItems") is not None and s.get("minItems") == s.get("maxItems")
                if "minItems" in s and not fixed:
                    out.append(f"at least {s['minItems']} item(s)")
                if "maxItems" in s and not fixed:
                    out.append(f"at most {s['maxItems']} item(s)")
                items = s.get("items")
                if isinstance(items, dict):
                    out += [f"items: {_unprefixed(text)}" for text in self.allowed(items)]
            if s.get("type") == "object":
                names = s.get("propertyNames") or {}
                if "pattern" in names:
                    out.append(f"keys: pattern {_code(names['pattern'])}")
                if isinstance(s.get("additionalProperties"), dict):
                    out += [f"values: {_unprefixed(text)}"
                            for text in self.allowed(s["additionalProperties"])]
            if "pattern" in s:
                out.append(f"pattern {_code(s['pattern'])}")
            if "examples" in s:
                out.append("e.g. " + ", ".join(_code(v) for v in s["examples"]))
        return list(dict.fromkeys(out))

    # -- defaults and descriptions ---------------------------------------------------

    def default_text(self, prop: dict[str, Any], required: bool) -> str:
        if required:
            return "**required**"
        if "default" not in prop:
            return "not set"
        value = prop["default"]
        if value is None:
            return "not set"
        if isinstance(value, dict) and value and any("$ref" in b for b in _branches(prop)):
            return "see its keys"
        if isinstance(value, str) and value == "":
            return '`""`'
        return _code(value)

    def description(self, prop: dict[str, Any]) -> str:
        text = prop.get("description")
        if text:
            return text
        for branch in _branches(prop):
            name = _ref_name(branch)
            if name is not None and self.defs[name].get("description"):
                return _first_sentence(self.defs[name]["description"])
        return ""

    # -- the document ----------------------------------------------------------------

    def table(self, section: Section) -> list[str]:
        props = section.schema.get("properties", {})
        required = set(section.schema.get("required", ()))
        lines = ["| key | type | default | allowed | description |", "|---|---|---|---|---|"]
        for key, prop in props.items():
            lines.append(
                "| " + " | ".join(
                    _cell(part) for part in (
                        f"`{key}`",
                        self.type_text(prop),
                        self.default_text(prop, key in required),
                        "; ".join(self.allowed(prop)),
                        self.description(prop),
                    )
                ) + " |"
            )
        return lines

    def section_lines(self, section: Section) -> list[str]:
        lines = ["", f'<a id="{section.anchor}"></a>', "", f"## `{section.path}`", ""]
        top = section.path.split(".")[0].split("[")[0]
        root_required = set(self.schema.get("required", ()))
        if "." not in section.path and "[" not in section.path:
            lines.append("Required section." if top in root_required else "Optional section.")
            lines.append("")
        description = section.schema.get("description")
        if description:
            lines += [_paragraphs(description), ""]
        also = self.used_at.get(section.ref or "", [])[1:]
        if also:
            lines += ["The same keys apply at " + ", ".join(f"`{path}`" for path in also) + ".", ""]
        if section.schema.get("properties"):
            lines += self.table(section)
        else:
            lines.append("No keys.")
        for child in section.children:
            lines += self.section_lines(child)
        return lines

    def render(self) -> str:
        root = self.root
        lines = [
            "# Configuration reference",
            "",
            "<!-- Generated from the config's JSON Schema by",
            f"     {REGENERATE}",
            "     Do not edit by hand: change the models in redmine_sla_bridge/config/ and",
            "     regenerate (tests/unit/test_config_reference.py fails while this is stale). -->",
            "",
            _paragraphs(self.schema.get("description", "")),
            "",
            "Every key of the bridge's YAML config, section by section. How to read it:",
            "",
            "- **key** is relative to the section's path; `[]` in a path means \"each item of",
            "  the list\", `<name>` means \"each entry of the mapping, under a name you choose\".",
            "- **default** is used when the key is left out; `not set` means the feature is",
            "  off or the value is taken from elsewhere (the description says which).",
            "- Unknown keys are errors. Write numbers and booleans unquoted, and quote times,",
            "  INNs and versions (see [YAML traps](configuration.md#yaml-traps)).",
            "- Any string value may be an environment reference, `${NAME}` or",
            "  `${NAME:-default}`; write secrets this way.",
            "- `redmine-sla-bridge check-config FILE` checks a file against all of this and",
            "  more (cross-references between sections, calendars, customer file);",
            "  `redmine-sla-bridge schema` prints the JSON Schema for an editor.",
            "",
            "<a id=\"top-level\"></a>",
            "",
            "## Top-level keys",
            "",
        ]
        lines += self.table(root)
        for section in root.children:
            lines += self.section_lines(section)
        return "\n".join(lines).rstrip() + "\n"


def _unprefixed(text: str) -> str:
    """A nested constraint without its own "items: "/"values: " prefix (one level shown)."""
    for prefix in ("items: ", "values: "):
        if text.startswith(prefix):
            return text[len(prefix):]
    return text


def _first_sentence(text: str) -> str:
    flat = " ".join(text.split())
    match = re.match(r"(.+?\.)(\s|$)", flat)
    return match.group(1) if match else flat


def _paragraphs(text: str) -> str:
    """A docstring as Markdown paragraphs (single newlines joined)."""
    return "\n\n".join(" ".join(p.split()) for p in re.split(r"\n\s*\n", text.strip()))


def generate() -> str:
    """The whole Markdown reference for the current config models."""
    return Renderer(config_schema()).render()


def top_level_keys() -> list[str]:
    from redmine_sla_bridge.config.model import BridgeConfig

    return list(BridgeConfig.model_fields)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m redmine_sla_bridge.devtools.config_reference",
        description="Print the config reference (Markdown) generated from the JSON Schema.",
    )
    parser.add_argument("--check", metavar="FILE", type=Path,
                        help="exit 1 if FILE differs from what would be generated now")
    args = parser.parse_args(argv)
    text = generate()
    if args.check is not None:
        try:
            current = args.check.read_text(encoding="utf-8")
        except OSError as exc:
            print(f"{args.check}: cannot read: {exc.strerror}", file=sys.stderr)
            return 1
        if current != text:
            print(f"{args.check} is stale; regenerate it with:\n  {REGENERATE}", file=sys.stderr)
            return 1
        print(f"{args.check} is up to date")
        return 0
    sys.stdout.buffer.write(text.encode("utf-8"))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
