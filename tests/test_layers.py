"""The layers hold: gmp < gmp_backends < polymom_apps, and no module imports itself back.

Every ``import`` statement of the three packages is read with ``ast`` — at module level
and inside functions (deferred imports count) — except under ``if TYPE_CHECKING:``,
which never runs. A module may import its own layer or a lower one, never a higher one,
and the graph of imports between the packages' modules has no cycle.
"""
from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = {"gmp": 0, "gmp_backends": 1, "polymom_apps": 2}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for pkg in LAYERS for p in sorted((ROOT / pkg).rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _runtime_imports(tree: ast.AST):
    """Import nodes that can run (anything not under ``if TYPE_CHECKING:``), with line numbers."""
    stack = [tree]
    while stack:
        node = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                stack.extend(child.orelse)
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                yield child
            stack.append(child)


def _targets(module: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The absolute names a statement imports: the most specific project module each one is."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    if node.level:
        base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
        prefix = ".".join(base + ([node.module] if node.module else []))
    else:
        prefix = node.module or ""
    out = []
    for alias in node.names:
        sub = f"{prefix}.{alias.name}"
        out.append(sub if sub in MODULES else prefix)
    return out


def _graph() -> tuple[nx.DiGraph, list[str]]:
    graph, upward = nx.DiGraph(), []
    for module, path in MODULES.items():
        graph.add_node(module)
        layer = LAYERS[module.split(".")[0]]
        for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            for target in _targets(module, node):
                top = target.split(".")[0]
                if top in LAYERS and LAYERS[top] > layer:
                    upward.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {target}")
                if target in MODULES and target != module:
                    graph.add_edge(module, target, line=node.lineno)
    return graph, upward


def test_no_module_imports_a_layer_above_its_own():
    _, upward = _graph()
    assert not upward, "imports of a higher layer (gmp < gmp_backends < polymom_apps):\n" + "\n".join(upward)


def test_no_import_cycles():
    graph, _ = _graph()
    cycles = [c for c in nx.strongly_connected_components(graph) if len(c) > 1]
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(sorted(c)) for c in cycles)


@pytest.mark.parametrize("source, target, upward, cycle", [
    ("def f():\n    from gmp_backends import get_backend\n", "gmp_backends", True, False),
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from polymom_apps import estimate\n",
     None, False, False),
    ("from .hierarchy import climb\n", "gmp.hierarchy", False, True),
])
def test_the_checks_see_deferred_imports_and_skip_type_checking(source, target, upward, cycle):
    # a synthetic gmp.relaxation: a deferred upward import is caught, TYPE_CHECKING is not read,
    # and an import of a module that imports it back closes a cycle
    tree = ast.parse(source)
    got = [t for node in _runtime_imports(tree) for t in _targets("gmp.relaxation", node)
           if t.split(".")[0] in LAYERS]
    assert got == ([] if target is None else [target])
    assert (bool(got) and LAYERS[got[0].split(".")[0]] > 0) == upward
    graph, _ = _graph()
    graph.add_edges_from(("gmp.relaxation", t) for t in got)
    assert any(len(c) > 1 for c in nx.strongly_connected_components(graph)) == cycle
