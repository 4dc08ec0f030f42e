"""The county hospital stays staffed while its experts are away (rule 7).

Written here once: for CP-SAT (and the assignment LP) as the experts a department can spare per
half-day, as the fast check of one more session against a partial roster, and as the half-days a
whole roster leaves short (the rounds of solver.reassign).
"""

from __future__ import annotations

from collections.abc import Iterator

from solver.candidates import Candidate, Candidates
from solver.partial_roster import PartialRoster
from solver.problem import Slot
from solver.roster_model import RosterModel


def spare_limits(candidates: Candidates) -> Iterator[tuple[list[int], int]]:
    """Rule 7 as (a department's candidates in one half-day, how many of its experts it can spare then)."""
    for group, indices in candidates.by_department_slot.items():
        yield indices, candidates.spare.get(group, 0)


def department_keeps_min_on_site(roster: RosterModel) -> None:
    """Rule 7: per half-day, a department's experts away never exceed its available experts minus min_on_site."""
    for indices, spare in spare_limits(roster.candidates):
        roster.add("department minimum on site", roster.total(indices) <= spare)


def department_can_spare(partial: PartialRoster, c: Candidate) -> bool:
    """Rule 7 for one more session: the expert's department can spare one more of its experts in that half-day."""
    department = partial.department_of.get(c.expert)
    return partial.away[(department, c.slot)] < partial.spare.get((department, c.slot), 0)


def short_staffed(partial: PartialRoster) -> list[tuple[str, Slot]]:
    """(department, half-day) where the roster sends more experts away than rule 7 allows, in order."""
    return sorted(place for place, count in partial.away.items() if count > partial.spare.get(place, 0))
