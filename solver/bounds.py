"""Cheap, valid lower bounds that let CP-SAT prove optimality sooner.

Each bound declares the objective's terms it prices (`@prices`, solver.objective): it bounds a
model only when the model holds every one of them (`solver.objective.bound_holds`).

The demand bound is a max-flow relaxation: demand rows send sessions to eligible experts,
experts to their monthly limit and free half-days, townships to their rooms. Whatever the
flow cannot carry, no roster can carry either, so it is unmet in every roster.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Collection
from functools import cached_property

from ortools.graph.python import max_flow, min_cost_flow

from solver.candidates import Candidates, can_host, enumerate_candidates, restrict
from solver.linear_bound import AssignmentLP
from solver.objective import Term, prices, terms_of
from solver.problem import Problem, week_of
from solver.rules.links import has_a_team


def _numbering() -> Callable[[tuple], int]:
    """Graph node numbers by name, handed out in order of first use."""
    nodes: dict[tuple, int] = {}

    def node(name: tuple) -> int:
        return nodes.setdefault(name, len(nodes))

    return node


@prices(Term.UNMET)
def unmet_lower_bound(problem: Problem, candidates: Candidates) -> int:
    """At least this many demanded sessions go unmet in any roster (total demand minus a max flow)."""
    return flow_plan(problem, candidates)[0]


def _demand_arcs(problem: Problem, candidates: Candidates, expert_slots: dict[str, set]) -> list[tuple[tuple, tuple, int]]:
    """The demand network both flows share, as (tail, head, capacity) by node name.

    source -> township (its rooms x open half-days) -> demand row (its sessions) -> eligible
    expert -> sink (their monthly limit, at most one session per half-day in `expert_slots`).
    """
    township_slots: dict[str, set] = defaultdict(set)
    pairs: set[tuple] = set()
    for candidate in candidates.items:
        if candidate.key is not None:
            township_slots[candidate.township].add(candidate.slot)
            pairs.add((candidate.key, candidate.expert))
    arcs = [(("source",), ("township", t), problem.township(t).rooms * len(slots)) for t, slots in township_slots.items()]
    arcs += [(("township", key.township), ("key", key), problem.demand[key]) for key in {key for key, _expert in pairs}]
    arcs += [(("key", key), ("expert", expert), problem.demand[key]) for key, expert in pairs]
    arcs += [(("expert", e), ("sink",), min(problem.expert(e).max_sessions, len(slots))) for e, slots in expert_slots.items()]
    return arcs


def flow_plan(problem: Problem, candidates: Candidates) -> tuple[int, dict[tuple, int]]:
    """The max-flow relaxation: its unmet lower bound, and how many sessions of each demand row each expert carries.

    The per-(demand row, expert) flow is a plan the constructive start follows first, so
    experts with several specialties go where no one else can. Computed once per month.
    """
    return candidates.derived_value("flow_plan", problem, lambda: _max_flow_plan(problem, candidates))


def _max_flow_plan(problem: Problem, candidates: Candidates) -> tuple[int, dict[tuple, int]]:
    graph = max_flow.SimpleMaxFlow()
    node = _numbering()
    expert_slots: dict[str, set] = defaultdict(set)
    for candidate in candidates.items:
        if candidate.key is not None:
            expert_slots[candidate.expert].add(candidate.slot)
    pair_arcs = {}
    for tail, head, capacity in _demand_arcs(problem, candidates, expert_slots):
        arc = graph.add_arc_with_capacity(node(tail), node(head), capacity)
        if tail[0] == "key":
            pair_arcs[(tail[1], head[1])] = arc
    if graph.solve(node(("source",)), node(("sink",))) != graph.OPTIMAL:
        return 0, {}
    quotas = {pair: graph.flow(arc) for pair, arc in pair_arcs.items() if graph.flow(arc) > 0}
    return sum(problem.demand.values()) - graph.optimal_flow(), quotas


def _possible_visit_days(problem: Problem, candidates: Candidates) -> dict[tuple[str, str], int]:
    """Per link (member, township): the days a visit could happen (the member there, a large enough team possible)."""
    return candidates.derived_value("possible_visit_days", problem, lambda: _count_possible_visit_days(problem, candidates))


def _makeable_visits(problem: Problem, candidates: Candidates) -> dict[tuple[str, str], int]:
    """Per link (member, township): the visits some roster can make, its monthly visits or its possible days if fewer."""
    wanted = max(0, problem.rules.link_visits_per_month)
    return {link: min(wanted, days) for link, days in _possible_visit_days(problem, candidates).items()}


def _count_possible_visit_days(problem: Problem, candidates: Candidates) -> dict[tuple[str, str], int]:
    member_days: dict[tuple[str, str], set] = defaultdict(set)
    team: dict[tuple[str, object], set[str]] = defaultdict(set)
    items = candidates.items
    for (expert, day, township), indices in candidates.by_expert_day_township.items():
        member_days[(expert, township)].add(day)
        if any(items[i].key is not None for i in indices):
            team[(township, day)].add(expert)
    return {
        (link.member, link.township): sum(
            1
            for day in member_days.get((link.member, link.township), ())
            if has_a_team(problem, link.member, team[(link.township, day)])
        )
        for link in problem.links
    }


def impossible_link_visits(problem: Problem, candidates: Candidates) -> int:
    """Link visits that no roster can hold: no day with the member there and a large enough team possible."""
    wanted = problem.rules.link_visits_per_month
    if wanted <= 0:
        return 0
    possible = _possible_visit_days(problem, candidates)
    return sum(max(0, wanted - possible[(link.member, link.township)]) for link in problem.links)


@prices(Term.UNMET, Term.LINK)
def coverage_lower_bound(problem: Problem, candidates: Candidates) -> int:
    """The least weighted unmet demand and missed visits any roster pays, by a min-cost flow.

    The max-flow network of `flow_plan`, with the link visits beside it: a visit needs its
    member there, which costs one of their sessions when they serve nothing at that township
    (a supervision counts toward their monthly limit) and nothing when they might (a
    generous reading, so the bound stays valid). Demand and visits that find no path pay
    their weights; the flow pays the least it can.
    """
    weights = problem.rules.weights
    wanted = max(0, problem.rules.link_visits_per_month)
    graph = min_cost_flow.SimpleMinCostFlow()
    node = _numbering()
    sessions, visits, sink = node(("source",)), node(("visits",)), node(("sink",))
    expert_slots: dict[str, set] = defaultdict(set)
    for candidate in candidates.items:
        expert_slots[candidate.expert].add(candidate.slot)  # a supervision takes a half-day too
    for tail, head, capacity in _demand_arcs(problem, candidates, expert_slots):
        graph.add_arc_with_capacity_and_unit_cost(node(tail), node(head), capacity, 0)
    makeable = _makeable_visits(problem, candidates)
    for link in problem.links:
        days = makeable[(link.member, link.township)]
        if not days:
            continue
        visit = node(("link", link.member, link.township))
        graph.add_arc_with_capacity_and_unit_cost(visits, visit, days, 0)
        present = node(("expert", link.member)) if (link.member, link.township) in supervision_links(problem, candidates) else sink
        graph.add_arc_with_capacity_and_unit_cost(visit, present, days, 0)
    demand, wanted_visits = sum(problem.demand.values()), wanted * len(problem.links)
    graph.add_arc_with_capacity_and_unit_cost(sessions, sink, demand, weights.unmet)  # unmet sessions
    graph.add_arc_with_capacity_and_unit_cost(visits, sink, wanted_visits, weights.link)  # missed visits
    graph.set_node_supply(sessions, demand)
    graph.set_node_supply(visits, wanted_visits)
    graph.set_node_supply(sink, -(demand + wanted_visits))
    floor = weights.unmet * unmet_lower_bound(problem, candidates) + weights.link * impossible_link_visits(problem, candidates)
    if graph.solve() != graph.OPTIMAL:
        return floor
    return max(floor, graph.optimal_cost())


@prices(Term.UNMET)
def rooms_floor(problem: Problem, townships: Collection[str]) -> int:
    """The weighted unmet demand that those townships' rooms alone force: demand beyond rooms x the half-days some row can be held.

    Far weaker than `coverage_lower_bound` in general, but it costs no candidates, and it is all there
    is to a rooms cut or a closure that leaves a township more demand than room (rule 5)."""
    unmet = 0
    for township in problem.townships:
        if township.id not in townships:
            continue
        rows = [key for key, sessions in problem.demand.items() if sessions > 0 and key.township == township.id]
        open_half_days = sum(1 for slot in problem.slots if any(can_host(problem, township, key, slot) for key in rows))
        unmet += max(0, sum(problem.demand[key] for key in rows) - township.rooms * open_half_days)
    return problem.rules.weights.unmet * unmet


@prices(Term.UNMET, Term.LINK)
def townships_coverage_floor(problem: Problem, townships: Collection[str], candidates: Candidates | None = None) -> int:
    """A coverage floor of the whole month from some townships alone: `coverage_lower_bound` of the month cut down to them.

    Any roster of the month, cut down to those townships (their demand rows, links and candidates),
    is a roster of the smaller month, and the other townships' unmet demand and missed visits cost
    no less than nothing; so the smaller month's floor holds for the whole one. A re-plan of a large
    month gets its floor this way from the townships a change touched, at a fraction of the cost of
    enumerating the whole month's candidates (see bench/RESULTS.md). `candidates`, when given, must
    hold every candidate of those townships (their rows and visits); else they are enumerated.
    """
    kept = set(townships)
    part = dataclasses.replace(
        problem,
        townships=tuple(t for t in problem.townships if t.id in kept),
        demand={key: sessions for key, sessions in problem.demand.items() if key.township in kept},
        links=tuple(link for link in problem.links if link.township in kept),
        pins=(),
        requirements=(),
    )
    if candidates is None:
        return coverage_lower_bound(part, enumerate_candidates(part))
    return coverage_lower_bound(part, restrict(part, candidates, {c.index for c in candidates.items if c.township in kept})[0])


@prices(Term.TRIPS)
def trips_lower_bound(problem: Problem, unmet_sessions: int, candidates: Candidates | None = None, presence: Presence | None = None) -> int:
    """Car-days any roster with at most `unmet_sessions` unmet needs.

    A township-day holds at most two half-days of its rooms, and no more sessions than there
    are eligible experts free in each half-day (from the candidates, when given); a township's
    sessions need at least as many days as it takes, largest days first, to hold them. The
    unmet sessions are then placed where they spare the most days (a small knapsack over
    townships); past `MAX_PLACED_UNMET` each is simply taken to spare one day. Sessions no
    roster can hold (see `coverable_demand`) are unmet in every roster and counted first.
    """
    if presence is None and candidates is not None:
        presence = month_presence(problem, candidates)
    wanted, unmet_sessions = _coverable_by_township(problem, presence, unmet_sessions)
    day_capacity = presence.day_capacities if presence is not None else None
    # per township: days needed to hold s sessions, s = 0..wanted
    days_needed = [_days_table(township, wanted[township.id], day_capacity) for township in problem.townships if wanted[township.id]]
    total = sum(table[-1] for table in days_needed)
    if unmet_sessions <= 0:
        return total
    if unmet_sessions > MAX_PLACED_UNMET:
        return max(0, total - unmet_sessions)
    # spared[u]: the most days u unmet sessions can spare, over the townships seen so far
    spared = [0] * (unmet_sessions + 1)
    for table in days_needed:
        full = len(table) - 1
        merged = spared[:]
        for used in range(unmet_sessions + 1):
            for here in range(1, min(full, unmet_sessions - used) + 1):
                gain = spared[used] + table[full] - table[full - here]
                if gain > merged[used + here]:
                    merged[used + here] = gain
        spared = merged
    return max(0, total - max(spared))


MAX_PLACED_UNMET = 300


def _days_table(township, sessions: int, day_capacity: dict[str, dict] | None) -> list[int]:
    """The car-days a township needs to hold s sessions, for s = 0..sessions: its largest days first."""
    if day_capacity is None:
        per_day = township.car_day_capacity
        return [-(-s // per_day) for s in range(sessions + 1)]
    capacities = sorted(day_capacity.get(township.id, {}).values(), reverse=True)
    table, held, days = [], 0, 0
    for s in range(sessions + 1):
        while held < s and days < len(capacities):
            held += capacities[days]
            days += 1
        table.append(days)
    return table


def township_days_needed(problem: Problem, candidates: Candidates) -> dict[str, int]:
    """Per township, the car-days its coverable sessions need at least (as in `trips_lower_bound`, none unmet)."""

    def compute() -> dict[str, int]:
        presence = month_presence(problem, candidates)
        wanted, _ = _coverable_by_township(problem, presence, 0)
        return {t.id: _days_table(t, wanted[t.id], presence.day_capacities)[-1] for t in problem.townships}

    return candidates.derived_value("township_days_needed", problem, compute)


class Presence:
    """Who could serve each demand row in each half-day: the one pass over the candidates that
    the capacity bounds (coverable demand, day and market-day capacities) share."""

    def __init__(self, problem: Problem, candidates: Candidates) -> None:
        self.problem = problem
        self.by_key_slot: dict[tuple, set[str]] = defaultdict(set)
        self.by_township_slot: dict[tuple, set[str]] = defaultdict(set)
        for candidate in candidates.items:
            if candidate.key is not None:
                self.by_key_slot[(candidate.key, candidate.slot)].add(candidate.expert)
                self.by_township_slot[(candidate.township, candidate.slot)].add(candidate.expert)

    @cached_property
    def coverable(self) -> dict:
        capacity: dict = defaultdict(int)
        for (key, _slot), present in self.by_key_slot.items():
            capacity[key] += min(self.problem.township(key.township).rooms, len(present))
        return {key: min(sessions, capacity[key]) for key, sessions in self.problem.demand.items()}

    @cached_property
    def day_capacities(self) -> dict[str, dict]:
        """Per township and day: the most sessions it can hold (rooms, and distinct experts free per half-day)."""
        capacity: dict[str, dict] = defaultdict(lambda: defaultdict(int))
        for (township, slot), present in self.by_township_slot.items():
            capacity[township][slot.day] += min(self.problem.township(township).rooms, len(present))
        return capacity

    @cached_property
    def market_capacities(self) -> dict[str, int]:
        """Per township with market days: the most sessions its market half-days can hold."""
        capacity: dict[str, int] = defaultdict(int)
        for (township_id, slot), present in self.by_township_slot.items():
            township = self.problem.township(township_id)
            if township.preferred_weekdays and slot.day.weekday() in township.preferred_weekdays:
                capacity[township_id] += min(township.rooms, len(present))
        return capacity


def coverable_demand(problem: Problem, candidates: Candidates) -> dict:
    """Per demand row, the sessions some roster could hold: no more than its half-days can take
    (rooms, and eligible experts free in each)."""
    return month_presence(problem, candidates).coverable


def _coverable_by_township(problem: Problem, presence: Presence | None, unmet_sessions: int) -> tuple[dict[str, int], int]:
    """Coverable sessions per township, and how many of `unmet_sessions` are left once the uncoverable are counted."""
    demand = presence.coverable if presence is not None else problem.demand
    wanted: dict[str, int] = defaultdict(int)
    for key, sessions in demand.items():
        wanted[key.township] += sessions
    uncoverable = sum(problem.demand.values()) - sum(demand.values())
    return wanted, max(0, unmet_sessions - uncoverable)


@prices(Term.SPREAD)
def spread_lower_bound(problem: Problem, candidates: Candidates, covered_all: bool) -> int:
    """Sessions beyond a week's even share that a township's specialty cannot avoid (0 unless some weeks cannot hold their share).

    Only when every demanded session is covered: with unmet demand the sessions may be fewer.
    """
    from solver.rules.objectives import even_week_shares

    if not covered_all:
        return 0
    week_of_day = {day: week_of(day) for day in problem.days}
    shares = even_week_shares(problem)
    wanted: dict[tuple[str, str], int] = defaultdict(int)
    for key, sessions in problem.demand.items():
        wanted[(key.township, key.specialty)] += sessions
    # per (township, specialty, week): how many sessions the week can hold at most (distinct slots with a candidate, x rooms)
    slots: dict[tuple, set] = defaultdict(set)
    for candidate in candidates.items:
        if candidate.key is not None:
            slots[(candidate.key.township, candidate.key.specialty, week_of_day[candidate.day])].add(candidate.slot)
    rooms = {t.id: t.rooms for t in problem.townships}
    excess = 0
    for (township, specialty), total in wanted.items():
        within = 0
        for week in set(week_of_day.values()):
            within += min(shares[(township, specialty, week)], rooms[township] * len(slots.get((township, specialty, week), ())))
        excess += max(0, total - within)
    return excess


@prices(Term.PREFERENCE)
def market_day_lower_bound(problem: Problem, candidates: Candidates, unmet_sessions: int, presence: Presence | None = None) -> int:
    """Sessions that must fall off their township's market days: more sessions than its market-day half-days can hold.

    A market half-day holds at most its rooms and no more sessions than eligible experts free
    then. Each unmet session beyond those no roster can hold spares at most one such session.
    """
    presence = presence or month_presence(problem, candidates)
    wanted, unmet_sessions = _coverable_by_township(problem, presence, unmet_sessions)
    off = sum(_off_market_floors(problem, presence, wanted).values())
    return max(0, off - unmet_sessions)


def _off_market_floors(problem: Problem, presence: Presence, wanted: dict[str, int]) -> dict[str, int]:
    """Per township with market days: its sessions beyond what its market half-days can hold."""
    market = presence.market_capacities
    return {t.id: max(0, wanted[t.id] - market[t.id]) for t in problem.townships if t.preferred_weekdays}


def township_off_market_needed(problem: Problem, candidates: Candidates) -> dict[str, int]:
    """Per township, the sessions that must fall off its market days (as in `market_day_lower_bound`, none unmet)."""

    def compute() -> dict[str, int]:
        presence = month_presence(problem, candidates)
        wanted, _ = _coverable_by_township(problem, presence, 0)
        return _off_market_floors(problem, presence, wanted)

    return candidates.derived_value("township_off_market_needed", problem, compute)


@prices(Term.FAIRNESS, Term.CONTINUITY, Term.PREFERENCE)
def assignment_cost_lower_bound(problem: Problem, candidates: Candidates, covered: int, forced_visits: bool = False) -> int:
    """Fairness, continuity and avoided weekdays together, for rosters covering `covered` demanded sessions."""
    return assignment_cost_lower_bounds(problem, candidates, [covered], forced_visits)[covered]


@prices(Term.FAIRNESS, Term.CONTINUITY, Term.PREFERENCE)
def assignment_cost_lower_bounds(problem: Problem, candidates: Candidates, coverages: list[int], forced_visits: bool = False) -> dict[int, int]:
    """Fairness, continuity and avoided weekdays together, for rosters covering each of `coverages` demanded sessions.

    A min-cost flow relaxation (see `_AssignmentNetwork`): slot clashes are relaxed away, so
    no roster pays less. With `forced_visits`, only for rosters that make every visit some
    roster can make (see `_AssignmentNetwork`).
    """
    network = _assignment_network(problem, candidates, _forced_supervisions(problem, candidates) if forced_visits else {})
    return {covered: network.bound(covered) or 0 for covered in coverages}


def assignment_plan(problem: Problem, candidates: Candidates, covered: int) -> dict[tuple, int]:
    """How many sessions of each demand row each expert carries in the cheapest relaxed assignment (fairness, continuity,
    avoided weekdays) covering `covered` sessions: a plan the constructive start can follow."""
    network = _assignment_network(problem, candidates, _forced_supervisions(problem, candidates))
    if network.solve(covered) is None:
        return {}
    return network.pair_flows()


def _forced_supervisions(problem: Problem, candidates: Candidates) -> dict[str, int]:
    """Per member: the visits some roster can make that can only be supervisions (see `supervision_links`)."""
    makeable = _makeable_visits(problem, candidates)
    forced: dict[str, int] = defaultdict(int)
    for member, township in supervision_links(problem, candidates):
        forced[member] += makeable[(member, township)]
    return {member: count for member, count in forced.items() if count}


def supervision_links(problem: Problem, candidates: Candidates) -> set[tuple[str, str]]:
    """Links (member, township) whose visits can only be supervisions, a session of the member's load on top of demand.

    Either the member serves no demand row there, or no day there can hold a session of the
    member's beside the team: the member and `link_team_min` others, each on a session of
    their own, need that many sessions in the township's rooms that day.
    """
    return candidates.derived_value("supervision_links", problem, lambda: _find_supervision_links(problem, candidates))


def _find_supervision_links(problem: Problem, candidates: Candidates) -> set[tuple[str, str]]:
    needed = problem.rules.link_team_min + 1
    capacity = month_presence(problem, candidates).day_capacities
    items = candidates.items
    found = set()
    for link in problem.links:
        if link.township in candidates.townships_served(link.member):
            session_days = {
                day
                for day in problem.days
                if any(items[i].key is not None for i in candidates.by_expert_day_township.get((link.member, day, link.township), ()))
            }
            if any(capacity[link.township].get(day, 0) >= needed for day in session_days):
                continue
        found.add((link.member, link.township))
    return found


def month_presence(problem: Problem, candidates: Candidates) -> Presence:
    """The month's `Presence`, computed once."""
    return candidates.derived_value("presence", problem, lambda: Presence(problem, candidates))


