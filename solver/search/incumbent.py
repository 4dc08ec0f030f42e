"""The incumbent roster and its evaluation: solving a model from it and reading the roster back,
scoring a roster on the model's own objective, its coverage cost, the objective's coverage and
soft sums, and turning chosen candidates into assignments.

solver.engine (a fresh month), the neighbourhood search (solver.search.lns) and solver.replan
(a changed month) all build on it; it imports none of them.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from solver.candidates import Candidates, restrict
from solver.construct import RosterState
from solver.model import RosterModel, build_model
from solver.objective import COVERAGE_TERMS
from solver.problem import Problem
from solver.rules.objectives import fair_targets
from solver.search.cpsat import FirstSolution, Progress, new_solver
from solver.solution import Assignment, new_assignment_id


@dataclass
class Incumbent:
    """The best roster found so far, as candidate indices and visit days."""

    chosen: set[int]
    visits: set[tuple[str, str, dt.date]]
    objective: int | None = None
    terms: dict[str, int] = field(default_factory=dict)


def read_incumbent(roster: RosterModel, solver: cp_model.CpSolver) -> Incumbent:
    """The roster a solved model holds, with its objective by family."""
    chosen = set(roster.fixed) | {index for index, variable in roster.x.items() if solver.boolean_value(variable)}
    visits = {key for key, variable in roster.visits.items() if solver.boolean_value(variable)}
    terms: dict[str, int] = defaultdict(int)
    for penalty in roster.penalties:
        value = penalty.expression if isinstance(penalty.expression, int) else solver.value(penalty.expression)
        terms[penalty.family] += int(value) * penalty.weight
    return Incumbent(chosen, visits, sum(terms.values()), dict(terms))


def to_assignments(
    problem: Problem, candidates: Candidates, chosen: Collection[int], visits: Collection[tuple], carried_before: Collection[int] = ()
) -> list[Assignment]:
    """Turn chosen candidates into assignments; one assignment per visit carries `link_visit`.

    The carrier is the member's first session that day, or the one in `carried_before` (a
    re-plan's previous carriers), so that a kept visit stays on the session that had it.
    """
    visit_days = set(visits)
    before = set(carried_before)
    carriers: dict[tuple, int] = {}
    for index in sorted(chosen, key=lambda i: (i not in before, candidates.items[i].key is None, candidates.items[i].slot)):
        c = candidates.items[index]
        visit = (c.expert, c.township, c.day)
        if visit in visit_days and visit not in carriers:
            carriers[visit] = index
    carrier_indices = set(carriers.values())
    assignments = []
    for index in chosen:
        c = candidates.items[index]
        if c.key is None and index not in carrier_indices:
            continue  # a supervision exists only to carry a visit; one left over from a kept roster goes
        assignment = Assignment(c.day, c.slot.half_day, c.township, c.type, c.specialty, c.expert, index in carrier_indices)
        assignments.append(assignment.with_id(new_assignment_id(problem.month, assignment)))
    return sorted(assignments, key=lambda a: (a.date, a.half_day, a.township, a.expert))


def state_incumbent(state: RosterState) -> Incumbent:
    """A constructive roster (solver.construct) as an incumbent, not yet scored."""
    return Incumbent(set(state.chosen), set(state.visits))


def solve_model(
    roster: RosterModel,
    incumbent: Incumbent | None,
    time_limit: float,
    workers: int,
    progress: Progress | None,
    label: str,
    seed: int = 0,
    floor: int | None = None,
    work_limit: float | None = None,
):
    """Solve a model from `incumbent` as hint; stop at `floor`. Returns (solver, status, seconds to the first solution)."""
    if incumbent is not None:
        roster.hint(incumbent.chosen, incumbent.visits)
    solver = new_solver(time_limit, workers, seed, work_limit)
    started = time.monotonic()
    callback = FirstSolution(started, progress, label, floor)
    status = solver.solve(roster.model, callback)
    return solver, status, callback.first


def evaluate(problem: Problem, candidates: Candidates, incumbent: Incumbent, targets: dict[str, int] | None = None) -> Incumbent:
    """Score a roster on the model's own objective (its assignments fixed; link visit days read off them)."""
    sub, originals = restrict(problem, candidates, set(incumbent.chosen))
    roster = build_model(problem, sub, free=(), fixed=range(len(originals)), fair_targets=targets if targets is not None else fair_targets(problem, candidates))
    roster.hint(set(range(len(originals))), incumbent.visits)
    solver = new_solver(10.0, 1)
    status = solver.solve(roster.model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return incumbent
    scored = read_incumbent(roster, solver)
    return Incumbent(set(incumbent.chosen), scored.visits, scored.objective, scored.terms)


def family_sum(roster: RosterModel, coverage: bool) -> cp_model.LinearExprT:
    """The weighted sum of the coverage terms (unmet demand, link visits), or of every other (the soft terms)."""
    parts = [p for p in roster.penalties if (p.family in COVERAGE_TERMS) == coverage]
    return cp_model.LinearExpr.weighted_sum([p.expression for p in parts], [p.weight for p in parts])


def coverage_cost(problem: Problem, candidates: Candidates, incumbent: Incumbent) -> int:
    """The weighted unmet demand and missed link visits of a roster."""
    covered = sum(1 for i in incumbent.chosen if candidates.items[i].key is not None)
    weights = problem.rules.weights
    missed = len(problem.links) * problem.rules.link_visits_per_month - len(incumbent.visits)
    return weights.unmet * (sum(problem.demand.values()) - covered) + weights.link * missed
