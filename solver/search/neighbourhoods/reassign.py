"""Reassign: who serves the sessions already placed, every expert who could take a chosen session's row in its half-day.

The places and times stay (trips, market days and spread do not move); fairness and continuity
trade sessions between experts.
"""

from __future__ import annotations

from solver.search.context import SearchContext
from solver.search.groups import whole_groups_up_to
from solver.search.kinds import Kind, Option, Scope


def whoever_could_take(context: SearchContext, specialty: str | None = None) -> set[int]:
    """Whole sessions as placed (of one specialty, or any), in random order, with everyone who could take them, up to `max_free`."""
    candidates = context.candidates
    sessions = []
    for index in context.chosen():
        key = candidates.items[index].key
        if key is not None and (specialty is None or key.specialty == specialty):
            sessions.append((key, candidates.items[index].slot))
    context.rng.shuffle(sessions)
    return whole_groups_up_to(context.config.max_free, (context.groups.by_key_slot.get(session, ()) for session in sessions))


class ReassignSpecialty:
    """One specialty's sessions: always worth a try."""

    kind = Kind.REASSIGN_SPECIALTY
    scope = Scope.SPECIALTY

    @staticmethod
    def option(context: SearchContext, specialty: str) -> Option:
        """The specialty's reassign step."""
        return Option(Kind.REASSIGN_SPECIALTY, f"reassign {specialty}", lambda: whoever_could_take(context, specialty))


class ReassignAcross:
    """Sessions of every specialty, so an expert with several can trade between them; `reassign_across_per_round` a round."""

    kind = Kind.REASSIGN_ACROSS
    scope = Scope.MONTH

    @staticmethod
    def option(context: SearchContext, _turn: int) -> Option:
        """One of the round's reassign-across steps."""
        return Option(Kind.REASSIGN_ACROSS, "reassign across specialties", lambda: whoever_could_take(context))
