"""The CP-SAT model of a month: variables for free candidates, constants for fixed ones, rules on top.

The same builder makes the full model (every candidate free) and the sub-models of the
large-neighbourhood search (a township, a week or a specialty free, the rest fixed). Fixed
candidates enter every sum as constants, so each sub-model's objective is the full objective.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable

from solver.candidates import Candidates
from solver.objective import Term, terms_of
from solver.problem import Problem
from solver.roster_model import Penalty, RosterModel, demand_indices, supervision_indices
from solver.rules import RULES

__all__ = ["Penalty", "RosterModel", "build_model", "demand_indices", "model_terms", "supervision_indices"]


def model_terms(rules: Iterable | None = None) -> frozenset[Term]:
    """The objective's terms in a model built with these rules (default: the rulebook, as `build_model` reads it)."""
    return terms_of(rules if rules is not None else RULES)


def build_model(
    problem: Problem,
    candidates: Candidates,
    free: Collection[int],
    fixed: Collection[int] = (),
    previous: Collection[int] = (),
    stability_weight: int = 0,
    diagnose: bool = False,
    rules: Iterable | None = None,
    fair_targets: dict[str, int] | None = None,
) -> RosterModel:
    """The model with every rule of solver.rules.RULES (or the given ones) and the objective set."""
    rules = tuple(rules if rules is not None else RULES)
    roster = RosterModel(
        problem, candidates, free, fixed, diagnose=diagnose, stability_weight=stability_weight, fair_targets=fair_targets, terms=model_terms(rules)
    )
    roster.previous = {index: True for index in previous}
    by_day: dict[tuple[str, dt.date, str], list[int]] = defaultdict(list)
    for key, indices in candidates.by_expert_day_township.items():
        by_day[key] = demand_indices(candidates, indices)
    for (expert, day, township), indices in by_day.items():
        flag = roster.indicator(f"serves:{expert}:{day}:{township}", indices)
        if not isinstance(flag, int) or flag:
            roster.serves[(expert, day, township)] = flag
    for rule in rules:
        rule(roster)
    roster.model.minimize(roster.objective())
    return roster
