"""Whole specialty: every candidate of one specialty, so its sessions can move between townships, days and experts."""

from __future__ import annotations

from solver.search.context import SearchContext
from solver.search.kinds import Kind, Option, Scope


class WholeSpecialty:
    """Always worth a try (a large specialty is sampled down to `max_free`)."""

    kind = Kind.WHOLE_SPECIALTY
    scope = Scope.SPECIALTY

    @staticmethod
    def option(context: SearchContext, specialty: str) -> Option:
        """The specialty's whole-specialty step."""
        return Option(Kind.WHOLE_SPECIALTY, f"specialty {specialty}", lambda: set(context.groups.by_specialty[specialty]))
