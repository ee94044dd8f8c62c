"""The layout: layers import one way, no import circle, no module over 600 lines.

cli -> report -> render -> analysis -> study -> optimize -> scenario. The base
modules (number formatting, limits, interrupts, output files, threads) import nothing
from niches and serve every layer. Every import counts: at the top, inside a
function (lazy) and under TYPE_CHECKING.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = SRC / "niches"
MAX_LINES = 600

LAYERS = ["scenario", "optimize", "study", "analysis", "render", "report", "cli"]
"""Lowest first: a module may import from its own layer and the ones before it."""

ALONGSIDE = {"provenance": "report"}
"""Top-level modules that belong to a layer: a report's provenance block (written and read back)."""

BASE = {"niches", "niches.numbers", "niches.limits", "niches.interrupts", "niches.files", "niches.parallel"}
"""Modules below every layer: they import nothing else from niches."""


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer(module: str) -> int:
    """The layer of a niches module (-1: base; `niches.__main__` runs the cli)."""
    if module in BASE:
        return -1
    if module == "niches.__main__":
        return LAYERS.index("cli")
    second = ALONGSIDE.get(module.split(".")[1], module.split(".")[1])
    assert second in LAYERS, f"{module}: not in a layer; add it to LAYERS or BASE"
    return LAYERS.index(second)


def imports(module: str) -> set[str]:
    """Every niches module `module` imports, wherever the import statement is."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            submodules = {f"{target}.{a.name}" for a in node.names} & MODULES.keys()
            found.update(submodules)
            if len(submodules) < len(node.names):  # a name from the package itself, not only its modules
                found.add(target)
    return {m for m in found if m in MODULES and m != module}


GRAPH = {module: imports(module) for module in MODULES}


def test_every_module_is_in_a_layer() -> None:
    for module in MODULES:
        layer(module)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_flow_one_way(module: str) -> None:
    upward = sorted(t for t in GRAPH[module] if layer(t) > layer(module))
    assert not upward, f"{module} (layer {layer(module)}) imports from above: {upward}"


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import circle, each once (Tarjan's strongly connected components of two or more)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circle() -> None:
    assert circles(GRAPH) == []


def test_the_circle_finder_finds_each_circle_once() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a", "e"}, "e": {"d"}, "f": set()}
    assert sorted(circles(graph)) == [["a", "b", "c"], ["d", "e"]]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_over_600_lines(module: str) -> None:
    lines = len(MODULES[module].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{module}: {lines} lines; split it by job"
