"""A strong constructive start: link visits first, then the scarcest demand, each session placed where it costs least.

The result is a complete, rule-abiding roster that CP-SAT receives as its hint, so the search
starts from a full solution instead of an empty one.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field

import numpy

from solver.candidates import Candidates
from solver.partial_roster import PartialRoster
from solver.problem import DemandKey, Problem, week_of
from solver.rules import fits
from solver.rules.availability import sessions_left, within_monthly_limit
from solver.rules.coverage import sessions_wanted
from solver.rules.links import has_a_team
from solver.rules.office import office_pinned_indices, required_candidates
from solver.rules.staffing import department_can_spare
from solver.rules.objectives import at_a_new_township, even_week_shares, fair_targets, on_avoided_weekday, preference_cost


@dataclass
class RosterState(PartialRoster):
    """The roster being built: the hard rules' counters (solver.partial_roster) plus what the soft costs read."""

    candidates: Candidates | None = None
    chosen: set[int] = field(default_factory=set)
    visits: set[tuple[str, str, dt.date]] = field(default_factory=set)
    week_count: dict[tuple[str, str, tuple], int] = field(default_factory=lambda: defaultdict(int))
    trips: set[tuple[str, dt.date]] = field(default_factory=set)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.experts = {e.id: e for e in self.problem.experts}
        self.targets = fair_targets(self.problem, self.candidates)

    def fits(self, index: int) -> bool:
        """True when adding the candidate keeps every hard rule (solver.rules.fits)."""
        return fits(self, self.candidates.items[index])

    def take(self, index: int) -> None:
        c = self.candidates.items[index]
        self.add(c)
        self.chosen.add(index)
        self.trips.add((c.township, c.day))
        if c.key is not None:
            self.week_count[(c.township, c.key.specialty, week_of(c.day))] += 1

    def drop(self, index: int) -> None:
        c = self.candidates.items[index]
        self.remove(c)
        self.chosen.discard(index)
        if c.key is not None:
            self.week_count[(c.township, c.key.specialty, week_of(c.day))] -= 1


def new_state(problem: Problem, candidates: Candidates) -> RosterState:
    """An empty roster of the month, with rule 7's bound from the candidates."""
    return RosterState(problem, candidates.spare, candidates=candidates)


def _session_cost(state: RosterState, index: int, even: dict) -> float:
    """The soft cost of adding one session, in the objective's own weights (approximately)."""
    problem = state.problem
    weights = problem.rules.weights
    c = state.candidates.items[index]
    expert = state.experts[c.expert]
    # fairness: the objective's own change (below the fair load a session helps), ties to the relatively least loaded
    load, target = state.load[c.expert], state.targets.get(c.expert, 0)
    cost = weights.fairness * (abs(load + 1 - target) - abs(load - target) + 0.2 * (load + 1) / max(1, expert.max_sessions))
    if (c.township, c.day) not in state.trips:
        cost += weights.trips
    if c.key is not None:
        week = week_of(c.day)
        if state.week_count[(c.township, c.key.specialty, week)] + 1 > even.get((c.township, c.key.specialty, week), 1):
            cost += weights.spread
    cost += weights.continuity * at_a_new_township(problem, c) + weights.preference * preference_cost(problem, c)
    return cost


def _try_visit(
    state: RosterState,
    member: str,
    township: str,
    day: dt.date,
    even: dict,
    pending: dict[str, int],
    at_township: dict,
    kept: Collection[int] = (),
) -> list[int] | None:
    """Place a link visit on one day (team first, then the member, on a `kept` supervision if there is one) or leave the state as it was."""
    cands = state.candidates
    taken: list[int] = []
    present = {e for (e, d), t in state.township_of_day.items() if d == day and t == township and e != member}
    for expert, indices in at_township.get((day, township), ()):
        if has_a_team(state.problem, member, present):
            break
        if expert == member or expert in present:
            continue
        if sessions_left(state, expert) <= pending.get(expert, 0):
            continue  # keep their capacity for their own link visits
        fitting = [i for i in indices if cands.items[i].key is not None and state.fits(i)]
        if fitting:
            index = min(fitting, key=lambda i: _session_cost(state, i, even))
            state.take(index)
            taken.append(index)
            present.add(expert)
    own = sorted(
        cands.by_expert_day_township.get((member, day, township), []), key=lambda i: (i not in kept, cands.items[i].key is None, _session_cost(state, i, even))
    )
    member_index = next((i for i in own if state.fits(i)), None)
    if not has_a_team(state.problem, member, present) or member_index is None:
        for index in reversed(taken):
            state.drop(index)
        return None
    state.take(member_index)
    state.visits.add((member, township, day))
    return taken + [member_index]


