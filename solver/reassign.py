"""Who serves the sessions already placed: the cheapest experts for a fixed timetable, by min-cost flow.

With each session's township, demand row and half-day fixed, trips, spread and market days
do not move; only fairness, continuity and avoided weekdays depend on who serves. That choice
is a min-cost flow, except for two rules the flow cannot state: an expert in at most one
township a day (rule 3) and the department minimum on site (rule 7). So the flow runs in
rounds: an expert it sends to two townships on a day is held to one of them, a department it
leaves short in a half-day keeps home everyone who was not away then in the roster given,
and it runs again, moving as little as it can. It stops when both rules hold.

A link visit's day at its township stays as it is (the member's carrying session and the
team around it), so every visit the roster makes it still makes. On a 400-expert month the
rounds take under half a second; the large-neighbourhood search (solver.search) runs them
every few steps and lets CP-SAT check the result against every rule."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection

import numpy as np
from ortools.graph.python import min_cost_flow

from solver.candidates import Candidates
from solver.partial_roster import PartialRoster
from solver.problem import Problem
from solver.rules.availability import sessions_left
from solver.rules.objectives import at_a_new_township, fairness_steps, on_avoided_weekday
from solver.rules.staffing import short_staffed
from solver.rules.travel import free_that_half_day, townships_of_the_day

ROUNDS = 12


def cheapest_experts(
    problem: Problem, candidates: Candidates, chosen: Collection[int], visits: Collection[tuple], targets: dict[str, int]
) -> set[int] | None:
    """The roster's sessions, each given to the experts that cost least in fairness, continuity and avoided
    weekdays; None when they cannot all be placed, or someone is still sent to two townships a day after
    `ROUNDS` rounds (the caller keeps its roster)."""
    visit_days = {(township, day) for _member, township, day in visits}
    fixed = {i for i in chosen if candidates.items[i].key is None or (candidates.items[i].township, candidates.items[i].day) in visit_days}
    moving = [i for i in chosen if i not in fixed]
    network = _Network(problem, candidates, fixed, moving, targets)
    for i in fixed:  # an expert with a fixed session keeps to its township that day
        c = candidates.items[i]
        network.hold(c.expert, c.day, c.township)
    before = {(candidates.items[i].expert, candidates.items[i].slot) for i in chosen}
    previous = set(moving)
    for _ in range(ROUNDS):
        placed = network.solve(previous)
        if placed is None:
            return None
        roster = fixed | placed
        clashes = townships_of_the_day(candidates, roster)
        short = short_staffed(PartialRoster.of(problem, candidates.spare, (candidates.items[i] for i in roster)))
        if not clashes and not short:
            return fixed | placed
        for (expert, day), counts in clashes.items():
            network.hold(expert, day, max(sorted(counts), key=lambda township: counts[township]))
        for department, slot in short:  # the roster given kept rule 7: its experts there may stay, no others
            for expert in problem.experts:
                if expert.department == department and (expert.id, slot) not in before:
                    network.keep_home(expert.id, slot)
        previous = placed
    return None


class _Network:
    """Sessions (demand row, half-day) drawing experts: source -> expert (fairness, convex) -> expert's half-day
    (one session) -> session (continuity and avoided weekdays) -> sink (as many as the roster placed there).

    Among the cheapest flows, `solve` takes the one that keeps most of a given roster (its arcs one unit
    cheaper, on costs scaled so that no number of such units outweighs one unit of the true cost), so a
    round after `hold` moves only what the hold forces."""

    def __init__(self, problem: Problem, candidates: Candidates, fixed: set[int], moving: list[int], targets: dict[str, int]) -> None:
        weights = problem.rules.weights
        nodes: dict[tuple, int] = {}

        def node(name: tuple) -> int:
            return nodes.setdefault(name, len(nodes))

        tails: list[int] = []
        heads: list[int] = []
        capacities: list[int] = []
        costs: list[int] = []

        def arc(tail: int, head: int, capacity: int, cost: int) -> int:
            tails.append(tail)
            heads.append(head)
            capacities.append(capacity)
            costs.append(cost)
            return len(tails) - 1

        sessions: dict[tuple, int] = defaultdict(int)
        for i in moving:
            c = candidates.items[i]
            sessions[(c.key, c.slot)] += 1
        held = PartialRoster.of(problem, candidates.spare, (candidates.items[i] for i in fixed))
        self.source, self.sink = node(("source",)), node(("sink",))
        self.candidate_arc: dict[int, int] = {}  # candidate index -> its arc
        self.by_expert_day: dict[tuple, list[tuple[int, str]]] = defaultdict(list)  # (expert, day) -> (arc, township)
        self.by_expert_slot: dict[tuple, list[int]] = defaultdict(list)
        expert_slots: set[tuple] = set()
        for (key, slot), count in sessions.items():
            session = node(("session", key, slot))
            arc(session, self.sink, count, 0)
            for i in candidates.by_key_slot().get((key, slot), ()):
                c = candidates.items[i]
                if not free_that_half_day(held, c):
                    continue
                cost = weights.continuity * at_a_new_township(problem, c) + weights.preference * on_avoided_weekday(problem, c)
                self.candidate_arc[i] = arc(node(("expert slot", c.expert, slot)), session, 1, cost)
                self.by_expert_day[(c.expert, slot.day)].append((self.candidate_arc[i], c.township))
                self.by_expert_slot[(c.expert, slot)].append(self.candidate_arc[i])
                expert_slots.add((c.expert, slot))
        experts = set()
        for expert, slot in expert_slots:
            arc(node(("expert", expert)), node(("expert slot", expert, slot)), 1, 0)
            experts.add(expert)
        for expert in sorted(experts):
            room = sessions_left(held, expert)
            target = targets.get(expert)
            if room <= 0:
                continue
            if target is None or not weights.fairness:
                arc(self.source, node(("expert", expert)), room, 0)
                continue
            for sessions, cost in fairness_steps(target, held.load[expert], room, weights.fairness):
                arc(self.source, node(("expert", expert)), sessions, cost)
        self.tails, self.heads = np.array(tails), np.array(heads)
        self.capacities, self.costs = np.array(capacities), np.array(costs)
        self.supply = len(moving)

    def hold(self, expert: str, day, township: str) -> None:
        """From now on the expert serves only at `township` that day."""
        for arc, there in self.by_expert_day.get((expert, day), ()):
            if there != township:
                self.capacities[arc] = 0

    def keep_home(self, expert: str, slot) -> None:
        """From now on the expert takes no session in that half-day."""
        for arc in self.by_expert_slot.get((expert, slot), ()):
            self.capacities[arc] = 0

    def solve(self, keep: Collection[int]) -> set[int] | None:
        """The cheapest flow, and of those the one with most of `keep`'s candidates; its candidates, or None."""
        scale = 2 * self.supply + 1
        costs = self.costs * scale
        kept = [self.candidate_arc[i] for i in keep if i in self.candidate_arc]
        costs[kept] -= 1
        graph = min_cost_flow.SimpleMinCostFlow()
        graph.add_arcs_with_capacity_and_unit_cost(self.tails, self.heads, self.capacities, costs)
        graph.set_node_supply(self.source, self.supply)
        graph.set_node_supply(self.sink, -self.supply)
        if graph.solve() != graph.OPTIMAL:
            return None
        flows = graph.flows(np.arange(len(self.tails)))
        return {i for i, arc in self.candidate_arc.items() if flows[arc] > 0}
