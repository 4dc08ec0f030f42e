"""The office's levers as hard rules: pinned assignments stay, forced requests are placed on their days.

Both bind like every hard rule, on fixed candidates too. A pin the changed month no longer allows
(its expert on leave, its township closed) names no candidate and binds nothing: the service checks
every solved roster against its pins and reports that clash instead of saving. The greedy start
(`solver.construct`) places pins and forced sessions first, so the searches start from a roster
that holds them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from solver.candidates import Candidate, Candidates
from solver.problem import Pin, Problem, Requirement, Slot
from solver.roster_model import RosterModel
from solver.solution import Reason, ReasonCode, Violation, session_at

PINNED = "pinned assignment"
FORCED = "forced request"


def office_pinned_indices(problem: Problem, candidates: Candidates) -> list[int]:
    """The candidates the office's pins name (a pin the month no longer allows has none), in order."""
    found = (candidates.index_of(pin.expert, pin.slot, pin.township, pin.key) for pin in problem.pins)
    return sorted(index for index in found if index is not None)


def pinned_assignments_stay(roster: RosterModel) -> None:
    """A pinned assignment is in every roster of its month (the office pinned it)."""
    for index in office_pinned_indices(roster.problem, roster.candidates):
        roster.add(PINNED, roster.term(index) == 1)


def explain_pins(problem: Problem, spare: Mapping[tuple[str, Slot], int], sessions: Sequence[Candidate]) -> Iterator[Violation]:
    """The office's pins in a saved roster: each pin of the month the roster does not hold."""
    return lost_pins(problem.pins, sessions)


def lost_pins(pins: Sequence[Pin], sessions: Sequence[Candidate]) -> Iterator[Violation]:
    """Each of the pins the sessions do not hold, told as the session it pins (the service holds every roster it is
    about to save against its pins: the model binds a pin only while the month still allows it)."""
    if not pins:
        return
    held = {(c.expert, c.slot, c.township, c.key) for c in sessions}
    for pin in pins:
        if tuple(pin) not in held:
            yield Violation(PINNED, Reason.of(ReasonCode.PIN_LOST, **session_at(pin.expert, pin.slot, pin.township, pin.key)))


def required_candidates(candidates: Candidates, requirement: Requirement) -> list[int]:
    """The candidates that count toward a forced request: its demand row on its days (and half-day)."""
    return [index for index in candidates.by_key.get(requirement.key, []) if counts_toward(requirement, candidates.items[index])]


def counts_toward(requirement: Requirement, c: Candidate) -> bool:
    """A session of the request's demand row on one of its days (and in its half-day, when it names one)."""
    return c.key == requirement.key and c.day in requirement.days and (requirement.half_day is None or c.slot.half_day == requirement.half_day)


def forced_requests_on_their_days(roster: RosterModel) -> None:
    """A request the office forced onto a day gets its sessions of that demand row on that day."""
    for requirement in roster.problem.requirements:
        indices = required_candidates(roster.candidates, requirement)
        roster.add(FORCED, roster.total(indices) >= requirement.sessions)


def explain_forced_requests(problem: Problem, spare: Mapping[tuple[str, Slot], int], sessions: Sequence[Candidate]) -> Iterator[Violation]:
    """The office's forced requests in a saved roster: the roster, when it holds fewer sessions of one on its days than forced."""
    for requirement in problem.requirements:
        if sum(1 for c in sessions if counts_toward(requirement, c)) < requirement.sessions:
            yield Violation.of_roster(FORCED)
