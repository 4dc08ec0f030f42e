"""Why demand went unmet, and which hard rules clash, as reason codes with parameters (rendered by scheduler/reason_text.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection

from ortools.sat.python import cp_model

from solver.candidates import Candidates, can_serve
from solver.problem import DemandKey, Expert, Problem
from solver.solution import Reason, ReasonCode, Unmet

def _ids(experts: list[Expert]) -> tuple[str, ...]:
    return tuple(e.id for e in experts)


def _demand_reason(problem: Problem, candidates: Candidates, key: DemandKey, missing: int, chosen: set[int], load: Counter) -> Reason:
    township = problem.township(key.township)
    where = {"township": township.id, "type": key.type, "specialty": key.specialty}
    if key.type == "ward_round" and not township.inpatient_ward:
        return Reason.of(ReasonCode.NO_INPATIENT_WARD, township=township.id)
    open_slots = [s for s in problem.slots if s.day not in township.closed_days]
    if key.type == "ward_round":
        open_slots = [s for s in open_slots if s.half_day in problem.rules.ward_round_half_days]
    if not open_slots:
        return Reason.of(ReasonCode.NO_OPEN_HALF_DAY, **where)
    holders = [e for e in problem.experts if key.specialty in e.specialties]
    if not holders:
        return Reason.of(ReasonCode.NO_SPECIALIST, specialty=key.specialty)
    eligible = [e for e in holders if can_serve(problem, e, key)]
    if not eligible:
        return Reason.of(ReasonCode.TITLE_TOO_LOW, specialty=key.specialty, title=problem.rules.teaching_min_title, holders=len(holders))
    rostered = [e for e in eligible if e.max_sessions > 0]
    if not rostered:
        return Reason.of(ReasonCode.NOT_ROSTERED, specialty=key.specialty, experts=_ids(eligible))
    on_leave, at_limit, kept_home, busy = [], [], [], []
    for expert in rostered:
        free = [s for s in open_slots if expert.available(s)]
        if not free:
            on_leave.append(expert)
        elif load[expert.id] >= expert.max_sessions:
            at_limit.append(expert)
        elif all(candidates.spare.get((expert.department, s), 0) <= 0 for s in free):
            kept_home.append(expert)
        else:
            busy.append(expert)
    why = sorted({r for e in on_leave for r in e.blocked.values()})
    departments = sorted({e.department for e in kept_home})
    groups = [g for g in (at_limit, on_leave, kept_home, busy) if g]
    if len(groups) == 1:
        if at_limit:
            return Reason.of(ReasonCode.ALL_AT_MONTHLY_LIMIT, **where, sessions=missing, experts=_ids(at_limit))
        if on_leave:
            return Reason.of(ReasonCode.ALL_UNAVAILABLE, **where, sessions=missing, experts=_ids(on_leave), why=why)
        if kept_home:
            return Reason.of(ReasonCode.DEPARTMENT_MINIMUM, **where, sessions=missing, experts=_ids(kept_home), departments=departments)
        return Reason.of(ReasonCode.HALF_DAYS_TAKEN, **where, sessions=missing, experts=_ids(busy))
    return Reason.of(
        ReasonCode.MIXED_SHORTFALL, **where, sessions=missing, eligible=len(rostered),
        at_limit=_ids(at_limit), unavailable=_ids(on_leave), why=why, kept_home=_ids(kept_home), departments=departments, busy=_ids(busy),
    )


def _link_reason(problem: Problem, candidates: Candidates, member: str, township_id: str) -> Reason:
    expert = next((e for e in problem.experts if e.id == member), None)
    township = problem.township(township_id)
    if expert is None:
        return Reason.of(ReasonCode.NOT_AN_EXPERT, member=member)
    if expert.max_sessions <= 0:
        return Reason.of(ReasonCode.MEMBER_NOT_ROSTERED, member=member)
    open_days = [d for d in problem.days if d not in township.closed_days]
    if not open_days:
        return Reason.of(ReasonCode.TOWNSHIP_CLOSED_ALL_MONTH, township=township_id)
    member_days = sorted({c.day for c in candidates.items if c.expert == member and c.township == township_id})
    if not member_days:
        return Reason.of(ReasonCode.MEMBER_UNAVAILABLE, member=member, township=township_id)
    team_min = problem.rules.link_team_min
    team_days = []
    for day in member_days:
        others = {c.expert for c in candidates.items if c.day == day and c.township == township_id and c.key is not None and c.expert != member}
        if len(others) >= team_min:
            team_days.append(day)
    if not team_days:
        return Reason.of(ReasonCode.TEAM_TOO_SMALL, member=member, township=township_id, days=member_days, team_min=team_min)
    return Reason.of(ReasonCode.TEAM_NOT_FITTED, member=member, township=township_id, team_min=team_min)


def explain_unmet(problem: Problem, candidates: Candidates, chosen: Collection[int], visits: Collection[tuple]) -> list[Unmet]:
    """One row per (township, type, specialty) short of its demand, and per link visit not made, with reasons."""
    chosen = set(chosen)
    covered: Counter = Counter()
    load: Counter = Counter()
    for index in chosen:
        candidate = candidates.items[index]
        load[candidate.expert] += 1
        if candidate.key is not None:
            covered[candidate.key] += 1
    rows = []
    for key in sorted(problem.demand):
        missing = problem.demand[key] - covered[key]
        if missing > 0:
            rows.append(Unmet(key.township, key.type, key.specialty, missing, _demand_reason(problem, candidates, key, missing, chosen, load)))
    made: Counter = Counter((member, township) for member, township, _day in visits)
    wanted = problem.rules.link_visits_per_month
    for link in problem.links:
        missing = wanted - made[(link.member, link.township)]
        if missing > 0:
            rows.append(Unmet(link.township, "supervision", None, missing, _link_reason(problem, candidates, link.member, link.township), link.member))
    return rows


def clashing_rules(problem: Problem, candidates: Candidates, fixed: Collection[int], free: Collection[int] = ()) -> list[str] | None:
    """The hard rules that cannot all hold with `fixed` kept, as CP-SAT's sufficient assumptions name them (None: no clash shown)."""
    from solver.model import build_model

    roster = build_model(problem, candidates, free=free, fixed=fixed, diagnose=True)
    roster.model.clear_objective()
    names = {guard.index: rule for rule, guard in roster.guards.items()}
    roster.model.add_assumptions(list(roster.guards.values()))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 10
    if solver.solve(roster.model) != cp_model.INFEASIBLE:
        return None
    return sorted({names[i] for i in solver.sufficient_assumptions_for_infeasibility() if i in names})


def explain_infeasible(problem: Problem, candidates: Candidates, fixed: Collection[int]) -> Reason:
    """The hard rules that clash, from CP-SAT's sufficient assumptions for infeasibility (RULES_CLASH or CLASH_NOT_SHOWN)."""
    fixed = set(fixed)
    clashing = clashing_rules(problem, candidates, fixed, free=[i for i in range(len(candidates.items)) if i not in fixed])
    if clashing is None:
        return Reason.of(ReasonCode.CLASH_NOT_SHOWN)
    return Reason.of(ReasonCode.RULES_CLASH, rules=clashing, fixed=len(fixed))
