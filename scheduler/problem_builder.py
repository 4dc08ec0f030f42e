"""Turn a validated scenario and a month into the solver's `Problem` (the one bridge between them)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from scheduler.calendar import MonthCalendar, month_calendar_for
from scheduler.scenario.schema import WEEKDAYS, Scenario
from solver.problem import DemandKey, Department, Expert, Link, PriorLoad, Problem, Rules, Slot, Township, Weights


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


@dataclass(frozen=True)
class PublishedMonth:
    """What the latest published version of an earlier month says each expert did (scheduler.history reads it)."""

    month: str
    sessions: Mapping[str, int] = field(default_factory=dict)  # expert id -> sessions of every type
    townships: Mapping[str, frozenset[str]] = field(default_factory=dict)  # expert id -> townships of their demand sessions

    @classmethod
    def from_counts(cls, month: str, counts: Iterable[tuple[str, str, str, int]]) -> PublishedMonth:
        """From (expert, township, session type, sessions) rows: every session counts as load, a
        supervision (a committee member's link visit) teaches continuity nothing."""
        sessions: dict[str, int] = defaultdict(int)
        townships: dict[str, set[str]] = defaultdict(set)
        for expert_id, township_id, session_type, count in counts:
            sessions[expert_id] += count
            if session_type != "supervision":
                townships[expert_id].add(township_id)
        return cls(month, dict(sessions), {expert_id: frozenset(places) for expert_id, places in townships.items()})

    @classmethod
    def of(cls, roster) -> PublishedMonth:
        """From a roster (`solver.solution.Solution`), as the store would read it once published."""
        counts: dict[tuple[str, str, str], int] = defaultdict(int)
        for assignment in roster.assignments:
            counts[(assignment.expert, assignment.township, assignment.type)] += 1
        return cls.from_counts(roster.month, ((*key, count) for key, count in counts.items()))


def month_capacity(scenario: Scenario, month: str) -> dict[str, int]:
    """Each expert's fair capacity in a month: max_sessions pro-rated by the working half-days they were not away.

    An expert on leave for half of a month is neither owed nor owes anything for that half."""
    calendar = month_calendar_for(scenario.calendar, month)
    slots = tuple(Slot(day, half) for day in calendar.working_days for half in ("am", "pm"))
    if not slots:
        return {expert.id: 0 for expert in scenario.experts}
    return {expert.id: round(expert.max_sessions * (len(slots) - len(_blocked_slots(expert, slots))) / len(slots)) for expert in scenario.experts}


def with_published_history(problem: Problem, scenario: Scenario, history: Iterable[PublishedMonth]) -> Problem:
    """The problem with what the published months before it carry over: prior loads for fairness, townships for continuity.

    Capacity uses today's standing data (max_sessions, leave) for each earlier month that has a
    published roster; a month without one counts for nothing. The scenario's `previous_townships`
    stay as a seed that the history adds to."""
    sessions: dict[str, int] = defaultdict(int)
    capacity: dict[str, int] = defaultdict(int)
    served: dict[str, set[str]] = defaultdict(set)
    for published in history:
        for expert_id, expert_capacity in month_capacity(scenario, published.month).items():
            capacity[expert_id] += expert_capacity
            sessions[expert_id] += published.sessions.get(expert_id, 0)
        for expert_id, townships in published.townships.items():
            served[expert_id] |= townships
    if not capacity and not served:
        return problem
    experts = tuple(
        dataclasses.replace(expert, previous_townships=expert.previous_townships | served[expert.id]) if served.get(expert.id) else expert
        for expert in problem.experts
    )
    prior = {expert.id: PriorLoad(sessions[expert.id], capacity[expert.id]) for expert in problem.experts if expert.id in capacity}
    return dataclasses.replace(problem, experts=experts, prior_loads=prior)