# The assignment LP is built for months up to this many candidates: above it GLOP takes longer than
# a solve can spare beside the search (bench/RESULTS.md, "Search tuning history").
LINEAR_BOUND_MAX_CANDIDATES = 40_000
LINEAR_BOUND_SECONDS = 5.0
# A solve shorter than this prices no assignment LP: building and solving it takes about 3 s on the sample county,
# more than such a solve has to give (a 3 s solve took 4-6 s with it); its bound is then the networks' alone.
LINEAR_BOUND_MIN_TIME_LIMIT = 8.0


def assignment_lp(problem: Problem, candidates: Candidates) -> AssignmentLP | None:
    """The month's `AssignmentLP` (rosters making every visit some roster can make), built once; None on a large month."""
    if len(candidates.items) > LINEAR_BOUND_MAX_CANDIDATES:
        return None

    def build() -> AssignmentLP:
        return AssignmentLP(problem, candidates, _makeable_visits(problem, candidates), supervision_links(problem, candidates), LINEAR_BOUND_SECONDS)

    return candidates.derived_value("assignment_lp", problem, build)


def _assignment_network(problem: Problem, candidates: Candidates, forced: dict[str, int]) -> _AssignmentNetwork:
    """The network for these forced supervisions, built once per month (the start's plan and the bound share it)."""
    name = "assignment_network:" + ",".join(f"{member}={count}" for member, count in sorted(forced.items()))
    return candidates.derived_value(name, problem, lambda: _AssignmentNetwork(problem, candidates, forced))


