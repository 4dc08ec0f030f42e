"""Whether a township's timetable pays more than its part of the bounds (solver.bounds) on the terms a re-pack can lower.

The re-packed townships and the whole-days steps go only where a township is above one of these floors.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection

from solver.bounds import township_days_needed, township_off_market_needed
from solver.candidates import Candidates
from solver.problem import Problem, week_of
from solver.rules.objectives import even_week_shares, off_market_day


def timetable_above_its_floors(problem: Problem, candidates: Candidates, township: str, sessions: Collection[int]) -> bool:
    """More car-days than the township needs, more sessions off its market days than it must, or any
    specialty's week beyond its even share."""
    items = candidates.items
    if car_days_beyond_floor(problem, candidates, township, len({items[i].day for i in sessions})):
        return True
    demanded = [items[i] for i in sessions if items[i].key is not None]
    return off_market_beyond_floor(problem, candidates, township, demanded) or bool(weeks_beyond_share(problem, township, demanded))


def car_days_beyond_floor(problem: Problem, candidates: Candidates, township: str, car_days: int) -> bool:
    """More car-days at a township than it needs."""
    return car_days > township_days_needed(problem, candidates).get(township, 0)


def off_market_beyond_floor(problem: Problem, candidates: Candidates, township: str, demanded: list) -> bool:
    """More of a township's sessions off its market days than it must hold (and preferences cost something)."""
    off = sum(off_market_day(problem, c) for c in demanded)
    return bool(problem.rules.weights.preference) and off > township_off_market_needed(problem, candidates).get(township, 0)


def weeks_beyond_share(problem: Problem, township: str, demanded: list) -> list[tuple]:
    """The ISO weeks, in order, where some specialty's sessions at a township pass its even share (none when spread
    costs nothing)."""
    if not problem.rules.weights.spread:
        return []
    shares = even_week_shares(problem)
    per_week: dict[tuple, int] = defaultdict(int)
    for c in demanded:
        per_week[(c.key.specialty, week_of(c.day))] += 1
    return sorted({week for (specialty, week), count in per_week.items() if count > shares[(township, specialty, week)]})
