"""The month's candidates grouped the ways the neighbourhoods free them, computed once per search."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable

from solver.candidates import Candidates
from solver.problem import Problem, week_of


class CandidateGroups:
    """The candidate indices of each township, specialty, day, (township, week) and (expert, specialty)."""

    def __init__(self, problem: Problem, candidates: Candidates) -> None:
        self.by_township: dict[str, list[int]] = defaultdict(list)
        self.by_specialty: dict[str, list[int]] = defaultdict(list)
        self.by_township_week: dict[tuple, list[int]] = defaultdict(list)
        self.by_day: dict[object, list[int]] = defaultdict(list)
        self.by_expert_specialty: dict[tuple[str, str], list[int]] = defaultdict(list)
        week_of_day = {day: week_of(day) for day in problem.days}
        for c in candidates.items:
            self.by_township[c.township].append(c.index)
            self.by_day[c.day].append(c.index)
            self.by_township_week[(c.township, week_of_day[c.day])].append(c.index)
            if c.key is not None:
                self.by_specialty[c.key.specialty].append(c.index)
                self.by_expert_specialty[(c.expert, c.key.specialty)].append(c.index)
        self.by_key_slot = candidates.by_key_slot()
        self.weeks = sorted({week for _township, week in self.by_township_week})
        self.holders: dict[str, list[str]] = defaultdict(list)  # specialty -> the experts with candidates in it
        for expert, specialty in self.by_expert_specialty:
            self.holders[specialty].append(expert)


def sessions_at(candidates: Candidates, chosen: Collection[int], township: str) -> frozenset[int]:
    """The chosen candidates at one township."""
    return frozenset(i for i in chosen if candidates.items[i].township == township)


def whole_groups_up_to(max_free: int, groups_of_candidates: Iterable[Collection[int]]) -> set[int]:
    """Whole groups of candidates, in the order given, until the next would pass `max_free` (the first is always taken)."""
    free: set[int] = set()
    for indices in groups_of_candidates:
        if free and len(free) + len(indices) > max_free:
            break
        free.update(indices)
    return free
