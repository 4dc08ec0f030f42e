"""Benchmark: the CP-SAT solver against the greedy office baseline on the sample county and seven generated ones.

    python -m bench.run [--sizes sample,small,medium,large,tight] [--loads 0.6,0.9] [--time-limit S] [--out bench/RESULTS.md]

For the sample county (config/examples/quannan.yaml, each of --sample-months) and for each
generated size (small 9 townships/60 experts, medium 22/150, large 26/400) and demand load
(bench.generate, seeded), and for the tight county (26/400 at 110% of what its experts can
deliver, whatever --loads says), it runs `solver.baseline.greedy_baseline` and
`solver.engine.solve`, checks both rosters with the independent checker
(tests/solver/checker.py) and prints one table, with each row's unmet sessions against the
coverage floor. Each solve runs in its own process with a
hard wall (time limit x 3 + 120 s), so a stuck or crashing solver costs one row, not the run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import platform
import queue
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

SIZES = {"sample": (9, 60), "small": (9, 60), "medium": (22, 150), "large": (26, 400), "tight": (26, 400)}
# Sizes with loads of their own (not --loads): `tight` asks more than its specialists can give.
SIZE_LOADS = {"tight": (1.1,)}
# Sizes with a time limit of their own unless --time-limits names them: the tight row is measured at 60 s.
SIZE_TIME_LIMITS = {"tight": 60.0}
SAMPLE = Path(__file__).resolve().parents[1] / "config" / "examples" / "quannan.yaml"
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
REPO = Path(__file__).resolve().parents[1]


@dataclass
class Row:
    """One method on one scenario: how long, how good, and whether the roster keeps the hard rules."""

    scenario: str
    method: str
    status: str = ""
    demand: int = 0
    candidates: int | None = None
    first_feasible_s: float | None = None
    final_s: float | None = None
    objective: int | None = None
    bound: int | None = None
    gap: float | None = None
    assigned: int | None = None
    unmet: int | None = None
    floor: int | None = None  # the unmet sessions of the coverage floor (see `coverage_floor_sessions`)
    links_missed: int | None = None
    trips: int | None = None
    violations: int | None = None
    terms: str = ""
    note: str = ""


def _checker():
    # One copy of the checker lives with the tests; the bench runs from the repository root.
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from tests.solver.checker import violations

    return violations


def _measure(row: Row, problem, solution, wall: float) -> Row:
    report = solution.report
    row.status = report.status
    row.demand = sum(problem.demand.values())
    row.first_feasible_s = report.first_feasible_seconds
    row.final_s = wall
    row.objective = report.objective
    row.bound = report.best_bound
    row.gap = report.gap
    row.assigned = sum(1 for a in solution.assignments if a.type != "supervision")
    row.unmet = sum(u.sessions for u in solution.unmet if u.type != "supervision")
    row.links_missed = sum(u.sessions for u in solution.unmet if u.type == "supervision")
    row.floor = coverage_floor_sessions(problem)
    row.trips = len({(a.township, a.date) for a in solution.assignments})
    found = _checker()(problem, solution)
    row.violations = len(found)
    if report.objective_terms:
        row.terms = _terms_text(report.objective_terms)
    if found:
        row.note = "; ".join(found[:3]) + (f" (+{len(found) - 3} more)" if len(found) > 3 else "")
    return row


def coverage_floor_sessions(problem) -> int | None:
    """The unmet sessions of the coverage floor: `coverage_lower_bound` less the visits no roster can make, in sessions.

    A missed visit weighs more than the session it could free, so a roster making every visit some
    roster can make leaves at least this many sessions unmet; None without the solver.
    """
    try:
        from solver.bounds import coverage_lower_bound, impossible_link_visits
        from solver.candidates import enumerate_candidates
    except ImportError:
        return None
    weights = problem.rules.weights
    if weights.unmet <= 0:
        return None
    candidates = enumerate_candidates(problem)
    floor = coverage_lower_bound(problem, candidates) - weights.link * impossible_link_visits(problem, candidates)
    return -(-floor // weights.unmet)


def above_floor(row: Row) -> float | None:
    """How far a row's unmet sessions are above its floor, as a share of the floor (0 when both are 0)."""
    if row.unmet is None or row.floor is None:
        return None
    if row.floor == 0:
        return 0.0 if row.unmet == 0 else None
    return (row.unmet - row.floor) / row.floor


def _problem(townships: int, experts: int, load: float | None, seed: int, month: str):
    """A generated county at `load`; with load None, the sample county (config/examples/quannan.yaml)."""
    from bench.generate import generate_scenario
    from scheduler.problem_builder import build_problem

    if load is None:
        from scheduler.scenario import load_scenario

        return build_problem(load_scenario(SAMPLE), month)
    return build_problem(generate_scenario(townships, experts, load, seed=seed, month=month), month)


