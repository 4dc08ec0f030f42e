"""Minimal-change re-planning: a new version of a month that keeps what it can of the previous one.

A re-plan first frees a neighbourhood of the change: the demand rows that lost a session or
gained demand, the experts who could fill them, and their own sessions (so a chain of one
move is possible); everything else is fixed as it was. On a large month it starts smaller still
(a few idle experts per touched row and half-day) against a floor taken from the touched
townships alone, so that a change a start already settles costs no whole-month model. A start
that reaches that floor and drops no more kept sessions than every roster must (`forced_changes`)
is returned as it is: no step could do better on coverage or changes. When that
cannot bring coverage up to the changed month's coverage floor (solver.bounds: no roster of the
month covers more), it widens the free neighbourhood step by step (`Widening`) up to the whole
month, so a re-plan never covers less than a fresh solve could only because it looked too close
to the change.
The objective first restores coverage (unmet demand, link visits), then minimises changes,
then the soft terms, so a kept assignment is moved only when that buys demand or a visit. The
three tiers share one objective, so a re-plan stopped by its time limit is still ordered right.
"""

from __future__ import annotations

import datetime as dt
import gc
import random
import time
from collections import defaultdict
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NamedTuple

from ortools.sat.python import cp_model

from solver.bounds import coverage_lower_bound, rooms_floor, townships_coverage_floor
from solver.candidates import Candidates, department_spare, enumerate_candidates, is_candidate, restrict
from solver.construct import construct
from solver.model import build_model
from solver.partial_roster import PartialRoster, as_candidate
from solver.problem import DemandKey, Problem, Slot
from solver.reasons import explain_unmet
from solver.rules import fits
from solver.rules.availability import sessions_left, within_monthly_limit
from solver.rules.coverage import rooms_free, sessions_wanted
from solver.rules.objectives import fair_targets
from solver.rules.office import office_pinned_indices
from solver.search import Incumbent, Progress, coverage_cost, evaluate, family_sum, read_incumbent, solve_model, to_assignments
from solver.solution import Assignment, SolveReport, Solution, new_assignment_id

# A change must outweigh every soft gain it could buy, and one unmet session (or visit) every change.
CHANGE_WEIGHT = 10_000
COVERAGE_TIER = 1_000
# Kept from the time limit for what follows the solve (scoring, reasons, ids), so the whole
# re-plan keeps to its limit even when CP-SAT uses all it is given: this share of it, at most
# the seconds (a 3 s re-plan of a small county kept a third of its time for 0.1 s of work).
AFTER_SOLVE_SHARE = 0.15
AFTER_SOLVE_SECONDS = 1.0
# A widening step that is not the last takes at most this share of the time (or work) left, a
# chain step (one short row) these; none less than the minimums. The first step to run, with no
# roster found yet, takes at least FIRST_STEP_SHARE (on a loaded machine a quarter of what a
# short re-plan has left found nothing at all).
STEP_SHARE = 0.25
FIRST_STEP_SHARE = 0.6
IDLE_SHARE = 0.5  # the "idle experts" step, the first and smallest of a large month: it pays most often
# On a large month, a step from a start already at the coverage floor only lowers changes and soft terms: it gets
# at most this long (the target: a re-plan of the 400-expert county within 2 s).
POLISH_SECONDS = 0.3
CHAIN_SHARE = 0.2
HIT_CHAIN_SHARE = 0.5  # a chain from a row of a township the change hit: the likeliest to pay
# A chain frees at most this many candidates: the short row's own, the sessions in it, and a seeded sample of the rest
# (as the month search samples its "unmet" step). Freed whole, a chain of the generated 9-township county holds
# 3,000-4,000 and its model took the time of a short re-plan to build and solve: 0.5 s of CP-SAT found nothing at all.
CHAIN_MAX_FREE = 1_200
# A chain step takes at most this long (or this much work); passes over the short rows without a coverage gain: at most this many.
CHAIN_STEP_SECONDS = 0.6
CHAIN_ROUNDS = 3
# What a broad step costs per free candidate, to build its model and get CP-SAT past presolve to the start's roster
# (generated 9-township county, 2 cores: 9,659 free took 1.2 s to build and 1.8 s more to find nothing; 13,565, 2.3 s and 1.5 s).
BROAD_STEP_SECONDS_PER_FREE = 0.0003
MIN_STEP_SECONDS = 0.2
MIN_STEP_WORK = 0.2
# Above this many candidates the whole month is not one re-plan step (a step would spend the time
# building the model); the widening stops at the short rows' specialties.
WHOLE_MONTH_MAX_CANDIDATES = 20_000
# Months up to this many expert half-days (the sample county: 61 x 40) are re-planned on the whole
# month's candidates from the start; larger ones (enumerating the 400-expert county takes ~8 s on
# 2 cores) first on the touched rows' alone, and on the whole month's only if that covers less than before.
FULL_MONTH_MAX_EXPERT_HALF_DAYS = 4_000
# The "idle experts" step frees this many candidates per touched row and half-day.
IDLE_EXPERTS_PER_HALF_DAY = 3
# What the whole month's candidates and coverage floor cost per expert half-day (400-expert county:
# 8 s + 7.5 s for 18,400): a large month widens beyond the touched rows only with that much time left.
WHOLE_MONTH_SECONDS_PER_EXPERT_HALF_DAY = 0.001


