"""The assignment LP: a linear relaxation of who serves what, with the link visits in it.

`solver.bounds`' assignment network prices fairness, continuity and preferences as a flow from
demand rows to experts. It cannot see the link visits: a member at a linked township on a day
when `link_team_min` other experts serve there. On a county whose members' visits pull experts
to townships they have no history with, or off their fair load, the network's price sits below
every roster's. This LP holds the same costs and the rules around a visit day:

- every candidate x in [0, 1]; an (expert, day, township) presence y in [0, 1] that a session
  there needs (x <= y) and that needs a session (y <= sum x);
- per demand row at most its sessions, all rows together at least the sessions covered;
- per expert and half-day one session; per township and half-day its rooms; per department and
  half-day its spare experts (rule 7); per expert their monthly limit; per expert and day one
  township, a supervision day included (rule 3);
- per link, a visit v on each day one could happen: the member present (a session or a
  supervision there), `link_team_min` others present, supervisions only on a visit day; the
  visits some roster can make all made (the kind of roster `objective_lower_bound` prices with it),
  as supervisions at `solver.bounds.supervision_links`;
- cost: fairness |load - target| x weight, continuity and preference per session.

Each of these holds in every roster that makes those visits, so the LP's optimum, rounded up, is
a lower bound on their fairness, continuity and preference terms. It is built once per month
(GLOP) and re-solved for each number of sessions covered.
"""

from __future__ import annotations

import math
from collections import defaultdict

from ortools.linear_solver import pywraplp

from solver.candidates import Candidates
from solver.objective import Term, prices
from solver.problem import Problem
from solver.rules.availability import monthly_limits
from solver.rules.coverage import demand_caps, room_limits
from solver.rules.objectives import at_a_new_township, fair_targets, preference_cost
from solver.rules.staffing import spare_limits
from solver.rules.travel import half_day_groups

# GLOP's tolerances are about 1e-7 relative; an optimum this close above an integer rounds down to it.
ROUNDING_SLACK = 1e-5


