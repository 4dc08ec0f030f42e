"""Every (expert, half-day, township, session) that some roster could hold, and nothing else.

The model creates a variable only for these, which is what keeps a 400-expert county small:
specialty, title, ward, working day, availability, closures (rules 1, 2 and 6, written once in
solver.eligibility) and a department that can spare nobody are all settled here, before CP-SAT
sees anything.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from solver.eligibility import can_be_there, can_host, can_serve
from solver.problem import DemandKey, Problem, Slot

__all__ = [
    "Candidate", "Candidates", "can_host", "can_serve", "department_spare", "enumerate_candidates", "group_candidates", "is_candidate",
    "restrict", "visits_linked",
]

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
    _lookup: dict[tuple[str, Slot, str, DemandKey | None], int] | None = None
    _serving: dict[str, set[str]] | None = None
    _by_key_slot: dict[tuple[DemandKey, Slot], list[int]] | None = None
    # values derived from the candidates of one problem, computed once (see `derived_value`)
    _derived: dict[str, tuple[object, object]] = field(default_factory=dict)

    def derived_value(self, name: str, problem: object, compute):
        """`compute()` the first time `name` is asked for this problem, the stored value after that.

        The bounds and the start share several relaxations of the same month (the max flow,
        the possible visit days, the assignment network); this computes each once per solve.
        """
        stored = self._derived.get(name)
        if stored is None or stored[0] is not problem:
            stored = self._derived[name] = (problem, compute())
        return stored[1]

    def by_key_slot(self) -> dict[tuple[DemandKey, Slot], list[int]]:
        """The candidates of each demand row in each half-day: who could take a session placed there."""
        if self._by_key_slot is None:  # built on first use, like the lookup
            self._by_key_slot = defaultdict(list)
            for c in self.items:
                if c.key is not None:
                    self._by_key_slot[(c.key, c.slot)].append(c.index)
        return self._by_key_slot

    def index_of(self, expert: str, slot: Slot, township: str, key: DemandKey | None) -> int | None:
        if self._lookup is None:  # built on first use: most solves never ask
            self._lookup = {(c.expert, c.slot, c.township, c.key): c.index for c in self.items}
        return self._lookup.get((expert, slot, township, key))

    def townships_served(self, expert: str) -> set[str]:
        """The townships where the expert could serve some demand row."""
        if self._serving is None:  # built on first use, like the lookup
            self._serving = defaultdict(set)
            for key, indices in self.by_key.items():
                for index in indices:
                    self._serving[self.items[index].expert].add(key.township)
        return self._serving.get(expert, set())


def enumerate_candidates(
    problem: Problem,
    keys: Collection[DemandKey] | None = None,
    supervision_townships: Collection[str] | None = None,
    also: Iterable[tuple[str, Slot, str, DemandKey | None]] = (),
    spare: dict[tuple[str, Slot], int] | None = None,
    half_days: Mapping[str, Collection[Slot]] | None = None,
) -> Candidates:
    """All candidates of the month, grouped for the rules.

    A re-plan asks for part of them: only some demand rows (`keys`), supervision only at some
    townships, `half_days` of some townships only (their rows' sessions in those half-days alone),
    and `also` the previous assignments, each kept only if it is still a candidate.
    `spare`, when given, is `department_spare(problem)` computed already.
    """
    spare = department_spare(problem) if spare is None else spare
    wanted_keys = None if keys is None else set(keys)
    keys_by_township: dict[str, list[DemandKey]] = defaultdict(list)
    for key, sessions in sorted(problem.demand.items()):
        if sessions > 0 and (wanted_keys is None or key in wanted_keys):
            keys_by_township[key.township].append(key)
    linked_townships: dict[str, list[str]] = defaultdict(list)
    if problem.rules.link_visits_per_month > 0:
        for link in problem.links:
            if supervision_townships is None or link.township in supervision_townships:
                linked_townships[link.member].append(link.township)

    # the place rules look at no expert: asked once per (township, half-day), not once per expert, and only where some
    # row or visit is asked for (a re-plan asks for a few rows of one township)
    visited = {township for townships in linked_townships.values() for township in townships}
    hosted = {
        (township.id, slot): {key for key in keys_by_township[township.id] if can_host(problem, township, key, slot)}
        if half_days is None or township.id not in half_days or slot in half_days[township.id]
        else set()
        for township in problem.townships
        if township.id in keys_by_township
        for slot in problem.slots
    }
    open_to_visits = {(township.id, slot): can_host(problem, township, None, slot) for township in problem.townships if township.id in visited for slot in problem.slots}

    items: list[Candidate] = []
    seen: set[tuple] = set()
    for expert in problem.experts:
        if not expert.rostered:
            continue
        servable = {township: [key for key in township_keys if can_serve(problem, expert, key)] for township, township_keys in keys_by_township.items()}
        linked = linked_townships.get(expert.id, ())
        # only the townships where this expert could serve a row or visit (a re-plan asks for a few rows of many townships)
        places = [
            (township.id, servable.get(township.id, ()), township.id in linked)
            for township in problem.townships
            if servable.get(township.id) or township.id in linked
        ]
        if not places:
            continue
        for slot in problem.slots:
            if not can_be_there(problem, expert, slot) or spare.get((expert.department, slot), 0) <= 0:
                continue
            for township_id, servable_here, visits_here in places:
                if servable_here:
                    here = hosted[(township_id, slot)]
                    for key in servable_here:
                        if key in here:
                            items.append(Candidate(len(items), expert.id, slot, township_id, key))
                if visits_here and open_to_visits[(township_id, slot)]:
                    items.append(Candidate(len(items), expert.id, slot, township_id, None))
    also = list(also)
    if also:
        seen.update((c.expert, c.slot, c.township, c.key) for c in items)
    for expert_id, slot, township_id, key in also:
        if (expert_id, slot, township_id, key) not in seen and is_candidate(problem, spare, expert_id, slot, township_id, key):
            items.append(Candidate(len(items), expert_id, slot, township_id, key))
            seen.add((expert_id, slot, township_id, key))
    return group_candidates(problem, items, spare)


def visits_linked(problem: Problem, member: str, township: str) -> bool:
    """Rule 8's place for a supervision: the month asks for link visits, and the member is linked to the township."""
    return problem.rules.link_visits_per_month > 0 and any(link.member == member and link.township == township for link in problem.links)


def is_candidate(problem: Problem, spare: dict, expert_id: str, slot: Slot, township_id: str, key: DemandKey | None) -> bool:
    """The same test as enumeration, for one assignment: would the month create this candidate?"""
    try:
        expert, township = problem.expert(expert_id), problem.township(township_id)
    except KeyError:
        return False
    if not expert.rostered or not can_be_there(problem, expert, slot):
        return False
    if spare.get((expert.department, slot), 0) <= 0:
        return False
    if key is None:
        return visits_linked(problem, expert_id, township_id) and can_host(problem, township, None, slot)
    return problem.demand.get(key, 0) > 0 and key.township == township_id and can_serve(problem, expert, key) and can_host(problem, township, key, slot)


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
    return grouped


def restrict(problem: Problem, candidates: Candidates, keep: set[int]) -> tuple[Candidates, list[int]]:
    """The candidates in `keep` alone, re-indexed from 0, with the list that maps new indices back."""
    originals = sorted(keep)
    items = []
    for position, index in enumerate(originals):
        c = candidates.items[index]
        items.append(Candidate(position, c.expert, c.slot, c.township, c.key))
    return group_candidates(problem, items, candidates.spare), originals
