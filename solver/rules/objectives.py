"""What makes one roster better than another (DOMAIN.md's soft rules), each a penalty in the scenario's weights."""

from __future__ import annotations

import math
from collections import defaultdict

from ortools.sat.python import cp_model

from solver.objective import Term, penalizes
from solver.problem import week_of
from solver.roster_model import RosterModel, supervision_indices


@penalizes(Term.UNMET)
def unmet_demand(roster: RosterModel) -> None:
    """Every demanded session without an expert costs `unmet`."""
    weight = roster.problem.rules.weights.unmet
    for key, sessions in roster.problem.demand.items():
        indices = roster.candidates.by_key.get(key, [])
        roster.penalize(Term.UNMET, sessions - roster.total(indices), weight)


def fair_targets(problem, candidates) -> dict[str, int]:
    """Each expert's fair load: the same share of max_sessions for everyone who can serve at all.

    With prior loads (`Problem.prior_loads`, cross-month equity) the share is of the capacity over
    the whole window, this month included: see `carried_over_targets`. Every user of the fairness
    term (the model, the greedy starts, the flows, the bounds) takes its targets from here, so the
    bounds price the same objective the model does."""
    able = [e for e in problem.experts if candidates.by_expert.get(e.id)]
    capacity = sum(e.max_sessions for e in able)
    demand = sum(problem.demand.values())
    prior = {e.id: problem.prior_loads[e.id] for e in able if e.id in problem.prior_loads}
    if any(load.capacity > 0 or load.sessions > 0 for load in prior.values()):
        return carried_over_targets(able, prior, min(demand, capacity))
    share = min(1.0, demand / capacity) if capacity else 0.0
    return {e.id: round(e.max_sessions * share) for e in able}


def carried_over_targets(able, prior: dict, sessions: int) -> dict[str, int]:
    """Fair loads that even out the window: one share s of everyone's window capacity, less what each already served.

    An expert's target is s x (prior capacity + max_sessions) - prior sessions, held within
    0..max_sessions (the cap is never lent or borrowed), with s the share at which the targets
    add up to this month's `sessions`. An expert under-used before is aimed higher now; with no
    prior load everyone gets s x max_sessions, the month-only rule."""

    def wanted(expert, share: float) -> float:
        served, capacity = prior.get(expert.id, (0, 0))
        return min(float(expert.max_sessions), max(0.0, share * (capacity + expert.max_sessions) - served))

    shares = [(p[0] + e.max_sessions) / (p[1] + e.max_sessions) for e in able if (p := prior.get(e.id, (0, 0)))[1] + e.max_sessions > 0]
    low, high = 0.0, max(shares, default=0.0)  # at `high` every expert is at max_sessions
    for _ in range(60):  # the total is continuous and non-decreasing in the share: bisect it
        middle = (low + high) / 2
        if sum(wanted(e, middle) for e in able) < sessions:
            low = middle
        else:
            high = middle
    return {e.id: round(wanted(e, high)) for e in able}


@penalizes(Term.FAIRNESS)
def load_fair_to_capacity(roster: RosterModel) -> None:
    """Fairness: each expert's load stays near their fair target (L1 deviation; `fair_targets`: the same share of
    max_sessions for everyone, counted over the carry-over window when the problem has prior loads)."""
    weight = roster.problem.rules.weights.fairness
    if not weight:
        return
    targets = roster.fair_targets if roster.fair_targets is not None else fair_targets(roster.problem, roster.candidates)
    for expert in roster.problem.experts:
        if expert.id not in targets:
            continue
        target = targets[expert.id]
        indices = roster.candidates.by_expert.get(expert.id)
        if not indices:  # a sub-model without this expert: their load is 0 there
            roster.penalize(Term.FAIRNESS, target, weight)
            continue
        load = roster.total(indices)
        if isinstance(load, int):
            roster.penalize(Term.FAIRNESS, abs(load - target), weight)
            continue
        deviation = roster.model.new_int_var(0, max(target, expert.max_sessions), f"dev:{expert.id}")
        roster.model.add(deviation >= load - target)
        roster.model.add(deviation >= target - load)
        count = roster.count_chosen(indices)
        roster.derive(deviation, lambda chosen, count=count, target=target: abs(count(chosen) - target))
        roster.penalize(Term.FAIRNESS, deviation, weight)


def fairness_steps(target: int, load: int, room: int, weight: int) -> list[tuple[int, int]]:
    """Fairness as a convex cost in a flow: for `room` more sessions on an expert already at `load`,
    (sessions, unit cost) steps: -weight each up to the fair target, +weight each beyond it."""
    below = max(0, min(target - load, room))
    return [(sessions, cost) for sessions, cost in ((below, -weight), (room - below, weight)) if sessions > 0]


def even_week_shares(problem) -> dict[tuple[str, str, tuple], int]:
    """Spread: the sessions of a (township, specialty) a week would get if spread evenly by working days."""
    days = problem.days
    weeks: dict[tuple, int] = defaultdict(int)
    for day in days:
        weeks[week_of(day)] += 1
    wanted: dict[tuple[str, str], int] = defaultdict(int)
    for key, sessions in problem.demand.items():
        wanted[(key.township, key.specialty)] += sessions
    return {
        (township, specialty, week): math.ceil(total * count / max(1, len(days)))
        for (township, specialty), total in wanted.items()
        for week, count in weeks.items()
    }


