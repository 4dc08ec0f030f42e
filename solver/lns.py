"""Large-neighbourhood search for months too big for one CP-SAT model.

Each step frees one neighbourhood (a township, a specialty, or a week at a few townships),
keeps the rest of the incumbent fixed, and re-optimises it with CP-SAT on a model that holds
only the free candidates and the fixed assignments (everything else is 0 and left out), so a
step stays small however large the county is.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from ortools.sat.python import cp_model

from solver.candidates import Candidate, Candidates, group_candidates
from solver.model import build_model
from solver.problem import Problem
from solver.rules.objectives import fair_targets

STEP_SECONDS = 4.0
MAX_FREE = 12_000


def _neighbourhoods(problem: Problem, candidates: Candidates, rng: random.Random):
    """Named neighbourhoods in random order; each free set is computed only when its turn comes."""
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
    for name, test in options:
        yield name, {c.index for c in candidates.items if test(c)}


def _sub_candidates(problem: Problem, candidates: Candidates, keep: set[int]) -> tuple[Candidates, list[int]]:
    originals = sorted(keep)
    items = [Candidate(position, *_fields(candidates.items[index])) for position, index in enumerate(originals)]
    return group_candidates(problem, items, candidates.spare), originals


def _fields(candidate: Candidate) -> tuple:
    return (candidate.expert, candidate.slot, candidate.township, candidate.key)


def improve(problem: Problem, candidates: Candidates, incumbent, deadline: float, workers: int = 2, progress=None, seed: int = 0):
    """Improve the incumbent neighbourhood by neighbourhood until the deadline; return the best found."""
    from solver.engine import Incumbent

    rng = random.Random(seed)
    targets = fair_targets(problem, candidates)
    best = Incumbent(set(incumbent.chosen), set(incumbent.visits))
    steps = improved = 0
    while time.monotonic() < deadline - 1.0:
        for name, free in _neighbourhoods(problem, candidates, rng):
            if time.monotonic() >= deadline - 1.0:
                break
            if len(free) > MAX_FREE:
                free = set(rng.sample(sorted(free), MAX_FREE)) | (free & best.chosen)
            sub, originals = _sub_candidates(problem, candidates, free | best.chosen)
            position = {index: p for p, index in enumerate(originals)}
            sub_free = {position[i] for i in free}
            sub_fixed = {position[i] for i in best.chosen if i not in free}
            roster = build_model(problem, sub, free=sub_free, fixed=sub_fixed, fair_targets=targets)
            roster.hint({position[i] for i in best.chosen}, best.visits)
            solver = cp_model.CpSolver()
            solver.parameters.num_workers = workers
            solver.parameters.max_time_in_seconds = min(STEP_SECONDS, max(0.2, deadline - time.monotonic()))
            solver.parameters.random_seed = rng.randrange(1 << 30)
            status = solver.solve(roster.model)
            steps += 1
            if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                continue
            chosen = {originals[p] for p in sub_fixed} | {originals[p] for p, v in roster.x.items() if solver.boolean_value(v)}
            visits = {key for key, v in roster.visits.items() if solver.boolean_value(v)}
            gained = len(visits) - len(best.visits)
            covered_before = sum(1 for i in best.chosen if candidates.items[i].key is not None)
            covered_after = sum(1 for i in chosen if candidates.items[i].key is not None)
            if (gained, covered_after) < (0, covered_before):
                continue  # never trade visits or coverage away for soft terms
            if chosen != best.chosen or visits != best.visits:
                improved += 1
            best = Incumbent(chosen, visits)
            if progress:
                progress(f"LNS step {steps} ({name}): {covered_after} sessions, {len(visits)} visits")
    return best
