"""No import cycles between fmwidgets modules, counting imports inside functions too.

A cycle hidden in a function-level import (generate <-> token_probs once) still means two modules
that cannot be understood, or tested, one without the other.
"""

from __future__ import annotations

import ast
from pathlib import Path

import fmwidgets

PACKAGE = Path(fmwidgets.__file__).parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """module -> the fmwidgets modules it imports (a package's own __init__ is not counted)."""
    paths = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        edges = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
                module = ".".join(base + ([node.module] if node.module else []))
                targets = [f"{module}.{a.name}" for a in node.names] + [module]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            # the most specific fmwidgets module each import names
            edges |= {next(t for t in (target, target.rsplit(".", 1)[0]) if t in paths)
                      for target in targets if target in paths or target.rsplit(".", 1)[0] in paths}
        graph[name] = {e for e in edges if e != name and not name.startswith(e + ".") and e != "fmwidgets"}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One path per cycle found by depth-first search."""
    found, state = [], {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                found.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


def test_no_import_cycles_between_fmwidgets_modules():
    assert cycles(import_graph()) == []


def test_the_search_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
