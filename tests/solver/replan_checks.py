"""What a re-plan of a changed month must show against a fresh solve of the same month (issue 16).

Shared by the solver's tests (tests/solver/test_replan.py) and the service's (tests/api/test_replan_surfaces.py):
the re-plan keeps every hard rule, leaves no more demand unmet than the fresh solve, makes every link
visit the fresh solve makes, and changes assignments at other townships only as far as the sessions the
change forced off (and the ones it gained) need a chain of moves.
"""

from __future__ import annotations

from collections import Counter

from solver.problem import Problem
from solver.solution import Solution
from tests.solver.checker import violations

# Each session the change forces off, and each session the re-plan covers beyond the published
# roster, may move a chain of others; a change beyond that at another township is needless.
CHAIN_CHANGES = 2


def links_visited(roster: Solution) -> set[tuple[str, str]]:
    """The links (member, township) a roster visits."""
    return {(a.expert, a.township) for a in roster.assignments if a.link_visit}


def changed_elsewhere(published: Solution, roster: Solution, township: str, by_id: bool) -> int:
    """Published assignments at other townships that `roster` does not hold as they were (by id for a re-plan, by content for a fresh solve)."""
    if by_id:
        now = {a.id: a.content[:6] for a in roster.assignments}
        return sum(1 for a in published.assignments if a.township != township and now.get(a.id) != a.content[:6])
    held = {a.content[:6] for a in roster.assignments}
    return sum(1 for a in published.assignments if a.township != township and a.content[:6] not in held)


def assert_as_good_as_fresh(published: Solution, changed: Problem, new: Solution, fresh: Solution, township: str, forced: int) -> None:
    """The re-plan `new` of `published` after a change at `township` that forced `forced` sessions off, against `fresh`."""
    assert forced > 0, "the change must force sessions off, or the test shows nothing"
    assert violations(changed, new) == []
    assert new.report.unmet_sessions <= fresh.report.unmet_sessions, (new.report, fresh.report)
    assert links_visited(fresh) <= links_visited(new), links_visited(fresh) - links_visited(new)
    elsewhere = changed_elsewhere(published, new, township, by_id=True)
    gained = max(0, published.report.unmet_sessions - new.report.unmet_sessions)
    assert elsewhere <= CHAIN_CHANGES * (forced + gained), (elsewhere, forced, gained)
    assert elsewhere < changed_elsewhere(published, fresh, township, by_id=False), "a re-plan keeps more of the published month than a fresh solve"
    if new.report.status == "OPTIMAL":
        assert new.report.unmet_bound == new.report.unmet_sessions


def beyond_rooms(published: Solution, township: str, rooms: int) -> int:
    """Published sessions at `township` beyond `rooms` per half-day: what a cut to that many rooms forces off."""
    per_half_day = Counter(a.slot for a in published.assignments if a.township == township and a.type != "supervision")
    return sum(max(0, sessions - rooms) for sessions in per_half_day.values())
