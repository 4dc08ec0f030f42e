"""No module imports itself round a loop: the project's import graph, read from the code, has no new circle.

Every import counts, at the top of a file or inside a function (an import inside a function
hides a circle, it does not break it), and so does `importlib.import_module("...")` with a
literal name; a package that imports its folder's modules by discovery (`pkgutil.iter_modules`, as
scheduler.events.kinds does) imports each of them. The circles still open are listed by name in KNOWN_CIRCLES with the work that
removes them; a circle not listed fails (a listed one that is gone may be struck from the list).
Then each module of a former circle is imported FIRST in a fresh interpreter: a circle that
only works in one import order fails there.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("solver", "scheduler", "api", "config", "bench")

KNOWN_CIRCLES: set[frozenset[str]] = set()  # none left open; a new one is named here with the work that removes it


def _modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


def _imported(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules a file imports anywhere in it (`from a import b` names a.b when that is a module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            found.add(str(node.args[0].value))
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "iter_modules" and path.name == "__init__.py":
            found.update(module for module in modules if module.rpartition(".")[0] == name)
    return {module for module in found if module in modules and module != name}


def _circles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected groups of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[frozenset[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                if len(group) > 1:
                    circles.append(frozenset(group))
    return circles


def test_no_import_circle_but_the_known_ones():
    modules = _modules()
    graph = {name: _imported(name, path, modules) for name, path in modules.items()}
    circles = set(_circles(graph))
    new = [sorted(circle) for circle in circles - KNOWN_CIRCLES]
    assert not new, f"new import circles: {new}"


@pytest.mark.parametrize(
    "module",
    [
        "solver.rules", "solver.candidates", "solver.engine", "solver.search.lns", "solver.search.neighbourhoods.whole_days",
        "solver.replan", "scheduler.flows", "scheduler.swaps", "scheduler.metrics", "scheduler.events.kinds",
        "scheduler.workbook.reader", "scheduler.workbook.writer",
    ],
)
def test_a_former_circle_imports_in_any_order(module):
    result = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr.strip().splitlines()[-1:]
