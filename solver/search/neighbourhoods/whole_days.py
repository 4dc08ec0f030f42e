"""Whole days: two (or three) days of a township above one of its floors, whole, at every township.

A re-pack (solver.timetable) moves a township's sessions only to days its experts are free. With
two whole days free, the experts who could come on the better day can trade their work there for
the worse day's, and the township's sessions move with them.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator

from solver.candidates import Candidates
from solver.problem import Problem, week_of
from solver.rules.objectives import off_market_day
from solver.search.context import SearchContext
from solver.search.floors import car_days_beyond_floor, off_market_beyond_floor, weeks_beyond_share
from solver.search.groups import sessions_at
from solver.search.kinds import Kind, Option, Scope, Step


def two_days(context: SearchContext, township: str) -> set[int]:
    """Every candidate, at every township, on a day set for the first floor the township is above.

    The day sets are `car_day_pairs` (which may take three days), `market_day_pairs` or
    `spread_pairs`; which better day works depends on who is free, so each step takes one the
    township has not tried on its timetable as it stands (`context.tried`). Empty when it is above
    none, or when the days hold more than `whole_days_max_free` x `max_free` candidates (a large
    county's days are too big for one step).
    """
    problem, candidates = context.problem, context.candidates
    sessions = sessions_at(candidates, context.chosen(), township)
    here = [candidates.items[i] for i in sessions]
    options = car_day_pairs(problem, candidates, township, here) or market_day_pairs(problem, candidates, township, here) or spread_pairs(problem, township, here)
    if not options:
        return set()
    options = context.tried.untried(township, sessions, options)
    days = context.rng.choice(options)
    context.tried.note(township, days)
    free = {i for day in days for i in context.groups.by_day.get(day, ())}
    return free if len(free) <= context.config.whole_days_max_free * context.config.max_free else set()


def car_day_pairs(problem: Problem, candidates: Candidates, township: str, here: list) -> list[frozenset]:
    """More car-days than the township needs: its thinnest car-day with one car-day that has rooms to spare, or
    with two when one cannot take the thinnest day's sessions (else with any other car-day)."""
    sessions_on: dict = defaultdict(int)
    for c in here:
        sessions_on[c.day] += 1
    if len(sessions_on) < 2 or not car_days_beyond_floor(problem, candidates, township, len(sessions_on)):
        return []
    thinnest = min(sorted(sessions_on), key=lambda day: sessions_on[day])
    full = problem.township(township).car_day_capacity  # sessions a day holds (supervisions aside)
    room = {day: full - sessions_on[day] for day in sorted(sessions_on) if day != thinnest and sessions_on[day] < full}
    options = [frozenset({thinnest, day}) for day in room]
    if not any(spare >= sessions_on[thinnest] for spare in room.values()):
        options += [frozenset({thinnest, one, two}) for one, two in itertools.combinations(room, 2)]
    return options or [frozenset({thinnest, day}) for day in sessions_on if day != thinnest]


def market_day_pairs(problem: Problem, candidates: Candidates, township: str, here: list) -> list[frozenset]:
    """More sessions off the market days than the township must hold: an off-market car-day with a market day,
    one it does not use if any (a used one may have no room left)."""
    place = problem.township(township)
    demanded = [c for c in here if c.key is not None]
    if not place.preferred_weekdays or not off_market_beyond_floor(problem, candidates, township, demanded):
        return []
    off = sorted({c.day for c in demanded if off_market_day(problem, c)})
    market = [day for day in problem.days if day.weekday() in place.preferred_weekdays and day not in place.closed_days]
    used = {c.day for c in here}
    better = [day for day in market if day not in used] or market
    return [frozenset({worse, day}) for worse in off for day in better if day != worse]


def spread_pairs(problem: Problem, township: str, here: list) -> list[frozenset]:
    """A specialty beyond its even share in some week: a car-day in that week with a car-day in another."""
    over = weeks_beyond_share(problem, township, [c for c in here if c.key is not None])
    days = sorted({c.day for c in here})
    options = []
    for week in over:
        inside = [day for day in days if week_of(day) == week]
        outside = [day for day in days if week_of(day) != week]
        options += [frozenset({one, two}) for one in inside for two in outside]
    return list(dict.fromkeys(options))  # two weeks over their share give some pairs twice


def stuck_township_steps(context: SearchContext) -> Iterator[Step]:
    """For each township the re-pack left above its floors (settled, its sessions unchanged since), in random order:
    up to `whole_days_tries` whole-days steps in a row, each on a day set not yet tried, until one moves it."""
    candidates = context.candidates
    stuck = [t for t in context.townships() if context.settled.holds(t, sessions_at(candidates, context.chosen(), t))]
    context.rng.shuffle(stuck)
    for township in stuck:  # re-packed no better, still above its floors: whole days (its experts may be busy elsewhere)
        for _ in range(context.config.whole_days_tries):
            if not context.settled.holds(township, sessions_at(candidates, context.chosen(), township)):
                break  # the last step moved it: the re-pack goes first again
            freed = two_days(context, township)
            if not freed:
                break
            yield Step(Kind.WHOLE_DAYS, f"two days {township}", freed)


class WholeDays:
    """Worth trying at every township; one at its floors frees nothing and is passed over."""

    kind = Kind.WHOLE_DAYS
    scope = Scope.TOWNSHIP

    @staticmethod
    def option(context: SearchContext, township: str) -> Option:
        """The township's whole-days step."""
        return Option(Kind.WHOLE_DAYS, f"two days {township}", lambda: two_days(context, township))
