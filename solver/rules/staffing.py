"""The county hospital stays staffed while its experts are away (rule 7).

Written here once: for CP-SAT (and the assignment LP) as the experts a department can spare per
half-day, as the fast check of one more session against a partial roster, as the half-days a
whole roster leaves short (the rounds of solver.reassign), and as the explanation of a saved
roster that breaks it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from solver.candidates import Candidate, Candidates
from solver.partial_roster import PartialRoster, Replayed
from solver.problem import Slot
from solver.roster_model import RosterModel
from solver.solution import Reason, ReasonCode

MIN_ON_SITE = "department minimum on site"


def spare_limits(candidates: Candidates) -> Iterator[tuple[list[int], int]]:
    """Rule 7 as (a department's candidates in one half-day, how many of its experts it can spare then)."""
    for group, indices in candidates.by_department_slot.items():
        yield indices, candidates.spare.get(group, 0)


def department_keeps_min_on_site(roster: RosterModel) -> None:
    """Rule 7: per half-day, a department's experts away never exceed its available experts minus min_on_site."""
    for indices, spare in spare_limits(roster.candidates):
        roster.add(MIN_ON_SITE, roster.total(indices) <= spare)


def spares_nobody(partial: PartialRoster, department: str | None, slot: Slot) -> bool:
    """Rule 7 before any session: the department can spare none of its experts in that half-day."""
    return partial.spare.get((department, slot), 0) <= 0


def department_can_spare(partial: PartialRoster, c: Candidate) -> bool:
    """Rule 7 for one more session: the expert's department can spare one more of its experts in that half-day."""
    department = partial.department_of.get(c.expert)
    return partial.away[(department, c.slot)] < partial.spare.get((department, c.slot), 0)


def short_staffed(partial: PartialRoster) -> list[tuple[str, Slot]]:
    """(department, half-day) where the roster sends more experts away than rule 7 allows, in order."""
    return sorted(place for place, count in partial.away.items() if count > partial.spare.get(place, 0))


def _spares_nobody(partial: PartialRoster, c: Candidate, _before: Sequence[Candidate]) -> Reason | None:
    department = partial.department_of.get(c.expert)
    return Reason.of(ReasonCode.DEPARTMENT_CANNOT_SPARE, department=department) if spares_nobody(partial, department, c.slot) else None


# Rule 7 in a saved roster: every session in a half-day its department can spare nobody, and the roster, when it sends
# more of a department's experts away in a half-day than it can spare.
explain_min_on_site = Replayed(MIN_ON_SITE, department_can_spare, alone=_spares_nobody)
