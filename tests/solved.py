"""A scenario's month solved once per test process, for the tests that need a solved roster of it, not the solve.

Many fixtures only need "a valid roster of the sample county's January" to store, publish, show or
explain; each solved it again (about 5 s on a quiet machine, three times that on a busy one). They
ask `solved_once` instead: the first caller solves for real, the others get the same Solution (a
frozen dataclass: nobody can change it under another). The key is the scenario's whole document,
the month and the solver settings, so a changed scenario or setting is solved afresh. Tests of the
solve itself (quality, bounds, re-plans, stopping) call solver.engine.solve as before.

`fresh_solves_reused()` does the same for a roster made through the service's own path
(`scheduler.flows.generate`: the month's problem read from the database, the solve, the save): while
it is open, a fresh solve (no previous roster) of a problem already solved in this process with the
same settings gets that Solution, and everything around the solve runs as it does in the service, so
the database holds what a real generation stores. Re-plans are always solved.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator

import scheduler.flows as flows
from scheduler.problem_builder import build_problem
from scheduler.scenario.schema import Scenario
from solver.engine import solve
from solver.problem import Problem
from solver.solution import Solution

# The settings of a roster the tests only store and read: the suite's limit, and one CP-SAT worker (two test
# processes share the two cores, see scripts/test).
TIME_LIMIT = 3.0
WORKERS = 1

_solved: dict[tuple[str, str, float, int], Solution] = {}


def solved_once(scenario: Scenario, month: str, *, time_limit: float = TIME_LIMIT, workers: int = WORKERS) -> Solution:
    """The scenario's month solved with these settings: solved on the first call of this process, the same Solution after."""
    key = (json.dumps(scenario.to_document(), sort_keys=True), month, time_limit, workers)
    if key not in _solved:
        _solved[key] = solve(build_problem(scenario, month), time_limit=time_limit, workers=workers)
    return _solved[key]


_generated: dict[str, Solution] = {}


@contextlib.contextmanager
def fresh_solves_reused() -> Iterator[None]:
    """While open, `scheduler.flows` solves a fresh month once per problem and settings in this process (see above)."""
    real = flows.solve

    def solve_once(problem: Problem, **options) -> Solution:
        if options.get("previous") is not None:
            return real(problem, **options)
        key = repr((problem, sorted(options.items())))
        if key not in _generated:
            _generated[key] = real(problem, **options)
        return _generated[key]

    flows.solve = solve_once
    try:
        yield
    finally:
        flows.solve = real
