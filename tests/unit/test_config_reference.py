"""docs/config-reference.md is generated from the config's JSON Schema and must match it."""

from __future__ import annotations

import difflib
from pathlib import Path

from redmine_sla_bridge.devtools import config_reference
from redmine_sla_bridge.devtools.config_reference import REGENERATE, anchor_of, generate

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "config-reference.md"


def test_committed_reference_is_current():
    expected = generate()
    assert REFERENCE.exists(), (
        f"docs/config-reference.md is missing; create it with:\n  {REGENERATE}")
    current = REFERENCE.read_text(encoding="utf-8")
    if current != expected:
        diff = "".join(list(difflib.unified_diff(
            current.splitlines(keepends=True), expected.splitlines(keepends=True),
            "docs/config-reference.md (committed)", "generated now", n=1))[:40])
        raise AssertionError(
            "docs/config-reference.md is stale: the config models changed. Regenerate it with\n"
            f"  {REGENERATE}\nand commit the result. First differences:\n{diff}"
        )


def test_every_top_level_key_is_documented():
    text = generate()
    keys = config_reference.top_level_keys()
    assert keys, "BridgeConfig has no fields?"
    top_table = text.split("## Top-level keys", 1)[1].split("\n## ", 1)[0]
    for key in keys:
        assert f"| `{key}` |" in top_table, f"top-level key {key!r} missing from the table"
    # Every section (a model, or a mapping of models) gets its own anchored heading.
    schema = config_reference.config_schema()
    for key, prop in schema["properties"].items():
        if "$ref" in str(prop):
            path = key if "$ref" in prop or "anyOf" in prop else f"{key}.<name>"
            assert f'<a id="{anchor_of(path)}"></a>' in text, f"no section for {path}"
            assert f"## `{path}`" in text


def test_every_model_and_key_is_documented():
    """Nested models are resolved from $defs: each appears once, with all its keys."""
    schema = config_reference.config_schema()
    renderer = config_reference.Renderer(schema)
    assert set(renderer.documented) == set(schema["$defs"])
    text = renderer.render()
    for name, path in renderer.documented.items():
        section = text.split(f"## `{path}`\n", 1)[1].split("\n## ", 1)[0]
        for key in schema["$defs"][name].get("properties", {}):
            assert f"| `{key}` |" in section, f"{path}.{key} is not documented"


def test_links_point_at_existing_anchors():
    import re

    text = generate()
    anchors = set(re.findall(r'<a id="([^"]+)"></a>', text))
    for target in re.findall(r"\]\(#([^)]+)\)", text):
        assert target in anchors, f"dangling link #{target}"


def test_factory_defaults_are_shown():
    text = generate()
    scope = text.split("## `scope`", 1)[1].split("\n## ", 1)[0]
    assert '| `trackers` | list of string | `["Support"]` |' in scope


def test_check_mode(tmp_path, capsys):
    good = tmp_path / "ref.md"
    good.write_text(generate(), encoding="utf-8")
    assert config_reference.main(["--check", str(good)]) == 0
    stale = tmp_path / "stale.md"
    stale.write_text("# old\n", encoding="utf-8")
    assert config_reference.main(["--check", str(stale)]) == 1
    assert REGENERATE in capsys.readouterr().err
