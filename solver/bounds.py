"""Cheap, valid lower bounds that let CP-SAT prove optimality sooner.

The demand bound is a max-flow relaxation: demand rows send sessions to eligible experts,
experts to their monthly limit and free half-days, townships to their rooms. Whatever the
flow cannot carry, no roster can carry either, so it is unmet in every roster.
"""

from __future__ import annotations

from collections import defaultdict

from ortools.graph.python import max_flow

from solver.candidates import Candidates
from solver.problem import Problem


def unmet_lower_bound(problem: Problem, candidates: Candidates) -> int:
    """At least this many demanded sessions go unmet in any roster (total demand minus a max flow)."""
    return flow_plan(problem, candidates)[0]


def flow_plan(problem: Problem, candidates: Candidates) -> tuple[int, dict[tuple, int]]:
    """The max-flow relaxation: its unmet lower bound, and how many sessions of each demand row each expert carries.

    The per-(demand row, expert) flow is a plan the constructive start follows first, so
    experts with several specialties go where no one else can.
    """
    graph = max_flow.SimpleMaxFlow()
    nodes: dict[tuple, int] = {}

    def node(name: tuple) -> int:
        if name not in nodes:
            nodes[name] = len(nodes)
        return nodes[name]

    source, sink = node(("source",)), node(("sink",))
    expert_slots: dict[str, set] = defaultdict(set)
    township_slots: dict[str, set] = defaultdict(set)
    pairs: set[tuple] = set()
    for candidate in candidates.items:
        if candidate.key is None:
            continue
        expert_slots[candidate.expert].add(candidate.slot)
        township_slots[candidate.township].add(candidate.slot)
        pairs.add((candidate.key, candidate.expert))
    keys = {key for key, _expert in pairs}
    # source -> township (its rooms x open half-days) -> demand row (its sessions) -> eligible expert -> sink
    for township_id, slots in township_slots.items():
        graph.add_arc_with_capacity(source, node(("township", township_id)), problem.township(township_id).rooms * len(slots))
    for key in keys:
        graph.add_arc_with_capacity(node(("township", key.township)), node(("key", key)), problem.demand[key])
    pair_arcs = {}
    for key, expert in pairs:
        pair_arcs[(key, expert)] = graph.add_arc_with_capacity(node(("key", key)), node(("expert", expert)), problem.demand[key])
    for expert_id, slots in expert_slots.items():
        expert = problem.expert(expert_id)
        graph.add_arc_with_capacity(node(("expert", expert_id)), sink, min(expert.max_sessions, len(slots)))
    if graph.solve(source, sink) != graph.OPTIMAL:
        return 0, {}
    quotas = {pair: graph.flow(arc) for pair, arc in pair_arcs.items() if graph.flow(arc) > 0}
    return sum(problem.demand.values()) - graph.optimal_flow(), quotas


def impossible_link_visits(problem: Problem, candidates: Candidates) -> int:
    """Link visits that no roster can hold: no day with the member there and a large enough team possible."""
    wanted = problem.rules.link_visits_per_month
    if wanted <= 0:
        return 0
    member_days: dict[tuple[str, str], set] = defaultdict(set)
    team: dict[tuple[str, object], set[str]] = defaultdict(set)
    for candidate in candidates.items:
        member_days[(candidate.expert, candidate.township)].add(candidate.day)
        if candidate.key is not None:
            team[(candidate.township, candidate.day)].add(candidate.expert)
    missing = 0
    for link in problem.links:
        possible = [
            day
            for day in member_days.get((link.member, link.township), ())
            if len(team[(link.township, day)] - {link.member}) >= problem.rules.link_team_min
        ]
        missing += max(0, wanted - len(possible))
    return missing


def trips_lower_bound(problem: Problem, unmet_sessions: int) -> int:
    """Car-days any roster with at most `unmet_sessions` unmet needs: a township-day holds two half-days of its rooms.

    Each unmet session can spare at most one car-day, so they are taken off the total.
    """
    wanted: dict[str, int] = defaultdict(int)
    for key, sessions in problem.demand.items():
        wanted[key.township] += sessions
    needed = 0
    for township in problem.townships:
        if wanted[township.id]:
            needed += -(-wanted[township.id] // (2 * township.rooms))
    return max(0, needed - unmet_sessions)


def objective_lower_bound(problem: Problem, candidates: Candidates) -> int:
    """A valid bound on the whole objective from the coverage floor and the trips every covered roster needs.

    A roster at the floor pays at least the trips its sessions need; one above it pays at least
    one more unmet session or visit, so the soft part of the bound is capped at that step.
    """
    weights = problem.rules.weights
    unmet = unmet_lower_bound(problem, candidates)
    floor = weights.unmet * unmet + weights.link * impossible_link_visits(problem, candidates)
    step = min([w for w in (weights.unmet, weights.link) if w > 0] or [0])
    soft = weights.trips * trips_lower_bound(problem, unmet)
    return floor + (min(soft, step) if step else soft)
