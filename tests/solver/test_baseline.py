"""The greedy baseline: first fit, every hard rule kept (by the independent checker), unmet reported with reasons."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from bench.generate import generate_scenario
from scheduler.problem_builder import build_problem
from scheduler.scenario.load import load_scenario
from solver.baseline import greedy_baseline
from solver.problem import DemandKey, Department, Expert, Link, Problem, Rules, Slot, Township
from solver.solution import Reason, ReasonCode
from tests.solver.checker import violations
from tests.solver.strategies import problems, random_problem

SAMPLE = Path(__file__).resolve().parents[2] / "config" / "examples" / "quannan.yaml"
MON, TUE = dt.date(2027, 3, 1), dt.date(2027, 3, 2)
SLOTS = tuple(Slot(day, half) for day in (MON, TUE) for half in ("am", "pm"))


def tiny(demand, experts=None, links=(), rules=Rules(link_team_min=1), townships=None, departments=None) -> Problem:
    return Problem(
        month="2027-03",
        slots=SLOTS,
        experts=tuple(experts or (Expert("E1", "d", "chief", frozenset({"cardio"}), 4), Expert("E2", "d", "attending", frozenset({"cardio"}), 4))),
        townships=tuple(townships or (Township("t1", 1, True), Township("t2", 2, False))),
        departments=tuple(departments or (Department("d", 0),)),
        demand=demand,
        links=tuple(links),
        rules=rules,
    )


def test_first_free_expert_at_the_first_half_day():
    solution = greedy_baseline(tiny({DemandKey("t1", "clinic", "cardio"): 2}))
    placed = [(a.date, a.half_day, a.expert) for a in solution.assignments]
    assert placed == [(MON, "am", "E1"), (MON, "pm", "E1")]
    assert solution.report.status == "FEASIBLE" and solution.unmet == ()
    assert all(a.id for a in solution.assignments) and len({a.id for a in solution.assignments}) == 2


def test_rooms_and_teaching_title_push_sessions_along():
    problem = tiny({DemandKey("t1", "clinic", "cardio"): 1, DemandKey("t1", "teaching", "cardio"): 1})
    placed = [(a.date, a.half_day, a.type, a.expert) for a in greedy_baseline(problem).assignments]
    assert placed == [(MON, "am", "clinic", "E1"), (MON, "pm", "teaching", "E1")]


def test_ward_rounds_only_in_the_morning_and_only_with_a_ward():
    problem = tiny({DemandKey("t1", "ward_round", "cardio"): 3, DemandKey("t2", "ward_round", "cardio"): 1})
    solution = greedy_baseline(problem)
    assert all(a.half_day == "am" and a.township == "t1" for a in solution.assignments)
    assert len(solution.assignments) == 2  # one room, two mornings
    reasons = {(row.township, row.sessions): row.reason for row in solution.unmet}
    assert reasons[("t2", 1)].code is ReasonCode.NO_INPATIENT_WARD
    assert ("t1", 1) in reasons
    assert violations(problem, solution) == []


def test_department_minimum_holds_experts_back():
    problem = tiny({DemandKey("t2", "clinic", "cardio"): 8}, departments=(Department("d", 1),))
    solution = greedy_baseline(problem)
    assert len(solution.assignments) == 4  # one of two may leave each half-day
    assert solution.unmet[0].sessions == 4
    assert violations(problem, solution) == []


def test_unmet_reasons_name_the_cause():
    problem = tiny({DemandKey("t2", "clinic", "paeds"): 2, DemandKey("t2", "teaching", "cardio"): 1},
                   experts=(Expert("E2", "d", "attending", frozenset({"cardio"}), 4),))
    reasons = {row.specialty: row.reason for row in greedy_baseline(problem).unmet}
    assert reasons["paeds"] == Reason.of(ReasonCode.NO_SPECIALIST, specialty="paeds")
    assert reasons["cardio"].code is ReasonCode.TITLE_TOO_LOW


def test_link_visit_on_the_members_own_session_or_by_supervision():
    experts = (
        Expert("E1", "d", "chief", frozenset({"cardio"}), 4),
        Expert("E2", "d", "attending", frozenset({"cardio"}), 4),
        Expert("M", "admin", "chief", frozenset(), 2),
    )
    problem = tiny({DemandKey("t2", "clinic", "cardio"): 2}, experts=experts,
                   links=(Link("E1", "t2"), Link("M", "t2")), departments=(Department("d", 0), Department("admin", 0)))
    solution = greedy_baseline(problem)
    assert violations(problem, solution) == []
    visits = {(a.expert, a.type) for a in solution.assignments if a.link_visit}
    assert visits == {("E1", "clinic"), ("M", "supervision")}
    assert solution.unmet == ()


def test_a_visit_that_cannot_happen_is_reported_with_the_member():
    away = Expert("M", "d", "chief", frozenset(), 2, blocked={slot: "leave" for slot in SLOTS})
    problem = tiny({DemandKey("t2", "clinic", "cardio"): 1}, experts=(Expert("E1", "d", "chief", frozenset({"cardio"}), 4), away), links=(Link("M", "t2"),))
    solution = greedy_baseline(problem)
    (row,) = solution.unmet
    assert (row.type, row.member, row.township, row.sessions) == ("supervision", "M", "t2", 1)
    assert row.reason == Reason.of(ReasonCode.MEMBER_UNAVAILABLE, member="M", township="t2")
    assert violations(problem, solution) == []


def test_members_keep_sessions_back_for_their_visits():
    member = Expert("E1", "d", "chief", frozenset({"cardio"}), 2)
    problem = tiny({DemandKey("t1", "clinic", "cardio"): 4}, experts=(member, Expert("E2", "d", "attending", frozenset({"cardio"}), 4)),
                   links=(Link("E1", "t2"),))
    solution = greedy_baseline(problem)
    assert sum(1 for a in solution.assignments if a.expert == "E1" and a.township == "t1") == 1
    assert violations(problem, solution) == []


@pytest.mark.parametrize("seed", range(60))
def test_random_small_problems_keep_every_hard_rule(seed):
    problem = random_problem(seed)
    assert violations(problem, greedy_baseline(problem)) == []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_property_baseline_output_passes_the_checker(problem):
    assert violations(problem, greedy_baseline(problem)) == []


def test_the_sample_county_keeps_every_hard_rule():
    problem = build_problem(load_scenario(SAMPLE), "2027-01")
    solution = greedy_baseline(problem)
    assert violations(problem, solution) == []
    assert solution.report.unmet_sessions == sum(r.sessions for r in solution.unmet if r.type != "supervision")


@pytest.mark.parametrize("townships, experts, load", [(9, 60, 0.9), (26, 400, 0.9)])
def test_generated_counties_keep_every_hard_rule(townships, experts, load):
    problem = build_problem(generate_scenario(townships, experts, load, seed=1), "2027-03")
    solution = greedy_baseline(problem)
    assert violations(problem, solution) == []
    assert len(solution.assignments) > 0.8 * sum(problem.demand.values())
