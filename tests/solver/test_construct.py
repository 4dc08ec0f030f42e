"""The constructive start (solver.construct): its fairness repair hands sessions over without moving them."""

from __future__ import annotations

from collections import Counter

import pytest

import solver.construct as construct_module
from bench.generate import generate_scenario
from scheduler.problem_builder import build_problem
from solver.candidates import enumerate_candidates
from solver.construct import construct
from solver.engine import Incumbent, evaluate, to_assignments
from solver.reasons import explain_unmet
from solver.rules.objectives import fair_targets
from solver.solution import Solution, SolveReport
from tests.solver.checker import violations


@pytest.fixture(scope="module")
def county():
    problem = build_problem(generate_scenario(9, 60, 0.6, seed=5, month="2027-03"), "2027-03")
    return problem, enumerate_candidates(problem)


def _places(candidates, chosen) -> Counter:
    return Counter((candidates.items[i].township, candidates.items[i].slot, candidates.items[i].key) for i in chosen)


def _who_pays(terms: dict[str, int]) -> int:
    return terms.get("fairness", 0) + terms.get("continuity", 0) + terms.get("preference", 0)


def test_rebalancing_hands_sessions_to_colleagues_below_their_fair_load_in_the_same_half_day(county, monkeypatch):
    problem, candidates = county
    targets = fair_targets(problem, candidates)
    balanced = construct(problem, candidates)
    monkeypatch.setattr(construct_module, "_rebalance", lambda state, locked: None)
    greedy = construct(problem, candidates)
    before = evaluate(problem, candidates, Incumbent(set(greedy.chosen), set(greedy.visits)), targets)
    after = evaluate(problem, candidates, Incumbent(set(balanced.chosen), set(balanced.visits)), targets)
    assert _places(candidates, balanced.chosen) == _places(candidates, greedy.chosen)  # same rows, townships, half-days
    assert balanced.visits == greedy.visits
    assert _who_pays(after.terms) < _who_pays(before.terms)
    assert after.terms.get("trips") == before.terms.get("trips")
    unmet = tuple(explain_unmet(problem, candidates, balanced.chosen, balanced.visits))
    roster = Solution(problem.month, tuple(to_assignments(problem, candidates, balanced.chosen, balanced.visits)), unmet, SolveReport("FEASIBLE"))
    assert violations(problem, roster) == []


def test_sessions_kept_from_a_previous_roster_stay_with_their_experts(county, monkeypatch):
    problem, candidates = county
    monkeypatch.setattr(construct_module, "_rebalance", lambda state, locked: None)
    previous = construct(problem, candidates)  # unbalanced: rebalancing it would move sessions
    monkeypatch.undo()
    kept = sorted(i for i in previous.chosen if candidates.items[i].key is not None)
    assert construct(problem, candidates).chosen != previous.chosen
    again = construct(problem, candidates, keep=kept)
    assert set(kept) <= again.chosen


def test_a_kept_visit_stays_on_its_day_when_another_day_has_a_larger_team():
    # M visits t1 on Wednesday, supervising E1's session; on Monday E1 and E2 serve there, a larger team, which a start
    # from nothing would pick. A re-plan's start keeping that roster and its visit keeps the visit where it was (else
    # two changes: the supervision and the visit).
    import datetime as dt

    from solver.problem import DemandKey, Department, Expert, Link, Problem, Rules, Slot, Township

    monday, wednesday = dt.date(2027, 3, 1), dt.date(2027, 3, 3)
    experts = tuple(Expert(e, "d", "chief", frozenset({"cardio"}), 10) for e in ("M", "E1", "E2"))
    problem = Problem(
        "2027-03",
        tuple(Slot(monday + dt.timedelta(days=n), "am") for n in range(5)),
        experts,
        (Township("t1", rooms=2, inpatient_ward=False),),
        (Department("d", 0),),
        {DemandKey("t1", "clinic", "cardio"): 3},
        links=(Link("M", "t1"),),
        rules=Rules(link_team_min=1),
    )
    candidates = enumerate_candidates(problem)
    key = DemandKey("t1", "clinic", "cardio")
    kept = [
        candidates.index_of("E1", Slot(monday, "am"), "t1", key),
        candidates.index_of("E2", Slot(monday, "am"), "t1", key),
        candidates.index_of("E1", Slot(wednesday, "am"), "t1", key),
        candidates.index_of("M", Slot(wednesday, "am"), "t1", None),
    ]
    assert None not in kept
    assert construct(problem, candidates).visits == {("M", "t1", monday)}  # from nothing: the larger team

    start = construct(problem, candidates, keep=kept, visits={("M", "t1", wednesday)})

    assert start.visits == {("M", "t1", wednesday)}
    assert set(kept) <= start.chosen


def test_a_cut_demand_row_keeps_the_sessions_of_the_experts_below_their_fair_load():
    # C1 served three of the row's four sessions and C2 one; the row is cut to two. The start keeps one each (C1 is
    # above the fair load of two experts alike), not the first two it meets.
    import datetime as dt

    from solver.problem import DemandKey, Department, Expert, Problem, Slot, Township

    monday = dt.date(2027, 3, 1)
    slots = tuple(Slot(monday + dt.timedelta(days=n), "am") for n in range(5))
    key = DemandKey("t1", "clinic", "cardio")
    problem = Problem(
        "2027-03",
        slots,
        tuple(Expert(e, "d", "chief", frozenset({"cardio"}), 4) for e in ("C1", "C2")),
        (Township("t1", rooms=1, inpatient_ward=False),),
        (Department("d", 0),),
        {key: 2},
    )
    candidates = enumerate_candidates(problem)
    kept = [candidates.index_of(expert, slot, "t1", key) for expert, slot in (("C1", slots[0]), ("C1", slots[1]), ("C1", slots[2]), ("C2", slots[3]))]

    start = construct(problem, candidates, keep=kept)

    assert Counter(candidates.items[i].expert for i in start.chosen) == {"C1": 1, "C2": 1}
    assert set(start.chosen) <= set(kept)
