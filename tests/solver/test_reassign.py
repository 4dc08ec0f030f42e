"""Cheapest experts for a fixed timetable (solver.reassign): the sessions stay where and when they are, the
experts who serve them change, and rules 3 and 7, which the flow alone does not see, still hold."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

import solver.construct as construct_module
from bench.generate import generate_scenario
from scheduler.problem_builder import build_problem
from solver.bounds import assignment_cost_lower_bound
from solver.candidates import enumerate_candidates
from solver.construct import construct
from solver.engine import Incumbent, evaluate, to_assignments
from solver.problem import DemandKey, Department, Expert, Problem, Rules, Slot, Township, Weights
from solver.reassign import cheapest_experts
from solver.rules.objectives import fair_targets
from solver.solution import Solution, SolveReport
from tests.solver.checker import violations

DAY = dt.date(2027, 3, 1)
AM, PM = Slot(DAY, "am"), Slot(DAY, "pm")
CARDIO_T1, CARDIO_T2 = DemandKey("t1", "clinic", "cardio"), DemandKey("t2", "clinic", "cardio")
CONTINUITY_ONLY = Rules(weights=Weights(fairness=0, spread=0, trips=0, continuity=2, preference=0))


def _roster(problem: Problem, candidates, chosen: set[int], visits=frozenset()) -> Solution:
    assignments = tuple(to_assignments(problem, candidates, chosen, visits))
    return Solution(problem.month, assignments, (), SolveReport("FEASIBLE"))


def _places(candidates, chosen) -> Counter:
    return Counter((candidates.items[i].key, candidates.items[i].slot) for i in chosen)


def _who_pays(terms: dict[str, int]) -> int:
    return terms.get("fairness", 0) + terms.get("continuity", 0) + terms.get("preference", 0)


def _continuity(problem: Problem, candidates, chosen: set[int]) -> int:
    return sum(2 for i in chosen if candidates.items[i].township not in problem.expert(candidates.items[i].expert).previous_townships)


@pytest.fixture(scope="module")
def county():
    problem = build_problem(generate_scenario(9, 60, 0.6, seed=5, month="2027-03"), "2027-03")
    return problem, enumerate_candidates(problem)


def test_a_greedy_roster_keeps_its_places_and_visits_and_pays_less_for_who_serves(county, monkeypatch):
    problem, candidates = county
    targets = fair_targets(problem, candidates)
    monkeypatch.setattr(construct_module, "_rebalance", lambda state, locked: None)
    greedy = construct(problem, candidates)
    start = Incumbent(set(greedy.chosen), set(greedy.visits))
    cheaper = cheapest_experts(problem, candidates, start.chosen, start.visits, targets)
    assert cheaper is not None
    assert _places(candidates, cheaper) == _places(candidates, start.chosen)  # same rows, townships, half-days
    before = evaluate(problem, candidates, start, targets)
    after = evaluate(problem, candidates, Incumbent(cheaper, set(start.visits)), targets)
    assert after.visits == start.visits
    assert after.terms.get("trips") == before.terms.get("trips") and after.terms.get("spread") == before.terms.get("spread")
    assert _who_pays(after.terms) < _who_pays(before.terms)
    covered = sum(1 for i in cheaper if candidates.items[i].key is not None)
    assert _who_pays(after.terms) >= assignment_cost_lower_bound(problem, candidates, covered)
    assert violations(problem, _roster(problem, candidates, cheaper, start.visits)) == []


def test_an_expert_cheapest_at_two_townships_on_one_day_is_held_to_one():
    # A has served t1 and t2, B neither: A at both (t1 in the morning, t2 in the afternoon)
    # would cost nothing, but rule 3 allows one township a day, so B takes one of them
    experts = (
        Expert("A", "d", "chief", frozenset({"cardio"}), 10, previous_townships=frozenset({"t1", "t2"})),
        Expert("B", "d", "chief", frozenset({"cardio"}), 10, previous_townships=frozenset({"t9"})),
    )
    townships = (Township("t1", rooms=1, inpatient_ward=False), Township("t2", rooms=1, inpatient_ward=False))
    problem = Problem("2027-03", (AM, PM), experts, townships, (Department("d", 0),), {CARDIO_T1: 1, CARDIO_T2: 1}, rules=CONTINUITY_ONLY)
    candidates = enumerate_candidates(problem)
    given = {candidates.index_of("B", AM, "t1", CARDIO_T1), candidates.index_of("A", PM, "t2", CARDIO_T2)}
    cheaper = cheapest_experts(problem, candidates, given, (), {})
    assert cheaper is not None and _places(candidates, cheaper) == _places(candidates, given)
    assert violations(problem, _roster(problem, candidates, cheaper)) == []
    assert {candidates.items[i].expert for i in cheaper} == {"A", "B"}
    assert _continuity(problem, candidates, cheaper) == 2


def test_a_department_is_not_left_below_its_minimum_on_site():
    # A and B (department d, three experts, two must stay) have served t1, D (department e) has
    # not: A and B together would cost nothing, but d can spare one expert a half-day
    experts = (
        Expert("A", "d", "chief", frozenset({"cardio"}), 10, previous_townships=frozenset({"t1"})),
        Expert("B", "d", "chief", frozenset({"cardio"}), 10, previous_townships=frozenset({"t1"})),
        Expert("C", "d", "chief", frozenset({"ortho"}), 10),
        Expert("D", "e", "chief", frozenset({"cardio"}), 10, previous_townships=frozenset({"t9"})),
    )
    townships = (Township("t1", rooms=2, inpatient_ward=False),)
    departments = (Department("d", 2), Department("e", 0))
    problem = Problem("2027-03", (AM,), experts, townships, departments, {CARDIO_T1: 2}, rules=CONTINUITY_ONLY)
    candidates = enumerate_candidates(problem)
    given = {candidates.index_of("B", AM, "t1", CARDIO_T1), candidates.index_of("D", AM, "t1", CARDIO_T1)}
    cheaper = cheapest_experts(problem, candidates, given, (), {})
    assert cheaper is not None and _places(candidates, cheaper) == _places(candidates, given)
    assert violations(problem, _roster(problem, candidates, cheaper)) == []
    assert _continuity(problem, candidates, cheaper) == 2
