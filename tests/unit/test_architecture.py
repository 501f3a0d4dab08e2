"""The import graph of the package: dependencies point inward only, and no module
imports itself back through others. Read from the source (every import statement,
function-level ones included, so a lazy import cannot hide an upward arrow)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "redmine_sla_bridge"

# Rank of each layer: a module may import its own layer and lower ranks only.
RANKS = {
    "domain": 0,
    "config": 1,
    "telemetry": 1,
    "adapters": 2,
    "service": 3,
    "bootstrap": 4,
    "entrypoints": 5,
    "devtools": 5,  # the demo and the local Redmine: tools beside the CLI, which runs them
}
# Beyond the ranks: the core names no adapter, and config names nothing but the domain.
FORBIDDEN = {
    "domain": {"config", "telemetry", "adapters", "service", "bootstrap", "entrypoints", "devtools"},
    "service": {"config", "adapters", "bootstrap", "entrypoints", "devtools"},
    "config": {"telemetry", "adapters"},
    "telemetry": {"config", "domain"},
}


def modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that `name` imports (a name imported from a package counts
    as its submodule when there is one)."""
    found = set()
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")[: len(name.split(".")) - node.level + (1 if is_package else 0)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in known else base)
    return {m for m in found if m in known and m != name}


def layer(module: str) -> str:
    return module.split(".")[1] if "." in module else ""


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports_of(name, path, known) for name, path in mods.items()}


def test_every_module_belongs_to_a_known_layer():
    unknown = sorted({layer(m) for m in modules() if m.count(".") >= 1} - set(RANKS) - {"__main__"})
    assert unknown == []


def test_no_import_points_to_a_higher_layer():
    upward = []
    for importer, imported in graph().items():
        source = layer(importer)
        if source not in RANKS:
            continue
        for target in imported:
            if layer(target) not in RANKS:
                continue
            if RANKS[layer(target)] > RANKS[source] or layer(target) in FORBIDDEN.get(source, ()):
                upward.append(f"{importer} -> {target}")
    assert upward == []


def test_the_import_graph_has_no_cycle():
    edges = graph()
    # Tarjan's strongly connected components: any component of two or more is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    assert cycles == []


@pytest.mark.parametrize("source", ["from redmine_sla_bridge.service import bridge",
                                    "import redmine_sla_bridge.entrypoints.cli"])
def test_the_checker_sees_an_upward_import(tmp_path, source):
    """The checks above can fail: a domain module importing upward is caught."""
    known = set(modules())
    fake = tmp_path / "fake.py"
    fake.write_text(f"def f():\n    {source}\n", encoding="utf-8")
    found = imports_of("redmine_sla_bridge.domain.fake", fake, known)
    assert found and all(RANKS[layer(m)] > RANKS["domain"] for m in found)
