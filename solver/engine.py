"""Solve a month: constructive start, then CP-SAT: the whole model on small months, large-neighbourhood
search (solver.search.lns) on the others; report with a bound.

`solve` is the one entry point: a fresh roster, or with `previous` a minimal-change re-plan.

A relaxation's bound is used (to cut the model, to stop early, to say OPTIMAL) only on a model
that holds every term it prices (solver.objective.bound_holds): with a rule left out of the
model, a bound that still prices its term would claim more than the model's optimum.
"""

from __future__ import annotations

import datetime as dt
import time
from concurrent.futures import Future, ThreadPoolExecutor

from ortools.sat.python import cp_model

from solver.augment import augment
from solver.bounds import LINEAR_BOUND_MIN_TIME_LIMIT, assignment_plan, coverage_lower_bound, flow_plan, objective_lower_bound, unmet_lower_bound
from solver.candidates import Candidates, enumerate_candidates
from solver.construct import construct
from solver.model import build_model, model_terms
from solver.objective import Term, bound_holds
from solver.problem import Problem
from solver.reasons import explain_infeasible, explain_unmet
from solver.replan import replan
from solver.rules.objectives import fair_targets
from solver.search import Incumbent, Progress, coverage_cost, evaluate, family_sum, read_incumbent, solve_model, state_incumbent, to_assignments
from solver.search.config import LARGE_MONTH, SMALL_MONTH
from solver.search.lns import improve
from solver.solution import SolveReport, Solution

__all__ = ["Incumbent", "Progress", "coverage_cost", "evaluate", "solve", "to_assignments"]

# Months with more candidates than this, and at least this many seconds left after the start, go
# to large-neighbourhood search alone; the rest to the whole model (stage A, then B), which proves
# optimality where it can. On a searched month, stage A and a closing whole-model solve took time
# the search used better, and their bound never beat the relaxations' (bench/RESULTS.md, "Search
# tuning history"). A fresh month's model is never infeasible (its hard rules only limit; an
# empty roster keeps them), so the search loses no explanation.
LNS_MIN_CANDIDATES = 3_000
LNS_AFTER_SECONDS = 3.0
# Large months keep this long for scoring and explaining the roster (evaluating a 400-expert month
# takes a while); the others this long.
LARGE_SCORING_SECONDS = 1.0
SCORING_SECONDS = 0.3
# Above this many candidates the search takes larger, longer steps (solver.search.config.LARGE_MONTH).
LARGE_MONTH_CANDIDATES = 60_000
# Stage A's share of the time on the whole model: it stops as soon as it meets the coverage floor.
COVERAGE_SHARE = 0.4
# On a large month, augmenting chains (solver.augment) may take a start toward the coverage floor until this share of the time.
AUGMENT_SHARE = 0.4
FIRST_CHAINS_SECONDS = 5.0
NOT_A_BOUND = " (it prices a term the model leaves out: not used)"


def solve(
    problem: Problem,
    time_limit: float = 10.0,
    workers: int = 2,
    previous: Solution | None = None,
    progress: Progress | None = None,
    seed: int = 0,
    frozen_until: dt.date | None = None,
    work_limit: float | None = None,
) -> Solution:
    """A month's roster (or, with `previous`, a minimal-change re-plan of it, days up to `frozen_until` untouched).

    `work_limit` (CP-SAT deterministic work) applies to the re-plan only, for now."""
    if previous is not None:
        return replan(
            problem, previous, time_limit=time_limit, workers=workers, progress=progress, seed=seed, frozen_until=frozen_until, work_limit=work_limit
        )
    started = time.monotonic()
    candidates = enumerate_candidates(problem)
    if progress:
        progress(f"{len(candidates.items)} candidate assignments")
    floor = coverage_lower_bound(problem, candidates)
    with_lp = time_limit >= LINEAR_BOUND_MIN_TIME_LIMIT
    large = len(candidates.items) > LARGE_MONTH_CANDIDATES
    # on a large month every second counts: the first start that reaches the coverage floor is the hint,
    # each start taken as far toward it as augmenting chains go within a share of the time
    chains_until = started + time_limit * AUGMENT_SHARE if large else None
    incumbent, first_feasible = best_start(problem, candidates, started, enough=floor if large else None, chains_until=chains_until)
    if progress:
        progress(f"constructive start: {len(incumbent.chosen)} sessions, {len(incumbent.visits)} link visits")
    if len(candidates.items) > LNS_MIN_CANDIDATES and time_limit - (time.monotonic() - started) > LNS_AFTER_SECONDS:
        # The search does not need the relaxations, only its report does: they run beside it (the
        # assignment LP and the flows release the GIL while they solve).
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bounds") as beside:
            relaxed = beside.submit(objective_lower_bound, problem, candidates, coverage_floor=floor, with_assignment_lp=with_lp)
            return searched_month(problem, candidates, incumbent, started, time_limit, workers, progress, seed, first_feasible, floor, relaxed, large)
    relaxed = objective_lower_bound(problem, candidates, coverage_floor=floor, with_assignment_lp=with_lp)
    if progress:
        progress(f"lower bound from relaxations: {relaxed}" + ("" if bound_holds(objective_lower_bound, model_terms()) else NOT_A_BOUND))
    roster = build_model(problem, candidates, free=range(len(candidates.items)))
    return two_stage(problem, candidates, roster, incumbent, started, time_limit, workers, progress, seed, first_feasible, floor, relaxed)


