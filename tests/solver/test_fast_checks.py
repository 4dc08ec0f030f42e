"""Each fast check of solver.rules.FAST_CHECKS alone: one more session against a hand-made partial roster.

The constructive start, the timetable staffing, the rounds of solver.reassign, the greedy
baseline and the service's quick fit ask these checks instead of the model. Each test builds a
partial roster where the check binds and one where it does not (tests/solver/conftest.py:
`fast_check(check, problem).given(...).refuses(...) / .admits(...)`); the verifier asks the
check, `solver.rules.fits`, and the CP-SAT model of the check's rule alone, which must agree.
Every session asked keeps every OTHER rule, so the removal check can take a check out of `fits`
and see its own test fail.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

import solver.rules as rules
from solver.problem import Department, Link, Rules
from solver.rules import FAST_CHECKS, HARD_RULES
from solver.rules.availability import within_monthly_limit
from solver.rules.coverage import demand_left, room_left
from solver.rules.staffing import department_can_spare
from solver.rules.travel import at_one_township_that_day, free_that_half_day
from tests.solver.conftest import (
    MON,
    TUE,
    RuleDidNotBind,
    cardiologist,
    clinic,
    expert,
    fast_check,
    make_problem,
    own_test_of,
    session,
    slots_of,
    supervision,
    township,
)

# fast check -> its own test (the meta-test and the removal check read this)
FAST_CHECK_TESTS: dict[Callable, Callable[[], None]] = {}


fast_check_test = own_test_of(FAST_CHECK_TESTS)  # @fast_check_test(check): the test of `check` alone


@fast_check_test(free_that_half_day)
def test_free_that_half_day():
    # rule 3: a colleague of another specialty keeps the department able to spare two in one half-day
    problem = make_problem(
        [cardiologist("E1"), expert("R1", ("resp",))], [township(rooms=2)], {clinic(): 1, clinic(kind="teaching"): 1},
        slots=slots_of(MON, halves=("am", "pm")),
    )
    check = fast_check(free_that_half_day, problem).given(session("E1", MON))
    check.refuses(session("E1", MON, kind="teaching"))
    check.admits(session("E1", MON, kind="teaching", half="pm"))


@fast_check_test(at_one_township_that_day)
def test_at_one_township_that_day():
    # rule 3: one township a day, and a supervision day holds nothing else, not even at that township
    problem = make_problem(
        [cardiologist("E1"), expert("M", ("cardio",), department="admin")], [township("t1", rooms=2), township("t2")],
        {clinic("t1"): 2, clinic("t2"): 1}, slots=slots_of(MON, TUE, halves=("am", "pm")), links=[Link("M", "t1")],
    )
    check = fast_check(at_one_township_that_day, problem)
    check.given(session("E1", MON, "t1")).refuses(session("E1", MON, "t2", half="pm"))
    check.given(session("E1", MON, "t1")).admits(session("E1", TUE, "t2", half="pm"))
    check.given(session("E1", MON, "t1")).admits(session("E1", MON, "t1", half="pm"))
    check.given(supervision("M", MON)).refuses(session("M", MON, "t1", half="pm"))
    check.given(session("M", MON, "t1", half="pm")).refuses(supervision("M", MON))
    check.given(supervision("M", MON)).admits(session("M", TUE, "t1"))


@fast_check_test(within_monthly_limit)
def test_within_monthly_limit():
    # rule 4: E1 has one session a month, E2 one too
    problem = make_problem([cardiologist("E1", max_sessions=1), cardiologist("E2", max_sessions=1)], [township()], {clinic(): 2}, slots=slots_of(MON, TUE))
    check = fast_check(within_monthly_limit, problem).given(session("E1", MON))
    check.refuses(session("E1", TUE))
    check.admits(session("E2", TUE))


@fast_check_test(room_left)
def test_room_left():
    # rule 5: one room per half-day; a supervision takes none
    problem = make_problem(
        [cardiologist("E1"), cardiologist("E2"), expert("M", (), department="admin")], [township(rooms=1)], {clinic(): 2},
        slots=slots_of(MON, halves=("am", "pm")), links=[Link("M", "t1")], rules=Rules(link_team_min=1),
    )
    check = fast_check(room_left, problem).given(session("E1", MON))
    check.refuses(session("E2", MON))
    check.admits(session("E2", MON, half="pm"))
    check.admits(supervision("M", MON))


@fast_check_test(department_can_spare)
def test_department_can_spare():
    # rule 7: two cardiologists of one department that keeps one on site: one away per half-day
    problem = make_problem(
        [cardiologist("E1"), cardiologist("E2")], [township(rooms=2)], {clinic(): 2},
        slots=slots_of(MON, halves=("am", "pm")), departments=[Department("d", 1)],
    )
    check = fast_check(department_can_spare, problem).given(session("E1", MON))
    check.refuses(session("E2", MON))
    check.admits(session("E2", MON, half="pm"))


@fast_check_test(demand_left)
def test_demand_left():
    # rule 9: the township asked for one clinic and one teaching session
    problem = make_problem(
        [cardiologist("E1"), cardiologist("E2")], [township(rooms=2)], {clinic(): 1, clinic(kind="teaching"): 1},
        slots=slots_of(MON, halves=("am", "pm")),
    )
    check = fast_check(demand_left, problem).given(session("E1", MON))
    check.refuses(session("E2", MON, half="pm"))
    check.admits(session("E2", MON, kind="teaching", half="pm"))


# --- the fast checks' own checks -----------------------------------------------------------------


def test_every_fast_check_has_its_own_test():
    missing = [check.__name__ for check in FAST_CHECKS if check not in FAST_CHECK_TESTS]
    assert not missing, f"fast checks without a test of their own: {missing}"
    strays = [check.__name__ for check in FAST_CHECK_TESTS if check not in FAST_CHECKS]
    assert not strays, f"tests of fast checks solver.rules does not list: {strays}"


def test_every_fast_check_belongs_to_a_hard_rule():
    strays = [check.__name__ for check, rule in FAST_CHECKS.items() if rule not in HARD_RULES]
    assert not strays, f"fast checks of no hard rule of the rulebook: {strays}"


@pytest.mark.parametrize("check", list(FAST_CHECKS), ids=[check.__name__ for check in FAST_CHECKS])
def test_each_fast_check_test_fails_without_its_check(check, monkeypatch):
    """The removal check: with the check taken out of `fits`, its own test sees `fits` admit what the rule refuses."""
    monkeypatch.setattr(rules, "_CHECKS", tuple(c for c in rules._CHECKS if c is not check))
    with pytest.raises(RuleDidNotBind):
        FAST_CHECK_TESTS[check]()
