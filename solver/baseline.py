"""What a medical affairs office does by hand: a first-fit greedy roster, the yardstick the solver is measured against.

Walk the demand rows in order; for each session take the first working half-day in which
some eligible expert is free, and the first such expert, keeping every hard rule of
DOMAIN.md. Then, for each party-committee link, pick the first day the member can come and
enough colleagues already serve that township. Nothing is balanced, spread or optimised.

Rule 7 reading (shared with tests/solver/checker.py): in each half-day a department's experts
with any session, supervision included, are away; its available experts are those not
blocked that half-day (one with max_sessions 0 is at the hospital, so counts); away <= max(0, available - min_on_site).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace

from solver.candidates import Candidate, department_spare
from solver.eligibility import (
    can_be_there,
    can_host,
    can_serve,
    expert_holds_the_specialty,
    expert_is_available,
    ward_rounds_need_an_inpatient_ward,
)
from solver.partial_roster import PartialRoster
from solver.problem import DemandKey, Expert, Link, Problem, Slot
from solver.rules import fits
from solver.rules.availability import sessions_left
from solver.rules.coverage import rooms_free
from solver.rules.links import has_a_team
from solver.solution import Assignment, Reason, ReasonCode, SolveReport, Solution, Unmet, new_assignment_id

SUPERVISION = "supervision"


@dataclass
class _Ledger:
    """The roster so far: its assignments, the hard rules' counters (solver.partial_roster) and who serves where."""

    problem: Problem
    assignments: list[Assignment] = field(default_factory=list)
    present: defaultdict[tuple[str, dt.date], set[str]] = field(default_factory=lambda: defaultdict(set))  # (township, day) -> experts

    def __post_init__(self) -> None:
        self.partial = PartialRoster(self.problem, department_spare(self.problem))  # rule 7's bound, from the one place that defines it

    def can_go(self, expert: Expert, slot: Slot, township: str, key: DemandKey | None, reserve: int = 0) -> bool:
        """Rules 2, 3, 4, 5, 7 and 9 for one expert in one half-day at one township, keeping `reserve` sessions back."""
        return (
            sessions_left(self.partial, expert.id) > reserve
            and can_be_there(self.problem, expert, slot)
            and fits(self.partial, Candidate(-1, expert.id, slot, township, key))
        )

    def add(self, expert: Expert, slot: Slot, township: str, key: DemandKey | None, link_visit: bool = False) -> None:
        session_type, specialty = (key.type, key.specialty) if key is not None else (SUPERVISION, None)
        self.assignments.append(Assignment(slot.day, slot.half_day, township, session_type, specialty, expert.id, link_visit))
        self.partial.add(Candidate(-1, expert.id, slot, township, key))
        if key is not None:  # a visit's team serves patients; a second member's supervision is no team
            self.present[(township, slot.day)].add(expert.id)


def _owed_visits(problem: Problem) -> Counter[str]:
    """Sessions each committee member keeps back for link visits while the demand is rostered."""
    owed: Counter[str] = Counter()
    if problem.rules.link_visits_per_month > 0:
        for link in problem.links:
            owed[link.member] += problem.rules.link_visits_per_month
    return owed


def _fill_demand(problem: Problem, ledger: _Ledger, owed: Counter[str]) -> list[Unmet]:
    unmet = []
    for key, wanted in problem.demand.items():
        if key.township not in {t.id for t in problem.townships}:
            continue
        eligible = [expert for expert in problem.experts if can_serve(problem, expert, key)]
        township = problem.township(key.township)
        placed = 0
        first_slot = 0  # the ledger only fills up, so a half-day that failed once stays failed
        while placed < wanted:
            found = False
            for index in range(first_slot, len(problem.slots)):
                slot = problem.slots[index]
                if rooms_free(ledger.partial, key.township, slot) <= 0 or not can_host(problem, township, key, slot):
                    continue
                for expert in eligible:
                    if ledger.can_go(expert, slot, key.township, key, reserve=owed[expert.id]):
                        ledger.add(expert, slot, key.township, key)
                        found = True
                        break
                if found:
                    first_slot = index
                    break
            if not found:
                break
            placed += 1
        if placed < wanted:
            unmet.append(Unmet(key.township, key.type, key.specialty, wanted - placed, _demand_reason(problem, key, eligible)))
    return unmet