@penalizes(Term.SPREAD)
def sessions_spread_across_weeks(roster: RosterModel) -> None:
    """Spread: a township's sessions of one specialty beyond a week's even share cost `spread` each."""
    weight = roster.problem.rules.weights.spread
    if not weight:
        return
    week_of_day = {day: week_of(day) for day in roster.problem.days}
    shares = even_week_shares(roster.problem)
    by_week: dict[tuple, list[int]] = defaultdict(list)
    for key, indices in roster.candidates.by_key.items():
        for index in indices:
            by_week[(key.township, key.specialty, week_of_day[roster.candidates.items[index].day])].append(index)
    for (township, specialty, week), indices in by_week.items():
        even = shares[(township, specialty, week)]
        count = roster.total(indices)
        if isinstance(count, int):
            roster.penalize(Term.SPREAD, max(0, count - even), weight)
            continue
        excess = roster.model.new_int_var(0, len(indices), f"spread:{township}:{specialty}:{week}")
        roster.model.add(excess >= count - even)
        counted = roster.count_chosen(indices)
        roster.derive(excess, lambda chosen, counted=counted, even=even: max(0, counted(chosen) - even))
        roster.penalize(Term.SPREAD, excess, weight)


@penalizes(Term.TRIPS)
def shared_cars(roster: RosterModel) -> None:
    """Trips: each distinct (township, day) someone travels to costs `trips`; experts on one day share a car."""
    weight = roster.problem.rules.weights.trips
    if not weight:
        return
    capacity = {t.id: t.car_day_capacity for t in roster.problem.townships}
    travellers: dict[tuple, list] = defaultdict(list)
    everyone: dict[tuple, list[int]] = defaultdict(list)
    for (_expert, day, township), flag in roster.serves.items():
        travellers[(township, day)].append(flag)
    for (_expert, day, township), indices in roster.candidates.by_expert_day_township.items():
        everyone[(township, day)].extend(indices)
        for index in supervision_indices(roster.candidates, indices):
            term = roster.term(index)
            if not (isinstance(term, int) and term == 0):
                travellers[(township, day)].append(term)
    for (township, day), flags in travellers.items():
        if any(isinstance(flag, int) and flag for flag in flags):
            roster.penalize(Term.TRIPS, 1, weight)
            continue
        variables = [flag for flag in flags if not isinstance(flag, int)]
        if not variables:
            continue
        trip = roster.model.new_bool_var(f"trip:{township}:{day}")
        for flag in variables:
            roster.model.add_implication(flag, trip)
        # A valid cut that tightens the LP: a day's sessions at a township need its car, and one
        # car-day holds at most two half-days of every room (plus the supervisions of linked members).
        day_sessions = [v for i in everyone[(township, day)] if (v := roster.x.get(i)) is not None]
        supervisions = sum(1 for i in everyone[(township, day)] if roster.candidates.items[i].key is None)
        per_day = min(len(day_sessions), capacity[township] + supervisions)
        roster.model.add(cp_model.LinearExpr.sum(day_sessions) <= per_day * trip)
        members = tuple(everyone[(township, day)])
        roster.derive(trip, lambda chosen, members=members: int(any(i in chosen for i in members)))
        roster.penalize(Term.TRIPS, trip, weight)


def _per_session(costs: dict[int, int], roster: RosterModel) -> cp_model.LinearExprT:
    """Sum of per-candidate costs, with fixed candidates folded into the constant."""
    constant, variables, coefficients = 0, [], []
    for index, cost in costs.items():
        term = roster.term(index)
        if isinstance(term, int):
            constant += cost * term
        else:
            variables.append(term)
            coefficients.append(cost)
    return cp_model.LinearExpr.weighted_sum(variables, coefficients) + constant if variables else constant


def at_a_new_township(problem, candidate) -> int:
    """1 when a session takes an expert with a history somewhere to a township they have not served before."""
    previous = problem.expert(candidate.expert).previous_townships
    return int(candidate.key is not None and bool(previous) and candidate.township not in previous)


@penalizes(Term.CONTINUITY)
def same_expert_returns(roster: RosterModel) -> None:
    """Continuity: a session at a township the expert has not served before costs `continuity`."""
    costs = {candidate.index: 1 for candidate in roster.candidates.items if at_a_new_township(roster.problem, candidate)}
    roster.penalize(Term.CONTINUITY, _per_session(costs, roster), roster.problem.rules.weights.continuity)


def off_market_day(problem, candidate) -> int:
    """1 when a session falls off its township's market days (a township that names some)."""
    preferred = problem.township(candidate.township).preferred_weekdays
    return int(candidate.key is not None and bool(preferred) and candidate.day.weekday() not in preferred)


def on_avoided_weekday(problem, candidate) -> int:
    """1 when a candidate falls on a weekday its expert avoids."""
    return int(candidate.day.weekday() in problem.expert(candidate.expert).avoid_weekdays)


def preference_cost(problem, candidate) -> int:
    """Preferences of one candidate: off its township's market days (+1), on a weekday its expert avoids (+1)."""
    return off_market_day(problem, candidate) + on_avoided_weekday(problem, candidate)


@penalizes(Term.PREFERENCE)
def prefer_market_days_and_avoid_weekdays(roster: RosterModel) -> None:
    """Preferences: off a township's market days, or on a weekday the expert avoids, costs `preference`."""
    costs = {}
    for candidate in roster.candidates.items:
        cost = preference_cost(roster.problem, candidate)
        if cost:
            costs[candidate.index] = cost
    roster.penalize(Term.PREFERENCE, _per_session(costs, roster), roster.problem.rules.weights.preference)


@penalizes(Term.STABILITY)
def keep_published_assignments(roster: RosterModel) -> None:
    """Stability: in a re-plan, each previous assignment not kept (moved, reassigned, dropped) costs one change."""
    if not roster.previous or not roster.stability_weight:
        return
    kept = _per_session({index: 1 for index in roster.previous}, roster)
    roster.penalize(Term.STABILITY, len(roster.previous) - kept, roster.stability_weight)
