"""What every neighbourhood of one search reads: the month, its groups, the incumbent, the random source and the config."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from solver.candidates import Candidates
from solver.problem import Problem
from solver.search.config import SearchConfig
from solver.search.groups import CandidateGroups
from solver.search.incumbent import Incumbent
from solver.search.kinds import Scope
from solver.search.memory import SettledTownships, TriedDays


@dataclass
class SearchContext:
    """One search's shared state; `incumbent()` is the best roster so far (it changes between steps)."""

    problem: Problem
    candidates: Candidates
    rng: random.Random
    incumbent: Callable[[], Incumbent]
    targets: dict[str, int]
    config: SearchConfig
    groups: CandidateGroups = field(init=False)
    tried: TriedDays = field(default_factory=TriedDays)
    settled: SettledTownships = field(default_factory=SettledTownships)

    def __post_init__(self) -> None:
        self.groups = CandidateGroups(self.problem, self.candidates)

    def chosen(self) -> set[int]:
        """The incumbent's chosen candidates, as it stands now."""
        return self.incumbent().chosen

    def townships(self) -> list[str]:
        """The township ids, in the problem's order."""
        return [t.id for t in self.problem.townships]

    def items(self, scope: Scope) -> list:
        """What a soft neighbourhood of this scope is taken at, in order: each township, specialty, link or
        week, or for the whole month `reassign_across_per_round` times."""
        if scope is Scope.TOWNSHIP:
            return self.townships()
        if scope is Scope.SPECIALTY:
            return sorted(self.groups.by_specialty)
        if scope is Scope.LINK:
            return list(self.problem.links)
        if scope is Scope.WEEK:
            return list(self.groups.weeks)
        return list(range(self.config.reassign_across_per_round))