def _demand_reason(problem: Problem, key: DemandKey, eligible: list[Expert]) -> Reason:
    township = problem.township(key.township)
    if not ward_rounds_need_an_inpatient_ward(problem, township, key, None):  # the ward rule looks at no half-day
        return Reason.of(ReasonCode.NO_INPATIENT_WARD, township=key.township)
    holders = [expert for expert in problem.experts if expert_holds_the_specialty(problem, expert, key)]
    if not holders:
        return Reason.of(ReasonCode.NO_SPECIALIST, specialty=key.specialty)
    if not eligible:
        return Reason.of(ReasonCode.TITLE_TOO_LOW, specialty=key.specialty, title=problem.rules.teaching_min_title, holders=len(holders))
    return Reason.of(ReasonCode.NO_FREE_HALF_DAY, specialty=key.specialty, eligible=len(eligible))


def _make_visits(problem: Problem, ledger: _Ledger, owed: Counter[str]) -> list[Unmet]:
    unmet = []
    wanted = problem.rules.link_visits_per_month
    if wanted <= 0:
        return unmet
    for link in problem.links:
        visit_days: set[dt.date] = set()
        for _ in range(wanted):
            day = _visit_on_an_existing_session(problem, ledger, link, visit_days) or _visit_by_supervision(problem, ledger, link, visit_days)
            if day is None:
                break
            visit_days.add(day)
            owed[link.member] -= 1
        missing = wanted - len(visit_days)
        if missing:
            unmet.append(Unmet(link.township, SUPERVISION, None, missing, _visit_reason(problem, ledger, link), member=link.member))
    return unmet


def _visit_on_an_existing_session(problem: Problem, ledger: _Ledger, link: Link, taken: set[dt.date]) -> dt.date | None:
    """Flag a session the member already has at the township on a day with a full team."""
    for index, assignment in enumerate(ledger.assignments):
        if assignment.expert != link.member or assignment.township != link.township or assignment.date in taken:
            continue
        if assignment.link_visit or not has_a_team(problem, link.member, ledger.present[(link.township, assignment.date)]):
            continue
        ledger.assignments[index] = replace(assignment, link_visit=True)
        return assignment.date
    return None


def _visit_by_supervision(problem: Problem, ledger: _Ledger, link: Link, taken: set[dt.date]) -> dt.date | None:
    """Add a supervision session on the first day the member is free and a team already serves there."""
    member = problem.expert(link.member)
    township = problem.township(link.township)
    for slot in problem.slots:
        if slot.day in taken or not can_host(problem, township, None, slot):
            continue
        if not has_a_team(problem, link.member, ledger.present[(link.township, slot.day)]):
            continue
        if ledger.can_go(member, slot, link.township, None):
            ledger.add(member, slot, link.township, None, link_visit=True)
            return slot.day
    return None


def _visit_reason(problem: Problem, ledger: _Ledger, link: Link) -> Reason:
    member = problem.expert(link.member)
    if not any(expert_is_available(problem, member, slot) for slot in problem.slots):
        return Reason.of(ReasonCode.MEMBER_UNAVAILABLE, member=member.id, township=link.township)
    if sessions_left(ledger.partial, member.id) <= 0:
        return Reason.of(ReasonCode.MEMBER_AT_MONTHLY_LIMIT, member=member.id, limit=member.max_sessions)
    return Reason.of(ReasonCode.TEAM_NOT_FITTED, member=member.id, township=link.township, team_min=problem.rules.link_team_min)


def greedy_baseline(problem: Problem) -> Solution:
    """A first-fit roster keeping every hard rule, with unmet demand and missed link visits reported."""
    started = time.perf_counter()
    ledger = _Ledger(problem)
    owed = _owed_visits(problem)
    unmet = _fill_demand(problem, ledger, owed)
    unmet += _make_visits(problem, ledger, owed)
    seen: Counter[str] = Counter()
    assignments = []
    for assignment in ledger.assignments:
        assignment_id = new_assignment_id(problem.month, assignment)
        seen[assignment_id] += 1
        if seen[assignment_id] > 1:
            assignment_id = new_assignment_id(problem.month, assignment, salt=str(seen[assignment_id]))
        assignments.append(assignment.with_id(assignment_id))
    wall = time.perf_counter() - started
    unmet_sessions = sum(row.sessions for row in unmet if row.type != SUPERVISION)
    report = SolveReport(
        status="FEASIBLE",
        wall_seconds=wall,
        workers=1,
        explanation="greedy baseline: first free expert at the first half-day that keeps the hard rules",
        unmet_sessions=unmet_sessions,
        first_feasible_seconds=wall,
    )
    return Solution(problem.month, tuple(sorted(assignments, key=lambda a: (a.date, a.half_day, a.township, a.expert))), tuple(unmet), report)