def _terms_text(terms: dict[str, int]) -> str:
    return ", ".join(f"{family} {value}" for family, value in terms.items() if value)


def solver_objective_of(problem, solution) -> tuple[int, dict[str, int]] | None:
    """The solver's own objective evaluated on a finished roster (its assignments fixed), or None if it cannot be.

    Link visits stay free in that model, so the score takes the best visit days the roster
    allows; the assignments themselves, and so every other term, are the roster's.
    """
    try:
        from ortools.sat.python import cp_model

        from solver.candidates import enumerate_candidates
        from solver.model import build_model
        from solver.problem import DemandKey, Slot
    except ImportError:
        return None
    candidates = enumerate_candidates(problem)
    fixed = []
    for assignment in solution.assignments:
        key = None if assignment.type == "supervision" else DemandKey(assignment.township, assignment.type, assignment.specialty)
        index = candidates.index_of(assignment.expert, Slot(assignment.date, assignment.half_day), assignment.township, key)
        if index is None:
            return None  # the solver would never consider this assignment: no common scale
        fixed.append(index)
    roster = build_model(problem, candidates, free=(), fixed=fixed)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = 60
    solver.parameters.num_workers = 2
    if solver.solve(roster.model) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    terms: dict[str, int] = {}
    for penalty in roster.penalties:
        value = penalty.expression if isinstance(penalty.expression, int) else solver.value(penalty.expression)
        terms[penalty.family] = terms.get(penalty.family, 0) + int(value) * penalty.weight
    return sum(terms.values()), terms


def run_baseline(name: str, problem, score: bool = True) -> Row:
    """The greedy office roster of one scenario, measured, checked and (if the solver is there) scored on its objective."""
    from solver.baseline import greedy_baseline

    started = time.perf_counter()
    solution = greedy_baseline(problem)
    row = _measure(Row(name, "baseline"), problem, solution, time.perf_counter() - started)
    if score:
        try:
            scored = solver_objective_of(problem, solution)
        except Exception as exc:  # noqa: BLE001 - the score is extra; the baseline row stands without it
            row.note = f"could not score on the solver's objective: {type(exc).__name__}: {exc}"
            scored = None
        if scored is not None:
            row.objective, terms = scored
            row.terms = _terms_text(terms)
    return row


def _cross_checked(row: Row, problem, solution) -> Row:
    """Re-score the solver's roster on its own model and say so when the reported objective differs."""
    if not solution.assignments:
        return row
    try:
        scored = solver_objective_of(problem, solution)
    except Exception as exc:  # noqa: BLE001 - the cross-check is extra
        scored, row.note = None, (row.note + "; " if row.note else "") + f"could not re-score: {type(exc).__name__}: {exc}"
    if scored is not None and scored[0] != row.objective:
        mismatch = f"reported objective {row.objective}, but the roster scores {scored[0]} on the model ({_terms_text(scored[1])})"
        row.note = (row.note + "; " if row.note else "") + mismatch
    return row


def _solver_child(size: tuple, time_limit: float, workers: int, name: str, results: multiprocessing.Queue) -> None:
    row = Row(name, "solver")
    try:
        problem = _problem(*size)
        row.demand = sum(problem.demand.values())
        try:
            from solver.engine import solve
        except ImportError as exc:
            row.status, row.note = "MISSING", f"solver.engine.solve not available: {exc}"
            results.put(row)
            return
        try:
            from solver.candidates import enumerate_candidates

            row.candidates = len(enumerate_candidates(problem).items)
        except Exception:  # noqa: BLE001 - model size is optional; the solve still counts
            row.candidates = None
        started = time.perf_counter()
        solution = solve(problem, time_limit=time_limit, workers=workers)
        row = _measure(row, problem, solution, time.perf_counter() - started)
        results.put(row)  # the measured row first: a slow re-score must not cost the whole row
        results.put(_cross_checked(row, problem, solution))
    except Exception as exc:  # noqa: BLE001 - one failing solve is one row of the table
        row.status = "ERROR"
        row.note = f"{type(exc).__name__}: {exc} at " + traceback.extract_tb(exc.__traceback__)[-1].filename.rsplit("/", 1)[-1]
        results.put(row)


