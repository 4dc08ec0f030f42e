"""A township's timetable re-planned as counts (solver.timetable): the same rows and numbers on fewer
car-days, only where experts are free to come, link visit days untouched, and a staffed roster
that keeps the hard rules."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from bench.generate import generate_scenario
from scheduler.problem_builder import build_problem
from solver.bounds import market_day_lower_bound, township_days_needed, township_off_market_needed, trips_lower_bound
from solver.candidates import enumerate_candidates
from solver.construct import construct
from solver.engine import to_assignments
from solver.problem import DemandKey, Department, Expert, Problem, Rules, Slot, Township, Weights
from solver.reasons import explain_unmet
from solver.rules.objectives import fair_targets
from solver.solution import Solution, SolveReport
from solver.timetable import repacked_timetable, staff
from tests.solver.checker import violations

MON, TUE, WED = dt.date(2027, 3, 1), dt.date(2027, 3, 2), dt.date(2027, 3, 3)
SLOTS = tuple(Slot(day, half) for day in (MON, TUE, WED) for half in ("am", "pm"))
CARDIO = DemandKey("t1", "clinic", "cardio")
TRIPS_AND_MARKET_DAYS = Rules(weights=Weights(fairness=0, spread=0, trips=3, continuity=0, preference=1))


def _roster(problem: Problem, candidates, chosen: set[int], visits=frozenset()) -> Solution:
    unmet = tuple(explain_unmet(problem, candidates, chosen, visits))
    return Solution(problem.month, tuple(to_assignments(problem, candidates, chosen, visits)), unmet, SolveReport("FEASIBLE"))


def _car_days(candidates, chosen, township: str) -> set[dt.date]:
    return {candidates.items[i].day for i in chosen if candidates.items[i].township == township}


def _rows(timetable) -> Counter:
    rows: Counter = Counter()
    for (key, _slot), sessions in timetable.counts.items():
        rows[key] += sessions
    return rows


def _two_experts_on_two_days(busy_on_market_day: bool = False):
    """t1 wants two cardiology sessions, served by A on Monday and B on Wednesday; Tuesday is its market day."""
    experts = (
        Expert("A", "d", "chief", frozenset({"cardio"}), 10),
        Expert("B", "d", "chief", frozenset({"cardio"}), 10),
    )
    townships = (
        Township("t1", rooms=1, inpatient_ward=False, preferred_weekdays=frozenset({TUE.weekday()})),
        Township("t2", rooms=1, inpatient_ward=False),
    )
    at_t2 = DemandKey("t2", "clinic", "cardio")
    problem = Problem("2027-03", SLOTS, experts, townships, (Department("d", 0),), {CARDIO: 2, at_t2: 2}, rules=TRIPS_AND_MARKET_DAYS)
    candidates = enumerate_candidates(problem)
    chosen = {candidates.index_of("A", Slot(MON, "am"), "t1", CARDIO), candidates.index_of("B", Slot(WED, "am"), "t1", CARDIO)}
    if busy_on_market_day:  # both serve t2 on Tuesday: neither can come to t1 that day (rule 3)
        chosen |= {candidates.index_of("A", Slot(TUE, "am"), "t2", at_t2), candidates.index_of("B", Slot(TUE, "pm"), "t2", at_t2)}
    return problem, candidates, chosen


def test_a_township_on_two_car_days_is_packed_into_one_and_staffed():
    problem, candidates, chosen = _two_experts_on_two_days()
    timetable = repacked_timetable(problem, candidates, "t1", chosen, set())
    assert timetable is not None
    assert _rows(timetable) == Counter({CARDIO: 2})  # same row, same number of sessions
    assert len({slot.day for _key, slot in timetable.counts}) == 1
    staffed = staff(problem, candidates, timetable, chosen, fair_targets(problem, candidates))
    assert len(staffed) == 2 and len(_car_days(candidates, staffed, "t1")) == 1
    assert violations(problem, _roster(problem, candidates, staffed)) == []
    # once packed, there is nothing left to gain
    assert repacked_timetable(problem, candidates, "t1", staffed, set()) is None


def test_a_township_is_packed_on_its_market_day_when_its_experts_are_free_then():
    problem, candidates, chosen = _two_experts_on_two_days()
    timetable = repacked_timetable(problem, candidates, "t1", chosen, set())
    assert timetable is not None and {slot.day for _key, slot in timetable.counts} == {TUE}


def test_an_expert_serving_another_township_that_day_is_not_free_to_come():
    problem, candidates, chosen = _two_experts_on_two_days(busy_on_market_day=True)
    timetable = repacked_timetable(problem, candidates, "t1", chosen, set())
    assert timetable is not None
    assert TUE not in {slot.day for _key, slot in timetable.counts}  # the market day, but nobody can come
    staffed = staff(problem, candidates, timetable, chosen, fair_targets(problem, candidates))
    assert len(staffed) == len(chosen) and len(_car_days(candidates, staffed, "t1")) == 1
    assert violations(problem, _roster(problem, candidates, staffed)) == []


def test_a_link_visit_day_keeps_its_sessions():
    problem, candidates, chosen = _two_experts_on_two_days()
    # a visit on Wednesday at t1 holds B's session there
    timetable = repacked_timetable(problem, candidates, "t1", chosen, {("B", "t1", WED)})
    wednesday = candidates.index_of("B", Slot(WED, "am"), "t1", CARDIO)
    assert timetable is not None  # Monday's session moves to the market day
    assert wednesday not in timetable.replaced and {slot.day for _key, slot in timetable.counts} == {TUE}


@pytest.fixture(scope="module")
def county():
    problem = build_problem(generate_scenario(9, 60, 0.6, seed=5, month="2027-03"), "2027-03")
    candidates = enumerate_candidates(problem)
    return problem, candidates, construct(problem, candidates)


@pytest.mark.slow  # a generated county solved (~8 s)
def test_on_a_generated_county_repacking_saves_car_days_and_keeps_every_hard_rule(county):
    problem, candidates, start = county
    chosen, visits = set(start.chosen), set(start.visits)
    targets = fair_targets(problem, candidates)
    saved = 0
    for township in problem.townships:
        timetable = repacked_timetable(problem, candidates, township.id, chosen, visits, time_limit=2.0)
        if timetable is None:
            continue
        visit_days = {day for _member, where, day in visits if where == township.id}
        assert all(candidates.items[i].day not in visit_days for i in timetable.replaced)
        assert _rows(timetable) == Counter(candidates.items[i].key for i in timetable.replaced)  # same rows, same numbers
        staffed = staff(problem, candidates, timetable, chosen, targets)
        assert violations(problem, _roster(problem, candidates, staffed, visits)) == []
        if len(staffed) == len(chosen):
            saved += len(_car_days(candidates, chosen, township.id)) - len(_car_days(candidates, staffed, township.id))
    assert saved > 0


def test_the_days_each_township_needs_add_up_to_the_trips_bound(county):
    problem, candidates, _start = county
    assert sum(township_days_needed(problem, candidates).values()) == trips_lower_bound(problem, 0, candidates)


def test_the_sessions_each_township_must_hold_off_its_market_days_add_up_to_the_market_day_bound(county):
    problem, candidates, _start = county
    per_township = township_off_market_needed(problem, candidates)
    assert set(per_township) == {t.id for t in problem.townships if t.preferred_weekdays}
    assert sum(per_township.values()) == market_day_lower_bound(problem, candidates, 0)
