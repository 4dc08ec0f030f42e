"""rota commands that run the solver on files: `solve` a month, `replan` it after a change."""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from api.commands.base import EXIT_INFEASIBLE, InputError, app
from scheduler.calendar import month_calendar_for, parse_month
from scheduler.labels import CommunityLabels
from scheduler.problem_builder import build_problem
from scheduler.reason_text import reason_text
from scheduler.roster_file import parse_roster, roster_json
from scheduler.scenario import Scenario, load_scenario
from solver.problem import Problem
from solver.solution import RosterDiff, Solution, diff_rosters

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def _month(month: str) -> str:
    try:
        parse_month(month)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    return month


def _check_numbers(time_limit: float, workers: int) -> None:
    if not time_limit > 0:
        raise InputError(f"--time-limit must be a positive number of seconds (got {time_limit})")
    if workers < 1:
        raise InputError(f"--workers must be at least 1 (got {workers})")


def write_atomically(path: Path, text: str) -> None:
    """Write a file whole or not at all: a crash never leaves half a roster behind."""
    path = path.resolve()
    if path.is_dir():
        raise InputError(f"--out {path} is a directory")
    if not path.parent.exists():
        raise InputError(f"--out: folder {path.parent} does not exist")
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _progress(status) -> callable:
    started = time.monotonic()

    def show(message: str) -> None:
        status.update(f"[{time.monotonic() - started:5.1f}s] {message}")

    return show


def _prepare(scenario_path: Path, month: str) -> tuple[Scenario, Problem]:
    scenario = load_scenario(scenario_path)
    calendar = month_calendar_for(scenario.calendar, _month(month))
    for warning in calendar.warnings:
        err.print(f"warning: {warning}", markup=False)
    return scenario, build_problem(scenario, month, calendar=calendar)


def print_summary(problem: Problem, solution: Solution, labels: CommunityLabels | None = None) -> None:
    """The readable end of a solve (in English, as the rest of the command): sessions by type, unmet with reasons, coverage, load, trips, status."""
    report = solution.report
    by_type = Counter(a.type for a in solution.assignments)
    out.print(f"[bold]{problem.month}[/]: {len(solution.assignments)} sessions  " + "  ".join(f"{k} {v}" for k, v in sorted(by_type.items())))
    wanted: Counter = Counter()
    for key, sessions in problem.demand.items():
        wanted[key.township] += sessions
    met: Counter = Counter(a.township for a in solution.assignments if a.type != "supervision")
    table = Table(title="coverage per township", show_lines=False)
    for column in ("township", "met", "demanded", "trips", "link visits"):
        table.add_column(column, justify="right" if column != "township" else "left")
    trips = Counter(t for t, _d in {(a.township, a.date) for a in solution.assignments})
    visits = Counter(a.township for a in solution.assignments if a.link_visit)
    for township in problem.townships:
        table.add_row(f"{township.id} {township.name}", str(met[township.id]), str(wanted[township.id]), str(trips[township.id]), str(visits[township.id]))
    out.print(table)
    load = Counter(a.expert for a in solution.assignments)
    ratios = sorted(load[e.id] / e.max_sessions for e in problem.experts if e.max_sessions)
    if ratios:
        out.print(
            f"load vs capacity: min {ratios[0]:.0%}  median {ratios[len(ratios) // 2]:.0%}  max {ratios[-1]:.0%}  "
            f"({sum(1 for e in problem.experts if load[e.id])} of {len(problem.experts)} experts go down)"
        )
    if solution.unmet:
        out.print(f"[bold yellow]unmet[/] ({sum(u.sessions for u in solution.unmet)} sessions):")
        for row in solution.unmet:
            who = f" {row.member}" if row.member else ""
            out.print(f"  {row.township} {row.type} {row.specialty or ''}{who} x{row.sessions}: {reason_text(row.reason, 'en', labels)}", markup=False)
    gap = f"{report.gap:.2%}" if report.gap is not None else "n/a"
    out.print(
        f"solver: {report.status}  objective {report.objective}  bound {report.best_bound}  gap {gap}  "
        f"unmet {report.unmet_sessions} (proven minimum: {report.unmet_bound if report.unmet_bound is not None else 'not proven'})  "
        f"{report.wall_seconds:.1f}s on {report.workers} workers"
    )
    explanation = reason_text(report.clash, "en", labels) if report.clash is not None else report.explanation
    if explanation:
        out.print(explanation, style="bold red", markup=False)


