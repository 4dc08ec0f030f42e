"""Unmet: the experts who could serve a short demand row, free with the rows they serve now, so sessions pass along a chain."""

from __future__ import annotations

from solver.search.context import SearchContext
from solver.search.kinds import Kind, Step


def short_rows(context: SearchContext) -> list:
    """The demand rows the incumbent leaves short that someone could serve, in the problem's order."""
    problem, candidates = context.problem, context.candidates
    covered: dict = {}
    for index in context.chosen():
        key = candidates.items[index].key
        if key is not None:
            covered[key] = covered.get(key, 0) + 1
    return [key for key, wanted in problem.demand.items() if covered.get(key, 0) < wanted and candidates.by_key.get(key)]


def unmet_step(context: SearchContext) -> Step | None:
    """A random short row that someone could serve: its candidates, its possible experts' month and the rows
    they serve; None when no demand is short (or none short can be served)."""
    candidates = context.candidates
    chosen = context.chosen()
    short = short_rows(context)
    if not short:
        return None
    key = context.rng.choice(short)
    helpers = {candidates.items[i].expert for i in candidates.by_key[key]}
    served_keys = {candidates.items[i].key for i in chosen if candidates.items[i].expert in helpers and candidates.items[i].key is not None}
    free = set(candidates.by_key[key])
    for expert in helpers:
        free.update(candidates.by_expert.get(expert, ()))
    for other in served_keys:
        free.update(candidates.by_key.get(other, ()))
    return Step(Kind.UNMET, f"unmet {key.township}/{key.type}/{key.specialty}", free)