def run_solver(name: str, size: tuple, time_limit: float, workers: int) -> Row:
    """`solver.engine.solve` on one scenario in a child process with a hard wall, measured and checked."""
    context = multiprocessing.get_context("fork" if sys.platform != "win32" else "spawn")
    results: multiprocessing.Queue = context.Queue()
    child = context.Process(target=_solver_child, args=(size, time_limit, workers, name, results), daemon=True)
    child.start()
    wall = time_limit * 3 + 120
    deadline = time.monotonic() + wall
    try:
        row = results.get(timeout=wall)
    except queue.Empty:
        row = Row(name, "solver", status="TIMEOUT", note=f"no answer within {wall:.0f} s (time limit {time_limit:g} s)")
    else:
        if row.status not in ("ERROR", "MISSING"):
            try:
                row = results.get(timeout=max(1.0, deadline - time.monotonic()))
            except queue.Empty:
                row.note = (row.note + "; " if row.note else "") + "re-scoring on the model did not finish in time"
    child.join(timeout=5)
    if child.is_alive():
        child.kill()
        child.join()
    return row


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _gap_cell(gap: float | None) -> str:
    return "-" if gap is None else f"{gap * 100:.1f}%"


COLUMNS = [
    ("scenario", "scenario"), ("method", "method"), ("status", "status"), ("demand", "demand"),
    ("candidates", "model size (candidates)"), ("first_feasible_s", "first feasible s"), ("final_s", "final s"),
    ("objective", "objective"), ("bound", "bound"), ("gap", "gap"), ("assigned", "assigned"), ("unmet", "unmet"),
    ("floor", "unmet floor"), ("above_floor", "above floor"), ("links_missed", "link visits missed"), ("trips", "trips"), ("violations", "hard-rule violations"),
]


def _cells(row: Row) -> list[str]:
    cells = []
    for key, _ in COLUMNS:
        if key == "gap":
            cells.append(_gap_cell(row.gap))
        elif key == "above_floor":
            share = above_floor(row)
            cells.append("-" if share is None else f"{share * 100:.1f}%")
        else:
            cells.append(_cell(getattr(row, key)))
    return cells


def _ratio(solver: Row | None, baseline: Row) -> str:
    if solver is None or solver.unmet is None or baseline.unmet is None:
        return "-"
    if baseline.unmet == 0:
        return "1.00" if solver.unmet == 0 else f"{solver.unmet}/0"
    return f"{solver.unmet / baseline.unmet:.2f}"