def _as_candidate(assignment: Assignment) -> tuple:
    return (assignment.expert, assignment.slot, assignment.township, assignment.key)


def split_previous(problem: Problem, previous: Solution, spare: dict | None = None) -> tuple[list[Assignment], list[Assignment]]:
    """Previous assignments that the changed month still allows, and those the change made impossible (`spare`: the
    month's `department_spare`, when computed already)."""
    spare = department_spare(problem) if spare is None else spare
    still, lost, seen = [], [], set()
    for assignment in previous.assignments:
        as_candidate = _as_candidate(assignment)
        if as_candidate not in seen and is_candidate(problem, spare, *as_candidate):
            still.append(assignment)
            seen.add(as_candidate)
        else:
            lost.append(assignment)
    return still, lost


class Touched(NamedTuple):
    """What a change touched: the demand rows a re-plan must revisit (short, or over their new demand), the townships
    whose visits it must, the townships the change itself hit (sessions lost or over a cut limit, visits gone), and
    `direct`: the rows short or over themselves and those of the sessions a cut limit or a forced request may push
    out, without the rest of those townships' rows, and `open_half_days`: per township of those rows, the half-days a
    new session could go to without pushing a kept one out (a room free, or one a session that must go may free, or a
    forced request's day); `kept`: the sessions still possible, counted."""

    keys: set[DemandKey]
    townships: set[str]
    hit: set[str]
    direct: set[DemandKey]
    open_half_days: dict[str, set[Slot]]
    kept: PartialRoster


def touched_parts(problem: Problem, still: list[Assignment], lost: list[Assignment]) -> Touched:
    """The parts of the month a change touched (`Touched`)."""
    kept = PartialRoster.of(problem, {}, (as_candidate(a) for a in still))
    covered = kept.covered
    keys = {key for key, wanted in problem.demand.items() if covered[key] != wanted}
    keys |= {key for key in covered if sessions_wanted(kept, key) < 0}
    # a limit cut below what is kept (a township's rooms, an expert's sessions): those sessions must move
    full = {(township, slot) for township, slot in kept.rooms_used if rooms_free(kept, township, slot) < 0}
    crowded = {township for township, _slot in full}
    # a forced request takes rooms on its days: the sessions there may have to make way, whatever their row
    crowded |= {requirement.key.township for requirement in problem.requirements}
    overbooked = {expert.id for expert in problem.experts if sessions_left(kept, expert.id) < 0}
    keys |= {key for a in still if a.expert in overbooked and (key := a.key) is not None}
    # the rows of the sessions that may have to make way: in a half-day beyond its rooms, on a forced request's days
    forced_days = {(requirement.key.township, day) for requirement in problem.requirements for day in requirement.days}
    direct = keys | {requirement.key for requirement in problem.requirements}
    direct |= {key for a in still if (key := a.key) is not None and ((a.township, a.slot) in full or (a.township, a.date) in forced_days)}
    keys |= {key for key in problem.demand if key.township in crowded}
    # a visit day that lost its member or a team member: that township's rows help rebuild the team
    visit_days = {(a.township, a.date) for a in still + lost if a.link_visit}
    lost_experts = {a.expert for a in lost}
    townships = {a.township for a in lost if (a.township, a.date) in visit_days}
    townships |= {link.township for link in problem.links if link.member in lost_experts}
    keys |= {key for key in problem.demand if key.township in townships}
    over = {key.township for key in covered if sessions_wanted(kept, key) < 0}
    hit = {a.township for a in lost} | crowded | over | townships | {key.township for a in still if a.expert in overbooked and (key := a.key)}
    # a visit at a hit township may have to become a supervision (fewer rooms for its team): those need candidates too
    townships |= {link.township for link in problem.links if link.township in hit}
    wanted = {k for k in keys if problem.demand.get(k, 0) > 0}
    direct = {k for k in direct if problem.demand.get(k, 0) > 0}
    open_half_days: dict[str, set[Slot]] = {}
    for township in {key.township for key in direct}:
        free = {slot for slot in problem.slots if rooms_free(kept, township, slot) > 0}
        free |= {slot for (t, day) in forced_days if t == township for slot in problem.slots if slot.day == day}
        free |= {a.slot for a in still if a.township == township and (a.expert in overbooked or (a.key is not None and sessions_wanted(kept, a.key) < 0))}
        open_half_days[township] = free
    return Touched(wanted, townships, hit, direct, open_half_days, kept)