class _AssignmentNetwork:
    """The min-cost flow behind the assignment bounds.

    Demand rows send sessions to eligible experts, priced by continuity and by the preference
    cost of the slots they could use (as many at each price as there are such slots), and each
    expert's load (supervisions included) pays fairness, |load - fair target|, as a convex cost
    on the way out.

    A member's supervisions are optional in it (a visit may ride on an ordinary session), except
    the `forced` ones (`_forced_supervisions`: at a link in `supervision_links`, every visit
    some roster can make is a supervision, a session of the member's load).
    That prices only rosters making those visits; `objective_lower_bound` prices the others
    apart (their link weight on top of the network without forced visits).
    """

    def __init__(self, problem: Problem, candidates: Candidates, forced: dict[str, int]) -> None:
        from solver.rules.objectives import at_a_new_township, fair_targets, fairness_steps, on_avoided_weekday

        weights = problem.rules.weights
        targets = fair_targets(problem, candidates)
        self.graph = graph = min_cost_flow.SimpleMinCostFlow()
        node = _numbering()
        self.source, self.sink, supervisions = node(("source",)), node(("sink",)), node(("supervision",))
        township_slots: dict[str, set] = defaultdict(set)
        expert_slots: dict[str, set] = defaultdict(set)
        priced: dict[tuple, set] = defaultdict(set)  # (key or member, expert, cost) -> slots
        for candidate in candidates.items:
            expert_slots[candidate.expert].add(candidate.slot)
            cost = weights.preference * on_avoided_weekday(problem, candidate)
            if candidate.key is None:
                priced[(None, candidate.expert, cost)].add(candidate.slot)
                continue
            township_slots[candidate.township].add(candidate.slot)
            cost += weights.continuity * at_a_new_township(problem, candidate)
            priced[(candidate.key, candidate.expert, cost)].add(candidate.slot)
        for township_id, slots in township_slots.items():
            graph.add_arc_with_capacity_and_unit_cost(self.source, node(("township", township_id)), problem.township(township_id).rooms * len(slots), 0)
        for key, sessions in problem.demand.items():
            graph.add_arc_with_capacity_and_unit_cost(node(("township", key.township)), node(("key", key)), sessions, 0)
        visits_per_member: dict[str, int] = defaultdict(int)
        for link in problem.links:
            visits_per_member[link.member] += max(0, problem.rules.link_visits_per_month)
        forced_source = node(("forced",))
        for member, count in forced.items():
            visits_per_member[member] -= count
            graph.add_arc_with_capacity_and_unit_cost(forced_source, node(("expert", member)), count, 0)
        self.forced_supply = sum(forced.values())
        graph.set_node_supply(forced_source, self.forced_supply)
        self.pair_arcs: list[tuple[tuple, int]] = []
        supervision_supply = 0
        for (key, expert_id, cost), slots in priced.items():
            if key is None:
                capacity = min(len(slots), max(0, visits_per_member.get(expert_id, 0)))
                if capacity:
                    graph.add_arc_with_capacity_and_unit_cost(supervisions, node(("expert", expert_id)), capacity, cost)
                    supervision_supply += capacity
                continue
            arc = graph.add_arc_with_capacity_and_unit_cost(node(("key", key)), node(("expert", expert_id)), min(len(slots), problem.demand[key]), cost)
            self.pair_arcs.append(((key, expert_id), arc))
        graph.add_arc_with_capacity_and_unit_cost(supervisions, self.sink, supervision_supply, 0)  # supervisions are optional
        constant = 0
        for expert_id, slots in expert_slots.items():
            limit = min(problem.expert(expert_id).max_sessions, len(slots))
            target = targets.get(expert_id)
            if target is None or not weights.fairness:
                graph.add_arc_with_capacity_and_unit_cost(node(("expert", expert_id)), self.sink, limit, 0)
                continue
            constant += weights.fairness * target  # |load - target| = target - load below it, load - target above
            for sessions, cost in fairness_steps(target, 0, limit, weights.fairness):
                graph.add_arc_with_capacity_and_unit_cost(node(("expert", expert_id)), self.sink, sessions, cost)
        for expert_id, target in targets.items():
            if expert_id not in expert_slots:
                constant += weights.fairness * target
        graph.set_node_supply(supervisions, supervision_supply)
        self.constant, self.supervision_supply = constant, supervision_supply

    def _flow(self, covered: int) -> int:
        """Solve for `covered` sessions; the flow's status."""
        self.graph.set_node_supply(self.source, covered)
        self.graph.set_node_supply(self.sink, -(covered + self.supervision_supply + self.forced_supply))
        return self.graph.solve()

    def solve(self, covered: int) -> int | None:
        """The least cost of an assignment covering `covered` sessions, or None when the network cannot carry them."""
        if self._flow(covered) != self.graph.OPTIMAL:
            return None
        return self.constant + self.graph.optimal_cost()

    @prices(Term.FAIRNESS, Term.CONTINUITY, Term.PREFERENCE)
    def bound(self, covered: int) -> int | None:
        """`solve`'s cost as a bound (never below 0); None when no roster of its kind covers `covered` sessions.

        The network relaxes every roster that covers them (and, with forced supervisions, makes the
        visits): when it cannot carry them, no such roster exists. A flow that fails otherwise claims nothing.
        """
        status = self._flow(covered)
        if status == self.graph.INFEASIBLE:
            return None
        if status != self.graph.OPTIMAL:
            return 0
        return max(0, self.constant + self.graph.optimal_cost())

    def pair_flows(self) -> dict[tuple, int]:
        """After `solve`: sessions per (demand row, expert)."""
        flows: dict[tuple, int] = defaultdict(int)
        for pair, arc in self.pair_arcs:
            flow = self.graph.flow(arc)
            if flow > 0:
                flows[pair] += flow
        return dict(flows)