def markdown_table(rows: list[Row]) -> str:
    """The results as a Markdown table, with the solver/baseline unmet ratio on each solver row."""
    header = [title for _, title in COLUMNS] + ["unmet solver/baseline"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    baselines = {row.scenario: row for row in rows if row.method == "baseline"}
    for row in rows:
        ratio = _ratio(row, baselines[row.scenario]) if row.method == "solver" and row.scenario in baselines else ""
        lines.append("| " + " | ".join(_cells(row)) + f" | {ratio} |")
    return "\n".join(lines)


def print_table(rows: list[Row]) -> None:
    """Print the results with rich when it is installed, else as the Markdown table."""
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        print(markdown_table(rows))
        return
    table = Table(title="solver vs greedy baseline")
    for _, title in COLUMNS:
        table.add_column(title, overflow="fold")
    table.add_column("unmet solver/baseline")
    baselines = {row.scenario: row for row in rows if row.method == "baseline"}
    for row in rows:
        ratio = _ratio(row, baselines[row.scenario]) if row.method == "solver" and row.scenario in baselines else ""
        table.add_row(*_cells(row), ratio)
    Console(width=220).print(table)
    for row in rows:
        if row.note:
            print(f"{row.scenario} {row.method}: {row.note}")


def machine_description(workers: int) -> str:
    """CPU, core count, Python and OR-Tools versions of this run."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import ortools

        ortools_version = ortools.__version__
    except ImportError:
        ortools_version = "not installed"
    return f"{cpu}, {os.cpu_count()} cores, CP-SAT workers {workers}; Python {platform.python_version()}, OR-Tools {ortools_version}, {platform.system()}"


def write_results(path: Path, rows: list[Row], command: str, time_limits: str, workers: int) -> None:
    notes = [f"- {row.scenario} {row.method}: {row.note}" for row in rows if row.note]
    terms = [f"- {row.scenario} {row.method}: {row.terms}" for row in rows if row.terms]
    text = "\n".join(
        [
            "# Benchmark results",
            "",
            f"Run {dt.datetime.now().strftime('%Y-%m-%d %H:%M')} with `{command}` (time limit per solve: {time_limits}).",
            "",
            f"Machine: {machine_description(workers)}.",
            "",
            "`sample` = the sample county (config/examples/quannan.yaml, 9 townships / 61 experts) in the month named.",
            "Scenarios from `bench.generate` (seeded): small = 9 townships / 60 experts, medium = 22 / 150,",
            "large = 26 / 400, tight = 26 / 400 at 110% whatever --loads says; load = demand as a share of the",
            "sessions the experts can really deliver. `unmet floor` = the unmet sessions of the coverage floor",
            "(solver.bounds.coverage_lower_bound, less the visits no roster can make); `above floor` =",
            "(unmet - floor) / floor.",
            "`trips` = distinct (township, day) pairs with anyone there; `unmet` = demanded sessions without",
            "an expert; `hard-rule violations` from the independent checker (tests/solver/checker.py).",
            "The baseline optimises nothing: its `objective` is the solver's objective evaluated on the",
            "baseline roster (assignments fixed, link visit days free), so the two are on one scale.",
            "`first feasible s` for the solver is its own report, `final s` the wall time of the call.",
            "`bound` is a lower bound valid for every roster (solver/bounds.py, and CP-SAT's own when it proves",
            "more); `gap` = (objective - bound) / objective.",
            "",
            markdown_table(rows),
            "",
            *(["## Objective terms (weighted)", "", *terms, ""] if terms else []),
            *(["## Notes", "", *notes, ""] if notes else []),
        ]
    )
    path.write_text(text + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="sample,small,medium,large,tight", help="comma-separated: sample (the sample county), small, medium, large, tight (26/400 at 110%%)")
    parser.add_argument("--sample-months", default="2026-12,2027-01", help="months of the sample county to solve")
    parser.add_argument("--loads", default="0.6,0.9", help="comma-separated demand loads")
    parser.add_argument("--time-limit", type=float, default=20.0, help="seconds per solver run (tight: 60 unless --time-limits says)")
    parser.add_argument("--time-limits", default="", help="per size, overriding --time-limit: small=10,medium=60,large=60")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--month", default="2027-03")
    parser.add_argument("--out", type=Path, default=RESULTS, help="Markdown file for the results")
    parser.add_argument("--no-solver", action="store_true", help="baseline rows only")
    args = parser.parse_args(argv)
    sizes = [name.strip() for name in args.sizes.split(",") if name.strip()]
    unknown = [name for name in sizes if name not in SIZES]
    if unknown:
        print(f"error: --sizes: unknown size {', '.join(unknown)} (choose from {', '.join(SIZES)})", file=sys.stderr)
        return 2
    try:
        loads = [float(text) for text in args.loads.split(",") if text.strip()]
    except ValueError:
        print(f"error: --loads: expected numbers like 0.6,0.9 (got {args.loads!r})", file=sys.stderr)
        return 2
    if args.time_limit <= 0:
        print("error: --time-limit must be positive", file=sys.stderr)
        return 2
    limits: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in args.time_limits.split(","))):
        size_name, _, seconds = part.partition("=")
        try:
            limits[size_name] = float(seconds)
        except ValueError:
            print(f"error: --time-limits: expected size=seconds (got {part!r})", file=sys.stderr)
            return 2
        if size_name not in SIZES or limits[size_name] <= 0:
            print(f"error: --time-limits: {part!r} needs a known size and a positive number of seconds", file=sys.stderr)
            return 2
    rows: list[Row] = []
    for size_name in sizes:
        time_limit = limits.get(size_name, SIZE_TIME_LIMITS.get(size_name, args.time_limit))
        townships, experts = SIZES[size_name]
        if size_name == "sample":
            runs = [(f"sample Quannan {month}", (townships, experts, None, args.seed, month)) for month in args.sample_months.split(",") if month.strip()]
        else:
            size_loads = SIZE_LOADS.get(size_name, loads)
            runs = [(f"{size_name} {townships}/{experts} @{load:.0%}", (townships, experts, load, args.seed, args.month)) for load in size_loads]
        for name, size in runs:
            print(f"{name}: baseline...", file=sys.stderr, flush=True)
            rows.append(run_baseline(name, _problem(*size), score=not args.no_solver))
            if not args.no_solver:
                print(f"{name}: solver (time limit {time_limit:g} s)...", file=sys.stderr, flush=True)
                solver_row = run_solver(name, size, time_limit, args.workers)
                if solver_row.status == "MISSING":
                    print(f"{name}: {solver_row.note}; baseline rows only", file=sys.stderr)
                else:
                    rows.append(solver_row)
    print_table(rows)
    command = "python -m bench.run " + " ".join(argv if argv is not None else sys.argv[1:])
    limit_text = ", ".join(f"{name} {limits.get(name, SIZE_TIME_LIMITS.get(name, args.time_limit)):g} s" for name in sizes)
    write_results(args.out, rows, command.strip(), limit_text, args.workers)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
