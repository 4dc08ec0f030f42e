"""One objective (solver.objective): every term declared by the rule that adds it, every bound saying which
terms it prices, and the engine claiming nothing from a bound that prices a term its model leaves out."""

from __future__ import annotations

import pytest
from ortools.sat.python import cp_model

import solver.model as model_module
from solver.bounds import coverage_lower_bound, objective_lower_bound, trips_lower_bound
from solver.candidates import enumerate_candidates
from solver.engine import solve
from solver.model import build_model, model_terms
from solver.objective import COVERAGE_TERMS, Term, bound_holds, terms_of
from solver.rules import HARD_RULES, RULES, SOFT_RULES
from solver.rules.objectives import load_fair_to_capacity
from tests.solver.conftest import MON, THU, TUE, WED, cardiologist, clinic, make_problem, slots_of, township


def test_each_term_is_declared_by_exactly_one_rule_of_the_rulebook():
    declaring = {term: [rule.__name__ for rule in RULES if term in terms_of([rule])] for term in Term}
    assert all(len(rules) == 1 for rules in declaring.values()), declaring
    assert all(len(terms_of([rule])) == 1 for rule in SOFT_RULES)  # a soft rule is one term
    assert model_terms() == frozenset(Term)
    assert COVERAGE_TERMS <= terms_of(RULES)


def test_a_rule_that_penalizes_a_term_it_does_not_declare_is_refused():
    problem = make_problem([cardiologist("A")], [township()], {clinic(): 1})
    candidates = enumerate_candidates(problem)

    def undeclared(roster) -> None:
        roster.penalize(Term.TRIPS, 1, 3)

    with pytest.raises(ValueError, match="trips"):
        build_model(problem, candidates, free=range(len(candidates.items)), rules=HARD_RULES + (undeclared,))


def test_a_bound_holds_only_for_a_model_with_every_term_it_prices():
    everything = model_terms()
    assert bound_holds(objective_lower_bound, everything)
    assert bound_holds(coverage_lower_bound, everything - {Term.FAIRNESS})  # it prices coverage only
    assert not bound_holds(objective_lower_bound, everything - {Term.FAIRNESS})
    assert not bound_holds(trips_lower_bound, everything - {Term.TRIPS})
    with pytest.raises(TypeError, match="does not declare"):
        bound_holds(lambda problem, candidates: 0, everything)


def _uneven_cardiology():
    """Four cardiology sessions at t1 over four days; B is free on one morning only, so A serves three: the fair
    share is two each, and fairness costs at least 2 x 10 in every roster."""
    slots = slots_of(MON, TUE, WED, THU)
    b_blocked = frozenset(slot for slot in slots if slot.day != MON)
    problem = make_problem([cardiologist("A"), cardiologist("B", blocked=b_blocked)], [township()], {clinic(): 4}, slots=slots)
    return problem, enumerate_candidates(problem)


def test_with_fairness_left_out_of_the_model_the_solve_claims_no_bound_the_model_can_beat(monkeypatch):
    problem, candidates = _uneven_cardiology()
    without_fairness = tuple(rule for rule in RULES if rule is not load_fair_to_capacity)
    roster = build_model(problem, candidates, free=range(len(candidates.items)), rules=without_fairness)
    cp_sat = cp_model.CpSolver()
    cp_sat.parameters.num_workers = 1
    assert cp_sat.solve(roster.model) == cp_model.OPTIMAL
    optimum = round(cp_sat.objective_value)  # CP-SAT alone on the model without fairness
    assert objective_lower_bound(problem, candidates) > optimum  # the relaxations price fairness: no bound on that model

    monkeypatch.setattr(model_module, "RULES", without_fairness)
    report = solve(problem, time_limit=5, workers=1).report
    assert report.objective == optimum
    assert report.best_bound is not None and report.best_bound <= optimum
    assert report.status == "OPTIMAL"  # CP-SAT's own bound on the model proves it
    assert "fairness" not in report.objective_terms


def test_the_whole_rulebook_still_uses_the_relaxations():
    problem, candidates = _uneven_cardiology()
    report = solve(problem, time_limit=5, workers=1).report
    assert report.best_bound == report.objective == objective_lower_bound(problem, candidates)
    assert report.objective_terms.get("fairness", 0) >= 20


def test_a_searched_month_without_fairness_neither_stops_on_nor_reports_the_relaxations(monkeypatch):
    from bench.generate import generate_scenario
    from scheduler.problem_builder import build_problem

    problem = build_problem(generate_scenario(9, 60, 0.6, seed=3, month="2027-03"), "2027-03")
    candidates = enumerate_candidates(problem)
    assert len(candidates.items) > 3_000  # a month for the search, not the whole model
    monkeypatch.setattr(model_module, "RULES", tuple(rule for rule in RULES if rule is not load_fair_to_capacity))
    report = solve(problem, time_limit=5, workers=1).report
    assert "fairness" not in report.objective_terms
    assert report.best_bound == coverage_lower_bound(problem, candidates)  # the floor still bounds it; the relaxations do not
    assert report.best_bound <= report.objective
    assert report.status == "FEASIBLE" or report.objective == report.best_bound
