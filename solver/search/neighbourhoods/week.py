"""Week: one ISO week at a random share of the townships, so sessions can move between its days."""

from __future__ import annotations

from solver.search.context import SearchContext
from solver.search.kinds import Kind, Option, Scope


class Week:
    """Always worth a try; the townships are drawn when the round is made (1/`week_township_share` of them, at least one)."""

    kind = Kind.WEEK
    scope = Scope.WEEK

    @staticmethod
    def option(context: SearchContext, week: tuple) -> Option:
        """The week's step, at townships drawn now."""
        townships = context.townships()
        some = context.rng.sample(townships, k=max(1, len(townships) // context.config.week_township_share))
        by_township_week = context.groups.by_township_week
        return Option(Kind.WEEK, f"week {week[1]}", lambda: {i for t in some for i in by_township_week.get((t, week), ())})
