"""An expert's own limits (rule 4). Availability itself (rule 2) is settled in solver.candidates.

The monthly limit is written here once: for CP-SAT over the candidates, as the sessions an
expert has left in a partial roster (solver.partial_roster), which the greedy starts, the
staffing of a timetable, the flow rounds of solver.reassign and the service's quick fit ask,
and as the explanation of a saved roster that breaks it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from solver.candidates import Candidate, Candidates
from solver.partial_roster import PartialRoster, Replayed
from solver.problem import Problem
from solver.roster_model import RosterModel
from solver.solution import Reason, ReasonCode

MONTHLY_LIMIT = "monthly session limit"


def monthly_limits(problem: Problem, candidates: Candidates) -> Iterator[tuple[list[int], int]]:
    """Rule 4 as (an expert's candidates, the most of them a roster holds), expert by expert."""
    for expert in problem.experts:
        indices = candidates.by_expert.get(expert.id)
        if indices:
            yield indices, expert.max_sessions


def experts_within_monthly_limit(roster: RosterModel) -> None:
    """Rule 4: an expert's sessions of all types in the month stay within max_sessions."""
    for indices, most in monthly_limits(roster.problem, roster.candidates):
        roster.add(MONTHLY_LIMIT, roster.total(indices) <= most)


def sessions_left(partial: PartialRoster, expert: str) -> int:
    """Rule 4 in a partial roster: how many more sessions the expert may take this month."""
    return partial.max_sessions.get(expert, 0) - partial.load[expert]


def within_monthly_limit(partial: PartialRoster, c: Candidate) -> bool:
    """Rule 4 for one more session: the expert has a session left this month."""
    return sessions_left(partial, c.expert) > 0


def _not_rostered(partial: PartialRoster, c: Candidate, _before: Sequence[Candidate]) -> Reason | None:
    return None if partial.problem.expert(c.expert).rostered else Reason.of(ReasonCode.EXPERT_NOT_ROSTERED)


# Rule 4 in a saved roster: every session of an expert not rostered this month, and the roster, when it gives an
# expert more sessions than max_sessions.
explain_monthly_limit = Replayed(MONTHLY_LIMIT, within_monthly_limit, alone=_not_rostered)
