"""Colleagues: the experts of one specialty, free to trade its sessions among themselves where they serve now or served before."""

from __future__ import annotations

from collections import defaultdict

from solver.search.context import SearchContext
from solver.search.groups import whole_groups_up_to
from solver.search.kinds import Kind, Option, Scope


def colleagues(context: SearchContext, specialty: str) -> set[int]:
    """A specialty's experts, in random order, each at the townships they serve or know, up to `max_free` candidates.

    Continuity and fairness move sessions between colleagues; limiting each expert to the
    townships they serve or know keeps the step small enough to hold many of them.
    """
    problem, candidates, groups = context.problem, context.candidates, context.groups
    serving: dict[str, set[str]] = defaultdict(set)
    for index in context.chosen():
        c = candidates.items[index]
        serving[c.expert].add(c.township)
    experts = groups.holders[specialty][:]
    context.rng.shuffle(experts)

    def where_they_serve_or_served(expert: str) -> list[int]:
        places = serving[expert] | problem.expert(expert).previous_townships
        return [i for i in groups.by_expert_specialty[(expert, specialty)] if candidates.items[i].township in places]

    return whole_groups_up_to(context.config.max_free, (where_they_serve_or_served(expert) for expert in experts))


class Colleagues:
    """Always worth a try: the step for continuity and fairness within a specialty."""

    kind = Kind.COLLEAGUES
    scope = Scope.SPECIALTY

    @staticmethod
    def option(context: SearchContext, specialty: str) -> Option:
        """The specialty's colleagues step."""
        return Option(Kind.COLLEAGUES, f"{specialty} colleagues", lambda: colleagues(context, specialty))