class AssignmentLP:
    """The LP above for one month; `bound(covered)` re-solves it for a number of sessions covered."""

    def __init__(
        self,
        problem: Problem,
        candidates: Candidates,
        required_visits: dict[tuple[str, str], int],
        supervision_links: set[tuple[str, str]],
        time_limit: float,
    ) -> None:
        weights = problem.rules.weights
        self.time_limit = time_limit
        self.solver = solver = pywraplp.Solver.CreateSolver("GLOP")
        items = candidates.items
        infinity = solver.infinity()
        objective = solver.Objective()
        x = [solver.NumVar(0.0, 1.0, "") for _ in items]
        for candidate, variable in zip(items, x):
            cost = weights.preference * preference_cost(problem, candidate)
            if candidate.key is not None:
                cost += weights.continuity * at_a_new_township(problem, candidate)
            if cost:
                objective.SetCoefficient(variable, cost)

        def at_most(indices, limit: float) -> None:
            constraint = solver.Constraint(-infinity, limit)
            for index in indices:
                constraint.SetCoefficient(x[index], 1.0)

        # the hard rules' own groups of candidates, each with the most a roster holds of it (solver.rules)
        self.covered = solver.Constraint(0.0, infinity)
        for indices, asked in demand_caps(problem, candidates):
            at_most(indices, asked)
            for index in indices:
                self.covered.SetCoefficient(x[index], 1.0)
        for indices in half_day_groups(candidates):
            at_most(indices, 1)
        for indices, rooms in room_limits(problem, candidates):
            at_most(indices, rooms)
        for indices, spare in spare_limits(candidates):
            at_most(indices, spare)
        for indices, most in monthly_limits(problem, candidates):
            at_most(indices, most)

        # presence: y(expert, day, township) for sessions of demand; supervisions count as presence themselves
        present: dict[tuple, pywraplp.Variable] = {}
        supervisions: dict[tuple, list[int]] = {}
        day_terms: dict[tuple, list] = defaultdict(list)
        for (expert, day, township), indices in candidates.by_expert_day_township.items():
            sessions = [i for i in indices if items[i].key is not None]
            supervisions[(expert, day, township)] = [i for i in indices if items[i].key is None]
            day_terms[(expert, day)].extend(x[i] for i in supervisions[(expert, day, township)])
            if not sessions:
                continue
            y = present[(expert, day, township)] = solver.NumVar(0.0, 1.0, "")
            day_terms[(expert, day)].append(y)
            needs_session = solver.Constraint(-infinity, 0.0)  # y <= sum x
            needs_session.SetCoefficient(y, 1.0)
            per_slot: dict[object, list[int]] = defaultdict(list)
            for i in sessions:
                needs_session.SetCoefficient(x[i], -1.0)
                per_slot[items[i].slot].append(i)
            for indices_in_slot in per_slot.values():  # sum x in a half-day <= y
                constraint = solver.Constraint(-infinity, 0.0)
                constraint.SetCoefficient(y, -1.0)
                for i in indices_in_slot:
                    constraint.SetCoefficient(x[i], 1.0)
        for terms in day_terms.values():
            if len(terms) > 1:
                constraint = solver.Constraint(-infinity, 1.0)
                for term in terms:
                    constraint.SetCoefficient(term, 1.0)

        targets = fair_targets(problem, candidates)
        for expert in problem.experts:
            indices = candidates.by_expert.get(expert.id, ())
            target = targets.get(expert.id)
            if target is None or not weights.fairness:
                continue
            deviation = solver.NumVar(0.0, infinity, "")
            objective.SetCoefficient(deviation, weights.fairness)
            above = solver.Constraint(-target, infinity)  # deviation - load >= -target
            below = solver.Constraint(target, infinity)  # deviation + load >= target
            above.SetCoefficient(deviation, 1.0)
            below.SetCoefficient(deviation, 1.0)
            for index in indices:
                above.SetCoefficient(x[index], -1.0)
                below.SetCoefficient(x[index], 1.0)

        team_min = problem.rules.link_team_min
        wanted = problem.rules.link_visits_per_month
        by_township_day: dict[tuple, list[tuple[str, pywraplp.Variable]]] = defaultdict(list)
        for (expert, day, township), y in present.items():
            by_township_day[(township, day)].append((expert, y))
        for link in problem.links if wanted > 0 else ():
            visits = []
            for day in problem.days:
                own = supervisions.get((link.member, day, link.township), [])
                member = [x[i] for i in own]
                if (link.member, link.township) not in supervision_links and (link.member, day, link.township) in present:
                    member.append(present[(link.member, day, link.township)])
                team = [y for expert, y in by_township_day.get((link.township, day), ()) if expert != link.member]
                if not member or len(team) < team_min:
                    for i in own:
                        x[i].SetUb(0.0)
                    continue
                visit = solver.NumVar(0.0, 1.0, "")
                visits.append(visit)
                there = solver.Constraint(0.0, infinity)  # member present >= visit
                there.SetCoefficient(visit, -1.0)
                for term in member:
                    there.SetCoefficient(term, 1.0)
                if team_min:
                    with_team = solver.Constraint(0.0, infinity)  # team >= team_min x visit
                    with_team.SetCoefficient(visit, -float(team_min))
                    for y in team:
                        with_team.SetCoefficient(y, 1.0)
                if own:  # a supervision only on a visit day, one that day (rule 3: one place a day)
                    constraint = solver.Constraint(-infinity, 0.0)
                    constraint.SetCoefficient(visit, -1.0)
                    for i in own:
                        constraint.SetCoefficient(x[i], 1.0)
            if visits:
                made = solver.Constraint(float(required_visits.get((link.member, link.township), 0)), float(wanted))
                for visit in visits:
                    made.SetCoefficient(visit, 1.0)
        objective.SetMinimization()

    @prices(Term.FAIRNESS, Term.CONTINUITY, Term.PREFERENCE)
    def bound(self, covered: int) -> int | None:
        """The least fairness + continuity + preference cost of a roster covering `covered` sessions and
        making the visits; None when the LP is infeasible (no such roster), 0 when it did not finish."""
        self.covered.SetLb(float(covered))
        self.solver.SetTimeLimit(max(1, int(self.time_limit * 1000)))
        status = self.solver.Solve()
        if status == pywraplp.Solver.INFEASIBLE:
            return None
        if status != pywraplp.Solver.OPTIMAL:
            return 0
        return max(0, math.ceil(self.solver.Objective().Value() - ROUNDING_SLACK))
