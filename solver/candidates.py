"""Every (expert, half-day, township, session) that some roster could hold, and nothing else.

The model creates a variable only for these, which is what keeps a 400-expert county small:
specialty, title, ward, working day, availability, closures and a department that can spare
nobody are all settled here, before CP-SAT sees anything.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from solver.problem import TITLE_RANK, DemandKey, Expert, Problem, Slot, Township

SUPERVISION = "supervision"


@dataclass(frozen=True, slots=True)
class Candidate:
    """One possible assignment; `key` is None for a link member's supervision session."""

    index: int
    expert: str
    slot: Slot
    township: str
    key: DemandKey | None

    @property
    def day(self) -> dt.date:
        return self.slot.day

    @property
    def type(self) -> str:
        return self.key.type if self.key else SUPERVISION

    @property
    def specialty(self) -> str | None:
        return self.key.specialty if self.key else None


def can_serve(problem: Problem, expert: Expert, key: DemandKey) -> bool:
    """Rules 1 and 6 for the person: the specialty, and the title a teaching session needs."""
    if key.specialty not in expert.specialties:
        return False
    if key.type == "teaching":
        return TITLE_RANK[expert.title] >= TITLE_RANK[problem.rules.teaching_min_title]
    return True


def can_host(problem: Problem, township: Township, key: DemandKey, slot: Slot) -> bool:
    """Rules 2 and 6 for the place: open that day, and a ward round needs a ward and its half-day."""
    if slot.day in township.closed_days:
        return False
    if key.type == "ward_round":
        return township.inpatient_ward and slot.half_day in problem.rules.ward_round_half_days
    return True


def department_spare(problem: Problem) -> dict[tuple[str, Slot], int]:
    """Rule 7's bound: how many of a department's experts may be away in each half-day."""
    available: dict[tuple[str, Slot], int] = defaultdict(int)
    for expert in problem.experts:
        for slot in problem.slots:
            if expert.available(slot):
                available[(expert.department, slot)] += 1
    spare = {}
    for department in problem.departments:
        for slot in problem.slots:
            spare[(department.code, slot)] = max(0, available[(department.code, slot)] - department.min_on_site)
    return spare


@dataclass
class Candidates:
    """The candidate list with the groupings every rule sums over."""

    items: list[Candidate]
    spare: dict[tuple[str, Slot], int]
    by_expert_slot: dict[tuple[str, Slot], list[int]] = field(default_factory=lambda: defaultdict(list))
    by_expert_day_township: dict[tuple[str, dt.date, str], list[int]] = field(default_factory=lambda: defaultdict(list))
    by_expert: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    by_township_slot: dict[tuple[str, Slot], list[int]] = field(default_factory=lambda: defaultdict(list))
    by_department_slot: dict[tuple[str, Slot], list[int]] = field(default_factory=lambda: defaultdict(list))
    by_key: dict[DemandKey, list[int]] = field(default_factory=lambda: defaultdict(list))
    lookup: dict[tuple[str, Slot, str, DemandKey | None], int] = field(default_factory=dict)

    def index_of(self, expert: str, slot: Slot, township: str, key: DemandKey | None) -> int | None:
        return self.lookup.get((expert, slot, township, key))


def enumerate_candidates(problem: Problem) -> Candidates:
    """All candidates of the month, grouped for the rules."""
    spare = department_spare(problem)
    keys_by_township: dict[str, list[DemandKey]] = defaultdict(list)
    for key, sessions in sorted(problem.demand.items()):
        if sessions > 0:
            keys_by_township[key.township].append(key)
    linked_townships: dict[str, list[str]] = defaultdict(list)
    for link in problem.links:
        linked_townships[link.member].append(link.township)
    if problem.rules.link_visits_per_month <= 0:
        linked_townships.clear()

    items: list[Candidate] = []
    for expert in problem.experts:
        if expert.max_sessions <= 0:
            continue
        servable = {
            township.id: [key for key in keys_by_township.get(township.id, []) if can_serve(problem, expert, key)]
            for township in problem.townships
        }
        for slot in problem.slots:
            if not expert.available(slot) or spare.get((expert.department, slot), 0) <= 0:
                continue
            for township in problem.townships:
                for key in servable[township.id]:
                    if can_host(problem, township, key, slot):
                        items.append(Candidate(len(items), expert.id, slot, township.id, key))
                if township.id in linked_townships.get(expert.id, ()) and slot.day not in township.closed_days:
                    items.append(Candidate(len(items), expert.id, slot, township.id, None))
    return group_candidates(problem, items, spare)


def group_candidates(problem: Problem, items: list[Candidate], spare: dict[tuple[str, Slot], int]) -> Candidates:
    """Index candidates by every grouping a rule needs."""
    grouped = Candidates(items, spare)
    department_of = {expert.id: expert.department for expert in problem.experts}
    for candidate in items:
        index = candidate.index
        grouped.by_expert_slot[(candidate.expert, candidate.slot)].append(index)
        grouped.by_expert_day_township[(candidate.expert, candidate.day, candidate.township)].append(index)
        grouped.by_expert[candidate.expert].append(index)
        grouped.by_department_slot[(department_of[candidate.expert], candidate.slot)].append(index)
        if candidate.key is not None:
            grouped.by_township_slot[(candidate.township, candidate.slot)].append(index)
            grouped.by_key[candidate.key].append(index)
        grouped.lookup[(candidate.expert, candidate.slot, candidate.township, candidate.key)] = index
    return grouped


def restrict(problem: Problem, candidates: Candidates, keep: set[int]) -> tuple[Candidates, list[int]]:
    """The candidates in `keep` alone, re-indexed from 0, with the list that maps new indices back."""
    originals = sorted(keep)
    items = []
    for position, index in enumerate(originals):
        c = candidates.items[index]
        items.append(Candidate(position, c.expert, c.slot, c.township, c.key))
    return group_candidates(problem, items, candidates.spare), originals
