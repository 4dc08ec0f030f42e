"""Why demand went unmet, and which hard rules clash, as reason codes with parameters (rendered by scheduler/reason_text.py).

An unmet row's reason asks the rules themselves, in their own modules (solver.eligibility for 1, 2
and 6, solver.rules for the others, over the solved roster as a partial roster), which of them
stops more sessions; the clashes are CP-SAT's, from the model in diagnosis mode.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection

from ortools.sat.python import cp_model

from solver.candidates import Candidates
from solver.eligibility import can_be_there, can_host, can_serve, expert_holds_the_specialty, ward_rounds_need_an_inpatient_ward
from solver.partial_roster import PartialRoster
from solver.problem import DemandKey, Expert, Problem
from solver.rules.availability import sessions_left
from solver.rules.coverage import sessions_wanted
from solver.rules.links import has_a_team
from solver.rules.staffing import spares_nobody
from solver.solution import Reason, ReasonCode, Unmet


def _ids(experts: list[Expert]) -> tuple[str, ...]:
    return tuple(e.id for e in experts)


def _demand_reason(problem: Problem, partial: PartialRoster, key: DemandKey, missing: int) -> Reason:
    """Why a demand row is short, asked of the rules in turn: 6 (a ward), 2 and 6 (an open half-day), 1 and 6 (who may
    serve it), then each expert who may by what stops them: 4 (no session left), 2 (unavailable), 7 (the department
    can spare nobody), else their free half-days are taken (3, 5)."""
    township = problem.township(key.township)
    where = {"township": township.id, "type": key.type, "specialty": key.specialty}
    if not ward_rounds_need_an_inpatient_ward(problem, township, key, None):
        return Reason.of(ReasonCode.NO_INPATIENT_WARD, township=township.id)
    open_slots = [s for s in problem.slots if can_host(problem, township, key, s)]
    if not open_slots:
        return Reason.of(ReasonCode.NO_OPEN_HALF_DAY, **where)
    holders = [e for e in problem.experts if expert_holds_the_specialty(problem, e, key)]
    if not holders:
        return Reason.of(ReasonCode.NO_SPECIALIST, specialty=key.specialty)
    eligible = [e for e in holders if can_serve(problem, e, key)]
    if not eligible:
        return Reason.of(ReasonCode.TITLE_TOO_LOW, specialty=key.specialty, title=problem.rules.teaching_min_title, holders=len(holders))
    rostered = [e for e in eligible if e.rostered]
    if not rostered:
        return Reason.of(ReasonCode.NOT_ROSTERED, specialty=key.specialty, experts=_ids(eligible))
    on_leave, at_limit, kept_home, busy = [], [], [], []
    for expert in rostered:
        free = [s for s in open_slots if can_be_there(problem, expert, s)]
        if not free:
            on_leave.append(expert)
        elif sessions_left(partial, expert.id) <= 0:
            at_limit.append(expert)
        elif all(spares_nobody(partial, expert.department, s) for s in free):
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
    """Why a link visit was not made, asked of the rules in turn: the member (4), the township open (2), the member's
    possible days there (2, 3, 7), a team possible on one of them (8)."""
    expert = next((e for e in problem.experts if e.id == member), None)
    township = problem.township(township_id)
    if expert is None:
        return Reason.of(ReasonCode.NOT_AN_EXPERT, member=member)
    if not expert.rostered:
        return Reason.of(ReasonCode.MEMBER_NOT_ROSTERED, member=member)
    if not any(can_host(problem, township, None, slot) for slot in problem.slots):
        return Reason.of(ReasonCode.TOWNSHIP_CLOSED_ALL_MONTH, township=township_id)
    member_days = sorted({c.day for c in candidates.items if c.expert == member and c.township == township_id})
    if not member_days:
        return Reason.of(ReasonCode.MEMBER_UNAVAILABLE, member=member, township=township_id)
    serving: dict = defaultdict(set)  # (day) -> the experts who could serve a session at the township
    for c in candidates.items:
        if c.township == township_id and c.key is not None:
            serving[c.day].add(c.expert)
    if not any(has_a_team(problem, member, serving[day]) for day in member_days):
        return Reason.of(ReasonCode.TEAM_TOO_SMALL, member=member, township=township_id, days=member_days, team_min=problem.rules.link_team_min)
    return Reason.of(ReasonCode.TEAM_NOT_FITTED, member=member, township=township_id, team_min=problem.rules.link_team_min)


def explain_unmet(problem: Problem, candidates: Candidates, chosen: Collection[int], visits: Collection[tuple]) -> list[Unmet]:
    """One row per (township, type, specialty) short of its demand, and per link visit not made, with reasons."""
    partial = PartialRoster.of(problem, candidates.spare, (candidates.items[index] for index in set(chosen)))
    rows = []
    for key in sorted(problem.demand):
        missing = sessions_wanted(partial, key)
        if missing > 0:
            rows.append(Unmet(key.township, key.type, key.specialty, missing, _demand_reason(problem, partial, key, missing)))
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