def forced_changes(problem: Problem, still: list[Assignment], kept: PartialRoster | None = None) -> int:
    """A lower bound on the kept assignments every roster of the changed month drops (the re-plan's changes tier).

    Per township, the most of: sessions beyond its rooms in a half-day (rule 5), beyond a demand row's
    sessions (rule 9), and other rows' sessions in the way of a forced request (its days hold only so many
    rooms); summed over townships (a session is at one township), or the sessions beyond experts' monthly
    limits (rule 4) if that is more. Each counts sessions no roster can keep, so a start at the coverage
    floor with this many changes is optimal on the first two tiers. `kept`: `still` counted, when it is already."""
    kept = PartialRoster.of(problem, {}, (as_candidate(a) for a in still)) if kept is None else kept
    beyond_rooms: dict[str, int] = defaultdict(int)
    for (township, slot) in list(kept.rooms_used):
        beyond_rooms[township] += max(0, -rooms_free(kept, township, slot))
    beyond_demand: dict[str, int] = defaultdict(int)
    for key in list(kept.covered):
        beyond_demand[key.township] += max(0, -sessions_wanted(kept, key))
    in_the_way: dict[str, int] = defaultdict(int)
    for requirement in problem.requirements:
        township = requirement.key.township
        slots = {slot for slot in problem.slots if slot.day in requirement.days and requirement.half_day in (None, slot.half_day)}
        rooms = kept.rooms.get(township, 0) * len(slots)
        others = sum(1 for a in still if a.township == township and a.slot in slots and a.key is not None and a.key != requirement.key)
        in_the_way[township] = max(in_the_way[township], others - max(0, rooms - requirement.sessions))
    townships = set(beyond_rooms) | set(beyond_demand) | set(in_the_way)
    at_townships = sum(max(beyond_rooms[t], beyond_demand[t], in_the_way[t]) for t in townships)
    beyond_limits = sum(max(0, -sessions_left(kept, expert.id)) for expert in problem.experts)
    return max(at_townships, beyond_limits)


def carry_ids(month: str, previous: Solution, assignments: list[Assignment]) -> list[Assignment]:
    """Give unchanged and moved assignments their previous ids; new ones get fresh ids."""
    old_by_content = {a.content[:6]: a for a in previous.assignments}
    used: set[str] = set()
    result: list[Assignment | None] = [None] * len(assignments)
    pending = []
    for position, assignment in enumerate(assignments):
        old = old_by_content.get(assignment.content[:6])
        if old is not None and old.id not in used:
            used.add(old.id)
            result[position] = assignment.with_id(old.id)
        else:
            pending.append(position)
    # a move: the same expert, township and session kind on another half-day keeps its id
    spare: dict[tuple, list[Assignment]] = defaultdict(list)
    for old in previous.assignments:
        if old.id not in used:
            spare[(old.expert, old.township, old.type, old.specialty)].append(old)
    taken_ids = {a.id for a in previous.assignments}
    for position in pending:
        assignment = assignments[position]
        options = spare.get((assignment.expert, assignment.township, assignment.type, assignment.specialty))
        if options:
            options.sort(key=lambda old: abs((old.date - assignment.date).days))
            old = options.pop(0)
            used.add(old.id)
            result[position] = assignment.with_id(old.id)
            continue
        salt, fresh = 0, new_assignment_id(month, assignment)
        while fresh in taken_ids:
            salt += 1
            fresh = new_assignment_id(month, assignment, salt=str(salt))
        taken_ids.add(fresh)
        result[position] = assignment.with_id(fresh)
    return [a for a in result if a is not None]


def _visits_of(assignments) -> set[tuple]:
    return {(a.expert, a.township, a.date) for a in assignments if a.link_visit}


