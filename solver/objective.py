"""The month's objective, declared once: its terms, which of them are coverage, and who prices which.

Every penalty in the model belongs to one `Term`. A rule that penalizes says which terms it adds
(`@penalizes(Term.FAIRNESS)`), so the terms of a model follow from the rules it was built with
(`solver.model.model_terms`). A lower bound says which terms it prices (`@prices(...)`): a
relaxation that prices a term the model does not hold is no bound on that model (the model may
be cheaper by that term), so the engine stops early and reports OPTIMAL only on a bound whose
terms are all in the model (`bound_holds`). A bound that leaves a model's term out stays valid:
every term is a non-negative cost.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import TypeVar


class Term(StrEnum):
    """One family of penalties in the objective (DOMAIN.md's soft rules, and the missed link visits)."""

    UNMET = "unmet"  # a demanded session without an expert
    LINK = "link"  # a link visit not made (rule 8)
    FAIRNESS = "fairness"  # an expert's load away from their fair share
    SPREAD = "spread"  # a township's sessions of a specialty beyond a week's even share
    TRIPS = "trips"  # a (township, day) someone travels to
    CONTINUITY = "continuity"  # a session at a township the expert has not served before
    PREFERENCE = "preference"  # off a township's market days, on a weekday the expert avoids
    STABILITY = "stability"  # in a re-plan, a published assignment not kept


# The terms the first stage of a solve settles before the others: how much of the month is covered.
COVERAGE_TERMS = frozenset({Term.UNMET, Term.LINK})

Declared = TypeVar("Declared", bound=Callable)


def penalizes(*terms: Term) -> Callable[[Declared], Declared]:
    """Declare the terms a rule adds to the objective (read back by `terms_of`)."""

    def declare(rule: Declared) -> Declared:
        rule.terms = frozenset(terms)  # type: ignore[attr-defined]
        return rule

    return declare


def prices(*terms: Term) -> Callable[[Declared], Declared]:
    """Declare the terms a lower bound prices (read back by `terms_of`)."""

    def declare(bound: Declared) -> Declared:
        bound.terms = frozenset(terms)  # type: ignore[attr-defined]
        return bound

    return declare


def terms_of(declared: Iterable[Callable]) -> frozenset[Term]:
    """The terms a set of rules adds, or a set of bounds prices, together (undeclared ones add none)."""
    return frozenset(term for function in declared for term in getattr(function, "terms", ()))


def bound_holds(bound: Callable, model_terms: Iterable[Term]) -> bool:
    """Whether a bound bounds a model with these terms: it prices none the model lacks.

    A bound that does not declare its terms is refused loudly rather than trusted."""
    priced = getattr(bound, "terms", None)
    if priced is None:
        raise TypeError(f"{getattr(bound, '__qualname__', bound)} does not declare the terms it prices (@prices)")
    return priced <= frozenset(model_terms)
