"""The office's levers as rules (solver/rules/office.py): each binds in the smallest month where it matters and the roster
differs when the rule is left out (the ConstraintVerifier habit of tests/solver/test_rules.py)."""

from __future__ import annotations

import dataclasses

from solver.candidates import enumerate_candidates
from solver.construct import construct
from solver.engine import solve
from solver.problem import Pin, Requirement, Slot
from solver.rules.office import forced_requests_on_their_days, pinned_assignments_stay
from tests.solver.checker import violations
from tests.solver.test_rules import MON, TUE, cardiologist, clinic, make_problem, slots_of, solve_without, township


def market_monday():
    """One cardiologist, t1 wants one clinic and prefers Mondays: left alone the session goes on Monday."""
    return make_problem([cardiologist("E1")], [township(preferred_weekdays=frozenset({0}))], {clinic(): 1}, slots=slots_of(MON, TUE))


def test_a_pinned_assignment_stays():
    problem = dataclasses.replace(market_monday(), pins=(Pin("E1", Slot(TUE, "am"), "t1", clinic()),))
    solution = solve(problem, time_limit=5, workers=1)
    assert [(a.date, a.expert) for a in solution.assignments] == [(TUE, "E1")]
    assert violations(problem, solution) == []
    assert [(a.date, a.expert) for a in solve_without(problem, pinned_assignments_stay).assignments] == [(MON, "E1")]

    candidates = enumerate_candidates(problem)
    start = construct(problem, candidates)  # the greedy start (the LNS's first incumbent) holds the pin too
    assert {candidates.items[i].slot for i in start.chosen} == {Slot(TUE, "am")}


def test_a_forced_request_gets_its_day():
    problem = dataclasses.replace(market_monday(), requirements=(Requirement(clinic(), frozenset({TUE}), 1),))
    solution = solve(problem, time_limit=5, workers=1)
    assert [a.date for a in solution.assignments] == [TUE]
    assert violations(problem, solution) == []
    assert [a.date for a in solve_without(problem, forced_requests_on_their_days).assignments] == [MON]


def test_a_pin_the_month_no_longer_allows_binds_nothing():
    # E1 is away on Tuesday: the pin names no candidate, the model stays feasible, and the service reports the clash.
    away = dataclasses.replace(cardiologist("E1"), blocked={Slot(TUE, "am"): "leave"})
    problem = make_problem([away], [township()], {clinic(): 1}, slots=slots_of(MON, TUE))
    problem = dataclasses.replace(problem, pins=(Pin("E1", Slot(TUE, "am"), "t1", clinic()),))
    solution = solve(problem, time_limit=5, workers=1)
    assert [a.date for a in solution.assignments] == [MON]
