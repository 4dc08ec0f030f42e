"""Each rule of the rulebook tested alone, the ConstraintVerifier way, and the engine keeping it on its smallest case.

Part one (one test per entry of ELIGIBILITY_RULES and RULES, registered with `@rule_test`): a
model with ONLY that rule (for rules 1, 2 and 6, the candidate checks with only that rule on),
a hand-made roster fixed in it where the rule binds and one where it does not
(tests/solver/conftest.py: `verify(rule, problem).given(...).breaks() / .keeps() / .penalizes()`;
the independent checker must agree on each hard rule it reads alone). Every roster in these
tests keeps every OTHER hard rule, so the removal check can drop the rule from the whole
rulebook too: for each rule, its own test fails (`RuleDidNotBind`) when the model is built
without it, from the rule alone and from all the rules.

Part two: the engine on the smallest problem where a rule binds. Hard rules in the model (3, 4,
5, 7, 8, 9): the full solve keeps the rule, and the same model built WITHOUT that rule (solved
by CP-SAT directly) breaks it, as the independent checker sees. Rules settled in
solver.candidates (1, 2, 6): the candidate is absent, and a monkeypatched permissive
`can_serve` / `can_host` / `Expert.available` lets a violating roster through. Soft rules: one
tiny case each where the preference decides the roster.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable

import pytest
from ortools.sat.python import cp_model

import solver.candidates as candidates_module
from solver.candidates import enumerate_candidates
from solver.engine import solve, to_assignments
from solver.model import build_model
from solver.problem import Department, Expert, Link, Pin, Problem, Requirement, Rules, Slot
from solver.reasons import explain_unmet
from solver.eligibility import (
    expert_holds_the_specialty,
    expert_is_available,
    only_working_half_days,
    teaching_needs_the_minimum_title,
    township_is_open,
    ward_rounds_need_an_inpatient_ward,
    ward_rounds_only_in_the_morning,
)
from solver.rules import ELIGIBILITY_RULES, HARD_RULES, RULES, SOFT_RULES
from solver.rules.availability import experts_within_monthly_limit
from solver.rules.coverage import no_more_sessions_than_asked, township_rooms_per_half_day
from solver.rules.links import link_visits_with_their_team
from solver.rules.office import forced_requests_on_their_days, pinned_assignments_stay
from solver.rules.objectives import (
    keep_published_assignments,
    load_fair_to_capacity,
    prefer_market_days_and_avoid_weekdays,
    same_expert_returns,
    sessions_spread_across_weeks,
    shared_cars,
    unmet_demand,
)
from solver.rules.staffing import department_keeps_min_on_site
from solver.rules.travel import one_place_per_half_day, one_township_per_day
from solver.solution import ReasonCode, Solution, SolveReport
from tests.solver.checker import violations
from tests.solver.conftest import (
    MON,
    NEXT_MON,
    NEXT_TUE,
    SAT,
    TUE,
    WED,
    RuleDidNotBind,
    cardiologist,
    clinic,
    expert,
    make_problem,
    member,
    own_test_of,
    rule_dropped,
    session,
    slots_of,
    supervision,
    township,
    verify,
)

TIME_LIMIT = 5

# rule -> its own test (the meta-test and the removal check read this)
RULE_TESTS: dict[Callable, Callable[[], None]] = {}


rule_test = own_test_of(RULE_TESTS)  # @rule_test(rule): the test of `rule` alone


# === part one: each rule alone ================================================================

# --- rules 1, 2 and 6: settled by the candidate list (solver.eligibility) ----------------------


@rule_test(expert_holds_the_specialty)
def test_expert_holds_the_specialty_alone():
    problem = make_problem([cardiologist("E1"), expert("R1", ("resp",))], [township()], {clinic(): 1})
    rule = verify(expert_holds_the_specialty, problem)
    rule.given(session("R1", MON)).breaks()
    rule.given(session("E1", MON)).keeps()


@rule_test(teaching_needs_the_minimum_title)
def test_teaching_needs_the_minimum_title_alone():
    problem = make_problem(
        [cardiologist("A1", title="attending"), cardiologist("C1", title="associate_chief")], [township(rooms=2)],
        {clinic(): 1, clinic(kind="teaching"): 1},
    )
    rule = verify(teaching_needs_the_minimum_title, problem)
    rule.given(session("A1", MON, kind="teaching")).breaks()
    rule.given(session("C1", MON, kind="teaching")).keeps()
    rule.given(session("A1", MON)).keeps()  # an attending may hold a clinic


@rule_test(only_working_half_days)
def test_only_working_half_days_alone():
    problem = make_problem([cardiologist("E1")], [township()], {clinic(): 1}, slots=slots_of(MON))
    rule = verify(only_working_half_days, problem)
    rule.given(session("E1", SAT)).breaks()
    rule.given(session("E1", MON)).keeps()


@rule_test(expert_is_available)
def test_expert_is_available_alone():
    # a colleague at home keeps rule 7 from refusing the morning on its own (E1 alone would leave the department empty)
    problem = make_problem(
        [cardiologist("E1", blocked={Slot(MON, "am"): "leave"}), cardiologist("E2")], [township()], {clinic(): 1},
        slots=slots_of(MON, halves=("am", "pm")),
    )
    rule = verify(expert_is_available, problem)
    rule.given(session("E1", MON)).breaks()
    rule.given(session("E1", MON, half="pm")).keeps()


@rule_test(township_is_open)
def test_township_is_open_alone():
    problem = make_problem(
        [cardiologist("E1"), member("M")], [township(closed_days=frozenset({MON}))], {clinic(): 1},
        slots=slots_of(MON, TUE), links=[Link("M", "t1")],
    )
    rule = verify(township_is_open, problem)
    rule.given(session("E1", MON)).breaks()
    rule.given(supervision("M", MON)).breaks()  # no visit to a closed township either
    rule.given(session("E1", TUE), supervision("M", TUE)).keeps()


@rule_test(ward_rounds_need_an_inpatient_ward)
def test_ward_rounds_need_an_inpatient_ward_alone():
    problem = make_problem(
        [cardiologist("E1")], [township("t1", ward=False), township("t2", ward=True)],
        {clinic("t1", kind="ward_round"): 1, clinic("t2", kind="ward_round"): 1, clinic("t1"): 1},
    )
    rule = verify(ward_rounds_need_an_inpatient_ward, problem)
    rule.given(session("E1", MON, "t1", kind="ward_round")).breaks()
    rule.given(session("E1", MON, "t2", kind="ward_round")).keeps()
    rule.given(session("E1", MON, "t1")).keeps()  # a clinic needs no ward


@rule_test(ward_rounds_only_in_the_morning)
def test_ward_rounds_only_in_the_morning_alone():
    problem = make_problem(
        [cardiologist("E1")], [township(ward=True)], {clinic(kind="ward_round"): 1, clinic(): 1}, slots=slots_of(MON, halves=("am", "pm"))
    )
    rule = verify(ward_rounds_only_in_the_morning, problem)
    rule.given(session("E1", MON, kind="ward_round", half="pm")).breaks()
    rule.given(session("E1", MON, kind="ward_round")).keeps()
    rule.given(session("E1", MON, half="pm")).keeps()  # a clinic may be held in the afternoon


# --- rule 3: where an expert can be ------------------------------------------------------------


@rule_test(one_place_per_half_day)
def test_one_place_per_half_day_alone():
    # a colleague at home lets the department send two sessions away in one half-day (rule 7 stays kept)
    problem = make_problem(
        [cardiologist("E1"), expert("R1", ("resp",))], [township(rooms=2)], {clinic(): 1, clinic(kind="teaching"): 1},
        slots=slots_of(MON, halves=("am", "pm")),
    )
    rule = verify(one_place_per_half_day, problem)
    rule.given(session("E1", MON), session("E1", MON, kind="teaching")).breaks()
    rule.given(session("E1", MON), session("E1", MON, kind="teaching", half="pm")).keeps()


@rule_test(one_township_per_day)
def test_one_township_per_day_alone():
    problem = make_problem(
        [cardiologist("E1")], [township("t1"), township("t2")], {clinic("t1"): 1, clinic("t2"): 1},
        slots=slots_of(MON, TUE, halves=("am", "pm")),
    )
    rule = verify(one_township_per_day, problem)
    rule.given(session("E1", MON, "t1"), session("E1", MON, "t2", half="pm")).breaks()
    rule.given(session("E1", MON, "t1"), session("E1", TUE, "t2", half="pm")).keeps()


# --- rule 4: the monthly limit ----------------------------------------------------------------


@rule_test(experts_within_monthly_limit)
def test_experts_within_monthly_limit_alone():
    problem = make_problem([cardiologist("E1", max_sessions=1)], [township()], {clinic(): 2}, slots=slots_of(MON, TUE))
    rule = verify(experts_within_monthly_limit, problem)
    rule.given(session("E1", MON), session("E1", TUE)).breaks()
    rule.given(session("E1", MON)).keeps()


# --- rule 5: rooms -----------------------------------------------------------------------------


@rule_test(township_rooms_per_half_day)
def test_township_rooms_per_half_day_alone():
    problem = make_problem(
        [cardiologist("E1"), cardiologist("E2")], [township(rooms=1)], {clinic(): 2}, slots=slots_of(MON, halves=("am", "pm"))
    )
    rule = verify(township_rooms_per_half_day, problem)
    rule.given(session("E1", MON), session("E2", MON)).breaks()
    rule.given(session("E1", MON), session("E2", MON, half="pm")).keeps()
    # a supervision takes no room: the linked member sits beside the only clinic
    linked = make_problem(
        [cardiologist("E1"), member("M")], [township(rooms=1)], {clinic(): 1}, links=[Link("M", "t1")], rules=Rules(link_team_min=1)
    )
    verify(township_rooms_per_half_day, linked).given(session("E1", MON), supervision("M", MON)).keeps()


# --- rule 7: the department keeps its minimum on site -------------------------------------------


@rule_test(department_keeps_min_on_site)
def test_department_keeps_min_on_site_alone():
    # two cardiologists of one department with min_on_site 1: one may be away per half-day
    problem = make_problem(
        [cardiologist("E1"), cardiologist("E2")], [township(rooms=2)], {clinic(): 2},
        slots=slots_of(MON, halves=("am", "pm")), departments=[Department("d", 1)],
    )
    rule = verify(department_keeps_min_on_site, problem)
    rule.given(session("E1", MON), session("E2", MON)).breaks()
    rule.given(session("E1", MON), session("E2", MON, half="pm")).keeps()


# --- rule 8: link visits with their team --------------------------------------------------------


@rule_test(link_visits_with_their_team)
def test_link_visits_with_their_team_alone():
    problem = make_problem(
        [cardiologist("E1"), cardiologist("E2"), member("M")], [township(rooms=2)], {clinic(): 2},
        links=[Link("M", "t1")], rules=Rules(link_team_min=2),
    )
    rule = verify(link_visits_with_their_team, problem)
    rule.given(session("E1", MON), session("E2", MON)).penalizes("link", 1)  # the visit a roster could hold, missed
    rule.given(session("E1", MON), session("E2", MON), supervision("M", MON)).keeps()
    rule.given(session("E1", MON), supervision("M", MON)).breaks()  # a supervision with a team of one is no visit


# --- rule 9: no more sessions than asked --------------------------------------------------------


@rule_test(no_more_sessions_than_asked)
def test_no_more_sessions_than_asked_alone():
    problem = make_problem([cardiologist("E1"), cardiologist("E2")], [township(rooms=2)], {clinic(): 1})
    rule = verify(no_more_sessions_than_asked, problem)
    rule.given(session("E1", MON), session("E2", MON)).breaks()
    rule.given(session("E1", MON)).keeps()


# --- soft rules: what each roster costs under the rule alone ------------------------------------


@rule_test(unmet_demand)
def test_unmet_demand_alone():
    problem = make_problem([cardiologist("E1")], [township()], {clinic(): 2}, slots=slots_of(MON, TUE))
    rule = verify(unmet_demand, problem)
    rule.given().penalizes("unmet", 2)
    rule.given(session("E1", MON)).penalizes("unmet", 1)
    rule.given(session("E1", MON), session("E1", TUE)).keeps()


@rule_test(load_fair_to_capacity)
def test_load_fair_to_capacity_alone():
    # four sessions for two experts of four each: the fair load is two each
    problem = make_problem(
        [cardiologist("E1"), cardiologist("E2")], [township(rooms=2)], {clinic(): 4}, slots=slots_of(MON, TUE, halves=("am", "pm"))
    )
    rule = verify(load_fair_to_capacity, problem)
    all_on_e1 = [session("E1", day, half=half) for day in (MON, TUE) for half in ("am", "pm")]
    rule.given(*all_on_e1).penalizes("fairness", 4)  # E1 two above, E2 two below
    rule.given(session("E1", MON), session("E1", MON, half="pm"), session("E2", TUE), session("E2", TUE, half="pm")).keeps()


@rule_test(sessions_spread_across_weeks)
def test_sessions_spread_across_weeks_alone():
    # two clinics over two weeks of two mornings: a week's even share is one
    problem = make_problem([cardiologist("E1")], [township()], {clinic(): 2}, slots=slots_of(MON, TUE, NEXT_MON, NEXT_TUE))
    rule = verify(sessions_spread_across_weeks, problem)
    rule.given(session("E1", MON), session("E1", TUE)).penalizes("spread", 1)
    rule.given(session("E1", MON), session("E1", NEXT_MON)).keeps()


@rule_test(shared_cars)
def test_shared_cars_alone():
    problem = make_problem(
        [cardiologist("E1"), cardiologist("E2")], [township(rooms=1)], {clinic(): 2}, slots=slots_of(MON, TUE, halves=("am", "pm"))
    )
    rule = verify(shared_cars, problem)
    rule.given(session("E1", MON), session("E2", TUE)).penalizes("trips", 2)
    rule.given(session("E1", MON), session("E2", MON, half="pm")).penalizes("trips", 1)  # one car-day, two experts
    rule.given().keeps()


@rule_test(same_expert_returns)
def test_same_expert_returns_alone():
    problem = make_problem(
        [
            cardiologist("E1", previous_townships=frozenset({"t2"})),
            cardiologist("E2", previous_townships=frozenset({"t1"})),
            cardiologist("E3"),
        ],
        [township("t1"), township("t2")],
        {clinic("t1"): 1},
    )
    rule = verify(same_expert_returns, problem)
    rule.given(session("E1", MON)).penalizes("continuity", 1)  # E1 has a history, elsewhere
    rule.given(session("E2", MON)).keeps()  # E2 returns
    rule.given(session("E3", MON)).keeps()  # E3 has no history anywhere


@rule_test(prefer_market_days_and_avoid_weekdays)
def test_prefer_market_days_and_avoid_weekdays_alone():
    problem = make_problem(
        [cardiologist("E1", avoid_weekdays=frozenset({MON.weekday()}))],
        [township(preferred_weekdays=frozenset({WED.weekday()}))],
        {clinic(): 1},
        slots=slots_of(MON, TUE, WED),
    )
    rule = verify(prefer_market_days_and_avoid_weekdays, problem)
    rule.given(session("E1", MON)).penalizes("preference", 2)  # off the market day, on a day E1 avoids
    rule.given(session("E1", TUE)).penalizes("preference", 1)  # off the market day
    rule.given(session("E1", WED)).keeps()


@rule_test(keep_published_assignments)
def test_keep_published_assignments_alone():
    problem = make_problem([cardiologist("E1"), cardiologist("E2")], [township()], {clinic(): 1}, slots=slots_of(MON, TUE))
    rule = verify(keep_published_assignments, problem, previous=[session("E1", MON)], stability_weight=1)
    rule.given(session("E1", TUE)).penalizes("stability", 1)  # moved
    rule.given(session("E2", MON)).penalizes("stability", 1)  # reassigned
    rule.given().penalizes("stability", 1)  # dropped
    rule.given(session("E1", MON)).keeps()


@rule_test(pinned_assignments_stay)
def test_pinned_assignments_stay_alone():
    problem = make_problem([cardiologist("E1")], [township()], {clinic(): 1}, slots=slots_of(MON, TUE))
    rule = verify(pinned_assignments_stay, dataclasses.replace(problem, pins=(Pin("E1", Slot(TUE, "am"), "t1", clinic()),)))
    rule.given(session("E1", MON)).breaks()  # the pinned session moved
    rule.given().breaks()  # dropped
    rule.given(session("E1", TUE)).keeps()


@rule_test(forced_requests_on_their_days)
def test_forced_requests_on_their_days_alone():
    problem = make_problem([cardiologist("E1"), cardiologist("E2")], [township(rooms=2)], {clinic(): 2}, slots=slots_of(MON, TUE))
    rule = verify(forced_requests_on_their_days, dataclasses.replace(problem, requirements=(Requirement(clinic(), frozenset({TUE}), 2),)))
    rule.given(session("E1", TUE), session("E2", MON)).breaks()  # one of the two on the forced day
    rule.given().breaks()
    rule.given(session("E1", TUE), session("E2", TUE)).keeps()


# --- the rulebook's own checks ------------------------------------------------------------------


EVERY_RULE = ELIGIBILITY_RULES + RULES


def test_rule_lists_are_complete_and_disjoint():
    assert set(HARD_RULES).isdisjoint(SOFT_RULES)
    assert set(ELIGIBILITY_RULES).isdisjoint(RULES)
    assert RULES == HARD_RULES + SOFT_RULES
    assert len(set(EVERY_RULE)) == len(EVERY_RULE)


def test_every_rule_has_its_own_test():
    missing = [rule.__name__ for rule in EVERY_RULE if rule not in RULE_TESTS]
    assert not missing, f"rules without a test of their own: {missing}"
    strays = [rule.__name__ for rule in RULE_TESTS if rule not in EVERY_RULE]
    assert not strays, f"tests of rules the rulebook does not list: {strays}"


@pytest.mark.parametrize("base", ["alone", "all"])
@pytest.mark.parametrize("rule", EVERY_RULE, ids=[rule.__name__ for rule in EVERY_RULE])
def test_each_rule_test_fails_without_its_rule(rule, base):
    """The rule-removal check: a model built without the rule makes its own test fail where the rule binds."""
    test = RULE_TESTS[rule]
    with rule_dropped(rule, base), pytest.raises(RuleDidNotBind):
        test()


# === part two: the engine on the smallest case of each rule =====================================


def solve_without(problem: Problem, rule) -> Solution:
    """Build the model with every rule but `rule`, solve it with CP-SAT to optimality, and read the roster."""
    candidates = enumerate_candidates(problem)
    rules = [r for r in RULES if r is not rule]
    assert len(rules) == len(RULES) - 1
    roster = build_model(problem, candidates, free=range(len(candidates.items)), rules=rules)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = TIME_LIMIT
    status = solver.solve(roster.model)
    assert status == cp_model.OPTIMAL, solver.status_name(status)
    chosen = {index for index, variable in roster.x.items() if solver.boolean_value(variable)}
    visits = {key for key, variable in roster.visits.items() if solver.boolean_value(variable)}
    assignments = to_assignments(problem, candidates, chosen, visits)
    unmet = explain_unmet(problem, candidates, chosen, visits)
    return Solution(problem.month, tuple(assignments), tuple(unmet), SolveReport("OPTIMAL"))


def solved(problem: Problem) -> Solution:
    solution = solve(problem, time_limit=TIME_LIMIT, workers=1)
    assert solution.report.status == "OPTIMAL", solution.report
    assert violations(problem, solution) == []
    return solution


def rule_lines(found: list[str], rule_number: int) -> list[str]:
    return [line for line in found if line.startswith(f"rule {rule_number} ")]


# --- rule 3: one place per half-day, one township per day ------------------------------------


def test_one_place_per_half_day():
    # one chief cardiologist, one half-day, t1 (two rooms) wants a clinic and a teaching session;
    # a colleague at home gives the department room for two away (rule 7 counts sessions and would bind alone)
    colleague = Expert("R1", "d", "chief", frozenset({"resp"}), 4)
    problem = make_problem([cardiologist("E1"), colleague], [township(rooms=2)], {clinic(): 1, clinic(kind="teaching"): 1})
    solution = solved(problem)
    assert len(solution.assignments) == 1
    assert sum(row.sessions for row in solution.unmet) == 1

    broken = solve_without(problem, one_place_per_half_day)
    assert len(broken.assignments) == 2
    assert rule_lines(violations(problem, broken), 3)


def test_one_township_per_day():
    # one cardiologist, Monday am and pm, t1 and t2 want one clinic each
    problem = make_problem(
        [cardiologist("E1")], [township("t1"), township("t2")], {clinic("t1"): 1, clinic("t2"): 1}, slots=slots_of(MON, halves=("am", "pm"))
    )
    solution = solved(problem)
    assert len(solution.assignments) == 1

    broken = solve_without(problem, one_township_per_day)
    assert {a.township for a in broken.assignments} == {"t1", "t2"}
    assert any("townships on" in line for line in rule_lines(violations(problem, broken), 3))


# --- rule 4: monthly limit ---------------------------------------------------------------------


def test_monthly_session_limit():
    problem = make_problem([cardiologist("E1", max_sessions=1)], [township()], {clinic(): 2}, slots=slots_of(MON, TUE))
    solution = solved(problem)
    assert len(solution.assignments) == 1
    assert [row.sessions for row in solution.unmet] == [1]

    broken = solve_without(problem, experts_within_monthly_limit)
    assert len(broken.assignments) == 2
    assert rule_lines(violations(problem, broken), 4)


# --- rule 5: rooms -----------------------------------------------------------------------------


def test_rooms_per_half_day():
    # rooms = 1 and two experts want the same (only) half-day: one session
    problem = make_problem([cardiologist("E1"), cardiologist("E2")], [township(rooms=1)], {clinic(): 2})
    solution = solved(problem)
    assert len(solution.assignments) == 1
    assert [row.sessions for row in solution.unmet] == [1]

    broken = solve_without(problem, township_rooms_per_half_day)
    assert len(broken.assignments) == 2
    assert rule_lines(violations(problem, broken), 5)


def test_supervision_takes_no_room():
    # rooms = 1: the member's supervision sits beside the team's sessions, and team_min 1 makes a visit possible
    problem = make_problem(
        [cardiologist("E1"), Expert("M", "admin", "chief", frozenset(), 2)],
        [township(rooms=1)],
        {clinic(): 1},
        links=[Link("M", "t1")],
        rules=Rules(link_team_min=1),
    )
    solution = solved(problem)
    assert Counter(a.type for a in solution.assignments) == {"clinic": 1, "supervision": 1}
    assert solution.unmet == ()


# --- rule 7: department minimum on site --------------------------------------------------------


def test_department_keeps_min_on_site():
    # two cardiologists of one department with min_on_site 1: only one may be away in the half-day
    problem = make_problem(
        [cardiologist("E1"), cardiologist("E2")], [township(rooms=2)], {clinic(): 2}, departments=[Department("d", 1)]
    )
    solution = solved(problem)
    assert len(solution.assignments) == 1

    broken = solve_without(problem, department_keeps_min_on_site)
    assert len(broken.assignments) == 2
    assert rule_lines(violations(problem, broken), 7)


def test_department_that_can_spare_nobody_has_no_candidates():
    problem = make_problem([cardiologist("E1")], [township()], {clinic(): 1}, departments=[Department("d", 1)])
    assert enumerate_candidates(problem).items == []
    solution = solved(problem)
    assert solution.assignments == ()
    assert solution.unmet[0].reason.code in (ReasonCode.DEPARTMENT_MINIMUM, ReasonCode.MIXED_SHORTFALL)
    assert solution.unmet[0].reason.params["departments"]


# --- rule 8: link visits with the team ---------------------------------------------------------


def _link_problem(team: int, team_min: int = 2) -> Problem:
    # M (no specialty) avoids Monday, so without the link rule nothing draws M to t1
    experts = [cardiologist(f"E{n}") for n in range(1, team + 1)]
    experts.append(Expert("M", "admin", "chief", frozenset(), 2, avoid_weekdays=frozenset({MON.weekday()})))
    return make_problem(
        experts, [township(rooms=2)], {clinic(): team}, links=[Link("M", "t1")], rules=Rules(link_team_min=team_min)
    )


def test_link_visit_made_with_its_team():
    problem = _link_problem(team=2)
    solution = solved(problem)
    visit = [a for a in solution.assignments if a.link_visit]
    assert len(visit) == 1 and visit[0].expert == "M" and visit[0].type == "supervision"
    assert {a.expert for a in solution.assignments if a.township == "t1" and a.date == visit[0].date} >= {"E1", "E2", "M"}
    assert solution.unmet == ()

    broken = solve_without(problem, link_visits_with_their_team)
    assert not any(a.expert == "M" for a in broken.assignments)
    # the checker reports the visit that was possible and not made, nor reported
    broken_with_nothing_reported = Solution(problem.month, broken.assignments, (), broken.report)
    assert rule_lines(violations(problem, broken_with_nothing_reported), 8)


def test_link_visit_without_a_team_is_not_made_and_is_reported():
    problem = _link_problem(team=1)  # one other expert, team_min 2
    solution = solved(problem)
    assert not any(a.type == "supervision" or a.link_visit for a in solution.assignments)
    assert [(row.type, row.member, row.sessions) for row in solution.unmet] == [("supervision", "M", 1)]
    assert solution.unmet[0].reason.code is ReasonCode.TEAM_TOO_SMALL and solution.unmet[0].reason.params["team_min"] == 2


# --- rule 9: demand cap ------------------------------------------------------------------------


def test_no_more_sessions_than_asked():
    problem = make_problem([cardiologist("E1"), cardiologist("E2")], [township(rooms=2)], {clinic(): 1})
    solution = solved(problem)
    assert len(solution.assignments) == 1

    broken = solve_without(problem, no_more_sessions_than_asked)
    assert len(broken.assignments) == 2
    assert rule_lines(violations(problem, broken), 9)


# --- rules 1, 2 and 6: settled in solver.candidates --------------------------------------------


def _permissive_solve(problem: Problem) -> Solution:
    solution = solve(problem, time_limit=TIME_LIMIT, workers=1)
    assert solution.assignments, "the permissive candidate list should let a violating session through"
    return solution


def test_specialty_rule_1(monkeypatch):
    problem = make_problem([Expert("E1", "d", "chief", frozenset({"resp"}), 4)], [township()], {clinic(): 1})
    assert enumerate_candidates(problem).items == []
    assert solved(problem).assignments == ()

    monkeypatch.setattr(candidates_module, "can_serve", lambda problem, expert, key: True)
    assert rule_lines(violations(problem, _permissive_solve(problem)), 1)


def test_teaching_title_rule_6(monkeypatch):
    problem = make_problem([cardiologist("E1", title="attending")], [township()], {clinic(kind="teaching"): 1})
    assert enumerate_candidates(problem).items == []
    assert solved(problem).assignments == ()
    # the same attending may hold a clinic
    assert len(solved(make_problem([cardiologist("E1", title="attending")], [township()], {clinic(): 1})).assignments) == 1

    monkeypatch.setattr(candidates_module, "can_serve", lambda problem, expert, key: True)
    assert any("teaching needs" in line for line in rule_lines(violations(problem, _permissive_solve(problem)), 6))


def test_unavailable_expert_rule_2(monkeypatch):
    problem = make_problem([cardiologist("E1", blocked={Slot(MON, "am"): "leave"})], [township()], {clinic(): 1})
    assert enumerate_candidates(problem).items == []
    assert solved(problem).assignments == ()

    monkeypatch.setattr(Expert, "available", lambda self, slot: True)
    assert any("unavailable" in line for line in rule_lines(violations(problem, _permissive_solve(problem)), 2))


def test_only_working_half_days_rule_2():
    # Saturday is not a slot of the month: no candidate can fall on it
    problem = make_problem([cardiologist("E1")], [township()], {clinic(): 3}, slots=slots_of(MON, TUE))
    days = {candidate.day for candidate in enumerate_candidates(problem).items}
    assert days == {MON, TUE}
    solution = solved(problem)
    assert {a.date for a in solution.assignments} <= {MON, TUE}
    assert SAT not in {a.date for a in solution.assignments}


def test_closed_township_day_rule_2(monkeypatch):
    problem = make_problem([cardiologist("E1")], [township(closed_days=frozenset({MON}))], {clinic(): 1}, slots=slots_of(MON, TUE))
    assert {c.day for c in enumerate_candidates(problem).items} == {TUE}
    assert [a.date for a in solved(problem).assignments] == [TUE]

    closed_every_day = make_problem([cardiologist("E1")], [township(closed_days=frozenset({MON}))], {clinic(): 1})
    monkeypatch.setattr(candidates_module, "can_host", lambda problem, township, key, slot: True)
    assert any("closed" in line for line in rule_lines(violations(closed_every_day, _permissive_solve(closed_every_day)), 2))


def test_ward_round_needs_a_ward_rule_6(monkeypatch):
    problem = make_problem([cardiologist("E1")], [township(ward=False)], {clinic(kind="ward_round"): 1})
    assert enumerate_candidates(problem).items == []
    assert solved(problem).assignments == ()

    monkeypatch.setattr(candidates_module, "can_host", lambda problem, township, key, slot: True)
    assert any("no inpatient ward" in line for line in rule_lines(violations(problem, _permissive_solve(problem)), 6))


def test_ward_round_only_in_the_morning_rule_6(monkeypatch):
    problem = make_problem([cardiologist("E1")], [township(ward=True)], {clinic(kind="ward_round"): 1}, slots=slots_of(MON, halves=("am", "pm")))
    assert {c.slot.half_day for c in enumerate_candidates(problem).items} == {"am"}
    assert [a.half_day for a in solved(problem).assignments] == ["am"]

    afternoon_only = make_problem([cardiologist("E1")], [township(ward=True)], {clinic(kind="ward_round"): 1}, slots=slots_of(MON, halves=("pm",)))
    assert solved(afternoon_only).assignments == ()
    monkeypatch.setattr(candidates_module, "can_host", lambda problem, township, key, slot: True)
    assert any("in the pm" in line for line in rule_lines(violations(afternoon_only, _permissive_solve(afternoon_only)), 6))


# --- soft rules --------------------------------------------------------------------------------


def test_spread_across_weeks():
    # two clinics, two weeks of two mornings: one each week, not both in week one
    problem = make_problem([cardiologist("E1")], [township()], {clinic(): 2}, slots=slots_of(MON, TUE, NEXT_MON, NEXT_TUE))
    weeks = [a.date.isocalendar()[1] for a in solved(problem).assignments]
    assert len(weeks) == 2 and len(set(weeks)) == 2


def test_shared_cars():
    # two experts, rooms 1: one in the morning, one in the afternoon of the same day share a car
    problem = make_problem(
        [cardiologist("E1"), cardiologist("E2")], [township(rooms=1)], {clinic(): 2}, slots=slots_of(MON, TUE, halves=("am", "pm"))
    )
    solution = solved(problem)
    assert len(solution.assignments) == 2
    assert len({(a.township, a.date) for a in solution.assignments}) == 1


def test_continuity_prefers_the_returning_expert():
    problem = make_problem(
        [cardiologist("E1", previous_townships=frozenset({"t2"})), cardiologist("E2", previous_townships=frozenset({"t1"}))],
        [township("t1"), township("t2")],
        {clinic("t1"): 1},
    )
    assert [a.expert for a in solved(problem).assignments] == ["E2"]


def test_market_day_preferred():
    problem = make_problem([cardiologist("E1")], [township(preferred_weekdays=frozenset({WED.weekday()}))], {clinic(): 1}, slots=slots_of(MON, TUE, WED))
    assert [a.date for a in solved(problem).assignments] == [WED]


def test_avoided_weekday():
    problem = make_problem([cardiologist("E1", avoid_weekdays=frozenset({MON.weekday(), TUE.weekday()}))], [township()], {clinic(): 1}, slots=slots_of(MON, TUE, WED))
    assert [a.date for a in solved(problem).assignments] == [WED]


def test_fairness_spreads_load_against_continuity():
    # E2 is new at t1 (continuity cost), yet fairness shares four sessions two and two
    problem = make_problem(
        [cardiologist("E1", previous_townships=frozenset({"t1"})), cardiologist("E2", previous_townships=frozenset({"t2"}))],
        [township("t1", rooms=2), township("t2")],
        {clinic("t1"): 4},
        slots=slots_of(MON, TUE, halves=("am", "pm")),
    )
    assert Counter(a.expert for a in solved(problem).assignments) == {"E1": 2, "E2": 2}

    unfair = solve_without(problem, load_fair_to_capacity)
    assert Counter(a.expert for a in unfair.assignments) == {"E1": 4}


@pytest.mark.parametrize(
    "rule",
    [sessions_spread_across_weeks, shared_cars, same_expert_returns, prefer_market_days_and_avoid_weekdays],
)
def test_soft_rules_are_only_preferences(rule):
    # removing a soft rule never changes how much demand is covered on a case where each one pulls
    problem = make_problem(
        [cardiologist("E1", previous_townships=frozenset({"t2"}), avoid_weekdays=frozenset({0})), cardiologist("E2")],
        [township("t1", rooms=1, preferred_weekdays=frozenset({1}))],
        {clinic("t1"): 3},
        slots=slots_of(MON, TUE, NEXT_MON, halves=("am", "pm")),
    )
    full = solved(problem)
    without = solve_without(problem, rule)
    assert len(without.assignments) == len(full.assignments) == 3
    assert violations(problem, without) == []
