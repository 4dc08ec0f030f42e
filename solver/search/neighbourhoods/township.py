"""Whole township: every candidate at one township, so its timetable and who serves it can change together."""

from __future__ import annotations

from solver.search.context import SearchContext
from solver.search.kinds import Kind, Option, Scope


class WholeTownship:
    """Worth trying only where `max_free` holds at least 1/`whole_township_sample` of the township's candidates:
    a thinner sample rarely finds a better timetable, and the re-packed townships (solver.search.neighbourhoods.proposals)
    save car-days at a fraction of the cost."""

    kind = Kind.WHOLE_TOWNSHIP
    scope = Scope.TOWNSHIP

    @staticmethod
    def option(context: SearchContext, township: str) -> Option | None:
        """The township's whole-township step, or None where `max_free` is too thin for it."""
        indices = context.groups.by_township.get(township, ())
        if len(indices) > context.config.whole_township_sample * context.config.max_free:
            return None
        return Option(Kind.WHOLE_TOWNSHIP, f"township {township}", lambda: set(context.groups.by_township.get(township, ())))