class Widening:
    """The neighbourhoods a re-plan frees, from the touched rows out to the whole month (`STEPS`, in order).

    - "idle experts" (large months only): the sessions at the townships the change hit, and for each
      touched row and half-day a few experts who are free that day and have sessions to spare; small
      enough to build and solve in a fraction of a second where "touched rows" frees most of a
      township's candidates (400-expert county, t17 cut to one room: 3,200 against 34,600);
    - "touched rows": the touched rows' candidates and the sessions of the experts who could serve them;
    - "other experts": one row still short at a time, with the candidates of the experts who could
      serve it (their other half-days and days too) and of the rows they serve now (a chain of
      moves), a chain larger than CHAIN_MAX_FREE sampled down to it, each row in turn and again
      with new samples as long as that covers more; small steps, so they come before the broad ones
      (generated 9-township county, a demand row halved, 6 s: 1 unmet this way, 3 the other), and
      after them for the time the broad ones leave;
    - "same townships": every candidate at the touched townships (their other half-days), with the
      sessions of the experts who serve there now;
    - "other days": every candidate of the short rows' specialties, at every township on every day;
    - "whole month": every candidate, changes priced.

    "other experts" frees one chain at a time; each of the others adds to what came before it.
    """

    STEPS = ("idle experts", "touched rows", "other experts", "same townships", "other days", "whole month")

    def __init__(
        self, problem: Problem, candidates: Candidates, keys: set[DemandKey], townships: set[str], hit: set[str] = frozenset(), kept: Collection[int] = ()
    ) -> None:
        self.problem, self.candidates, self.hit, self.kept = problem, candidates, set(hit), set(kept)
        self.keys, self.townships = set(keys), set(townships) | {key.township for key in keys}
        self.free: set[int] = set()
        self.supervisions = {i for i, c in enumerate(candidates.items) if c.key is None}

    def short_rows(self, chosen: Collection[int]) -> list[DemandKey]:
        """The demand rows a roster leaves short that some candidate could serve, the touched ones first, in a fixed order."""
        covered: dict[DemandKey, int] = defaultdict(int)
        for index in chosen:
            key = self.candidates.items[index].key
            if key is not None:
                covered[key] += 1
        short = [key for key, wanted in self.problem.demand.items() if covered[key] < wanted and self.candidates.by_key.get(key)]
        return sorted(short, key=lambda key: (key.township not in self.hit, key not in self.keys, key))  # the change's own rows first

    def _serving(self, experts: set[str], chosen: Collection[int]) -> set[int]:
        return {i for i in chosen if self.candidates.items[i].expert in experts}

    def _helpers(self, rows: Collection[DemandKey]) -> set[str]:
        return {self.candidates.items[i].expert for key in rows for i in self.candidates.by_key.get(key, ())}

    def step(self, name: str, chosen: Collection[int]) -> set[int]:
        """Widen to step `name` around the roster `chosen`; returns every candidate now free."""
        items, by_key = self.candidates.items, self.candidates.by_key
        if name == "idle experts":
            return self.idle_experts(chosen, IDLE_EXPERTS_PER_HALF_DAY)
        if name == "touched rows":
            self.free |= {i for key in self.keys for i in by_key.get(key, ())} | self.supervisions
            self.free |= self._serving(self._helpers(self.keys), chosen)
        elif name == "same townships":
            self.free |= {i for i, c in enumerate(items) if c.township in self.townships}
            self.free |= self._serving({items[i].expert for i in chosen if items[i].township in self.townships}, chosen)
        elif name == "other days":
            rows = set(self.short_rows(chosen)) | self.keys
            specialties = {key.specialty for key in rows}
            self.free |= {i for i, c in enumerate(items) if c.key is not None and c.key.specialty in specialties}
            self.free |= self._serving(self._helpers(rows), chosen)
        else:
            self.free = set(range(len(items)))
        return set(self.free)

    def idle_experts(self, chosen: Collection[int], per_half_day: int) -> set[int]:
        """The sessions at the hit townships (now or before the change) and of the members linked there, and per touched
        row and half-day `per_half_day` candidates of experts who serve nowhere else that day and are below their
        monthly limit (the least loaded first)."""
        items = self.candidates.items
        townships = self.hit | self.townships
        roster = PartialRoster.of(self.problem, self.candidates.spare, (items[index] for index in chosen))
        load, most = roster.load, roster.max_sessions
        elsewhere = {(items[index].expert, items[index].day) for index in chosen if items[index].township not in townships}
        free = {i for i in set(chosen) | self.kept if items[i].township in townships} | self.supervisions
        # the members linked there, wherever they serve: a visit the change broke may need one of them elsewhere that day
        members = {link.member for link in self.problem.links if link.township in townships}
        free |= {i for i in chosen if items[i].expert in members}
        free |= {i for member in members for i in self.candidates.by_expert.get(member, ())}
        by_key_slot = self.candidates.by_key_slot()
        for key in self.keys:
            for slot in self.problem.slots:
                idle = [i for i in by_key_slot.get((key, slot), ()) if (items[i].expert, slot.day) not in elsewhere and within_monthly_limit(roster, items[i])]
                idle.sort(key=lambda i: (load[items[i].expert] / max(1, most[items[i].expert]), items[i].expert))
                free.update(idle[:per_half_day])
        self.free |= free
        return set(self.free)

    def chain(self, key: DemandKey, chosen: Collection[int], most: int | None = None, rng: random.Random | None = None) -> set[int]:
        """One short row, every candidate of the experts who could serve it, and of the rows they serve now.

        With `most`, a larger chain keeps the row's own candidates and the roster's sessions in it (so they can move), and
        a sample of the rest (`rng`) up to `most`: a model of the whole chain cannot be built and solved in a step's time.
        """
        items = self.candidates.items
        helpers = self._helpers([key])
        served = {items[i].key for i in self._serving(helpers, chosen) if items[i].key is not None}
        free = {i for expert in helpers for i in self.candidates.by_expert.get(expert, ())}
        free |= {i for row in served | {key} for i in self.candidates.by_key.get(row, ())}
        if most is None or len(free) <= most:
            return free | self.supervisions
        keep = set(self.candidates.by_key.get(key, ())) | (free & set(chosen))
        rest = sorted(free - keep)
        sample = (rng or random.Random(0)).sample(rest, max(0, min(len(rest), most - len(keep))))
        return keep | set(sample) | (self.supervisions & set(chosen))


def _visits_of(assignments) -> set[tuple]:
    return {(a.expert, a.township, a.date) for a in assignments if a.link_visit}


@dataclass
class _Found:
    """A roster a re-plan step found, in the whole month's candidate indices, with its tiers."""

    incumbent: Incumbent
    coverage: int
    changes: int
    score: int  # the re-plan's objective: COVERAGE_TIER * coverage + CHANGE_WEIGHT * changes + soft terms
    optimal: bool


