"""Turn a validated scenario and a month into the solver's `Problem` (the one bridge between them)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping

from scheduler.calendar import MonthCalendar, month_calendar_for
from scheduler.scenario.schema import WEEKDAYS, Scenario
from solver.problem import DemandKey, Department, Expert, Link, Problem, Rules, Slot, Township, Weights


def _weekday_numbers(names: list[str]) -> frozenset[int]:
    return frozenset(WEEKDAYS.index(name) for name in names)


def _blocked_slots(expert, slots: tuple[Slot, ...]) -> dict[Slot, str]:
    blocked: dict[Slot, str] = {}
    for period in expert.unavailable:
        reason = period.reason or "unavailable"
        for slot in slots:
            if period.first_day <= slot.day <= period.last_day and (period.half_day is None or period.half_day == slot.half_day):
                blocked.setdefault(slot, reason)
    return blocked


def build_problem(
    scenario: Scenario,
    month: str,
    township_closures: Mapping[str, frozenset[dt.date]] | None = None,
    calendar: MonthCalendar | None = None,
) -> Problem:
    """The month's problem: working half-days from the calendar, availability resolved to slots, demand summed."""
    calendar = calendar or month_calendar_for(scenario.calendar, month)
    slots = tuple(Slot(day, half) for day in calendar.working_days for half in ("am", "pm"))
    closures = township_closures or {}
    demand: dict[DemandKey, int] = defaultdict(int)
    for row in scenario.demand:
        demand[DemandKey(row.township, row.type, row.specialty)] += row.sessions
    rules = scenario.rules
    return Problem(
        month=month,
        slots=slots,
        experts=tuple(
            Expert(
                id=expert.id,
                name=expert.name,
                department=expert.department,
                title=expert.title,
                specialties=frozenset(expert.specialties),
                max_sessions=expert.max_sessions,
                avoid_weekdays=_weekday_numbers(expert.avoid_weekdays),
                blocked=_blocked_slots(expert, slots),
                previous_townships=frozenset(expert.previous_townships),
            )
            for expert in scenario.experts
        ),
        townships=tuple(
            Township(
                id=township.id,
                name=township.name,
                rooms=township.rooms,
                inpatient_ward=township.inpatient_ward,
                travel_minutes=township.travel_minutes,
                preferred_weekdays=_weekday_numbers(township.preferred_weekdays),
                closed_days=frozenset(closures.get(township.id, frozenset())),
            )
            for township in scenario.townships
        ),
        departments=tuple(Department(d.code, d.min_on_site, d.name) for d in scenario.departments),
        demand=dict(demand),
        links=tuple(Link(link.member, township_id) for link in scenario.links for township_id in link.townships),
        rules=Rules(
            teaching_min_title=rules.teaching_min_title,
            ward_round_half_days=frozenset(rules.ward_round_half_days),
            link_visits_per_month=rules.link_visits_per_month,
            link_team_min=rules.link_team_min,
            weights=Weights(**rules.weights.model_dump()),
        ),
        specialty_names={s.code: s.name for s in scenario.specialties},
    )