# A bound that would need more relaxations than this stops there, claiming only what it has priced.
MAX_PRICED_SHORTFALLS = 20


@prices(*terms_of([coverage_lower_bound, trips_lower_bound, spread_lower_bound, market_day_lower_bound, assignment_cost_lower_bounds, AssignmentLP.bound]))
def objective_lower_bound(problem: Problem, candidates: Candidates, coverage_floor: int | None = None, with_assignment_lp: bool = True) -> int:
    """A valid bound on the whole objective: the coverage floor plus the soft terms' relaxations.

    A roster leaving k more sessions unmet than the max-flow floor (k >= 0) pays k unmet
    weights more and at least the trips, spread, market-day and assignment costs its sessions
    need (independent relaxations of separate parts of the objective, so their sum is a
    bound too); a missed visit beyond the impossible ones only adds its weight. Whatever k,
    its coverage costs at least `coverage_lower_bound`. The bound is the least of these over
    k, priced until k unmet weights alone exceed the bound at the floor. Rosters that make every
    possible visit are priced with the members' unavoidable supervisions in their loads, at the
    shortfalls those leave room for (when the members' visits take sessions from demand, not at
    k = 0), and on months small enough for it also by the assignment LP (`solver.linear_bound`,
    the visits' teams in it; the larger of the two prices counts); the others with one link
    weight more. `coverage_floor` is `coverage_lower_bound`'s value when the caller has it already;
    `with_assignment_lp` False leaves the LP out (a short solve: see LINEAR_BOUND_MIN_TIME_LIMIT), a weaker bound.
    """
    weights = problem.rules.weights
    unmet = unmet_lower_bound(problem, candidates)
    floor = weights.unmet * unmet + weights.link * impossible_link_visits(problem, candidates)
    # what the joint flow adds to the floor: members' visits that take sessions from demand
    extra = (coverage_floor if coverage_floor is not None else coverage_lower_bound(problem, candidates)) - floor
    if weights.unmet <= 0:
        return floor + extra
    most = sum(problem.demand.values()) - unmet

    presence = month_presence(problem, candidates)
    spread = weights.spread * spread_lower_bound(problem, candidates, covered_all=unmet == 0)
    placed: dict[int, tuple[int, int]] = {}  # per shortfall: trips + spread, market days (the assignment part comes apart)

    def soft(shortfall: int, assignment: int, linear: int = 0) -> int:
        """Trips, spread, and the larger of (market days + the assignment network) and the LP, which prices both."""
        if shortfall not in placed:
            placed[shortfall] = (
                weights.trips * trips_lower_bound(problem, unmet + shortfall, presence=presence)
                + (spread if shortfall == 0 else 0),  # with a shortfall the sessions may be fewer
                weights.preference * market_day_lower_bound(problem, candidates, unmet + shortfall, presence),
            )
        travel, market = placed[shortfall]
        return travel + max(market + assignment, linear)

    def over_shortfalls(forced: dict[str, int], missed: int = 0, linear: AssignmentLP | None = None) -> int | None:
        """The least any roster of the network's kind pays beyond `floor`, over its shortfalls k = 0, 1, ...;
        None when there is no such roster.

        Its coverage costs at least `extra`, and at least its k unmet weights plus the `missed`
        link weights it is known to pay. A shortfall the assignment network cannot carry (with
        forced supervisions: the members' visits take the sessions it would need) has no roster
        at all and is not priced; nor one the assignment LP (`linear`, for rosters making the
        visits) finds infeasible.
        """
        assignment = _assignment_network(problem, candidates, forced).bound

        def coverage(k: int) -> int:
            return max(extra, k * weights.unmet + missed)

        best: int | None = None
        for k in range(0, most + 1):
            if best is not None and coverage(k) >= best:
                return best  # from here on, the coverage weights alone cost more
            if k > MAX_PRICED_SHORTFALLS:  # not every shortfall priced: they pay their coverage weights at least
                return coverage(k) if best is None else min(best, coverage(k))
            cost = assignment(most - k)
            relaxed = linear.bound(most - k) if linear is not None and cost is not None else 0
            if cost is not None and relaxed is not None:
                priced = coverage(k) + soft(k, cost, relaxed)
                best = priced if best is None else min(best, priced)
        return best  # None: not even an empty roster fits the network

    # With forced supervisions, rosters come in two kinds: those making every visit some roster can
    # make carry the supervisions those need; those missing one pay its link weight, priced without them.
    # The assignment LP, where the month is small enough for it, prices the first kind with the visits' teams.
    forced = _forced_supervisions(problem, candidates) if weights.link > 0 else {}
    linear = assignment_lp(problem, candidates) if weights.link > 0 and with_assignment_lp else None
    kinds = []
    making = over_shortfalls(forced, linear=linear) if forced or linear is not None else None
    if making is not None:
        kinds.append(making)
    if making is None or making > weights.link:  # else a roster missing a visit costs more anyway
        missing = over_shortfalls({}, missed=weights.link if forced or linear is not None else 0)
        if missing is not None:
            kinds.append(missing)
    return floor + min(kinds, default=extra)
