"""A township's timetable re-planned as counts: how many sessions of each demand row in each half-day.

Trips, market days and spread depend only on where and when sessions fall, not on who serves
them. For one township, with the rest of the roster fixed, a small CP-SAT model over the
counts (n[row, half-day]) packs the township's sessions into as few car-days as its rooms
and the experts free there allow, on market days and spread across the weeks. The experts
come after: `staff` picks them for the new timetable; the search (solver.search) then gives the
sessions to their cheapest experts (solver.reassign) and lets CP-SAT check the proposal under
every rule and keep the better mix of it and the roster it started from.

A count model cannot see each expert's month (rule 4), nor the departments at home (rule 7);
it only knows, per half-day, who is free to come. That is why its answer is a proposal.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from ortools.sat.python import cp_model

from solver.candidates import Candidates
from solver.partial_roster import PartialRoster
from solver.problem import DemandKey, Problem, Slot, week_of
from solver.rules import fits
from solver.rules.availability import within_monthly_limit
from solver.rules.objectives import at_a_new_township, even_week_shares, off_market_day, on_avoided_weekday
from solver.rules.travel import at_one_township_that_day


@dataclass(frozen=True)
class Timetable:
    """A township's sessions as counts per (row, half-day), and who was free to take each."""

    township: str
    counts: dict[tuple[DemandKey, Slot], int]
    free_experts: dict[tuple[DemandKey, Slot], list[int]]  # candidate indices of experts free to come
    replaced: frozenset[int]  # the township's sessions this timetable replaces


def repacked_timetable(
    problem: Problem,
    candidates: Candidates,
    township: str,
    chosen: set[int],
    visits: set[tuple],
    time_limit: float = 0.5,
) -> Timetable | None:
    """The cheapest timetable of `township`'s sessions (same rows, same numbers) on trips, market days,
    spread and an estimate of who serves (the cheapest free expert's continuity and avoided weekday);
    None when it is no cheaper than the timetable in `chosen`.

    Days of link visits and supervisions at the township keep their sessions (the visit needs its
    team); the other sessions there move. An expert is free to come in a half-day when they serve
    no other township that day and their month elsewhere leaves them room.
    """
    items = candidates.items
    weights = problem.rules.weights
    place = problem.township(township)
    fixed_days = {day for _member, where, day in visits if where == township}
    fixed_days |= {items[i].day for i in chosen if items[i].township == township and items[i].key is None}
    replaced = frozenset(i for i in chosen if items[i].township == township and items[i].key is not None and items[i].day not in fixed_days)
    if not replaced:
        return None
    staying = PartialRoster.of(problem, candidates.spare, (items[i] for i in chosen if i not in replaced))
    wanted: dict[DemandKey, int] = defaultdict(int)
    for i in replaced:
        wanted[items[i].key] += 1

    def free_to_come(index: int) -> bool:
        # the township's own sessions on the days that move are all replaced: a township that day is another one
        return at_one_township_that_day(staying, items[index]) and within_monthly_limit(staying, items[index])

    by_key_slot = candidates.by_key_slot()
    free_experts: dict[tuple[DemandKey, Slot], list[int]] = {}
    present: dict[Slot, set[str]] = defaultdict(set)  # the distinct experts free to come in each half-day
    for slot in problem.slots:
        if slot.day in fixed_days or not problem.slot_open_at(slot, place):
            continue
        for key in wanted:
            free = [i for i in by_key_slot.get((key, slot), ()) if free_to_come(i)]
            if free:
                free_experts[(key, slot)] = free
                present[slot].update(items[i].expert for i in free)

    model = cp_model.CpModel()
    most = {pair: min(place.rooms, len(free)) for pair, free in free_experts.items()}
    n = {pair: model.new_int_var(0, most[pair], f"n:{pair[0]}:{pair[1]}") for pair in free_experts}
    per_slot: dict[Slot, list] = defaultdict(list)
    per_day: dict = defaultdict(list)
    per_key: dict[DemandKey, list] = defaultdict(list)
    per_specialty_slot: dict[tuple[str, Slot], list] = defaultdict(list)
    for (key, slot), count in n.items():
        per_slot[slot].append(count)
        per_day[slot.day].append(count)
        per_key[key].append(count)
        per_specialty_slot[(key.specialty, slot)].append((key, count))
    for key, sessions in wanted.items():
        model.add(sum(per_key[key]) == sessions)
    for slot, counts in per_slot.items():
        model.add(sum(counts) <= place.rooms)
        model.add(sum(counts) <= len(present[slot]))
    for (specialty, slot), pairs in per_specialty_slot.items():
        if len(pairs) > 1:  # rows of one specialty in one half-day share its free experts
            colleagues = {items[i].expert for key, _count in pairs for i in free_experts[(key, slot)]}
            model.add(sum(count for _key, count in pairs) <= len(colleagues))
    objective = []
    for day, counts in per_day.items():
        trip = model.new_bool_var(f"trip:{day}")
        model.add(sum(counts) <= place.car_day_capacity * trip)
        objective.append(weights.trips * trip)
    for (key, slot), count in n.items():
        # the cheapest free expert's continuity and avoided weekday: an estimate, the staffing decides
        free = free_experts[(key, slot)]
        cheapest = min(
            weights.continuity * at_a_new_township(problem, items[i]) + weights.preference * on_avoided_weekday(problem, items[i]) for i in free
        )
        per_session = cheapest + weights.preference * off_market_day(problem, items[free[0]])
        if per_session:
            objective.append(per_session * count)
    if weights.spread:
        objective.extend(_spread_excess(problem, candidates, model, township, n, chosen, replaced, weights.spread))
    model.minimize(sum(objective))

    current = defaultdict(int)
    for i in replaced:
        current[(items[i].key, items[i].slot)] += 1
    if any(pair not in n or current[pair] > most[pair] for pair in current):
        return None  # the township's timetable holds sessions the count model cannot (should not happen)
    as_now = model.clone()  # the same costs, counted on the timetable as it is
    for pair, count in n.items():
        as_now.add(as_now.get_int_var_from_proto_index(count.index) == current.get(pair, 0))
    now = _solved(as_now, time_limit)
    if now is None:
        return None
    for index in range(len(model.proto.variables)):  # a complete hint: the timetable as it is, every term priced
        model.add_hint(model.get_int_var_from_proto_index(index), now.value(as_now.get_int_var_from_proto_index(index)))
    better = _solved(model, time_limit)
    if better is None or better.objective_value >= now.objective_value:
        return None
    counts = {pair: value for pair, count in n.items() if (value := better.value(count))}
    return Timetable(township, counts, {pair: free_experts[pair] for pair in counts}, replaced)


