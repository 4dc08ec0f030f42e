"""Where an expert can be (rule 3): one place per half-day, one township per day.

Each half of the rule is written here once: for CP-SAT over the candidates, as the fast
check of one more session against a partial roster (solver.partial_roster), which the greedy
starts, the staffing of a timetable and the service's quick fit ask, and as the explanation of
a saved roster that breaks it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence

from solver.candidates import Candidate, Candidates
from solver.partial_roster import PartialRoster, Replayed
from solver.roster_model import RosterModel, supervision_indices
from solver.solution import Reason, ReasonCode

ONE_PLACE = "one place per half-day"
ONE_TOWNSHIP = "one township per day"


def half_day_groups(candidates: Candidates) -> Iterator[list[int]]:
    """Rule 3, first half, as groups of which a roster holds at most one: an expert's candidates in one half-day."""
    for indices in candidates.by_expert_slot.values():
        if len(indices) > 1:
            yield indices


def one_place_per_half_day(roster: RosterModel) -> None:
    """Rule 3: an expert serves at most one session in any half-day."""
    for indices in half_day_groups(roster.candidates):
        roster.add(ONE_PLACE, roster.total(indices) <= 1)


def free_that_half_day(partial: PartialRoster, c: Candidate) -> bool:
    """Rule 3 for one more session: the expert has no session in that half-day yet."""
    return (c.expert, c.slot) not in partial.busy


def _given_before(partial: PartialRoster, c: Candidate, before: Sequence[Candidate]) -> Reason | None:
    same = (c.expert, c.slot, c.township, c.key)
    return Reason.of(ReasonCode.BOOKED_TWICE) if any((s.expert, s.slot, s.township, s.key) == same for s in before) else None


# Rule 3, first half, in a saved roster: every session given twice, and the roster, when it has an expert in two places
# in one half-day.
explain_one_place = Replayed(ONE_PLACE, free_that_half_day, alone=_given_before)


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
            roster.add(ONE_TOWNSHIP, sum(terms) <= 1)


def at_one_township_that_day(partial: PartialRoster, c: Candidate) -> bool:
    """Rule 3 for one more session: the expert is at no other township that day, and a supervision day holds
    nothing else (the model counts a day's sessions at a township and each supervision there as one presence each)."""
    township_today = partial.township_of_day.get((c.expert, c.slot.day))
    if township_today is not None and township_today != c.township:
        return False
    if (c.expert, c.slot.day) in partial.supervising:
        return False
    return c.key is not None or township_today is None


# Rule 3, second half, in a saved roster: the roster, when it has an expert at two townships in one day (or a
# supervision beside another session that day).
explain_one_township = Replayed(ONE_TOWNSHIP, at_one_township_that_day)


def townships_of_the_day(candidates: Candidates, roster: Iterable[int]) -> dict[tuple[str, dt.date], dict[str, int]]:
    """(expert, day) -> sessions per township, where a roster sends an expert to more than one township that day
    (the breaks of rule 3's second half that moving sessions between experts can make; a supervision beside a
    session at its own township is the other kind, which the model refuses too)."""
    townships: dict[tuple, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for i in roster:
        c = candidates.items[i]
        townships[(c.expert, c.day)][c.township] += 1
    return {day: counts for day, counts in townships.items() if len(counts) > 1}
