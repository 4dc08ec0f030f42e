"""Large-neighbourhood search: the soft terms of a month, improved a piece at a time.

It carries every month above a few thousand candidates (solver.engine); the smallest go to the
whole model. Each step (solver.search.schedule) frees one neighbourhood and keeps the rest of the
incumbent fixed, then re-optimises it with CP-SAT on a model that holds only the free candidates
and the fixed assignments (every other candidate is 0 and left out), so a step stays small however
large the county is. A step is kept only if it makes no fewer link visits and covers no less
demand, and, making as many and covering as much, only if it ends no worse. A step of augmenting
chains (solver.augment) needs no CP-SAT: it is kept when it covers more.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from ortools.sat.python import cp_model

from solver.augment import augment
from solver.bounds import flow_plan
from solver.candidates import Candidates, restrict
from solver.model import build_model
from solver.problem import Problem
from solver.rules.objectives import fair_targets
from solver.search.config import LARGE_MONTH, SearchConfig
from solver.search.context import SearchContext
from solver.search.cpsat import Progress
from solver.search.incumbent import Incumbent, coverage_cost, evaluate
from solver.search.kinds import Kind
from solver.search.schedule import steps


def improve(
    problem: Problem,
    candidates: Candidates,
    incumbent: Incumbent,
    deadline: float,
    workers: int = 2,
    progress: Progress | None = None,
    seed: int = 0,
    targets: dict[str, int] | None = None,
    config: SearchConfig = LARGE_MONTH,
    coverage_floor: int | None = None,
    lower_bound: Callable[[], int | None] = lambda: None,
) -> Incumbent:
    """Improve the incumbent neighbourhood by neighbourhood until the deadline, or until it reaches
    `lower_bound()` (None while the bound is not known yet); return the best found.

    `coverage_floor` is a lower bound on the weighted unmet demand and missed visits: once the
    incumbent is there, no step looks for more coverage.
    """
    rng = random.Random(seed)
    best = Incumbent(set(incumbent.chosen), set(incumbent.visits))
    targets = targets if targets is not None else fair_targets(problem, candidates)
    context = SearchContext(problem, candidates, rng, lambda: best, targets, config)
    taken, best_objective = 0, None
    coverage_settled = lambda: coverage_floor is not None and coverage_cost(problem, candidates, best) <= coverage_floor  # noqa: E731
    for step in steps(context, deadline, coverage_settled):
        if time.monotonic() >= deadline - min(config.last_step_seconds, config.step_seconds):  # no time left for a step
            break
        if best_objective is not None and (bound := lower_bound()) is not None and best_objective <= bound:
            best_objective = evaluate(problem, candidates, best, targets).objective  # the whole model's word on it
            if best_objective is not None and best_objective <= bound:
                break  # proven optimal: nothing better exists
        if step.kind is Kind.CHAINS:
            chained = augment(
                problem, candidates, best.chosen, best.visits, deadline=min(deadline, time.monotonic() + config.chains_seconds),
                seed=rng.randrange(1 << 30), quotas=flow_plan(problem, candidates)[1],
            )
            covered_before = sum(1 for i in best.chosen if candidates.items[i].key is not None)
            covered_after = sum(1 for i in chained if candidates.items[i].key is not None)
            if covered_after > covered_before:  # more coverage: kept whatever the soft terms (the next steps price them)
                best, best_objective = Incumbent(chained, set(best.visits)), None
                if lower_bound() is not None:  # scored, so that the search can stop if it is at the bound
                    best_objective = evaluate(problem, candidates, best, targets).objective
                if progress:
                    progress(f"augmenting chains: {covered_after} sessions covered, {len(best.visits)} link visits")
            continue
        free = step.free
        if len(free) > config.max_free and not step.frees_exactly:
            free = set(rng.sample(sorted(free), config.max_free)) | (free & best.chosen)
        step_started = time.monotonic()
        sub, originals = restrict(problem, candidates, free | best.chosen)
        position = {index: p for p, index in enumerate(originals)}
        sub_free = {position[i] for i in free}
        sub_fixed = {position[i] for i in best.chosen if i not in free}
        roster = build_model(problem, sub, free=sub_free, fixed=sub_fixed, fair_targets=targets)
        roster.hint({position[i] for i in (step.hint if step.hint is not None else best.chosen)}, best.visits)
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = workers
        limit = config.step_seconds * (config.whole_days_step_factor if step.kind is Kind.WHOLE_DAYS else 1)
        solver.parameters.max_time_in_seconds = max(config.min_step_seconds, min(limit, deadline - time.monotonic() - config.deadline_margin))
        solver.parameters.random_seed = rng.randrange(1 << 30)
        built = time.monotonic()
        status = solver.solve(roster.model)
        taken += 1
        timing = f"{len(free)} free, built in {built - step_started:.1f} s, {solver.status_name(status)} in {time.monotonic() - built:.1f} s"
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            continue
        chosen = {originals[p] for p in sub_fixed} | {originals[p] for p, v in roster.x.items() if solver.boolean_value(v)}
        visits = {key for key, v in roster.visits.items() if solver.boolean_value(v)}
        covered_before = sum(1 for i in best.chosen if candidates.items[i].key is not None)
        covered_after = sum(1 for i in chosen if candidates.items[i].key is not None)
        objective = round(solver.objective_value)
        if (len(visits), covered_after) < (len(best.visits), covered_before):
            continue  # never trade visits or coverage away for soft terms
        if (len(visits), covered_after) == (len(best.visits), covered_before) and best_objective is not None and objective > best_objective:
            continue  # the step ran out of time before it found the roster it started from
        best, best_objective = Incumbent(chosen, visits), objective
        if progress:
            progress(f"LNS step {taken} ({step.label}): {covered_after} sessions covered, {len(visits)} link visits, objective {objective} ({timing})")
    return best