def _tiered_solve(problem, candidates, free, fixed, kept, hint, time_limit, workers, seed, targets, work_limit=None) -> _Found | None:
    """One objective in three tiers, so whatever the solver has when time runs out is ordered right:
    coverage first, then fewest changes, then the soft terms. The model holds only the free and
    fixed candidates and the previous roster (the others are 0), so a narrow step stays small."""
    sub, originals = restrict(problem, candidates, set(free) | set(fixed) | set(kept))
    position = {index: p for p, index in enumerate(originals)}
    sub_fixed = {position[i] for i in fixed}
    sub_free = {position[i] for i in free} - sub_fixed
    roster = build_model(problem, sub, free=sub_free, fixed=sub_fixed, previous=[position[i] for i in kept], stability_weight=1, fair_targets=targets)
    stability = [p for p in roster.penalties if p.family == "stability"]
    roster.penalties = [p for p in roster.penalties if p.family != "stability"]
    changes = stability[0].expression if stability else 0
    # a visit moved to another day changes the sessions that carry it: it counts as a change too
    kept_visits = [roster.visits[visit] for visit in _visits_of(kept.values()) if visit in roster.visits]
    if kept_visits:
        changes = changes + len(kept_visits) - cp_model.LinearExpr.sum(kept_visits)
    coverage, soft = family_sum(roster, True), family_sum(roster, False)
    roster.model.minimize(COVERAGE_TIER * coverage + CHANGE_WEIGHT * changes + soft)
    start = Incumbent({position[i] for i in hint.chosen if i in position}, set(hint.visits))
    solver, status, _ = solve_model(roster, start, time_limit, workers, None, "re-plan", seed, work_limit=work_limit)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    found = read_incumbent(roster, solver)
    value = lambda expression: expression if isinstance(expression, int) else int(solver.value(expression))  # noqa: E731
    chosen = {originals[p] for p in found.chosen}
    return _Found(Incumbent(chosen, found.visits, found.objective, found.terms), value(coverage), value(changes), round(solver.objective_value), status == cp_model.OPTIMAL)


class _Budget:
    """The time (and, when asked, the deterministic work) a re-plan's steps share.

    With a work limit, every step gets a share of the work left and no step depends on the clock
    (the seconds are then only a backstop), so one worker re-plans the same way however loaded
    the machine is."""

    def __init__(self, started: float, time_limit: float, work_limit: float | None) -> None:
        self.deadline = started + time_limit - min(AFTER_SOLVE_SECONDS, AFTER_SOLVE_SHARE * time_limit)
        self.work_left = work_limit

    def seconds_left(self) -> float:
        return self.deadline - time.monotonic()

    def exhausted(self) -> bool:
        if self.work_left is not None:
            return self.work_left <= MIN_STEP_WORK or self.seconds_left() <= 0
        return self.seconds_left() <= MIN_STEP_SECONDS

    def share(self, fraction: float) -> tuple[float, float | None]:
        """Seconds and work for a step that may take `fraction` of what is left."""
        seconds = max(MIN_STEP_SECONDS, self.seconds_left() * (1.0 if self.work_left is not None else fraction))
        return seconds, None if self.work_left is None else max(MIN_STEP_WORK, self.work_left * fraction)

    def affords(self, free: int) -> bool:
        """Whether a step freeing this many candidates can be built and solved in the seconds left (always, on a work budget)."""
        return self.work_left is not None or self.seconds_left() >= BROAD_STEP_SECONDS_PER_FREE * free

    def spend(self, work: float | None) -> None:
        """Count a step's work against the work limit."""
        if self.work_left is not None and work is not None:
            self.work_left -= work


