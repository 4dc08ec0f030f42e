"""A roster still being built, counted the way the hard rules ask about one more session.

The constructive start, the timetable staffing, the rounds of solver.reassign, the greedy
baseline and the service's quick fit all add sessions one at a time to a roster that is not
complete yet, and ask whether the next one still keeps rules 3, 4, 5, 7 and 9. They share this
structure; the questions themselves stand beside each rule's CP-SAT form (solver.rules.travel,
availability, coverage, staffing), and `solver.rules.fits` asks them all.

A saved roster is explained with the same checks: `replay` adds it session by session, and each
session a check refuses is a break of that check's rule (`Replayed`, solver.rules.EXPLANATIONS).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from solver.candidates import Candidate
from solver.problem import HALF_DAYS, DemandKey, Problem, Slot
from solver.solution import Assignment, Reason, Violation


def as_candidate(assignment: Assignment) -> Candidate:
    """A saved assignment as the candidate it would be (index -1: it belongs to no candidate list)."""
    return Candidate(-1, assignment.expert, assignment.slot, assignment.township, assignment.key)


@dataclass
class PartialRoster:
    """The sessions taken so far, as the counters the hard rules' fast checks read.

    `spare` is rule 7's bound per (department, half-day), from solver.candidates.department_spare.
    `township_of_day` holds the township an expert is at on a day (the last one taken, which in a
    roster keeping rule 3 is the only one).
    """

    problem: Problem
    spare: Mapping[tuple[str, Slot], int]
    busy: set[tuple[str, Slot]] = field(default_factory=set)  # (expert, half-day) with a session
    township_of_day: dict[tuple[str, dt.date], str] = field(default_factory=dict)
    supervising: set[tuple[str, dt.date]] = field(default_factory=set)  # (expert, day) with a supervision
    load: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # sessions per expert
    rooms_used: dict[tuple[str, Slot], int] = field(default_factory=lambda: defaultdict(int))  # (township, half-day)
    away: dict[tuple[str | None, Slot], int] = field(default_factory=lambda: defaultdict(int))  # (department, half-day)
    covered: dict[DemandKey, int] = field(default_factory=lambda: defaultdict(int))  # sessions per demand row

    def __post_init__(self) -> None:
        self.max_sessions = {expert.id: expert.max_sessions for expert in self.problem.experts}
        self.department_of = {expert.id: expert.department for expert in self.problem.experts}
        self.rooms = {township.id: township.rooms for township in self.problem.townships}

    @classmethod
    def of(cls, problem: Problem, spare: Mapping[tuple[str, Slot], int], taken: Iterable[Candidate]) -> PartialRoster:
        """The partial roster holding `taken`, in order."""
        roster = cls(problem, spare)
        for candidate in taken:
            roster.add(candidate)
        return roster

    def add(self, c: Candidate) -> None:
        """Count one more session (no check: ask `solver.rules.fits` first)."""
        self.busy.add((c.expert, c.slot))
        self.township_of_day[(c.expert, c.slot.day)] = c.township
        self.load[c.expert] += 1
        self.away[(self.department_of.get(c.expert), c.slot)] += 1
        if c.key is None:
            self.supervising.add((c.expert, c.slot.day))
        else:
            self.rooms_used[(c.township, c.slot)] += 1
            self.covered[c.key] += 1

    def remove(self, c: Candidate) -> None:
        """Un-count a session added before."""
        day = c.slot.day
        self.busy.discard((c.expert, c.slot))
        self.load[c.expert] -= 1
        self.away[(self.department_of.get(c.expert), c.slot)] -= 1
        if not any((c.expert, Slot(day, half)) in self.busy for half in HALF_DAYS):
            self.township_of_day.pop((c.expert, day), None)
        if c.key is None:
            self.supervising.discard((c.expert, day))
        else:
            self.rooms_used[(c.township, c.slot)] -= 1
            self.covered[c.key] -= 1


Alone = Callable[[PartialRoster, Candidate, Sequence[Candidate]], Reason | None]


@dataclass(frozen=True, eq=False)
class Replayed:
    """A rule's explanation of a saved roster, by replaying the roster one session at a time through the rule's fast
    check: a refused session that no roster of the month could hold (`alone`, asked with the partial roster before it
    and the sessions before it, gives why) is a break of its own; any other refusal is a break of the roster as a
    whole, named `rule` as the model names it."""

    rule: str
    check: Callable[[PartialRoster, Candidate], bool]
    alone: Alone | None = None

    def __call__(self, problem: Problem, spare: Mapping[tuple[str, Slot], int], sessions: Sequence[Candidate]) -> Iterator[Violation]:
        for _explanation, violation in replay((self,), problem, spare, sessions):
            yield violation


def replay(
    explanations: Sequence[Replayed], problem: Problem, spare: Mapping[tuple[str, Slot], int], sessions: Sequence[Candidate]
) -> Iterator[tuple[Replayed, Violation]]:
    """The breaks the explanations see, in one replay of the roster (every session is counted, refused or not, so the
    counts are the roster's own), each with the explanation that saw it."""
    partial = PartialRoster(problem, spare)
    for position, c in enumerate(sessions):
        for explanation in explanations:
            if not explanation.check(partial, c):
                why = explanation.alone(partial, c, sessions[:position]) if explanation.alone is not None else None
                yield explanation, Violation.of_roster(explanation.rule) if why is None else Violation.of_session(explanation.rule, why, c, position)
        partial.add(c)
