"""What townships ask for and can host: demand caps (rule 9) and rooms (rule 5).

Each rule is written here once: for CP-SAT (and the assignment LP of solver.linear_bound) as
groups of candidates with the most a roster holds of each, as the fast check of one more
session against a partial roster (solver.partial_roster), and as the explanation of a saved
roster that breaks it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from solver.candidates import Candidate, Candidates
from solver.partial_roster import PartialRoster, Replayed
from solver.problem import DemandKey, Problem, Slot
from solver.roster_model import RosterModel
from solver.solution import Reason, ReasonCode

DEMAND_CAP = "demand cap"
TOWNSHIP_ROOMS = "township rooms"


def demand_caps(problem: Problem, candidates: Candidates) -> Iterator[tuple[list[int], int]]:
    """Rule 9 as (a demand row's candidates, the sessions the township asked for), row by row."""
    for key, indices in candidates.by_key.items():
        yield indices, problem.demand.get(key, 0)


def no_more_sessions_than_asked(roster: RosterModel) -> None:
    """Rule 9: a township gets at most the sessions of a (type, specialty) it asked for."""
    for indices, asked in demand_caps(roster.problem, roster.candidates):
        roster.add(DEMAND_CAP, roster.total(indices) <= asked)


def sessions_wanted(partial: PartialRoster, key: DemandKey) -> int:
    """Rule 9 in a partial roster: how many more sessions the demand row may take."""
    return partial.problem.demand.get(key, 0) - partial.covered[key]


def demand_left(partial: PartialRoster, c: Candidate) -> bool:
    """Rule 9 for one more session: its demand row is not yet full (a supervision serves no row)."""
    return c.key is None or sessions_wanted(partial, c.key) > 0


def _not_demanded(partial: PartialRoster, c: Candidate, _before: Sequence[Candidate]) -> Reason | None:
    return Reason.of(ReasonCode.NOT_DEMANDED) if partial.problem.demand.get(c.key, 0) <= 0 else None


# Rule 9 in a saved roster: every session of a row the township did not ask for, and the roster, when it gives a row
# more sessions than asked.
explain_demand_cap = Replayed(DEMAND_CAP, demand_left, alone=_not_demanded)


def room_limits(problem: Problem, candidates: Candidates) -> Iterator[tuple[list[int], int]]:
    """Rule 5 as (a township's session candidates in one half-day, its rooms), where they could exceed the rooms."""
    rooms = {township.id: township.rooms for township in problem.townships}
    for (township, _slot), indices in candidates.by_township_slot.items():
        if len(indices) > rooms[township]:
            yield indices, rooms[township]


def township_rooms_per_half_day(roster: RosterModel) -> None:
    """Rule 5: a township hosts at most `rooms` clinic/teaching/ward-round sessions per half-day."""
    for indices, rooms in room_limits(roster.problem, roster.candidates):
        roster.add(TOWNSHIP_ROOMS, roster.total(indices) <= rooms)


def rooms_free(partial: PartialRoster, township: str, slot: Slot) -> int:
    """Rule 5 in a partial roster: the township's rooms still free in that half-day."""
    return partial.rooms.get(township, 0) - partial.rooms_used[(township, slot)]


def room_left(partial: PartialRoster, c: Candidate) -> bool:
    """Rule 5 for one more session: a room is free at the township in that half-day (a supervision takes none)."""
    return c.key is None or rooms_free(partial, c.township, c.slot) > 0


# Rule 5 in a saved roster: the roster, when it holds more sessions at a township in a half-day than its rooms.
explain_township_rooms = Replayed(TOWNSHIP_ROOMS, room_left)