def _solved(model: cp_model.CpModel, time_limit: float) -> cp_model.CpSolver | None:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = 1
    return solver if solver.solve(model) in (cp_model.OPTIMAL, cp_model.FEASIBLE) else None


def _spread_excess(problem, candidates, model, township, n, chosen, replaced, weight) -> list:
    """Spread at the township, as in rules.objectives.sessions_spread_across_weeks: sessions of a
    specialty in a week beyond the week's even share, counting the sessions that stay."""
    shares = even_week_shares(problem)
    staying: dict[tuple, int] = defaultdict(int)
    for i in chosen:
        c = candidates.items[i]
        if c.township == township and c.key is not None and i not in replaced:
            staying[(c.key.specialty, week_of(c.day))] += 1
    moving: dict[tuple, list] = defaultdict(list)
    for (key, slot), count in n.items():
        moving[(key.specialty, week_of(slot.day))].append(count)
    terms = []
    most = sum(problem.demand.values())
    for (specialty, week), counts in moving.items():
        excess = model.new_int_var(0, most, f"spread:{specialty}:{week}")
        model.add(excess >= sum(counts) + staying[(specialty, week)] - shares[(township, specialty, week)])
        terms.append(weight * excess)
    return terms


def staff(problem: Problem, candidates: Candidates, timetable: Timetable, chosen: set[int], targets: dict[str, int]) -> set[int]:
    """A roster with `timetable` in place of the township's sessions, each staffed greedily: the
    free expert who costs least (fairness, continuity, avoided weekday; then the one furthest
    below their fair load) among those the session fits (solver.rules.fits: their month, one
    session per half-day, the departments' staffing at home; the timetable itself keeps the rooms,
    the rows and one township a day). Sessions nobody can take are left out; it is a hint for
    CP-SAT, which checks every rule."""
    items = candidates.items
    weights = problem.rules.weights
    roster = set(chosen) - timetable.replaced
    partial = PartialRoster.of(problem, candidates.spare, (items[i] for i in roster))
    load = partial.load

    def cost(index: int) -> tuple:
        c = items[index]
        fairness = weights.fairness if load[c.expert] >= targets.get(c.expert, 0) else -weights.fairness
        return (
            fairness + weights.continuity * at_a_new_township(problem, c) + weights.preference * on_avoided_weekday(problem, c),
            load[c.expert] - targets.get(c.expert, 0),
            c.expert,
        )

    # the half-days with the fewest free experts per session first
    for (key, slot), count in sorted(timetable.counts.items(), key=lambda item: (len(timetable.free_experts[item[0]]) / item[1], str(item[0]))):
        for _ in range(count):
            options = [i for i in timetable.free_experts[(key, slot)] if fits(partial, items[i])]
            if not options:
                break
            pick = min(options, key=cost)
            roster.add(pick)
            partial.add(items[pick])
    return roster
