"""Cross-month equity: prior loads (`Problem.prior_loads`) move this month's fair targets, and with them the roster."""

from __future__ import annotations

import dataclasses
import random
from collections import Counter

import pytest

from solver.bounds import objective_lower_bound
from solver.candidates import enumerate_candidates
from solver.engine import solve
from solver.problem import PriorLoad, Problem, Rules, Weights
from solver.rules.objectives import fair_targets, load_fair_to_capacity
from tests.solver.checker import violations
from tests.solver.conftest import MON, THU, TUE, WED, cardiologist, clinic, make_problem, session, slots_of, township, verify
from tests.solver.strategies import random_problem
from tests.solver.test_bounds import _optimum

FAIRNESS_ONLY = Rules(weights=Weights(fairness=10, spread=0, trips=0, continuity=0, preference=0))


def _three_cardiologists(**prior: PriorLoad) -> Problem:
    """Six clinic sessions at one township for three cardiologists of four sessions each (two each, month-only)."""
    problem = make_problem(
        [cardiologist("E1"), cardiologist("E2"), cardiologist("E3")],
        [township(rooms=3)],
        {clinic(): 6},
        slots=slots_of(MON, TUE, WED, THU, halves=("am", "pm")),
        rules=FAIRNESS_ONLY,
    )
    return dataclasses.replace(problem, prior_loads=prior)


def test_without_prior_loads_every_expert_gets_the_same_share():
    problem = _three_cardiologists()
    assert fair_targets(problem, enumerate_candidates(problem)) == {"E1": 2, "E2": 2, "E3": 2}


def test_an_expert_under_used_before_is_aimed_higher_within_the_cap():
    # last months: E1 served 0 of 8, E2 and E3 served 8 of 8 each; the window's share is
    # (16 + 6) / (24 + 12) = 0.61, so E1 is owed 0.61 x 12 = 7.3 and gets its cap of 4
    problem = _three_cardiologists(E1=PriorLoad(0, 8), E2=PriorLoad(8, 8), E3=PriorLoad(8, 8))
    targets = fair_targets(problem, enumerate_candidates(problem))
    assert targets == {"E1": 4, "E2": 1, "E3": 1}
    assert sum(targets.values()) == 6


def test_prior_loads_that_were_even_leave_the_month_only_targets():
    problem = _three_cardiologists(E1=PriorLoad(4, 8), E2=PriorLoad(4, 8), E3=PriorLoad(4, 8))
    assert fair_targets(problem, enumerate_candidates(problem)) == {"E1": 2, "E2": 2, "E3": 2}


def test_the_fairness_rule_prices_the_carried_over_targets():
    problem = _three_cardiologists(E1=PriorLoad(0, 8), E2=PriorLoad(8, 8), E3=PriorLoad(8, 8))
    rule = verify(load_fair_to_capacity, problem)
    even = [session(e, day, half=half) for e, day in (("E1", MON), ("E2", TUE), ("E3", WED)) for half in ("am", "pm")]
    rule.given(*even).penalizes("fairness", 4)  # E1 two below 4, E2 and E3 one above 1
    carried = [session("E1", day, half=half) for day in (MON, TUE) for half in ("am", "pm")] + [session("E2", WED), session("E3", THU)]
    rule.given(*carried).keeps()


def test_carry_over_moves_load_to_the_expert_with_a_deficit():
    plain = solve(_three_cardiologists(), time_limit=10, workers=1, seed=0)
    carried_problem = _three_cardiologists(E1=PriorLoad(0, 8), E2=PriorLoad(8, 8), E3=PriorLoad(8, 8))
    carried = solve(carried_problem, time_limit=10, workers=1, seed=0)
    assert violations(carried_problem, carried) == []
    assert Counter(a.expert for a in plain.assignments) == {"E1": 2, "E2": 2, "E3": 2}
    assert Counter(a.expert for a in carried.assignments) == {"E1": 4, "E2": 1, "E3": 1}
    assert len(carried.unmet) == len(plain.unmet) == 0  # coverage first, as without carry-over


def test_coverage_comes_before_carry_over():
    # only E2 can take the pm sessions (E1 is away every afternoon): the deficit never costs a session
    problem = make_problem(
        [cardiologist("E1", blocked={slot: "clinic at home" for slot in slots_of(MON, TUE, halves=("pm",))}), cardiologist("E2")],
        [township()],
        {clinic(): 4},
        slots=slots_of(MON, TUE, halves=("am", "pm")),
        rules=FAIRNESS_ONLY,
    )
    carried_problem = dataclasses.replace(problem, prior_loads={"E1": PriorLoad(0, 8), "E2": PriorLoad(8, 8)})
    solution = solve(carried_problem, time_limit=10, workers=1, seed=0)
    assert violations(carried_problem, solution) == []
    assert solution.unmet == ()
    assert Counter(a.expert for a in solution.assignments) == {"E1": 2, "E2": 2}


def _with_random_prior_loads(problem: Problem, seed: int) -> Problem:
    rng = random.Random(seed)
    prior = {}
    for expert in problem.experts:
        if rng.random() < 0.8:
            capacity = rng.randint(0, 2 * expert.max_sessions)
            prior[expert.id] = PriorLoad(rng.randint(0, capacity), capacity)
    return dataclasses.replace(problem, prior_loads=prior)


@pytest.mark.parametrize("seed", range(12))
def test_carried_over_targets_stay_within_the_caps_and_add_up(seed):
    problem = _with_random_prior_loads(random_problem(seed), seed)
    candidates = enumerate_candidates(problem)
    targets = fair_targets(problem, candidates)
    able = [e for e in problem.experts if candidates.by_expert.get(e.id)]
    assert set(targets) == {e.id for e in able}
    assert all(0 <= targets[e.id] <= e.max_sessions for e in able)
    wanted = min(sum(problem.demand.values()), sum(e.max_sessions for e in able))
    assert abs(sum(targets.values()) - wanted) <= len(able) / 2  # each target rounded once


@pytest.mark.parametrize("seed", range(8))
def test_objective_bound_with_carry_over_never_exceeds_the_optimum(seed):
    problem = _with_random_prior_loads(random_problem(seed), seed)
    assert objective_lower_bound(problem, enumerate_candidates(problem)) <= _optimum(problem)
