"""Each explanation of solver.rules.EXPLANATIONS alone: a hand-made saved roster that breaks its rule, one that keeps it.

The service's check of a saved or edited roster (scheduler.roster_rules) asks these explanations
through `solver.rules.explain`; each names a break with its rule's name and a reason code. Each
test builds a roster the rule refuses, seen with its code, and one it keeps, seen with none
(tests/solver/conftest.py: `explained(rule, problem).breaks(...) / .keeps(...)`, which asks the
independent checker and the rule's own model too where they can be asked).
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable

import pytest
from ortools.sat.python import cp_model

from solver import eligibility
from solver.candidates import Candidate, department_spare, enumerate_candidates, is_candidate
from solver.model import build_model
from solver.problem import Department, Link, Pin, Requirement, Slot
from solver.rules import ELIGIBILITY_RULES, EXPLANATIONS, HARD_RULES, explain
from solver.rules.availability import experts_within_monthly_limit
from solver.rules.coverage import no_more_sessions_than_asked, township_rooms_per_half_day
from solver.rules.links import link_visits_with_their_team
from solver.rules.office import forced_requests_on_their_days, pinned_assignments_stay
from solver.rules.staffing import department_keeps_min_on_site
from solver.rules.travel import one_place_per_half_day, one_township_per_day
from solver.solution import ReasonCode
from tests.solver.conftest import (
    MON,
    SAT,
    TUE,
    RuleDidNotBind,
    cardiologist,
    clinic,
    expert,
    explained,
    make_problem,
    member,
    own_test_of,
    session,
    slots_of,
    supervision,
    township,
)
from tests.solver.strategies import random_problem

# rule -> the test of its explanation (the meta-test reads this)
EXPLANATION_TESTS: dict[Callable, Callable[[], None]] = {}

explanation_test = own_test_of(EXPLANATION_TESTS)  # @explanation_test(rule): the test of the rule's explanation


def one_cardiologist(**changes):
    """E1, a cardiologist, and t1 asking for two cardiology clinics, on Monday and Tuesday mornings."""
    fields = {"experts": [cardiologist("E1")], "townships": [township()], "demand": {clinic(): 2}, "slots": slots_of(MON, TUE)}
    fields.update(changes)
    return make_problem(**fields)


@explanation_test(eligibility.only_working_half_days)
def test_only_working_half_days():
    check = explained(eligibility.only_working_half_days, one_cardiologist())
    check.breaks(session("E1", SAT), code=ReasonCode.NOT_A_WORKING_HALF_DAY, alone=True)
    check.keeps(session("E1", MON))


@explanation_test(eligibility.expert_is_available)
def test_expert_is_available():
    on_leave = cardiologist("E1", blocked={Slot(MON, "am"): "leave"})
    check = explained(eligibility.expert_is_available, one_cardiologist(experts=[on_leave]))
    [found] = check.breaks(session("E1", MON), code=ReasonCode.EXPERT_UNAVAILABLE, alone=True)
    assert found.reason.params["why"] == ("leave",) and found.reason.params["expert"] == "E1"
    check.keeps(session("E1", TUE))


@explanation_test(eligibility.township_is_open)
def test_township_is_open():
    check = explained(eligibility.township_is_open, one_cardiologist(townships=[township(closed_days=frozenset({MON}))]))
    check.breaks(session("E1", MON), code=ReasonCode.TOWNSHIP_CLOSED, alone=True)
    check.keeps(session("E1", TUE))


@explanation_test(experts_within_monthly_limit)
def test_experts_within_monthly_limit():
    check = explained(experts_within_monthly_limit, one_cardiologist(experts=[cardiologist("E1", max_sessions=1)]))
    check.breaks(session("E1", MON), session("E1", TUE), code=ReasonCode.EDIT_BREAKS_RULE, alone=False)
    check.keeps(session("E1", TUE))
    not_rostered = explained(experts_within_monthly_limit, one_cardiologist(experts=[cardiologist("E1", max_sessions=0)]))
    not_rostered.breaks(session("E1", MON), code=ReasonCode.EXPERT_NOT_ROSTERED, alone=True)


@explanation_test(link_visits_with_their_team)
def test_link_visits_with_their_team():
    # M is linked to t1 and visits once a month with a team of two: E1 and E2 in t1's two rooms
    problem = one_cardiologist(
        experts=[cardiologist("E1"), cardiologist("E2"), member("M")], townships=[township(rooms=2), township("t2", rooms=2)],
        demand={clinic(): 4, clinic("t2"): 2}, links=[Link("M", "t1")],
    )
    check = explained(link_visits_with_their_team, problem)
    team = (session("E1", MON), session("E2", MON))
    [found] = check.breaks(*team, supervision("M", MON, "t2"), code=ReasonCode.SUPERVISION_NOT_A_VISIT, alone=True)
    assert found.session == 2 and found.reason.params["township"] == "t2"
    check.keeps(*team, supervision("M", MON, "t1"))
    [short] = check.breaks(session("E1", MON), supervision("M", MON, "t1"), code=ReasonCode.EDIT_BREAKS_RULE, alone=False)
    assert short.rule == "supervision only on a visit day"
    twice = (*team, supervision("M", MON, "t1"), session("E1", TUE), session("E2", TUE), supervision("M", TUE, "t1"))
    [again] = check.breaks(*twice, code=ReasonCode.EDIT_BREAKS_RULE, alone=False)
    assert again.rule == "link visits per month"


@explanation_test(no_more_sessions_than_asked)
def test_no_more_sessions_than_asked():
    problem = one_cardiologist(experts=[cardiologist("E1"), cardiologist("E2")], townships=[township(rooms=2)], demand={clinic(): 1})
    check = explained(no_more_sessions_than_asked, problem)
    check.breaks(session("E1", MON), session("E2", MON), code=ReasonCode.EDIT_BREAKS_RULE, alone=False)
    check.keeps(session("E1", MON))
    check.breaks(session("E1", MON, kind="teaching"), code=ReasonCode.NOT_DEMANDED, alone=True)


@explanation_test(eligibility.expert_holds_the_specialty)
def test_expert_holds_the_specialty():
    problem = one_cardiologist(experts=[cardiologist("E1"), expert("R1", ("resp",))])
    check = explained(eligibility.expert_holds_the_specialty, problem)
    check.breaks(session("R1", MON), code=ReasonCode.LACKS_THE_SPECIALTY, alone=True)
    check.keeps(session("E1", MON))


@explanation_test(eligibility.teaching_needs_the_minimum_title)
def test_teaching_needs_the_minimum_title():
    problem = one_cardiologist(experts=[cardiologist("E1"), cardiologist("A1", title="attending")], demand={clinic(kind="teaching"): 1})
    check = explained(eligibility.teaching_needs_the_minimum_title, problem)
    [found] = check.breaks(session("A1", MON, kind="teaching"), code=ReasonCode.TITLE_BELOW_TEACHING, alone=True)
    assert found.reason.params["expert_title"] == "attending" and found.reason.params["title"] == "associate_chief"
    check.keeps(session("E1", MON, kind="teaching"))


@explanation_test(eligibility.ward_rounds_need_an_inpatient_ward)
def test_ward_rounds_need_an_inpatient_ward():
    problem = one_cardiologist(
        townships=[township(), township("t2", ward=True)], demand={clinic(kind="ward_round"): 1, clinic("t2", kind="ward_round"): 1}
    )
    check = explained(eligibility.ward_rounds_need_an_inpatient_ward, problem)
    check.breaks(session("E1", MON, kind="ward_round"), code=ReasonCode.NO_WARD_FOR_THE_ROUND, alone=True)
    check.keeps(session("E1", MON, "t2", kind="ward_round"))


@explanation_test(eligibility.ward_rounds_only_in_the_morning)
def test_ward_rounds_only_in_the_morning():
    problem = one_cardiologist(townships=[township(ward=True)], demand={clinic(kind="ward_round"): 1}, slots=slots_of(MON, halves=("am", "pm")))
    check = explained(eligibility.ward_rounds_only_in_the_morning, problem)
    [found] = check.breaks(session("E1", MON, kind="ward_round", half="pm"), code=ReasonCode.WARD_ROUND_HALF_DAY, alone=True)
    assert found.reason.params["half_days"] == ("am",)
    check.keeps(session("E1", MON, kind="ward_round"))


@explanation_test(department_keeps_min_on_site)
def test_department_keeps_min_on_site():
    # three cardiologists, one of them kept on site: two may be away in a half-day
    problem = one_cardiologist(
        experts=[cardiologist("E1"), cardiologist("E2"), cardiologist("E3")], townships=[township(rooms=3)], demand={clinic(): 3},
        departments=[Department("d", 1)],
    )
    check = explained(department_keeps_min_on_site, problem)
    check.breaks(session("E1", MON), session("E2", MON), session("E3", MON), code=ReasonCode.EDIT_BREAKS_RULE, alone=False)
    check.keeps(session("E1", MON), session("E2", MON), session("E3", TUE))
    alone = explained(department_keeps_min_on_site, one_cardiologist(departments=[Department("d", 1)]))
    [found] = alone.breaks(session("E1", MON), code=ReasonCode.DEPARTMENT_CANNOT_SPARE, alone=True)
    assert found.reason.params["department"] == "d"


@explanation_test(one_place_per_half_day)
def test_one_place_per_half_day():
    problem = one_cardiologist(townships=[township(rooms=2)], demand={clinic(): 1, clinic(kind="teaching"): 1})
    check = explained(one_place_per_half_day, problem)
    check.breaks(session("E1", MON), session("E1", MON, kind="teaching"), code=ReasonCode.EDIT_BREAKS_RULE, alone=False)
    check.keeps(session("E1", MON), session("E1", TUE, kind="teaching"))
    [twice] = check.breaks(session("E1", MON), session("E1", MON), code=ReasonCode.BOOKED_TWICE, alone=True)
    assert twice.session == 1  # the repeat is named, not the first


@explanation_test(one_township_per_day)
def test_one_township_per_day():
    problem = one_cardiologist(
        townships=[township(), township("t2")], demand={clinic(): 1, clinic("t2"): 1}, slots=slots_of(MON, TUE, halves=("am", "pm"))
    )
    check = explained(one_township_per_day, problem)
    check.breaks(session("E1", MON), session("E1", MON, "t2", half="pm"), code=ReasonCode.EDIT_BREAKS_RULE, alone=False)
    check.keeps(session("E1", MON), session("E1", TUE, "t2", half="pm"))


@explanation_test(township_rooms_per_half_day)
def test_township_rooms_per_half_day():
    problem = one_cardiologist(experts=[cardiologist("E1"), cardiologist("E2")])
    check = explained(township_rooms_per_half_day, problem)
    check.breaks(session("E1", MON), session("E2", MON), code=ReasonCode.EDIT_BREAKS_RULE, alone=False)
    check.keeps(session("E1", MON), session("E2", TUE))


@explanation_test(pinned_assignments_stay)
def test_pinned_assignments_stay():
    pinned = session("E1", TUE)
    problem = dataclasses.replace(one_cardiologist(), pins=(Pin(*pinned),))
    check = explained(pinned_assignments_stay, problem)
    [found] = check.breaks(session("E1", MON), code=ReasonCode.PIN_LOST, alone=False)
    assert found.reason.params["date"] == TUE.isoformat() and found.reason.params["expert"] == "E1"
    check.keeps(session("E1", MON), pinned)


@explanation_test(forced_requests_on_their_days)
def test_forced_requests_on_their_days():
    problem = dataclasses.replace(one_cardiologist(), requirements=(Requirement(clinic(), frozenset({TUE}), 1),))
    check = explained(forced_requests_on_their_days, problem)
    check.breaks(session("E1", MON), code=ReasonCode.EDIT_BREAKS_RULE, alone=False)
    check.keeps(session("E1", TUE))


# --- the registry and `explain` --------------------------------------------------------------------


def test_every_hard_rule_has_an_explanation_and_each_explanation_a_test():
    unexplained = [rule.__name__ for rule in (*ELIGIBILITY_RULES, *HARD_RULES) if rule not in EXPLANATIONS]
    assert not unexplained, f"hard rules with no explanation in solver.rules.EXPLANATIONS: {unexplained}"
    strays = [rule.__name__ for rule in EXPLANATIONS if rule not in (*ELIGIBILITY_RULES, *HARD_RULES)]
    assert not strays, f"explanations of no hard rule: {strays}"
    untested = [rule.__name__ for rule in EXPLANATIONS if rule not in EXPLANATION_TESTS]
    assert not untested, f"explanations with no test here: {untested}"


def _explain(problem, *roster):
    return explain(problem, department_spare(problem), [Candidate(-1, *entry) for entry in roster])


def test_a_session_no_roster_could_hold_is_named_once_with_its_first_rule_before_any_break_of_the_whole():
    # R1 holds no cardiology and is on leave on Monday: the leave (rule 2) is named, not the specialty (rule 1);
    # E1 and E2 in t1's one room on Tuesday (rule 5) is not named while a session breaks a rule on its own
    on_leave = expert("R1", ("resp",), blocked={Slot(MON, "am"): "leave"})
    problem = one_cardiologist(experts=[cardiologist("E1"), cardiologist("E2"), on_leave])
    found = _explain(problem, session("E1", TUE), session("R1", MON), session("E2", TUE))
    assert [(v.rule, v.reason.code, v.session) for v in found] == [("expert available", ReasonCode.EXPERT_UNAVAILABLE, 1)]
    whole = _explain(problem, session("E1", TUE), session("E2", TUE))
    assert [(v.rule, v.reason.code, v.session) for v in whole] == [("township rooms", ReasonCode.EDIT_BREAKS_RULE, None)]


def test_the_rules_a_roster_breaks_as_a_whole_are_named_once_each_by_name():
    problem = one_cardiologist(experts=[cardiologist("E1", max_sessions=1), cardiologist("E2")], demand={clinic(): 1})
    found = _explain(problem, session("E1", MON), session("E1", TUE), session("E2", MON))
    assert [v.rule for v in found] == ["demand cap", "monthly session limit", "township rooms"]
    assert _explain(problem, session("E1", MON)) == []


@pytest.mark.parametrize("seed", range(30))
def test_explanations_and_the_model_agree_on_random_rosters(seed):
    """A random roster of a random month's candidates: the explanations see no break exactly when the model of every
    rule holds it fixed; a random session is named on its own exactly when the month has no such candidate."""
    problem = random_problem(seed)
    candidates = enumerate_candidates(problem)
    rng = random.Random(seed)
    for _ in range(4):
        fixed = sorted(rng.sample(range(len(candidates.items)), min(len(candidates.items), rng.randint(1, 12))))
        found = explain(problem, candidates.spare, [candidates.items[index] for index in fixed])
        assert all(v.session is None for v in found), found  # every candidate is a session some roster could hold
        model = build_model(problem, candidates, free=(), fixed=fixed)
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        status = solver.solve(model.model)
        assert (status != cp_model.INFEASIBLE) is (not found), f"seed {seed}: explained {[v.rule for v in found]}, model {solver.status_name(status)}"
    keys = [*problem.demand, None]
    for _ in range(20):
        entry = (rng.choice(problem.experts).id, rng.choice(problem.slots), rng.choice(problem.townships).id, rng.choice(keys))
        if entry[3] is not None:
            entry = (*entry[:2], entry[3].township, entry[3])
        alone = [v for v in explain(problem, candidates.spare, [Candidate(-1, *entry)]) if v.session is not None]
        assert bool(alone) is not is_candidate(problem, candidates.spare, *entry), f"seed {seed}: {entry} explained {alone}"


@pytest.mark.parametrize("rule", list(EXPLANATION_TESTS), ids=[rule.__name__ for rule in EXPLANATION_TESTS])
def test_an_explanation_that_sees_nothing_fails_its_own_test(rule, monkeypatch):
    """The removal check: with the rule's explanation emptied, its own test must fail."""
    monkeypatch.setitem(EXPLANATIONS, rule, lambda problem, spare, sessions: iter(()))
    with pytest.raises(RuleDidNotBind):
        EXPLANATION_TESTS[rule]()
