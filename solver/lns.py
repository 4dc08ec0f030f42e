"""Large-neighbourhood search for months too big for one CP-SAT model.

Each step frees one neighbourhood and keeps the rest of the incumbent fixed, then
re-optimises it with CP-SAT on a model that holds only the free candidates and the fixed
assignments (every other candidate is 0 and left out), so a step stays small however large
the county is. While demand is unmet, every other step frees the experts who could serve an
unmet demand row together with the rows they serve now, so sessions can be passed along a
chain; the other steps free a township, a specialty, or a week at a few townships for the
soft terms. A step is kept only if it makes no fewer link visits and covers no less demand.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator

from ortools.sat.python import cp_model

from solver.candidates import Candidate, Candidates, restrict
from solver.model import build_model
from solver.problem import Problem

STEP_SECONDS = 3.0
MAX_FREE = 10_000


def _soft_neighbourhoods(problem: Problem, rng: random.Random) -> list[tuple[str, Callable[[Candidate], bool]]]:
    townships = [t.id for t in problem.townships]
    specialties = sorted({k.specialty for k in problem.demand})
    weeks = sorted({s.day.isocalendar()[:2] for s in problem.slots})
    options: list[tuple[str, Callable[[Candidate], bool]]] = []
    for township in townships:
        options.append((f"township {township}", lambda c, t=township: c.township == t))
    for specialty in specialties:
        options.append((f"specialty {specialty}", lambda c, s=specialty: c.key is not None and c.key.specialty == s))
    for week in weeks:
        some = set(rng.sample(townships, k=max(1, len(townships) // 4)))
        options.append((f"week {week[1]}", lambda c, w=week, some=some: c.day.isocalendar()[:2] == w and c.township in some))
    rng.shuffle(options)
    return options


def _unmet_neighbourhood(problem: Problem, candidates: Candidates, chosen: set[int], rng: random.Random) -> tuple[str, set[int]] | None:
    covered: dict = {}
    for index in chosen:
        key = candidates.items[index].key
        if key is not None:
            covered[key] = covered.get(key, 0) + 1
    short = [key for key, wanted in problem.demand.items() if covered.get(key, 0) < wanted and candidates.by_key.get(key)]
    if not short:
        return None
    key = rng.choice(short)
    helpers = {candidates.items[i].expert for i in candidates.by_key[key]}
    served_keys = {candidates.items[i].key for i in chosen if candidates.items[i].expert in helpers and candidates.items[i].key is not None}
    free = set(candidates.by_key[key])
    for expert in helpers:
        free.update(candidates.by_expert.get(expert, ()))
    for other in served_keys:
        free.update(candidates.by_key.get(other, ()))
    return f"unmet {key.township}/{key.type}/{key.specialty}", free


def _neighbourhoods(problem: Problem, candidates: Candidates, rng: random.Random, chosen: Callable[[], set[int]]) -> Iterator[tuple[str, set[int]]]:
    """Alternate unmet-demand steps (while any demand is short) with soft-term steps."""
    while True:
        for name, test in _soft_neighbourhoods(problem, rng):
            targeted = _unmet_neighbourhood(problem, candidates, chosen(), rng)
            if targeted is not None:
                yield targeted
            yield name, {c.index for c in candidates.items if test(c)}


def improve(problem: Problem, candidates: Candidates, incumbent, deadline: float, workers: int = 2, progress=None, seed: int = 0, targets=None):
    """Improve the incumbent neighbourhood by neighbourhood until the deadline; return the best found."""
    from solver.engine import Incumbent

    rng = random.Random(seed)
    best = Incumbent(set(incumbent.chosen), set(incumbent.visits))
    steps = 0
    for name, free in _neighbourhoods(problem, candidates, rng, lambda: best.chosen):
        if time.monotonic() >= deadline - 0.5:
            break
        if len(free) > MAX_FREE:
            free = set(rng.sample(sorted(free), MAX_FREE)) | (free & best.chosen)
        sub, originals = restrict(problem, candidates, free | best.chosen)
        position = {index: p for p, index in enumerate(originals)}
        sub_free = {position[i] for i in free}
        sub_fixed = {position[i] for i in best.chosen if i not in free}
        roster = build_model(problem, sub, free=sub_free, fixed=sub_fixed, fair_targets=targets)
        roster.hint({position[i] for i in best.chosen}, best.visits)
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = workers
        solver.parameters.max_time_in_seconds = max(0.2, min(STEP_SECONDS, deadline - time.monotonic() - 0.3))
        solver.parameters.random_seed = rng.randrange(1 << 30)
        status = solver.solve(roster.model)
        steps += 1
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            continue
        chosen = {originals[p] for p in sub_fixed} | {originals[p] for p, v in roster.x.items() if solver.boolean_value(v)}
        visits = {key for key, v in roster.visits.items() if solver.boolean_value(v)}
        covered_before = sum(1 for i in best.chosen if candidates.items[i].key is not None)
        covered_after = sum(1 for i in chosen if candidates.items[i].key is not None)
        if (len(visits), covered_after) < (len(best.visits), covered_before):
            continue  # never trade visits or coverage away for soft terms
        best = Incumbent(chosen, visits)
        if progress:
            progress(f"LNS step {steps} ({name}): {covered_after} sessions covered, {len(visits)} link visits")
    return best
