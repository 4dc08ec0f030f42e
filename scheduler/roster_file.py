"""The `rota.roster/1` JSON export (spec/roster.md): written by `rota solve`, served by GET /rosters/{month}."""

from __future__ import annotations

import datetime as dt
from typing import Any

from scheduler.errors import FieldError, ScenarioError
from scheduler.reason_text import reason_fields, reason_from_row, reason_text
from scheduler.scenario.fields import checked_date, parse_month
from scheduler.i18n import with_article
from solver.solution import Assignment, SolveReport, Solution, Unmet

FORMAT = "rota.roster/1"


def assignment_json(assignment: Assignment) -> dict[str, Any]:
    return {
        "id": assignment.id,
        "date": assignment.date.isoformat(),
        "half_day": assignment.half_day,
        "township": assignment.township,
        "type": assignment.type,
        "specialty": assignment.specialty,
        "expert": assignment.expert,
        "link_visit": assignment.link_visit,
    }


def unmet_json(unmet: Unmet) -> dict[str, Any]:
    row: dict[str, Any] = {"township": unmet.township, "type": unmet.type, "specialty": unmet.specialty}
    if unmet.member is not None:
        row["member"] = unmet.member
    row["sessions"] = unmet.sessions
    # `reason` stays the readable English sentence of the spec; the code and its parameters are fields the spec lets us add.
    row.update(reason_fields(unmet.reason, "en"))
    if row["reason_code"] is None:  # a free sentence (a file from before codes): the format's `reason` only
        del row["reason_code"], row["reason_params"]
    return row


def report_json(report: SolveReport) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status": report.status,
        "objective": report.objective,
        "best_bound": report.best_bound,
        "wall_seconds": round(report.wall_seconds, 3),
        "workers": report.workers,
    }
    if report.clash is not None:
        body["explanation"] = reason_text(report.clash, "en")
        body["explanation_code"] = str(report.clash.code)
        body["explanation_params"] = report.clash.params_json()
    elif report.explanation:
        body["explanation"] = report.explanation
    if report.gap is not None:
        body["gap"] = round(report.gap, 6)
    body["unmet_sessions"] = report.unmet_sessions
    if report.unmet_bound is not None:
        body["unmet_bound"] = report.unmet_bound
    if report.first_feasible_seconds is not None:
        body["first_feasible_seconds"] = round(report.first_feasible_seconds, 3)
    if report.objective_terms:
        body["objective_terms"] = dict(report.objective_terms)
    return body


def roster_json(community: str, solution: Solution, version: int = 1, status: str = "draft") -> dict[str, Any]:
    """The roster document in the public `rota.roster/1` shape."""
    ordered = sorted(solution.assignments, key=lambda a: (a.date, a.half_day, a.township, a.type, a.specialty or "", a.expert))
    return {
        "format": FORMAT,
        "community": community,
        "month": solution.month,
        "version": version,
        "status": status,
        "assignments": [assignment_json(a) for a in ordered],
        "unmet": [unmet_json(u) for u in solution.unmet],
        "solver": report_json(solution.report),
    }


def _required(row: dict, key: str, path: str) -> Any:
    if key not in row:
        raise ScenarioError([FieldError(f"{path}.{key}", "required field is missing")])
    return row[key]


def parse_roster(document: Any) -> tuple[Solution, int, str]:
    """Read a `rota.roster/1` document back into a Solution with its version and status."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ScenarioError([FieldError("format", f"not {with_article(FORMAT)} document")])
    assignments = []
    rows = document.get("assignments")
    if not isinstance(rows, list):
        raise ScenarioError([FieldError("assignments", "must be a list")])
    for index, row in enumerate(rows):
        path = f"assignments[{index}]"
        if not isinstance(row, dict):
            raise ScenarioError([FieldError(path, "must be a mapping")])
        day = checked_date(_required(row, "date", path), f"{path}.date")  # within the one date range
        assignments.append(
            Assignment(
                date=day,
                half_day=_required(row, "half_day", path),
                township=_required(row, "township", path),
                type=_required(row, "type", path),
                specialty=row.get("specialty"),
                expert=_required(row, "expert", path),
                link_visit=bool(row.get("link_visit", False)),
                id=str(_required(row, "id", path)),
            )
        )
    unmet = tuple(
        Unmet(u["township"], u["type"], u.get("specialty"), int(u["sessions"]), reason_from_row(u), u.get("member"))
        for u in document.get("unmet") or []
        if isinstance(u, dict)
    )
    solver = document.get("solver") or {}
    report = SolveReport(
        status=solver.get("status", "UNKNOWN"),
        objective=solver.get("objective"),
        best_bound=solver.get("best_bound"),
        wall_seconds=float(solver.get("wall_seconds") or 0.0),
        workers=int(solver.get("workers") or 0),
        clash=reason_from_row(solver, "explanation_code", "explanation_params", "explanation") if solver.get("explanation_code") else None,
    )
    month = document.get("month")
    try:
        year, number = parse_month(month)
    except ValueError as error:
        raise ScenarioError([FieldError("month", str(error).removeprefix("month "))]) from None
    outside = next((i for i, a in enumerate(assignments) if (a.date.year, a.date.month) != (year, number)), None)
    if outside is not None:
        raise ScenarioError([FieldError(f"assignments[{outside}].date", f"{assignments[outside].date.isoformat()} is not in {month}")])
    version = document.get("version", 1)
    return Solution(month, tuple(assignments), unmet, report), int(version) if isinstance(version, int) else 1, str(document.get("status", "draft"))
