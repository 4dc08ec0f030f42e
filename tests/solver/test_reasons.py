"""Every unmet row says why as a reason code with parameters; an infeasible set of fixed assignments names its rule."""

from __future__ import annotations

import datetime as dt

import pytest
from ortools.sat.python import cp_model

from solver.candidates import enumerate_candidates
from solver.engine import solve
from solver.model import build_model
from solver.problem import DemandKey, Department, Expert, Link, Problem, Rules, Slot, Township
from solver.reasons import explain_infeasible
from solver.solution import Reason, ReasonCode, Unmet
from tests.solver.checker import violations

MON, TUE = dt.date(2027, 3, 1), dt.date(2027, 3, 2)
SLOTS = tuple(Slot(day, half) for day in (MON, TUE) for half in ("am", "pm"))
CLINIC = DemandKey("t1", "clinic", "cardio")


def expert(expert_id: str, specialties=("cardio",), title: str = "chief", max_sessions: int = 4, department: str = "d", **changes) -> Expert:
    return Expert(expert_id, department, title, frozenset(specialties), max_sessions, **changes)


def make_problem(experts, demand, ward: bool = False, departments=None, links=(), rules: Rules = Rules(), rooms: int = 1) -> Problem:
    if departments is None:
        departments = tuple(Department(code, 0) for code in sorted({e.department for e in experts}))
    return Problem(
        "2027-03",
        SLOTS,
        tuple(experts),
        (Township("t1", rooms=rooms, inpatient_ward=ward),),
        tuple(departments),
        dict(demand),
        tuple(links),
        rules,
        specialty_names={"cardio": "Cardiology", "resp": "Respiratory"},
    )


def only_unmet(problem: Problem) -> Unmet:
    solution = solve(problem, time_limit=5, workers=1)
    assert violations(problem, solution) == []
    assert len(solution.unmet) == 1, solution.unmet
    return solution.unmet[0]


def test_no_expert_holds_the_specialty():
    row = only_unmet(make_problem([expert("E1", specialties=("resp",))], {CLINIC: 1}))
    assert (row.township, row.type, row.specialty, row.sessions) == ("t1", "clinic", "cardio", 1)
    assert row.reason == Reason.of(ReasonCode.NO_SPECIALIST, specialty="cardio")


def test_teaching_title_missing():
    row = only_unmet(make_problem([expert("E1", title="attending"), expert("E2", title="attending")], {DemandKey("t1", "teaching", "cardio"): 1}))
    assert row.type == "teaching"
    assert row.reason == Reason.of(ReasonCode.TITLE_TOO_LOW, specialty="cardio", title="associate_chief", holders=2)


def test_no_inpatient_ward():
    row = only_unmet(make_problem([expert("E1")], {DemandKey("t1", "ward_round", "cardio"): 2}, ward=False))
    assert (row.type, row.sessions) == ("ward_round", 2)
    assert row.reason == Reason.of(ReasonCode.NO_INPATIENT_WARD, township="t1")


def test_all_eligible_at_their_monthly_limit():
    row = only_unmet(make_problem([expert("E1", max_sessions=1), expert("E2", max_sessions=1)], {CLINIC: 3}))
    assert row.sessions == 1
    assert row.reason.code is ReasonCode.ALL_AT_MONTHLY_LIMIT
    assert row.reason.params == {"township": "t1", "type": "clinic", "specialty": "cardio", "sessions": 1, "experts": ("E1", "E2")}


def test_on_leave_every_open_day():
    on_leave = {slot: "进修" for slot in SLOTS}
    row = only_unmet(make_problem([expert("E1", blocked=on_leave), expert("E2", blocked=dict(on_leave))], {CLINIC: 2}))
    assert row.sessions == 2
    assert row.reason.code is ReasonCode.ALL_UNAVAILABLE
    assert (row.reason.params["experts"], row.reason.params["why"], row.reason.params["sessions"]) == (("E1", "E2"), ("进修",), 2)


def test_department_minimum_keeps_them_home():
    row = only_unmet(make_problem([expert("E1"), expert("E2")], {CLINIC: 1}, departments=[Department("d", 2)]))
    assert row.reason.code is ReasonCode.DEPARTMENT_MINIMUM
    assert (row.reason.params["experts"], row.reason.params["departments"]) == (("E1", "E2"), ("d",))


def test_link_visit_impossible_when_the_member_is_away_all_month():
    member = expert("M", specialties=(), department="admin", blocked={slot: "away" for slot in SLOTS})
    problem = make_problem([expert("E1"), expert("E2"), member], {CLINIC: 2}, links=[Link("M", "t1")], rules=Rules(link_team_min=1))
    solution = solve(problem, time_limit=5, workers=1)
    assert violations(problem, solution) == []
    assert len([a for a in solution.assignments if a.type == "clinic"]) == 2
    rows = [row for row in solution.unmet if row.type == "supervision"]
    assert len(rows) == 1
    row = rows[0]
    assert (row.township, row.specialty, row.member, row.sessions) == ("t1", None, "M", 1)
    assert row.reason == Reason.of(ReasonCode.MEMBER_UNAVAILABLE, member="M", township="t1")


