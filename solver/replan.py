"""Minimal-change re-planning: a new version of a month that keeps what it can of the previous one.

Only a neighbourhood of the change is re-optimised: the demand rows that lost a session or
gained demand, the experts who could fill them, and their own sessions (so a chain of one
move is possible). Everything else is fixed as it was. The objective first restores coverage
(unmet demand, link visits), then minimises changes, then the soft terms,
so a kept assignment is moved only when that buys demand or a visit. The three tiers share
one objective, so a re-plan stopped by its time limit is still ordered right.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict

from ortools.sat.python import cp_model

from solver.candidates import Candidates, department_spare, enumerate_candidates, is_candidate
from solver.construct import construct
from solver.model import build_model
from solver.problem import DemandKey, Problem
from solver.reasons import explain_unmet
from solver.search import Incumbent, Progress, evaluate, family_sum, read_incumbent, solve_model, to_assignments
from solver.solution import Assignment, SolveReport, Solution, new_assignment_id

# A change must outweigh every soft gain it could buy, and one unmet session (or visit) every change.
CHANGE_WEIGHT = 10_000
COVERAGE_TIER = 1_000
# Kept from the time limit for what follows the solve (scoring, reasons, ids), so the whole
# re-plan keeps to its limit even when CP-SAT uses all it is given.
AFTER_SOLVE_SECONDS = 1.0


def _key_of(assignment: Assignment) -> DemandKey | None:
    return None if assignment.type == "supervision" else DemandKey(assignment.township, assignment.type, assignment.specialty or "")


def _as_candidate(assignment: Assignment) -> tuple:
    return (assignment.expert, assignment.slot, assignment.township, _key_of(assignment))


def split_previous(problem: Problem, previous: Solution) -> tuple[list[Assignment], list[Assignment]]:
    """Previous assignments that the changed month still allows, and those the change made impossible."""
    spare = department_spare(problem)
    still, lost, seen = [], [], set()
    for assignment in previous.assignments:
        as_candidate = _as_candidate(assignment)
        if as_candidate not in seen and is_candidate(problem, spare, *as_candidate):
            still.append(assignment)
            seen.add(as_candidate)
        else:
            lost.append(assignment)
    return still, lost


def touched_parts(problem: Problem, still: list[Assignment], lost: list[Assignment]) -> tuple[set[DemandKey], set[str]]:
    """The demand rows a re-plan must revisit (short, or over their new demand) and the townships whose visits it must."""
    covered: dict[DemandKey, int] = defaultdict(int)
    for assignment in still:
        key = _key_of(assignment)
        if key is not None:
            covered[key] += 1
    keys = {key for key, wanted in problem.demand.items() if covered[key] != wanted}
    keys |= {key for key in covered if covered[key] > problem.demand.get(key, 0)}
    # a visit day that lost its member or a team member: that township's rows help rebuild the team
    visit_days = {(a.township, a.date) for a in still + lost if a.link_visit}
    lost_experts = {a.expert for a in lost}
    townships = {a.township for a in lost if (a.township, a.date) in visit_days}
    townships |= {link.township for link in problem.links if link.member in lost_experts}
    keys |= {key for key in problem.demand if key.township in townships}
    return {k for k in keys if problem.demand.get(k, 0) > 0}, townships


def _neighbourhood(problem: Problem, candidates: Candidates, kept: dict[int, Assignment], keys: set[DemandKey], townships: set[str]) -> set[int]:
    """Candidates free to change: the touched demand rows and visits, and the sessions of experts who could serve them."""
    free: set[int] = set()
    helpers: set[str] = set()
    for key in keys:
        for index in candidates.by_key.get(key, []):
            free.add(index)
            helpers.add(candidates.items[index].expert)
    for index in kept:
        if candidates.items[index].expert in helpers:
            free.add(index)
    for index, candidate in enumerate(candidates.items):
        if candidate.key is None:  # a supervision exists only with its visit: never pin it
            free.add(index)
    return free


def carry_ids(month: str, previous: Solution, assignments: list[Assignment]) -> list[Assignment]:
    """Give unchanged and moved assignments their previous ids; new ones get fresh ids."""
    old_by_content = {a.content[:6]: a for a in previous.assignments}
    used: set[str] = set()
    result: list[Assignment | None] = [None] * len(assignments)
    pending = []
    for position, assignment in enumerate(assignments):
        old = old_by_content.get(assignment.content[:6])
        if old is not None and old.id not in used:
            used.add(old.id)
            result[position] = assignment.with_id(old.id)
        else:
            pending.append(position)
    # a move: the same expert, township and session kind on another half-day keeps its id
    spare: dict[tuple, list[Assignment]] = defaultdict(list)
    for old in previous.assignments:
        if old.id not in used:
            spare[(old.expert, old.township, old.type, old.specialty)].append(old)
    taken_ids = {a.id for a in previous.assignments}
    for position in pending:
        assignment = assignments[position]
        options = spare.get((assignment.expert, assignment.township, assignment.type, assignment.specialty))
        if options:
            options.sort(key=lambda old: abs((old.date - assignment.date).days))
            old = options.pop(0)
            used.add(old.id)
            result[position] = assignment.with_id(old.id)
            continue
        salt, fresh = 0, new_assignment_id(month, assignment)
        while fresh in taken_ids:
            salt += 1
            fresh = new_assignment_id(month, assignment, salt=str(salt))
        taken_ids.add(fresh)
        result[position] = assignment.with_id(fresh)
    return [a for a in result if a is not None]


def _visits_of(assignments) -> set[tuple]:
    return {(a.expert, a.township, a.date) for a in assignments if a.link_visit}


def _tiered_solve(problem, candidates, free, fixed, kept, incumbent, started, time_limit, workers, progress, seed, work_limit=None):
    """One objective in three tiers, so whatever the solver has when time runs out is ordered right:
    coverage first, then fewest changes, then the soft terms."""
    roster = build_model(problem, candidates, free=free, fixed=fixed, previous=kept.keys(), stability_weight=1)
    stability = [p for p in roster.penalties if p.family == "stability"]
    roster.penalties = [p for p in roster.penalties if p.family != "stability"]
    changes = stability[0].expression if stability else 0
    # a visit moved to another day changes the sessions that carry it: it counts as a change too
    kept_visits = [roster.visits[visit] for visit in _visits_of(kept.values()) if visit in roster.visits]
    if kept_visits:
        changes = changes + len(kept_visits) - cp_model.LinearExpr.sum(kept_visits)
    coverage, soft = family_sum(roster, True), family_sum(roster, False)
    roster.model.minimize(COVERAGE_TIER * coverage + CHANGE_WEIGHT * changes + soft)
    remaining = max(0.2, time_limit - AFTER_SOLVE_SECONDS - (time.monotonic() - started))
    solver, status, _ = solve_model(roster, incumbent, remaining, workers, progress, "re-plan", seed, work_limit=work_limit)
    return roster, solver, status


def replan(
    problem: Problem,
    previous: Solution,
    time_limit: float = 5.0,
    workers: int = 2,
    progress: Progress | None = None,
    seed: int = 0,
    frozen_until: dt.date | None = None,
    work_limit: float | None = None,
) -> Solution:
    """A new roster for the changed problem that changes as few of `previous`'s assignments as it can.

    Days up to `frozen_until` (today, in the service) are history: their sessions stay as they
    were and nothing new is placed on them.
    """
    started = time.monotonic()
    still, lost = split_previous(problem, previous)
    keys, townships = touched_parts(problem, still, lost)
    candidates = enumerate_candidates(problem, keys=keys, supervision_townships=townships, also=[_as_candidate(a) for a in still])
    kept = {candidates.index_of(*_as_candidate(a)): a for a in still}
    free = _neighbourhood(problem, candidates, kept, keys, townships)
    fixed = set(kept) - free
    if frozen_until is not None:
        past = {i for i, c in enumerate(candidates.items) if c.day <= frozen_until}
        fixed |= past & set(kept)
        free -= past
    if progress:
        progress(f"re-plan: {len(kept)} assignments still possible, {len(lost)} not; {len(free)} candidates free")
    state = construct(problem, candidates, fixed=fixed, keep=[i for i in kept if i in free])
    incumbent = Incumbent(set(state.chosen), set(state.visits))
    roster, solver, status = _tiered_solve(problem, candidates, free, fixed, kept, incumbent, started, time_limit, workers, progress, seed, work_limit)
    if status == cp_model.INFEASIBLE and fixed:
        # what was kept fixed clashes with the change (a team gone, say): free everything enumerated
        everything = set(range(len(candidates.items)))
        roster, solver, status = _tiered_solve(problem, candidates, everything, set(), kept, incumbent, started, time_limit, workers, progress, seed, work_limit)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        incumbent = read_incumbent(roster, solver)
    else:
        incumbent = evaluate(problem, candidates, incumbent)
    name = solver.status_name(status) if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) else "FEASIBLE"
    carried_before = [index for index, a in kept.items() if a.link_visit]
    assignments = carry_ids(problem.month, previous, to_assignments(problem, candidates, incumbent.chosen, incumbent.visits, carried_before))
    unmet = explain_unmet(problem, candidates, incumbent.chosen, incumbent.visits)
    report = SolveReport(
        status=name,
        objective=incumbent.objective,
        # OPTIMAL here means optimal for the re-plan's order (coverage, then changes, then soft terms)
        best_bound=incumbent.objective if status == cp_model.OPTIMAL else None,
        wall_seconds=time.monotonic() - started,
        workers=workers,
        unmet_sessions=sum(u.sessions for u in unmet if u.type != "supervision"),
        objective_terms=incumbent.terms,
    )
    return Solution(problem.month, tuple(assignments), tuple(unmet), report)
