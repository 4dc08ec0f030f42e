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


# One interpreter loads the heavy third-party libraries once (no project module), then forks a child per module to
# import: each child is an interpreter whose first project import is that module, at a fraction of a fresh start.
_FORK_SERVER = r"""
import os, sys, traceback
for library in sys.argv[2:]:
    try:
        __import__(library)
    except ImportError:
        pass
project = set(sys.argv[1].split(","))
loaded = sorted(name for name in sys.modules if name.partition(".")[0] in project)
print("loaded " + ",".join(loaded), flush=True)
for line in sys.stdin:
    module = line.strip()
    child = os.fork()
    if child == 0:
        try:
            __import__(module)
            print(module + " ok", flush=True)
        except BaseException:
            print(module + " failed " + traceback.format_exc().strip().splitlines()[-1], flush=True)
        os._exit(0)
    os.waitpid(child, 0)
"""
_LIBRARIES = (
    "ortools.sat.python.cp_model", "numpy", "pandas", "sqlalchemy.orm", "pydantic", "pydantic_settings", "fastapi", "starlette",
    "yaml", "icalendar", "openpyxl", "celery", "apscheduler.schedulers.background", "holidays", "alembic", "argon2", "rich",
)


@pytest.fixture(scope="module")
def fresh_imports():
    """Ask `fresh_imports(module)`: the last line of the error importing it first in a fresh interpreter, or None."""
    server = subprocess.Popen(
        [sys.executable, "-c", _FORK_SERVER, ",".join(PACKAGES), *_LIBRARIES],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    first = server.stdout.readline().split()
    assert first[:1] == ["loaded"] and first[1:] == [], f"the libraries loaded project modules: {first[1:]}"

    def fresh_import(module: str) -> str | None:
        server.stdin.write(module + "\n")
        server.stdin.flush()
        name, _, outcome = server.stdout.readline().strip().partition(" ")
        assert name == module, (name, outcome)
        return None if outcome == "ok" else outcome.removeprefix("failed ")

    yield fresh_import
    server.stdin.close()
    server.wait(timeout=30)


def test_a_module_that_fails_to_import_is_reported_by_the_fork_server(fresh_imports):
    assert "ModuleNotFoundError" in fresh_imports("solver.no_such_module")
    assert fresh_imports("solver.problem") is None  # and the server goes on answering


@pytest.mark.parametrize(
    "module",
    [
        "solver.rules", "solver.candidates", "solver.engine", "solver.search.lns", "solver.search.neighbourhoods.whole_days",
        "solver.replan", "scheduler.flows", "scheduler.swaps", "scheduler.metrics", "scheduler.events.kinds",
        "scheduler.workbook.reader", "scheduler.workbook.writer",
    ],
)
def test_a_former_circle_imports_in_any_order(module, fresh_imports):
    assert fresh_imports(module) is None