def print_diff(diff: RosterDiff) -> None:
    out.print(f"changes: {diff.changes} (added {len(diff.added)}, removed {len(diff.removed)}, moved {len(diff.moved)})")
    for a in diff.removed:
        out.print(f"  - {a.date} {a.half_day} {a.township} {a.type} {a.specialty or ''} {a.expert}")
    for a in diff.added:
        out.print(f"  + {a.date} {a.half_day} {a.township} {a.type} {a.specialty or ''} {a.expert}")
    for before, after in diff.moved:
        out.print(f"  ~ {before.date} {before.half_day} {before.township} {before.expert} -> {after.date} {after.half_day} {after.township} {after.expert}")


def _finish(scenario: Scenario, problem: Problem, solution: Solution, out_path: Optional[Path], version: int, status: str = "draft") -> None:
    document = roster_json(scenario.community.name, solution, version=version, status=status)
    if out_path is not None and solution.report.status not in ("INFEASIBLE", "MODEL_INVALID"):
        write_atomically(out_path, json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    print_summary(problem, solution, CommunityLabels.from_scenario(scenario))
    if out_path is not None and solution.report.status not in ("INFEASIBLE", "MODEL_INVALID"):
        out.print(f"wrote {out_path}")
    if solution.report.status in ("INFEASIBLE", "MODEL_INVALID"):
        raise typer.Exit(EXIT_INFEASIBLE)


@app.command()
def solve(
    scenario: Path = typer.Argument(..., help="scenario file (rota.scenario/1, YAML or JSON)"),
    month: str = typer.Option(..., "--month", help="YYYY-MM"),
    out_path: Optional[Path] = typer.Option(None, "--out", help="write the roster here (rota.roster/1 JSON)"),
    time_limit: float = typer.Option(10.0, "--time-limit", help="seconds"),
    workers: int = typer.Option(2, "--workers", help="CP-SAT workers"),
) -> None:
    """Solve one month of a scenario file. Exit 0 solved (also with unmet rows), 2 bad input, 3 infeasible."""
    _check_numbers(time_limit, workers)
    loaded, problem = _prepare(scenario, month)
    from solver.engine import solve as solve_month

    with out.status("solving…") as status:
        solution = solve_month(problem, time_limit=time_limit, workers=workers, progress=_progress(status))
    _finish(loaded, problem, solution, out_path, version=1)


@app.command()
def replan(
    scenario: Path = typer.Argument(..., help="the changed scenario file"),
    month: str = typer.Option(..., "--month", help="YYYY-MM"),
    previous: Path = typer.Option(..., "--previous", help="the roster to keep as much of as possible (rota.roster/1)"),
    out_path: Optional[Path] = typer.Option(None, "--out", help="write the new roster here"),
    time_limit: float = typer.Option(5.0, "--time-limit", help="seconds"),
    workers: int = typer.Option(2, "--workers", help="CP-SAT workers"),
) -> None:
    """Re-plan a month after a change with the fewest changes to the previous roster; prints the diff."""
    _check_numbers(time_limit, workers)
    _month(month)
    try:
        previous_document = json.loads(Path(previous).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"--previous: no such file {previous}") from None
    except (json.JSONDecodeError, UnicodeDecodeError, IsADirectoryError) as exc:
        raise InputError(f"--previous {previous} is not a rota.roster/1 JSON file ({exc.__class__.__name__})") from None
    old, old_version, old_status = parse_roster(previous_document)
    if old.month != month:
        raise InputError(f"--previous is a roster for {old.month}, not {month}")
    loaded, problem = _prepare(scenario, month)
    from solver.engine import solve as solve_month

    with out.status("re-planning…") as status:
        solution = solve_month(problem, time_limit=time_limit, workers=workers, previous=old, progress=_progress(status))
    print_diff(diff_rosters(old.assignments, solution.assignments))
    _finish(loaded, problem, solution, out_path, version=old_version + 1, status=old_status)