def _place_link_visits(state: RosterState, even: dict, keep: Collection[int] = (), visits: Collection[tuple] = ()) -> None:
    """Place each link's visits: on the days of a re-plan's published `visits` (member, township, day) first, the member on
    a kept supervision (`keep`) where there is one; then on the days with the largest possible team."""
    problem = state.problem
    cands = state.candidates
    team_size: dict[tuple[str, dt.date], int] = defaultdict(int)
    at_township: dict[tuple[dt.date, str], list[tuple[str, list[int]]]] = defaultdict(list)
    for (expert, day, township), indices in cands.by_expert_day_township.items():
        if any(cands.items[i].key is not None for i in indices):
            team_size[(township, day)] += 1
            at_township[(day, township)].append((expert, indices))
    # members with the fewest possible days go first
    links = sorted(problem.links, key=lambda l: sum(1 for d in problem.days if cands.by_expert_day_township.get((l.member, d, l.township))))
    kept = {index for index in keep if cands.items[index].key is None}
    kept_days = set(visits)
    pending: dict[str, int] = defaultdict(int)
    for link in links:
        pending[link.member] += problem.rules.link_visits_per_month
    for _round in range(problem.rules.link_visits_per_month):
        for link in links:
            done_days = {d for (m, t, d) in state.visits if m == link.member and t == link.township}
            pending[link.member] -= 1
            if len(done_days) >= problem.rules.link_visits_per_month:
                continue
            days = [d for d in problem.days if d not in done_days and cands.by_expert_day_township.get((link.member, d, link.township))]
            days.sort(key=lambda d: ((link.member, link.township, d) not in kept_days, -team_size[(link.township, d)], (link.township, d) not in state.trips))
            for day in days:
                if _try_visit(state, link.member, link.township, day, even, pending, at_township, kept) is not None:
                    break


# How many fitting candidates a pick compares: enough for a good choice, few enough to stay fast.
PICK_AMONG = 48


def _place_demand(state: RosterState, even: dict, seed: int = 0, quotas: dict[tuple, int] | None = None) -> None:
    """Round-robin over demand rows, scarcest first; each pick is the cheapest of a sample of fitting candidates.

    Filling only ever adds, so a candidate that does not fit now never will: it is dropped for good,
    which keeps the whole pass linear in the number of candidates.
    """
    problem = state.problem
    cands = state.candidates
    rng = numpy.random.default_rng(seed)
    capacity = {key: len({cands.items[i].expert for i in indices}) for key, indices in cands.by_key.items()}
    keys = sorted(cands.by_key, key=lambda k: (capacity[k] / max(1, problem.demand[k]), k))
    remaining: dict[DemandKey, list[int]] = {}
    for key in keys:
        pool = cands.by_key[key]
        remaining[key] = [pool[i] for i in rng.permutation(len(pool))]
    if quotas:
        # first pass: each demand row only from the experts the flow plan gives it
        planned = dict(quotas)
        first_pass = {
            key: [i for i in pool if planned.get((key, cands.items[i].expert), 0) > 0] for key, pool in remaining.items()
        }
        _fill(state, even, keys, first_pass, planned)
    _fill(state, even, keys, remaining, None)


def _fill(state: RosterState, even: dict, keys: list[DemandKey], remaining: dict[DemandKey, list[int]], planned: dict | None) -> None:
    cands = state.candidates
    open_keys = [k for k in keys if sessions_wanted(state, k) > 0]
    while open_keys:
        still_open = []
        for key in open_keys:
            pool = remaining[key]
            fitting, kept, position = [], [], 0
            while position < len(pool) and len(fitting) < PICK_AMONG:
                index = pool[position]
                position += 1
                if planned is not None and planned.get((key, cands.items[index].expert), 0) <= 0:
                    continue  # that expert's planned share of this row is used up
                if state.fits(index):
                    fitting.append(index)
                    kept.append(index)
            remaining[key] = kept + pool[position:]
            if not fitting:
                continue
            choice = min(fitting, key=lambda i: _session_cost(state, i, even))
            state.take(choice)
            remaining[key].remove(choice)
            if planned is not None:
                planned[(key, cands.items[choice].expert)] -= 1
            if sessions_wanted(state, key) > 0:
                still_open.append(key)
        open_keys = still_open


def _swap_gain(state: RosterState, out: int, into: int) -> int:
    """How much fairness, continuity and avoided weekdays improve when `into` serves `out`'s session instead."""
    weights = state.problem.rules.weights
    items = state.candidates.items

    def own_cost(index: int) -> int:
        c = items[index]
        return weights.continuity * at_a_new_township(state.problem, c) + weights.preference * on_avoided_weekday(state.problem, c)

    def fairness(expert: str, load: int) -> int:
        return weights.fairness * abs(load - state.targets.get(expert, load))

    giver, taker = items[out].expert, items[into].expert
    before = fairness(giver, state.load[giver]) + fairness(taker, state.load[taker]) + own_cost(out)
    after = fairness(giver, state.load[giver] - 1) + fairness(taker, state.load[taker] + 1) + own_cost(into)
    return before - after