class _Search:
    """A re-plan under way on one set of candidates: the kept assignments, the best roster so far, its steps."""

    def __init__(
        self,
        problem: Problem,
        candidates: Candidates,
        still: list[Assignment],
        frozen_until: dt.date | None,
        budget: _Budget,
        workers: int,
        seed: int,
        progress: Progress | None,
        start: Incumbent | None = None,
    ) -> None:
        self.problem, self.candidates, self.budget, self.workers, self.seed, self.progress = problem, candidates, budget, workers, seed, progress
        self.still, self.frozen_until = still, frozen_until
        self.kept = {candidates.index_of(*_as_candidate(a)): a for a in still}
        self.past = {i for i, c in enumerate(candidates.items) if c.day <= frozen_until} if frozen_until is not None else set()
        self.targets = fair_targets(problem, candidates)
        self.rng = random.Random(seed)  # the chains' samples
        self.best: _Found | None = None
        self.last_step = ""
        self.floor: int | None = None  # a coverage floor of the whole month (see `replan`)
        self.polish_seconds: float | None = None  # when set, the most a step from a start at the floor may take
        if start is None:
            state = construct(problem, candidates, fixed=set(self.kept) & self.past, keep=list(self.kept), visits=_visits_of(self.kept.values()))
            # nothing new on the frozen past, not even in the start
            new_in_past = self.past - set(self.kept)
            kept_visits = _visits_of(self.kept.values())
            visits = {v for v in state.visits if frozen_until is None or v[2] > frozen_until or v in kept_visits}
            start = Incumbent(set(state.chosen) - new_in_past, visits)
        self.hint = start
        self.start_coverage = coverage_cost(problem, candidates, start)
        self.tried = False  # whether a step has run

    def chosen(self) -> set[int]:
        return self.best.incumbent.chosen if self.best is not None else self.hint.chosen

    def must_keep_fits(self, spare: dict) -> bool:
        """Whether the sessions every step must hold (the frozen past's kept ones, and the office's pins) keep rules 3, 4, 5,
        7 and 9 together. When they do not, every step's model is infeasible (each holds them, fixed or pinned), so the
        re-plan need not try one: the service finds the pin it could not keep and names it."""
        partial = PartialRoster(self.problem, spare)
        for index in sorted((set(self.kept) & self.past) | set(office_pinned_indices(self.problem, self.candidates))):
            c = self.candidates.items[index]
            if not fits(partial, c):
                return False
            partial.add(c)
        return True

    def settled(self, forced: int) -> bool:
        """Whether the start is at the whole month's coverage floor and drops no more kept sessions than `forced`, which every
        roster drops (`forced_changes`): then the first two tiers are optimal, and a step could only lower the soft terms
        at the cost of building its model, on a large month more than the whole re-plan takes without it."""
        return self.floor is not None and self.start_coverage <= self.floor and self.start_changes() <= forced

    def start_changes(self) -> int:
        """The start's changes as the re-plan's objective counts them: kept sessions it leaves out, kept visits it does not make."""
        chosen, visits = self.hint.chosen, self.hint.visits
        return sum(1 for index in self.kept if index not in chosen) + len(_visits_of(self.kept.values()) - set(visits))

    def covered(self) -> bool:
        """Whether the best roster (the start, once a step found nothing better in time) is at the whole month's coverage floor."""
        if self.floor is None:
            return False
        if self.best is not None:
            return self.best.coverage <= self.floor
        return self.tried and self.start_coverage <= self.floor

    def attempt(self, name: str, free: set[int], fraction: float, most: float | None = None) -> bool:
        """Re-optimise `free` with the rest as the best roster has it, for `fraction` of what is left (at most `most` seconds
        or work); keep what is better. True if it was."""
        base = set(self.kept) if self.best is None else self.best.incumbent.chosen
        start = self.best.incumbent if self.best is not None else self.hint
        # a kept session the start left out is free too, so the start is a roster of the model (a complete hint)
        free = (free | (base - start.chosen)) - self.past
        seconds, work = self.budget.share(fraction if self.tried else max(fraction, FIRST_STEP_SHARE))
        if self.polish_seconds is not None and self.best is None and self.floor is not None and self.start_coverage <= self.floor:
            most = self.polish_seconds if most is None else min(most, self.polish_seconds)
        if most is not None:
            seconds, work = min(seconds, most), None if work is None else min(work, most)
        found = _tiered_solve(self.problem, self.candidates, free, base - free, self.kept, start, seconds, self.workers, self.seed, self.targets, work)
        self.budget.spend(work)
        self.tried = True
        better = found is not None and (self.best is None or found.score < self.best.score)
        if better:
            self.best, self.last_step = found, name
        elif found is not None and found.score == self.best.score and found.optimal:
            self.best.optimal, self.last_step = True, name  # the same roster, now proven for a wider step
        if self.progress:
            outcome = "nothing in time" if found is None else f"coverage {found.coverage}, {found.changes} changes"
            self.progress(f"re-plan, {name}: {len(free)} candidates free: {outcome} (floor {self.floor})")
        return better

    def widen(self, widening: Widening, steps: Collection[str]) -> None:
        """Take the widening steps in order until coverage reaches the floor or the budget is spent.

        A broad step whose model cannot be built and solved in the seconds left is passed over (on a clock budget; a
        work budget takes every step, the same way each time); the chains then have the rest of the time."""
        for name in steps:
            if self.covered() or self.budget.exhausted():
                return
            if name == "other experts":
                self.chains(widening)
            elif name != "whole month" or len(self.candidates.items) <= WHOLE_MONTH_MAX_CANDIDATES:
                free = widening.step(name, self.chosen())
                if name in ("idle experts", "touched rows") or self.budget.affords(len(free)):
                    self.attempt(name, free, {"whole month": 1.0, "idle experts": IDLE_SHARE}.get(name, STEP_SHARE))
        if "other experts" in steps:
            self.chains(widening, rounds=None)

    def chains(self, widening: Widening, rounds: int | None = CHAIN_ROUNDS) -> None:
        """The "other experts" steps: a chain from each short row in turn (the change's own first), each at most
        CHAIN_MAX_FREE candidates, a new sample each pass; from the first row again after each step that covers more,
        and done after `rounds` passes that cover no more (None: until the floor or the budget)."""
        barren = 0
        while (rounds is None or barren < rounds) and not self.covered() and not self.budget.exhausted():
            before = self.coverage()
            for key in widening.short_rows(self.chosen()):
                if self.covered() or self.budget.exhausted():
                    return
                free = widening.chain(key, self.chosen(), CHAIN_MAX_FREE, self.rng)
                share = HIT_CHAIN_SHARE if key.township in widening.hit else CHAIN_SHARE
                was = self.coverage()
                self.attempt(f"chain {key.township}/{key.type}/{key.specialty}", free, share, most=CHAIN_STEP_SECONDS)
                if self.coverage() < was:
                    break  # the short rows changed: from the change's own rows again
            barren = 0 if self.coverage() < before else barren + 1

    def coverage(self) -> int:
        """The best roster's coverage cost (the start's, before a step found one)."""
        return self.best.coverage if self.best is not None else self.start_coverage

    def moved_to(self, candidates: Candidates) -> _Search:
        """The same search on the whole month's candidates, its best roster carried over as the start."""
        items = self.candidates.items
        chosen = {candidates.index_of(items[i].expert, items[i].slot, items[i].township, items[i].key) for i in self.chosen()}
        visits = self.best.incumbent.visits if self.best is not None else self.hint.visits
        start = Incumbent({i for i in chosen if i is not None}, set(visits))
        wider = _Search(self.problem, candidates, self.still, self.frozen_until, self.budget, self.workers, self.seed, self.progress, start)
        wider.floor = coverage_lower_bound(self.problem, candidates)
        return wider


