"""Minimal-change re-planning: a new version of a month that keeps what it can of the previous one.

A re-plan first frees a neighbourhood of the change: the demand rows that lost a session or
gained demand, the experts who could fill them, and their own sessions (so a chain of one
move is possible); everything else is fixed as it was. When that cannot bring coverage up to
the changed month's coverage floor (solver.bounds: no roster of the month covers more), it
widens the free neighbourhood step by step (`Widening`) up to the whole month, so a re-plan
never covers less than a fresh solve could only because it looked too close to the change.
The objective first restores coverage (unmet demand, link visits), then minimises changes,
then the soft terms, so a kept assignment is moved only when that buys demand or a visit. The
three tiers share one objective, so a re-plan stopped by its time limit is still ordered right.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass

from ortools.sat.python import cp_model

from solver.bounds import coverage_lower_bound, unmet_lower_bound
from solver.candidates import Candidates, department_spare, enumerate_candidates, is_candidate, restrict
from solver.construct import construct
from solver.model import build_model
from solver.problem import DemandKey, Problem
from solver.reasons import explain_unmet
from solver.rules.objectives import fair_targets
from solver.search import Incumbent, Progress, coverage_cost, evaluate, family_sum, read_incumbent, solve_model, to_assignments
from solver.solution import Assignment, SolveReport, Solution, new_assignment_id

# A change must outweigh every soft gain it could buy, and one unmet session (or visit) every change.
CHANGE_WEIGHT = 10_000
COVERAGE_TIER = 1_000
# Kept from the time limit for what follows the solve (scoring, reasons, ids), so the whole
# re-plan keeps to its limit even when CP-SAT uses all it is given.
AFTER_SOLVE_SECONDS = 1.0
# A widening step that is not the last takes at most this share of the time (or work) left.
STEP_SHARE = 0.4


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
    # a limit cut below what is kept (a township's rooms, an expert's sessions): those sessions must move
    rooms = {township.id: township.rooms for township in problem.townships}
    per_half_day: dict[tuple, int] = defaultdict(int)
    per_expert: dict[str, int] = defaultdict(int)
    for assignment in still:
        per_expert[assignment.expert] += 1
        if _key_of(assignment) is not None:
            per_half_day[(assignment.township, assignment.slot)] += 1
    crowded = {township for (township, _slot), sessions in per_half_day.items() if sessions > rooms.get(township, 0)}
    overbooked = {expert.id for expert in problem.experts if per_expert[expert.id] > expert.max_sessions}
    keys |= {key for key in problem.demand if key.township in crowded}
    keys |= {key for a in still if a.expert in overbooked and (key := _key_of(a)) is not None}
    # a visit day that lost its member or a team member: that township's rows help rebuild the team
    visit_days = {(a.township, a.date) for a in still + lost if a.link_visit}
    lost_experts = {a.expert for a in lost}
    townships = {a.township for a in lost if (a.township, a.date) in visit_days}
    townships |= {link.township for link in problem.links if link.member in lost_experts}
    keys |= {key for key in problem.demand if key.township in townships}
    return {k for k in keys if problem.demand.get(k, 0) > 0}, townships


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


class Widening:
    """The neighbourhoods a re-plan frees, each wider than the last, from the touched rows to the whole month.

    Each step adds to what the previous one freed (`free`, candidate indices of the whole month):
    the touched rows and the sessions of the experts who could serve them; every candidate at the
    touched townships (their other half-days); every candidate of the experts who could serve a
    row still short and of the rows they serve now (a chain of moves); every candidate of those
    rows' specialties (other days, other townships); the whole month.
    """

    STEPS = ("touched rows", "same townships", "other experts", "other days", "whole month")

    def __init__(self, problem: Problem, candidates: Candidates, kept: dict[int, Assignment], keys: set[DemandKey], townships: set[str]) -> None:
        self.problem, self.candidates, self.kept = problem, candidates, kept
        self.keys, self.townships = set(keys), set(townships) | {key.township for key in keys}
        self.free: set[int] = set()

    def short_rows(self, chosen: Collection[int]) -> set[DemandKey]:
        """The demand rows a roster leaves short (with a candidate that could serve them)."""
        covered: dict[DemandKey, int] = defaultdict(int)
        for index in chosen:
            key = self.candidates.items[index].key
            if key is not None:
                covered[key] += 1
        return {key for key, wanted in self.problem.demand.items() if covered[key] < wanted and self.candidates.by_key.get(key)}

    def step(self, name: str, chosen: Collection[int]) -> set[int]:
        """Widen to step `name` around the roster `chosen`; returns every candidate now free."""
        items, by_key, by_expert = self.candidates.items, self.candidates.by_key, self.candidates.by_expert
        rows = self.keys | self.short_rows(chosen)
        helpers = {items[i].expert for key in rows for i in by_key.get(key, ())}
        if name == "touched rows":
            self.free |= {i for key in self.keys for i in by_key.get(key, ())}
            self.free |= {i for i in chosen if items[i].expert in {items[j].expert for key in self.keys for j in by_key.get(key, ())}}
            self.free |= {i for i, c in enumerate(items) if c.key is None}  # a supervision exists only with its visit
        elif name == "same townships":
            self.free |= {i for i, c in enumerate(items) if c.township in self.townships}
            here = {items[i].expert for i in self.free}
            self.free |= {i for i in chosen if items[i].expert in here}
        elif name == "other experts":
            served = {items[i].key for i in chosen if items[i].expert in helpers and items[i].key is not None}
            self.free |= {i for expert in helpers for i in by_expert.get(expert, ())}
            self.free |= {i for key in rows | served for i in by_key.get(key, ())}
        elif name == "other days":
            specialties = {key.specialty for key in rows}
            self.free |= {i for i, c in enumerate(items) if c.key is not None and c.key.specialty in specialties}
            self.free |= {i for i in chosen if items[i].expert in helpers}
        else:
            self.free = set(range(len(items)))
        return set(self.free)


def _visits_of(assignments) -> set[tuple]:
    return {(a.expert, a.township, a.date) for a in assignments if a.link_visit}


@dataclass
class _Step:
    """What one widening step's solve found, in the whole month's candidate indices."""

    incumbent: Incumbent
    coverage: int
    changes: int
    optimal: bool


def _tiered_solve(problem, candidates, free, fixed, kept, incumbent, time_limit, workers, progress, seed, targets, work_limit=None) -> _Step | None:
    """One objective in three tiers, so whatever the solver has when time runs out is ordered right:
    coverage first, then fewest changes, then the soft terms. The model holds only the free and
    fixed candidates (the others are 0), so a narrow step stays small however large the month."""
    sub, originals = restrict(problem, candidates, set(free) | set(fixed) | set(kept))
    position = {index: p for p, index in enumerate(originals)}
    sub_free = {position[i] for i in free if i not in fixed}
    sub_fixed = {position[i] for i in fixed}
    roster = build_model(problem, sub, free=sub_free, fixed=sub_fixed, previous=[position[i] for i in kept], stability_weight=1, fair_targets=targets)
    stability = [p for p in roster.penalties if p.family == "stability"]
    roster.penalties = [p for p in roster.penalties if p.family != "stability"]
    changes = stability[0].expression if stability else 0
    # a visit moved to another day changes the sessions that carry it: it counts as a change too
    kept_visits = [roster.visits[visit] for visit in _visits_of(kept.values()) if visit in roster.visits]
    if kept_visits:
        changes = changes + len(kept_visits) - cp_model.LinearExpr.sum(kept_visits)
    coverage, soft = family_sum(roster, True), family_sum(roster, False)
    roster.model.minimize(COVERAGE_TIER * coverage + CHANGE_WEIGHT * changes + soft)
    hint = Incumbent({position[i] for i in incumbent.chosen if i in position}, set(incumbent.visits))
    solver, status, _ = solve_model(roster, hint, time_limit, workers, progress, "re-plan", seed, work_limit=work_limit)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    found = read_incumbent(roster, solver)
    chosen = {originals[p] for p in found.chosen}
    covered = int(solver.value(coverage)) if not isinstance(coverage, int) else coverage
    changed = int(solver.value(changes)) if not isinstance(changes, int) else changes
    return _Step(Incumbent(chosen, found.visits, found.objective, found.terms), covered, changed, status == cp_model.OPTIMAL)


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
    """A new roster for the changed problem that covers what a fresh solve would and changes as few of
    `previous`'s assignments as it can.

    It frees the touched rows first and widens (`Widening`) until its coverage reaches the changed
    month's coverage floor (solver.bounds) or the time runs out. Days up to `frozen_until` (today,
    in the service) are history: their sessions stay as they were and nothing new is placed on them.
    The report's bound is the whole changed month's: OPTIMAL only when no roster of the month covers
    more, and no roster of the last neighbourhood changes fewer assignments or costs less.
    """
    started = time.monotonic()
    still, lost = split_previous(problem, previous)
    keys, townships = touched_parts(problem, still, lost)
    candidates = enumerate_candidates(problem, also=[_as_candidate(a) for a in still])
    kept = {candidates.index_of(*_as_candidate(a)): a for a in still}
    floor = coverage_lower_bound(problem, candidates)
    targets = fair_targets(problem, candidates)
    past = {i for i, c in enumerate(candidates.items) if c.day <= frozen_until} if frozen_until is not None else set()
    if progress:
        progress(f"re-plan: {len(kept)} assignments still possible, {len(lost)} not; coverage floor {floor}")
    state = construct(problem, candidates, fixed=set(kept) & past, keep=list(kept))
    best = Incumbent(set(state.chosen), set(state.visits))
    best_coverage, best_changes, best_optimal = coverage_cost(problem, candidates, best), None, False
    widening = Widening(problem, candidates, kept, keys, townships)
    # a deterministic budget when asked (`work_limit`), shared out as the seconds are
    work_left = work_limit
    coverage_proven = False
    for number, name in enumerate(Widening.STEPS):
        remaining = time_limit - AFTER_SOLVE_SECONDS - (time.monotonic() - started)
        if remaining <= 0.05 and best_changes is not None:
            break
        last = number == len(Widening.STEPS) - 1
        free = widening.step(name, best.chosen) - past
        fixed = set(kept) - free
        share = 1.0 if last else STEP_SHARE
        step_work = None if work_left is None else max(0.1, work_left * share)
        found = _tiered_solve(
            problem, candidates, free, fixed, kept, best, max(0.2, remaining * share), workers, progress, seed, targets, step_work
        )
        if work_left is not None and step_work is not None:
            work_left = max(0.0, work_left - step_work)
        if found is None and not fixed:
            break
        if found is not None and (found.coverage, found.changes) <= (best_coverage, best_changes if best_changes is not None else found.changes):
            best, best_coverage, best_changes, best_optimal = found.incumbent, found.coverage, found.changes, found.optimal
        if progress:
            progress(f"re-plan, {name}: {len(free)} candidates free, coverage {best_coverage} (floor {floor}), {best_changes} changes")
        coverage_proven = best_changes is not None and (best_coverage <= floor or (last and best_optimal))
        if coverage_proven:
            break
    if best.objective is None:
        best = evaluate(problem, candidates, best, targets)
    optimal = coverage_proven and best_optimal
    carried_before = [index for index, a in kept.items() if a.link_visit]
    assignments = carry_ids(problem.month, previous, to_assignments(problem, candidates, best.chosen, best.visits, carried_before))
    unmet = explain_unmet(problem, candidates, best.chosen, best.visits)
    unmet_sessions = sum(u.sessions for u in unmet if u.type != "supervision")
    report = SolveReport(
        status="OPTIMAL" if optimal else "FEASIBLE",
        objective=best.objective,
        # OPTIMAL: coverage proven over the whole changed month, changes and soft terms over the last neighbourhood
        best_bound=best.objective if optimal else None,
        wall_seconds=time.monotonic() - started,
        workers=workers,
        unmet_sessions=unmet_sessions,
        unmet_bound=unmet_sessions if coverage_proven else unmet_lower_bound(problem, candidates),
        objective_terms=best.terms,
    )
    return Solution(problem.month, tuple(assignments), tuple(unmet), report)