def _rebalance(state: RosterState, locked: set[int], passes: int = 3) -> None:
    """Hand sessions from experts above their fair load to colleagues below it, in the same half-day.

    The session keeps its township, row and half-day, so trips, market days and spread stay as
    they are; a handover happens only when fairness, continuity and avoided weekdays together
    improve. Sessions on a link-visit day at that township, and `locked` ones, stay put.
    """
    items = state.candidates.items
    by_key_slot = state.candidates.by_key_slot()
    visit_days = {(township, day) for _member, township, day in state.visits}
    for _ in range(passes):
        moved = False
        for out in sorted(state.chosen):
            c = items[out]
            if c.key is None or out in locked or (c.township, c.day) in visit_days:
                continue
            if state.load[c.expert] <= state.targets.get(c.expert, 0):
                continue
            state.drop(out)
            options = [i for i in by_key_slot.get((c.key, c.slot), ()) if i != out and state.fits(i)]
            state.take(out)
            if not options:
                continue
            best = max(options, key=lambda i: _swap_gain(state, out, i))
            if _swap_gain(state, out, best) > 0:
                state.drop(out)
                state.take(best)
                moved = True
        if not moved:
            break


def _record_existing_visits(state: RosterState) -> None:
    """Count the link visits that the roster in `state` already makes."""
    problem = state.problem
    for link in problem.links:
        made = 0
        for day in problem.days:
            if made >= problem.rules.link_visits_per_month:
                break
            if state.township_of_day.get((link.member, day)) != link.township:
                continue
            serving = {e for (e, d), t in state.township_of_day.items() if d == day and t == link.township and (e, d) not in state.supervising}
            if has_a_team(problem, link.member, serving):
                state.visits.add((link.member, link.township, day))
                made += 1


def office_required_indices(problem: Problem, candidates: Candidates, state: RosterState, keep: Collection[int] = ()) -> list[int]:
    """Take candidates for each forced request on its days until it has its sessions (before anything else is placed); the ones taken.

    Kept sessions go first, then experts who keep no session elsewhere that day and have a session to spare, so
    that a re-plan's start drops as few kept sessions as it can."""
    items = candidates.items
    kept_at: dict[tuple[str, dt.date], set[str]] = defaultdict(set)
    kept = set(keep)
    promised = PartialRoster.of(problem, candidates.spare, (items[index] for index in kept))  # kept sessions and the new ones taken here
    for index in kept:
        kept_at[(items[index].expert, items[index].day)].add(items[index].township)

    def clashes(index: int) -> bool:
        """Whether taking the candidate pushes a kept session out: its expert is elsewhere that day or at their limit
        (kept sessions and the new ones taken here), or their department can spare no one more."""
        c = items[index]
        busy_elsewhere = bool(kept_at.get((c.expert, c.day), set()) - {c.township}) or (c.expert, c.slot) in state.busy
        return busy_elsewhere or not department_can_spare(promised, c) or not within_monthly_limit(promised, c)

    taken: list[int] = []
    for requirement in problem.requirements:
        indices = required_candidates(candidates, requirement)
        have = sum(1 for index in indices if index in state.chosen)
        while have < requirement.sessions:
            # chosen one at a time: each take changes who else would push a kept session out
            fitting = [index for index in indices if index not in state.chosen and state.fits(index)]
            if not fitting:
                break
            index = min(fitting, key=lambda i: (i not in kept, clashes(i), i))
            state.take(index)
            taken.append(index)
            have += 1
            if index not in kept:  # a new session: it counts against its expert and department like a kept one
                promised.add(items[index])
    return taken


def construct(
    problem: Problem,
    candidates: Candidates,
    fixed: set[int] | None = None,
    keep: list[int] | tuple = (),
    quotas: dict[tuple, int] | None = None,
    visits: Collection[tuple] = (),
) -> RosterState:
    """A complete roster: fixed candidates, then those to keep where they fit, then link visits (a re-plan's published
    `visits`, as (member, township, day), on their days first), then demand."""
    state = new_state(problem, candidates)
    for index in sorted(fixed or ()):
        state.take(index)
    pinned = office_pinned_indices(problem, candidates)
    for index in pinned:
        # a pin is hard: it goes in first, so every start (and each LNS sub-model fixed to one) holds it
        if index not in (fixed or ()) and state.fits(index):
            state.take(index)
    required = office_required_indices(problem, candidates, state, keep)
    # where a cut limit (a demand row, rooms, an expert's sessions) cannot keep them all, the sessions of the experts
    # furthest above their fair load are the ones left out: the least loaded first
    kept_load: dict[str, int] = defaultdict(int)
    for index in keep:
        kept_load[candidates.items[index].expert] += 1
    over = {expert: load - state.targets.get(expert, load) for expert, load in kept_load.items()}
    for index in sorted(keep, key=lambda i: (over[candidates.items[i].expert], i)):
        # supervisions are not kept blindly: link placement re-adds one where its visit still holds
        if candidates.items[index].key is not None and state.fits(index):
            state.take(index)
    _record_existing_visits(state)
    even = even_week_shares(problem)
    _place_link_visits(state, even, keep, visits)
    _place_demand(state, even, quotas=quotas)
    _rebalance(state, locked=set(fixed or ()) | set(keep) | set(pinned) | set(required))  # a re-plan's kept sessions stay with their experts
    return state
