"""Thin day: a township's least-used car-day, free to empty into the spare rooms of its other car-days (trips)."""

from __future__ import annotations

from collections import defaultdict

from solver.search.context import SearchContext
from solver.search.kinds import Kind, Option, Scope


def thin_day(context: SearchContext, township: str) -> set[int]:
    """At the township and on its car-days only, every candidate of the rows served on the thinnest of them,
    for experts not serving elsewhere that day (they could not come). Empty when the township has fewer
    than two car-days."""
    items = context.candidates.items
    chosen = context.chosen()
    sessions_on: dict = defaultdict(int)
    elsewhere = set()
    for i in chosen:
        c = items[i]
        if c.township == township:
            sessions_on[c.day] += 1
        else:
            elsewhere.add((c.expert, c.day))
    if len(sessions_on) < 2:
        return set()
    thinnest = min(sorted(sessions_on), key=lambda day: sessions_on[day])
    keys = {items[i].key for i in chosen if items[i].township == township and items[i].day == thinnest}
    free = {i for i in chosen if items[i].township == township and items[i].day == thinnest}
    for i in context.groups.by_township.get(township, ()):
        c = items[i]
        if c.key in keys and c.day in sessions_on and (c.expert, c.day) not in elsewhere:
            free.add(i)
    return free


class ThinDay:
    """Worth trying at every township; a township with one car-day frees nothing and is passed over."""

    kind = Kind.THIN_DAY
    scope = Scope.TOWNSHIP

    @staticmethod
    def option(context: SearchContext, township: str) -> Option:
        """The township's thin-day step."""
        return Option(Kind.THIN_DAY, f"thin day {township}", lambda: thin_day(context, township))
