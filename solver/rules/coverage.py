"""What townships ask for and can host: demand caps (rule 9) and rooms (rule 5)."""

from __future__ import annotations

from solver.roster_model import RosterModel


def no_more_sessions_than_asked(roster: RosterModel) -> None:
    """Rule 9: a township gets at most the sessions of a (type, specialty) it asked for."""
    for key, indices in roster.candidates.by_key.items():
        roster.add("demand cap", roster.total(indices) <= roster.problem.demand.get(key, 0))


def township_rooms_per_half_day(roster: RosterModel) -> None:
    """Rule 5: a township hosts at most `rooms` clinic/teaching/ward-round sessions per half-day."""
    rooms = {township.id: township.rooms for township in roster.problem.townships}
    for (township, _slot), indices in roster.candidates.by_township_slot.items():
        if len(indices) > rooms[township]:
            roster.add("township rooms", roster.total(indices) <= rooms[township])
