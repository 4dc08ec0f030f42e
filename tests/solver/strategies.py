"""Small random Problems for property-based tests: 2-4 townships, 4-10 experts, one or two weeks of half-days.

`random_problem(seed)` gives one reproducible problem; `problems()` is the hypothesis strategy
over the same space. Corners are drawn on purpose: experts with max_sessions 0 or no specialty,
whole-week leave, closed townships, demand nobody can serve, ward rounds asked of a township
without a ward, tight department minimums and link members who can never come.
"""

from __future__ import annotations

import datetime as dt
import random

from hypothesis import strategies as st

from solver.problem import DemandKey, Department, Expert, Link, Problem, Rules, Slot, Township

MONTH = "2027-03"
FIRST_MONDAY = dt.date(2027, 3, 1)
SPECIALTY_POOL = ("cardio", "resp", "paeds", "tcm", "ortho")
TITLES = ("attending", "associate_chief", "chief")


def build_random_problem(rng: random.Random) -> Problem:
    """One small problem drawn with `rng` (a `random.Random` or hypothesis' controlled one)."""
    weeks = rng.choice((1, 2))
    days = [FIRST_MONDAY + dt.timedelta(days=offset) for offset in range(7 * weeks) if (FIRST_MONDAY + dt.timedelta(days=offset)).weekday() < 5]
    if rng.random() < 0.2:
        days.remove(rng.choice(days))  # a holiday in the middle
    slots = tuple(Slot(day, half_day) for day in days for half_day in ("am", "pm"))
    specialties = rng.sample(SPECIALTY_POOL, rng.randint(2, 4))
    departments = tuple(Department(f"d{number}", rng.choice((0, 0, 1, 2))) for number in range(rng.randint(1, 3)))
    townships = tuple(
        Township(
            id=f"t{number}",
            rooms=rng.choice((1, 1, 2)),
            inpatient_ward=rng.random() < 0.5,
            preferred_weekdays=frozenset(rng.sample(range(5), rng.choice((0, 1)))),
            closed_days=frozenset(rng.sample(days, 1)) if rng.random() < 0.2 else frozenset(),
        )
        for number in range(rng.randint(2, 4))
    )
    experts = []
    for number in range(rng.randint(4, 10)):
        held = frozenset(rng.sample(specialties, rng.choice((0, 1, 1, 1, 2)) if number else 1))
        blocked: dict[Slot, str] = {}
        if rng.random() < 0.3:
            blocked.update({slot: "leave" for slot in rng.sample(slots, rng.randint(1, min(4, len(slots))))})
        if rng.random() < 0.05:
            blocked.update({slot: "away all month" for slot in slots})
        experts.append(
            Expert(
                id=f"E{number:02d}",
                department=rng.choice(departments).code,
                title=rng.choice(TITLES),
                specialties=held,
                max_sessions=rng.choice((0, 1, 2, 3, 4, 5, 6)) if rng.random() < 0.15 else rng.randint(2, 6),
                avoid_weekdays=frozenset(rng.sample(range(5), rng.choice((0, 0, 1)))),
                blocked=blocked,
                previous_townships=frozenset(rng.sample([t.id for t in townships], rng.choice((0, 1)))),
            )
        )
    demand: dict[DemandKey, int] = {}
    for township in townships:
        for _ in range(rng.randint(1, 3)):
            session_type = rng.choice(("clinic", "clinic", "teaching", "ward_round"))
            specialty = rng.choice(specialties) if rng.random() < 0.9 else "derm"  # derm: nobody holds it
            key = DemandKey(township.id, session_type, specialty)
            demand[key] = demand.get(key, 0) + rng.randint(1, 4)
    links = []
    for member in rng.sample(experts, rng.randint(0, 2)):
        for township in rng.sample(townships, rng.randint(1, 2)):
            links.append(Link(member.id, township.id))
    rules = Rules(
        teaching_min_title=rng.choice(("associate_chief", "associate_chief", "chief", "attending")),
        ward_round_half_days=frozenset({"am"}) if rng.random() < 0.8 else frozenset({"am", "pm"}),
        link_visits_per_month=rng.choice((1, 1, 1, 2, 0)),
        link_team_min=rng.choice((0, 1, 2, 2)),
    )
    return Problem(
        month=MONTH,
        slots=slots,
        experts=tuple(experts),
        townships=townships,
        departments=departments,
        demand=demand,
        links=tuple(links),
        rules=rules,
        specialty_names={code: code for code in (*specialties, "derm")},
    )


def random_problem(seed: int) -> Problem:
    """The small random problem of a seed (the same seed gives the same problem)."""
    return build_random_problem(random.Random(seed))


def problems() -> st.SearchStrategy[Problem]:
    """Hypothesis strategy of small random problems."""
    return st.randoms(use_true_random=False).map(build_random_problem)
