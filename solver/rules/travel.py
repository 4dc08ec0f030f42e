"""Where an expert can be (rule 3): one place per half-day, one township per day."""

from __future__ import annotations

from collections import defaultdict

from solver.roster_model import RosterModel, supervision_indices


def one_place_per_half_day(roster: RosterModel) -> None:
    """Rule 3: an expert serves at most one session in any half-day."""
    for indices in roster.candidates.by_expert_slot.values():
        if len(indices) > 1:
            roster.add("one place per half-day", roster.total(indices) <= 1)


def one_township_per_day(roster: RosterModel) -> None:
    """Rule 3: an expert is in at most one township a day (a supervision day is a day at that township)."""
    presence: dict[tuple, list] = defaultdict(list)
    for (expert, day, _township), flag in roster.serves.items():
        presence[(expert, day)].append(flag)
    for (expert, day, _township), indices in roster.candidates.by_expert_day_township.items():
        for index in supervision_indices(roster.candidates, indices):
            presence[(expert, day)].append(roster.term(index))
    for terms in presence.values():
        if len(terms) > 1:
            roster.add("one township per day", sum(terms) <= 1)