def best_start(
    problem: Problem, candidates: Candidates, started: float, enough: int | None = None, chains_until: float | None = None
) -> tuple[Incumbent, float]:
    """Three greedy starts: following the cheapest relaxed assignment (fairness and continuity, solver.bounds),
    following the max-flow plan (it covers the most), and plain. The best covering, then the cheapest, is the hint;
    with `enough`, the first whose weighted unmet demand and missed visits come to no more than it. With
    `chains_until` (a time.monotonic() deadline), each start above `enough` first covers what augmenting
    chains (solver.augment) find by then.

    Returns it with the seconds from `started` to the first complete roster.
    """
    unmet, quotas = flow_plan(problem, candidates)
    plan = assignment_plan(problem, candidates, sum(problem.demand.values()) - unmet)
    starts, first = [], 0.0
    for following in (plan, quotas, None):
        start = state_incumbent(construct(problem, candidates, quotas=following))
        first = first or time.monotonic() - started
        short = enough is None or coverage_cost(problem, candidates, start) > enough
        if chains_until is not None and short and (not starts or time.monotonic() < chains_until):
            # the first start gets its chains however long it took to build (a busy machine's start can be late)
            until = chains_until if starts else max(chains_until, time.monotonic() + FIRST_CHAINS_SECONDS)
            start.chosen = augment(problem, candidates, start.chosen, start.visits, deadline=until, quotas=quotas)
        starts.append(start)
        if enough is not None and coverage_cost(problem, candidates, starts[-1]) <= enough:
            return starts[-1], first
    least = min(coverage_cost(problem, candidates, start) for start in starts)
    covering = [start for start in starts if coverage_cost(problem, candidates, start) == least]
    if len(covering) == 1:
        return covering[0], first
    targets = fair_targets(problem, candidates)
    scored = [evaluate(problem, candidates, start, targets) for start in covering]
    return min(scored, key=lambda start: start.objective if start.objective is not None else float("inf")), first


def searched_month(
    problem, candidates, incumbent, started, time_limit, workers, progress, seed, first_feasible, floor: int, relaxed: Future[int], large: bool
) -> Solution:
    """A month for large-neighbourhood search (solver.search.lns) from the constructive roster, to the time limit.

    The bound is `relaxed`, solver.bounds' relaxations of the whole model (the coverage floor
    plus separate bounds on trips, spread, market days and the assignment costs, computed while
    the search runs); in the time a search has, CP-SAT's own bound on the whole model does not
    get that far. The search stops early once it reaches that bound. Large months take larger,
    longer steps.
    """
    relaxed_holds = bound_holds(objective_lower_bound, model_terms())
    # without the relaxations, the coverage floor still bounds a model that holds the coverage terms
    fallback = floor if bound_holds(coverage_lower_bound, model_terms()) else None
    targets = fair_targets(problem, candidates)
    deadline = started + time_limit - (LARGE_SCORING_SECONDS if large else SCORING_SECONDS)  # leave time to score and explain
    known = lambda: relaxed.result() if relaxed_holds and relaxed.done() else None  # noqa: E731
    config = LARGE_MONTH if large else SMALL_MONTH
    incumbent = improve(
        problem, candidates, incumbent, deadline=deadline, workers=workers, progress=progress, seed=seed, targets=targets, config=config, coverage_floor=floor, lower_bound=known
    )
    best = evaluate(problem, candidates, incumbent, targets)
    bound = relaxed.result() if relaxed_holds else fallback
    if progress:
        progress(f"lower bound from relaxations: {relaxed.result()}" + ("" if relaxed_holds else NOT_A_BOUND))
    coverage = coverage_cost(problem, candidates, best)
    unmet = explain_unmet(problem, candidates, best.chosen, best.visits)
    unmet_sessions = sum(u.sessions for u in unmet if u.type != "supervision")
    report = SolveReport(
        status="OPTIMAL" if best.objective is not None and bound is not None and best.objective <= bound else "FEASIBLE",
        objective=best.objective,
        best_bound=bound,
        wall_seconds=time.monotonic() - started,
        workers=workers,
        unmet_sessions=unmet_sessions,
        unmet_bound=unmet_sessions if coverage <= floor else unmet_lower_bound(problem, candidates),
        first_feasible_seconds=first_feasible,
        objective_terms=best.terms,
    )
    assignments = to_assignments(problem, candidates, best.chosen, best.visits)
    return Solution(problem.month, tuple(assignments), tuple(unmet), report)


