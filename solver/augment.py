"""Augmenting chains: one more demanded session covered by moving sessions already placed, as in bipartite matching.

A short demand row (fewer sessions placed than asked) may have no candidate that fits the roster
as it stands: the expert is busy that half-day or elsewhere that day, has no session left this
month, the township's rooms are full, or the department can spare no one more. Each of those is
lifted by taking out one placed session; that session's own row is then short by one, and the
same question is asked of it. A chain that ends on a candidate that simply fits covers one more
session than the roster did, with every other row covered as before.

`augment` looks for such chains breadth first, shortest first, from each short row in turn, and
applies each it finds. Every session it adds passes the hard rules' fast checks
(`solver.rules.fits`) against the roster as changed so far; it never takes out a supervision, a
session on a link visit's township-day (the visit and its team stay as they were), an office pin
or a session counting toward a forced request. A large month's greedy start ends some sessions
above the coverage floor that no large-neighbourhood step finds its way back from, and each
chain is a few dictionary look-ups where a step is a CP-SAT solve (bench/RESULTS.md).
"""

from __future__ import annotations

import random
import time
from collections import defaultdict, deque
from collections.abc import Collection, Iterable

from solver.candidates import Candidates
from solver.partial_roster import PartialRoster
from solver.problem import DemandKey, Problem
from solver.rules import fits
from solver.rules.availability import sessions_left, within_monthly_limit
from solver.rules.coverage import demand_left, room_left, sessions_wanted
from solver.rules.office import office_pinned_indices, required_candidates
from solver.rules.staffing import department_can_spare
from solver.rules.travel import at_one_township_that_day, free_that_half_day

# The longest chain tried (sessions moved to cover one more), and the most rows one search from a short row visits.
MAX_CHAIN = 6
MAX_ROWS_VISITED = 400


class _Placed:
    """The roster as it changes: the fast checks' counters, and the placed sessions grouped by what each rule counts."""

    def __init__(self, problem: Problem, candidates: Candidates, chosen: Iterable[int]) -> None:
        self.problem, self.items = problem, candidates.items
        self.partial = PartialRoster(problem, candidates.spare)
        self.chosen: set[int] = set()
        self.at_slot: dict[tuple, int] = {}  # (expert, half-day) -> session
        self.at_day: dict[tuple, set[int]] = defaultdict(set)  # (expert, day)
        self.of_expert: dict[str, set[int]] = defaultdict(set)
        self.in_rooms: dict[tuple, set[int]] = defaultdict(set)  # (township, half-day), demanded sessions only
        self.of_department: dict[tuple, set[int]] = defaultdict(set)  # (department, half-day)
        self.of_key: dict[DemandKey, set[int]] = defaultdict(set)
        for index in chosen:
            self.add(index)

    def _groups(self, index: int) -> list[set[int]]:
        c = self.items[index]
        groups = [self.at_day[(c.expert, c.day)], self.of_expert[c.expert], self.of_department[(self.partial.department_of.get(c.expert), c.slot)]]
        if c.key is not None:
            groups += [self.in_rooms[(c.township, c.slot)], self.of_key[c.key]]
        return groups

    def add(self, index: int) -> None:
        c = self.items[index]
        self.partial.add(c)
        self.chosen.add(index)
        self.at_slot[(c.expert, c.slot)] = index
        for group in self._groups(index):
            group.add(index)

    def remove(self, index: int) -> None:
        c = self.items[index]
        self.partial.remove(c)
        self.chosen.discard(index)
        del self.at_slot[(c.expert, c.slot)]
        for group in self._groups(index):
            group.discard(index)

    def fits(self, index: int) -> bool:
        return fits(self.partial, self.items[index])

    def fits_without(self, index: int, out: int) -> bool:
        """Whether the candidate fits once the placed session `out` is taken out (the roster is left as it was)."""
        self.remove(out)
        try:
            return self.fits(index)
        finally:
            self.add(out)

    def blockers(self, index: int) -> set[int] | None:
        """The placed sessions of which taking out any one would let the candidate in; None when no single one would.

        The fast checks say which rules bind; rule 3 then names the sessions (the one in that half-day,
        those at another township that day), and rules 4, 5, 7 and 9 let any session they count go.
        These are the ones to try: each must still be confirmed by `fits_without`.
        """
        c = self.items[index]
        partial = self.partial
        if c.key is None or (c.expert, c.day) in partial.supervising:
            return None  # chains add demanded sessions only, and a supervision is never taken out
        forced = set()
        if not free_that_half_day(partial, c):
            forced.add(self.at_slot[(c.expert, c.slot)])
        if not at_one_township_that_day(partial, c):
            forced |= {j for j in self.at_day.get((c.expert, c.day), ()) if self.items[j].township != c.township}
        if len(forced) > 1:
            return None
        if forced:
            return forced
        binding = []
        if not within_monthly_limit(partial, c):
            binding.append(self.of_expert[c.expert])
        if not room_left(partial, c):
            binding.append(self.in_rooms[(c.township, c.slot)])
        if not department_can_spare(partial, c):
            binding.append(self.of_department[(partial.department_of.get(c.expert), c.slot)])
        if not demand_left(partial, c):
            binding.append(self.of_key[c.key])
        if not binding:
            return None  # it fits already, or breaks no rule a single session out would lift
        return set(binding[0]).intersection(*binding[1:]) or None