def _near_floor(problem: Problem, near: Candidates, keys: set[DemandKey], townships: set[str], hit: set[str], start_coverage: int) -> int:
    """A valid coverage floor of the whole month from the townships the change touched (solver.bounds): what their rooms
    force when the start covers that much already, else their min-cost flow, on the touched rows' candidates when they
    hold all of those townships' (a rooms cut, a forced request), else on those townships' own."""
    places = {key.township for key in keys} | townships | hit
    rooms = rooms_floor(problem, places)
    if start_coverage <= rooms:
        return rooms  # the start is there already: no need for the flow
    complete = all(key in keys for key, sessions in problem.demand.items() if sessions > 0 and key.township in places)
    complete = complete and all(link.township in townships for link in problem.links if link.township in places)
    return max(rooms, townships_coverage_floor(problem, places, near if complete else None))


def _coverage_of(problem: Problem, solution: Solution) -> int:
    """The weighted unmet demand and missed link visits of a roster, as its report and visits say."""
    weights = problem.rules.weights
    missed = max(0, len(problem.links) * problem.rules.link_visits_per_month - sum(1 for a in solution.assignments if a.link_visit))
    return weights.unmet * solution.report.unmet_sessions + weights.link * missed


def replan(
    problem: Problem,
    previous: Solution,
    time_limit: float = 5.0,
    workers: int = 2,
    progress: Progress | None = None,
    seed: int = 0,
    frozen_until: dt.date | None = None,
    work_limit: float | None = None,
) -> Solution:
    """A new roster for the changed problem that covers what a fresh solve would and changes as few of
    `previous`'s assignments as it can.

    A small month is re-planned on the whole month's candidates, against the whole month's coverage floor
    (solver.bounds). A large one first builds a start on the rows the change reached directly (`Touched.direct`),
    and returns it when it is at the floor with only the forced changes (`_Search.settled`). Else it starts on
    the touched rows' candidates, against a floor of the whole month taken from the townships the change
    touched (`_near_floor`), and returns that start when it is settled, or goes on with a few idle experts per row
    and half-day first; only when that covers less than `previous` did and than the floor does it move to
    the whole month's candidates. Either way it widens (`Widening`) until its coverage reaches the floor
    or the time runs out.
    Days up to `frozen_until` (today, in the service) are history: their sessions stay as they were
    and nothing new is placed on them. The report's bound is the whole changed month's (`_proven`).
    """
    with _caller_heap_frozen():
        return _replan(problem, previous, time_limit, workers, progress, seed, frozen_until, work_limit)