def test_every_unmet_row_has_a_reason_on_a_mixed_case():
    problem = make_problem(
        [expert("E1", max_sessions=1), expert("E2", title="attending", max_sessions=1)],
        {CLINIC: 3, DemandKey("t1", "teaching", "cardio"): 1, DemandKey("t1", "clinic", "derm"): 1},
    )
    solution = solve(problem, time_limit=5, workers=1)
    assert violations(problem, solution) == []
    kinds = {(row.type, row.specialty) for row in solution.unmet}
    assert {("clinic", "cardio"), ("clinic", "derm")} <= kinds <= {("clinic", "cardio"), ("clinic", "derm"), ("teaching", "cardio")}
    assert sum(row.sessions for row in solution.unmet) == 5 - 2  # two experts with one session each
    assert all(isinstance(row.reason, Reason) and row.reason.code is not ReasonCode.TEXT for row in solution.unmet)
    derm = next(row for row in solution.unmet if row.specialty == "derm")
    assert derm.reason == Reason.of(ReasonCode.NO_SPECIALIST, specialty="derm")


# --- infeasibility: fixed assignments that break a rule -----------------------------------------


def _indices(candidates, wanted):
    found = []
    for expert_id, slot, key in wanted:
        index = candidates.index_of(expert_id, slot, "t1", key)
        assert index is not None, (expert_id, slot, key)
        found.append(index)
    return found


def _fixed_is_infeasible(problem, fixed) -> Reason:
    candidates = enumerate_candidates(problem)
    fixed_indices = _indices(candidates, fixed)
    roster = build_model(problem, candidates, free=[i for i in range(len(candidates.items)) if i not in fixed_indices], fixed=fixed_indices)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 5
    assert solver.solve(roster.model) == cp_model.INFEASIBLE
    return explain_infeasible(problem, candidates, fixed_indices)


@pytest.mark.parametrize(
    "case, rule",
    [
        ("rooms", "township rooms"),
        ("limit", "monthly session limit"),
        ("one place", "one place per half-day"),
        ("cap", "demand cap"),
    ],
)
def test_infeasible_fixed_assignments_name_the_rule(case, rule):
    am = SLOTS[0]
    teaching = DemandKey("t1", "teaching", "cardio")
    colleagues = [expert(f"R{n}", specialties=("resp",)) for n in range(3)]  # room in the department for everyone
    if case == "rooms":
        problem = make_problem([expert("E1"), expert("E2"), *colleagues], {CLINIC: 2}, rooms=1)
        fixed = [("E1", am, CLINIC), ("E2", am, CLINIC)]
    elif case == "limit":
        problem = make_problem([expert("E1", max_sessions=1), *colleagues], {CLINIC: 2})
        fixed = [("E1", SLOTS[0], CLINIC), ("E1", SLOTS[1], CLINIC)]
    elif case == "one place":
        problem = make_problem([expert("E1"), *colleagues], {CLINIC: 1, teaching: 1}, rooms=2)
        fixed = [("E1", am, CLINIC), ("E1", am, teaching)]
    else:
        problem = make_problem([expert("E1"), expert("E2"), *colleagues], {CLINIC: 1})
        fixed = [("E1", SLOTS[0], CLINIC), ("E2", SLOTS[2], CLINIC)]
    explanation = _fixed_is_infeasible(problem, fixed)
    assert explanation.code is ReasonCode.RULES_CLASH
    assert rule in explanation.params["rules"]
    assert explanation.params["fixed"] == 2


def test_feasible_fixed_assignments_are_not_called_a_clash():
    problem = make_problem([expert("E1")], {CLINIC: 1})
    candidates = enumerate_candidates(problem)
    fixed = _indices(candidates, [("E1", SLOTS[0], CLINIC)])
    assert explain_infeasible(problem, candidates, fixed) == Reason.of(ReasonCode.CLASH_NOT_SHOWN)


def test_a_mixed_shortfall_lists_each_group():
    on_leave = {slot: "进修" for slot in SLOTS}
    problem = make_problem([expert("E1", max_sessions=1), expert("E2", blocked=on_leave)], {CLINIC: 3})
    row = only_unmet(problem)
    assert row.reason.code is ReasonCode.MIXED_SHORTFALL
    params = row.reason.params
    assert (params["sessions"], params["eligible"], params["at_limit"], params["unavailable"], params["why"]) == (2, 2, ("E1",), ("E2",), ("进修",))
    assert params["kept_home"] == params["busy"] == ()


def test_a_link_visit_without_a_team_names_the_days():
    member = expert("M", specialties=(), department="admin")
    problem = make_problem([expert("E1"), member], {CLINIC: 1}, links=[Link("M", "t1")], rules=Rules(link_team_min=2))
    solution = solve(problem, time_limit=5, workers=1)
    row = next(row for row in solution.unmet if row.type == "supervision")
    assert row.reason == Reason.of(ReasonCode.TEAM_TOO_SMALL, member="M", township="t1", days=("2027-03-01", "2027-03-02"), team_min=2)


def test_a_reason_is_hashable_and_round_trips_through_json():
    reason = Reason.of(ReasonCode.TEAM_TOO_SMALL, member="M", township="t1", days=[MON, TUE], team_min=2)
    assert hash(reason) == hash(Reason.from_json(str(reason.code), reason.params_json()))
    assert Reason.from_json(str(reason.code), reason.params_json()) == reason
    assert reason.params_json()["days"] == ["2027-03-01", "2027-03-02"]
    assert Reason.from_json("NOT_A_CODE", {}, "old sentence") == Reason.text("old sentence")