def _protected(problem: Problem, candidates: Candidates, chosen: Collection[int], visits: Collection[tuple]) -> set[int]:
    """Placed sessions a chain never takes out: supervisions, sessions on a visit's township-day, pins, forced requests."""
    items = candidates.items
    visit_days = {(township, day) for _member, township, day in visits}
    kept = {i for i in chosen if items[i].key is None or (items[i].township, items[i].day) in visit_days}
    kept |= set(office_pinned_indices(problem, candidates))
    for requirement in problem.requirements:
        kept |= set(required_candidates(candidates, requirement))
    return kept & set(chosen)


class _Pools(dict):
    """Each demand row's candidates by expert, grouped the first time the row is asked for."""

    def __init__(self, candidates: Candidates) -> None:
        super().__init__()
        self.candidates = candidates

    def __missing__(self, key: DemandKey) -> dict[str, list[int]]:
        by_expert: dict[str, list[int]] = defaultdict(list)
        for index in self.candidates.by_key.get(key, ()):
            by_expert[self.candidates.items[index].expert].append(index)
        self[key] = dict(by_expert)
        return self[key]


def _chain(
    placed: _Placed, pools: _Pools, short: DemandKey, protected: set[int], dead: set[DemandKey], rng: random.Random, deadline: float | None
) -> list[tuple[int, int | None]] | None:
    """The shortest chain found that covers one more session of `short`, as (candidate in, session out) pairs, the
    last with none out; None if there is none within `MAX_CHAIN` moves and `MAX_ROWS_VISITED` rows (or by `deadline`).

    Rows in `dead` are not entered; when the search fails, every row it visited joins them (as in
    Hopcroft-Karp, a row no chain leaves from stays so while other chains are applied: a heuristic
    here, where the rules are more than a matching's).
    """
    queue: deque[tuple[DemandKey, tuple]] = deque([(short, ())])
    seen_rows = {short}
    items, partial = placed.items, placed.partial

    def opens_a_row(out: int) -> bool:
        row = items[out].key
        return out not in protected and row is not None and row not in seen_rows and row not in dead

    while queue:
        if deadline is not None and time.monotonic() >= deadline:
            return None  # out of time: what was seen is not dead
        key, path = queue.popleft()
        for into, out in path:
            placed.remove(out)
            placed.add(into)
        moved_out = {out for _into, out in path}
        try:
            pool = pools[key]
            experts = list(pool)
            rng.shuffle(experts)
            for expert in experts:
                if sessions_left(partial, expert) <= 0:
                    continue  # rule 4 binds: none of theirs fits
                for index in pool[expert]:
                    if index not in placed.chosen and index not in moved_out and placed.fits(index):
                        return [*path, (index, None)]
            if len(path) + 1 >= MAX_CHAIN:
                continue
            for expert in experts:
                # with no session left, only one of their own sessions out lets a candidate of theirs in
                own_only = sessions_left(partial, expert) <= 0
                for index in pool[expert]:
                    if own_only and not any(opens_a_row(out) for out in placed.of_expert[expert]):
                        break
                    if index in placed.chosen or index in moved_out:
                        continue
                    for out in placed.blockers(index) or ():
                        if not opens_a_row(out) or len(seen_rows) >= MAX_ROWS_VISITED or not placed.fits_without(index, out):
                            continue
                        seen_rows.add(items[out].key)
                        queue.append((items[out].key, (*path, (index, out))))
        finally:
            for into, out in reversed(path):
                placed.remove(into)
                placed.add(out)
    dead |= seen_rows
    return None


def augment(
    problem: Problem,
    candidates: Candidates,
    chosen: Collection[int],
    visits: Collection[tuple] = (),
    deadline: float | None = None,
    seed: int = 0,
    quotas: dict[tuple, int] | None = None,
) -> set[int]:
    """The roster with as many more demanded sessions covered as augmenting chains find before `deadline`.

    `chosen` must keep the hard rules (a roster of solver.construct or of the search). The result
    keeps them too, covers every row at least as well and more in total when a chain was found,
    and keeps every link visit of `visits` with its team. `quotas`, the max-flow plan's sessions per
    (demand row, expert) (solver.bounds.flow_plan), says which short rows to try first.
    """
    rng = random.Random(seed)
    placed = _Placed(problem, candidates, chosen)
    protected = _protected(problem, candidates, chosen, visits)
    planned: dict[DemandKey, int] = defaultdict(int)
    for (key, _expert), sessions in (quotas or {}).items():
        planned[key] += sessions
    dead: set[DemandKey] = set()
    pools = _Pools(candidates)
    short = [key for key in problem.demand if sessions_wanted(placed.partial, key) > 0 and candidates.by_key.get(key)]
    rng.shuffle(short)
    # rows the relaxed plan covers better than the roster first: where the floor says sessions are to be had
    short.sort(key=lambda key: placed.partial.covered[key] - planned[key])
    for key in short:
        while key not in dead and sessions_wanted(placed.partial, key) > 0:
            if deadline is not None and time.monotonic() >= deadline:
                return set(placed.chosen)
            chain = _chain(placed, pools, key, protected, dead, rng, deadline)
            if chain is None:
                break
            for into, out in chain:
                if out is not None:
                    placed.remove(out)
                placed.add(into)
    return set(placed.chosen)