def two_stage(problem, candidates, roster, incumbent, started, time_limit, workers, progress, seed, first_feasible, floor: int, relaxed: int) -> Solution:
    """Stage A settles the least weighted unmet demand and missed visits; stage B optimises the soft terms at that level.

    Stage A starts from the coverage floor (solver.bounds) and stops as soon as it meets it;
    stage B continues from its roster on the whole model, which gives its bound. When A is
    proven and the soft cost is below one unmet session's (or visit's) weight, no roster with
    worse coverage can win, so A's optimum plus B's bound bounds the whole objective.
    """
    weights = problem.rules.weights
    coverage, soft = family_sum(roster, True), family_sum(roster, False)
    relaxed_holds = bound_holds(objective_lower_bound, roster.terms)
    if bound_holds(coverage_lower_bound, roster.terms):
        roster.model.add(coverage >= floor)  # a valid cut
    else:
        floor = 0  # the model leaves a coverage term out: the floor prices more than its coverage
    best, coverage_best, coverage_bound = incumbent, coverage_cost(problem, candidates, incumbent), floor
    if coverage_best > floor:
        roster.model.minimize(coverage)
        remaining = time_limit - (time.monotonic() - started)
        solver, status, _ = solve_model(roster, incumbent, max(0.2, remaining * COVERAGE_SHARE), workers, progress, "coverage", seed, floor=floor)
        if status in (cp_model.INFEASIBLE, cp_model.MODEL_INVALID):
            return _failure(problem, candidates, roster, status, started, workers)
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            best = read_incumbent(roster, solver)
            coverage_best = best.terms.get("unmet", 0) + best.terms.get("link", 0)
            coverage_bound = max(floor, int(solver.best_objective_bound))
    proven = coverage_best <= coverage_bound
    roster.model.add(coverage <= coverage_best)
    if relaxed_holds:
        roster.model.add(coverage + soft >= relaxed)  # a valid cut: no roster beats the relaxations
    roster.model.minimize(soft)
    remaining = time_limit - (time.monotonic() - started)
    soft_floor = relaxed - coverage_best if proven and relaxed_holds else None  # reached: nothing better exists
    solver, status, _ = solve_model(roster, best, max(0.2, remaining), workers, progress, "soft terms", seed, floor=soft_floor)
    soft_bound = 0
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        found = read_incumbent(roster, solver)
        if best.objective is None or found.objective <= best.objective:
            best = found
        soft_bound = max(0, int(solver.best_objective_bound))
    elif status in (cp_model.INFEASIBLE, cp_model.MODEL_INVALID):
        return _failure(problem, candidates, roster, status, started, workers)
    if best.objective is None:  # stage B found nothing in time: score the roster we have
        best = evaluate(problem, candidates, best)
    objective = best.objective if best.objective is not None else coverage_best
    step = min([w for w in (weights.unmet, weights.link) if w > 0] or [0])
    if proven and (objective - coverage_best < step or not step):
        bound = coverage_best + soft_bound
    else:
        bound = coverage_bound
    if relaxed_holds:
        bound = max(bound, relaxed)
    assignments = to_assignments(problem, candidates, best.chosen, best.visits)
    unmet = explain_unmet(problem, candidates, best.chosen, best.visits)
    unmet_sessions = sum(u.sessions for u in unmet if u.type != "supervision")
    report = SolveReport(
        status="OPTIMAL" if best.objective is not None and objective <= bound else "FEASIBLE",
        objective=objective,
        best_bound=bound,
        wall_seconds=time.monotonic() - started,
        workers=workers,
        unmet_sessions=unmet_sessions,
        unmet_bound=unmet_sessions if proven and Term.UNMET in roster.terms else (coverage_bound // weights.unmet if weights.unmet and not problem.links else None),
        first_feasible_seconds=first_feasible,
        objective_terms=best.terms,
    )
    return Solution(problem.month, tuple(assignments), tuple(unmet), report)


def _failure(problem, candidates, roster, status, started, workers) -> Solution:
    """An empty roster that says why: which hard rules clash, or what is wrong with the model."""
    if status == cp_model.INFEASIBLE:
        report = SolveReport("INFEASIBLE", None, None, time.monotonic() - started, workers, clash=explain_infeasible(problem, candidates, roster.fixed))
    else:
        report = SolveReport("MODEL_INVALID", None, None, time.monotonic() - started, workers, roster.model.validate() or "the model is invalid")
    return Solution(problem.month, (), (), report)
