"""The CP-SAT model under construction that every rule adds to: candidate variables, named constraints, penalties.

It lives apart from `solver.model` (which applies the rulebook) so that the rules and the
builder both import it and neither imports the other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from solver.candidates import Candidates
from solver.objective import Term
from solver.problem import Problem


@dataclass
class Penalty:
    """One weighted penalty of the objective, tagged with its family: a `Term`'s value (unmet, fairness, trips, ...)."""

    family: str
    expression: cp_model.LinearExprT
    weight: int


@dataclass
class RosterModel:
    """A CP-SAT model under construction plus the handles the rules and the engine share."""

    problem: Problem
    candidates: Candidates
    free: Collection[int]
    fixed: Collection[int]
    model: cp_model.CpModel = field(default_factory=cp_model.CpModel)
    x: dict[int, cp_model.IntVar] = field(default_factory=dict)
    serves: dict[tuple[str, dt.date, str], object] = field(default_factory=dict)  # (expert, day, township) -> 0/1/var
    visits: dict[tuple[str, str, dt.date], cp_model.IntVar] = field(default_factory=dict)  # (member, township, day)
    link_misses: dict[tuple[str, str], cp_model.LinearExprT] = field(default_factory=dict)
    penalties: list[Penalty] = field(default_factory=list)
    previous: dict[int, bool] = field(default_factory=dict)  # candidate -> was assigned in the previous version
    stability_weight: int = 0
    guards: dict[str, cp_model.IntVar] = field(default_factory=dict)  # rule name -> enforcement literal (diagnosis)
    diagnose: bool = False
    fair_targets: dict[str, int] | None = None  # fixed from the whole month when building a sub-model
    terms: frozenset[Term] = frozenset()  # the objective's terms: those the model's rules declare (solver.objective)
    families: dict[Term, str] = field(init=False, default_factory=dict)  # each term's plain-string family, for `penalize`
    # auxiliary variables and how to compute each from a roster, so that a hint can be complete
    derived: list[tuple[cp_model.IntVar, Callable[[set[int]], int]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.families = {term: term.value for term in self.terms}
        self.fixed = set(self.fixed)
        for index in self.free:
            if index not in self.fixed:
                self.x[index] = self.model.new_bool_var(f"x{index}")

    # --- sums over candidates: fixed ones are 1, free ones variables, the rest 0 -------------
    def term(self, index: int) -> cp_model.IntVar | int:
        variable = self.x.get(index)
        if variable is not None:
            return variable
        return 1 if index in self.fixed else 0

    def split(self, indices: Iterable[int]) -> tuple[int, list[cp_model.IntVar]]:
        constant, variables = 0, []
        for index in indices:
            variable = self.x.get(index)
            if variable is not None:
                variables.append(variable)
            elif index in self.fixed:
                constant += 1
        return constant, variables

    def total(self, indices: Iterable[int]) -> cp_model.LinearExprT:
        constant, variables = self.split(indices)
        return cp_model.LinearExpr.sum(variables) + constant if variables else constant

    def enforce(self, rule: str, constraint: cp_model.Constraint) -> None:
        """Attach a constraint to its rule's guard literal when diagnosing infeasibility."""
        if self.diagnose:
            guard = self.guards.get(rule)
            if guard is None:
                guard = self.guards[rule] = self.model.new_bool_var(f"rule:{rule}")
            constraint.only_enforce_if(guard)

    def add(self, rule: str, constraint_bound: cp_model.BoundedLinearExpression | bool) -> None:
        """Add a linear constraint for a named rule (a constant-true comparison is dropped)."""
        if isinstance(constraint_bound, bool) or constraint_bound is None:
            if constraint_bound is False:
                constraint = self.model.add_bool_or([])  # constant false: infeasible on purpose
                self.enforce(rule, constraint)
            return
        self.enforce(rule, self.model.add(constraint_bound))

    def penalize(self, term: Term, expression: cp_model.LinearExprT, weight: int) -> None:
        """Add a weighted penalty to the objective under one of the model's terms (a rule penalizes only what it declares)."""
        family = self.families.get(term)
        if family is None:
            raise ValueError(f"a rule penalizes {str(term)!r}, which no rule of this model declares (solver.objective.penalizes)")
        if weight and not (isinstance(expression, int) and expression == 0):
            self.penalties.append(Penalty(family, expression, weight))

    def indicator(self, name: str, indices: list[int]) -> cp_model.IntVar | int:
        """1 exactly when one of the candidates is chosen (a constant where that is already known)."""
        constant, variables = self.split(indices)
        if constant:
            return 1
        if not variables:
            return 0
        if len(variables) == 1:
            return variables[0]
        flag = self.model.new_bool_var(name)
        self.model.add_max_equality(flag, variables)
        members = tuple(indices)
        self.derive(flag, lambda chosen: int(any(i in chosen for i in members)))
        return flag

    def derive(self, variable: cp_model.IntVar, value_of: Callable[[set[int]], int]) -> None:
        """Register how an auxiliary variable follows from the chosen candidates (for complete hints)."""
        self.derived.append((variable, value_of))

    def hint(self, chosen: set[int], visits: Collection[tuple]) -> None:
        """A complete hint: every candidate, visit and auxiliary variable set as in the given roster."""
        self.model.clear_hints()
        for index, variable in self.x.items():
            self.model.add_hint(variable, index in chosen)
        for key, variable in self.visits.items():
            self.model.add_hint(variable, key in visits)
        for variable, value_of in self.derived:
            self.model.add_hint(variable, value_of(chosen))

    def count_chosen(self, indices: Iterable[int]) -> Callable[[set[int]], int]:
        members = tuple(indices)
        return lambda chosen: sum(1 for i in members if i in chosen)

    def objective(self) -> cp_model.LinearExprT:
        return cp_model.LinearExpr.weighted_sum([p.expression for p in self.penalties], [p.weight for p in self.penalties])


def demand_indices(candidates: Candidates, indices: Iterable[int]) -> list[int]:
    """The candidates among `indices` that serve a township's demand (not a supervision visit)."""
    return [i for i in indices if candidates.items[i].key is not None]


def supervision_indices(candidates: Candidates, indices: Iterable[int]) -> list[int]:
    """The supervision candidates among `indices` (a linked member's visit that consumes no demand)."""
    return [i for i in indices if candidates.items[i].key is None]