@contextmanager
def _caller_heap_frozen() -> Iterator[None]:
    """The objects alive when a re-plan starts (the caller's scenario, problem and previous roster) left out of the
    garbage collector's full passes until it ends: a re-plan of a large month allocates enough to trigger one, and
    that one pass over the caller's heap took a fifth of a re-plan after a leave (bench/RESULTS.md). They are handed
    back as they were; nothing is frozen when the caller froze objects itself (gc.freeze before a fork)."""
    if not gc.isenabled() or gc.get_freeze_count() > 0:
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _replan(
    problem: Problem,
    previous: Solution,
    time_limit: float,
    workers: int,
    progress: Progress | None,
    seed: int,
    frozen_until: dt.date | None,
    work_limit: float | None,
) -> Solution:
    started = time.monotonic()
    spare = department_spare(problem)
    still, lost = split_previous(problem, previous, spare)
    touched = touched_parts(problem, still, lost)
    keys, townships, hit = touched.keys, touched.townships, touched.hit
    also = [_as_candidate(a) for a in still]
    budget = _Budget(started, time_limit, work_limit)
    small = len(problem.experts) * len(problem.slots) <= FULL_MONTH_MAX_EXPERT_HALF_DAYS
    settled = False
    if small:
        search = _Search(problem, enumerate_candidates(problem, also=also, spare=spare), still, frozen_until, budget, workers, seed, progress)
        search.floor = coverage_lower_bound(problem, search.candidates)
        first = ("touched rows",)
    else:
        forced = forced_changes(problem, still, touched.kept)
        search = None
        if keys:
            # a broken visit, a cut limit or a forced request touches all of a township's rows; the rows short themselves and
            # those of the sessions in the way, in the half-days with room, often settle the change on a fraction of the
            # candidates (bench/RESULTS.md, "Re-plans that stop at their start")
            direct = enumerate_candidates(
                problem, keys=touched.direct, supervision_townships=townships, also=also, spare=spare, half_days=touched.open_half_days
            )
            start = _Search(problem, direct, still, frozen_until, budget, workers, seed, progress)
            places = {key.township for key in keys} | townships | hit
            start.floor = 0 if start.start_coverage == 0 else rooms_floor(problem, places)
            settled = start.settled(forced)
            search = start if settled else None
        if search is None:
            near = enumerate_candidates(problem, keys=keys, supervision_townships=townships, also=also, spare=spare)
            search = _Search(problem, near, still, frozen_until, budget, workers, seed, progress)
            search.floor = 0 if search.start_coverage == 0 else _near_floor(problem, near, keys, townships, hit, search.start_coverage)
            settled = search.settled(forced)
        search.polish_seconds = POLISH_SECONDS
        first = ("idle experts", "touched rows")
    if progress:
        progress(
            f"re-plan: {len(search.kept)} assignments still possible, {len(lost)} not; {len(search.candidates.items)} candidates; "
            f"start coverage {search.start_coverage}, floor {search.floor}"
        )
    if progress and settled:
        progress("re-plan: the start is at the floor with only the changes the change forces")
    hopeless = not settled and not search.must_keep_fits(spare)
    if progress and hopeless:
        progress("re-plan: the pins and the frozen past cannot all stay: no step could keep them, none is tried")
    if not settled and not hopeless:
        widening = Widening(problem, search.candidates, keys, townships, hit, search.kept)
        search.widen(widening, first)
        size = len(problem.experts) * len(problem.slots)
        worse = search.best is None or search.best.coverage > _coverage_of(problem, previous)
        if not small and worse and not search.covered() and budget.seconds_left() > WHOLE_MONTH_SECONDS_PER_EXPERT_HALF_DAY * size:
            # the touched rows alone cover less than before and than the floor: look further, on the whole month's candidates
            search = search.moved_to(enumerate_candidates(problem, also=also, spare=spare))
            widening = Widening(problem, search.candidates, keys, townships, hit, search.kept)
        rest = [name for name in Widening.STEPS if name != "idle experts" and (search.best is None or name not in first)]
        search.widen(widening, rest)
    candidates, kept = search.candidates, search.kept
    if search.best is None:
        chosen, visits = search.hint.chosen, search.hint.visits
        scored = evaluate(problem, candidates, search.hint, search.targets)
        objective, terms, coverage, optimal = scored.objective, scored.terms, coverage_cost(problem, candidates, search.hint), False
    else:
        chosen, visits = search.best.incumbent.chosen, search.best.incumbent.visits
        objective, terms, coverage = search.best.incumbent.objective, search.best.incumbent.terms, search.best.coverage
        optimal = search.floor is not None and _proven(search.best, search.floor, search.last_step)
    carried_before = [index for index, a in kept.items() if a.link_visit]
    assignments = carry_ids(problem.month, previous, to_assignments(problem, candidates, chosen, visits, carried_before))
    unmet = explain_unmet(problem, candidates, chosen, visits)
    unmet_sessions = sum(u.sessions for u in unmet if u.type != "supervision")
    proven_unmet = search.floor is not None and (coverage <= search.floor or (optimal and search.last_step == "whole month"))
    report = SolveReport(
        status="OPTIMAL" if optimal else "FEASIBLE",
        objective=objective,
        # a bound for every roster of the changed month: its coverage floor, or the roster itself when proven
        best_bound=objective if optimal else search.floor,
        wall_seconds=time.monotonic() - started,
        workers=workers,
        unmet_sessions=unmet_sessions,
        unmet_bound=unmet_sessions if proven_unmet else None,
        objective_terms=terms,
    )
    return Solution(problem.month, tuple(assignments), tuple(unmet), report)


def _proven(best: _Found, floor: int, last_step: str) -> bool:
    """Whether no roster of the whole changed month covers more or changes fewer of the kept assignments.

    Coverage is proven at the month's floor, or by an optimal solve of the whole month; changes when
    that solve was the whole month's, or when there are none. (The soft terms are optimal for the
    last neighbourhood.)
    """
    if not best.optimal:
        return False
    if last_step == "whole month":
        return True
    return best.coverage <= floor and best.changes == 0
