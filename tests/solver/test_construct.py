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
