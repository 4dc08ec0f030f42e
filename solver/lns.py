"""Large-neighbourhood search: the soft terms of a month, improved a piece at a time.

It carries every month above a few thousand candidates (solver.engine); the smallest go to the whole model.

Each step frees one neighbourhood and keeps the rest of the incumbent fixed, then
re-optimises it with CP-SAT on a model that holds only the free candidates and the fixed
assignments (every other candidate is 0 and left out), so a step stays small however large
the county is. While demand is unmet, every other step frees the experts who could serve an
unmet demand row together with the rows they serve now, so sessions can be passed along a
chain; the other steps free a township, a township's thinnest car-day, a specialty, a week
at a few townships, the colleagues of one specialty where they serve or served before
(continuity, fairness), whoever
could take the sessions already placed (reassign), or a link visit's township with the
member's month (visits first, once each), for the soft terms. First, and every `FLOW_EVERY`
steps, one step starts from another roster: the townships whose timetables pay more than their
part of the bounds (car-days, market days, spread), re-packed by solver.timetable, or else the
same sessions; either way each session given to its cheapest experts by solver.reassign's
min-cost flow (CP-SAT keeps the better mix of the two rosters). Then, for each township the re-pack
left above its floors, two whole days (`_two_days`: the worse day and a better one, at every township), so
experts busy elsewhere on the better day can trade places: up to `WHOLE_DAYS_TRIES` in a row, each on
day sets not yet tried on the township's timetable as it stands. A township is freed whole only where the step's sample holds a third of it.
Many small steps beat few large ones: a step frees at most `max_free` candidates
(a sample, when the neighbourhood is bigger) and runs at most `STEP_SECONDS` (smaller still
on months that fit one model). A step is kept only if it makes no fewer link visits and
covers no less demand, and, making as many and covering as much, only if it ends no worse.
"""

from __future__ import annotations

import itertools
import random
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator

from ortools.sat.python import cp_model

from solver.bounds import supervision_links, township_days_needed, township_off_market_needed
from solver.candidates import Candidates, restrict
from solver.model import build_model
from solver.problem import Problem
from solver.reassign import cheapest_experts
from solver.rules.objectives import even_week_shares, fair_targets, off_market_day
from solver.search import Incumbent, coverage_cost, evaluate
from solver.timetable import repacked_timetable, staff

STEP_SECONDS = 1.0
MAX_FREE = 3_000
# A month that fits one CP-SAT model gains more from many smaller steps (measured on the
# sample county and the generated 9-township one: 0.3 s / 1,000 candidates beat 1 s / 3,000).
SMALL_MONTH_STEP_SECONDS = 0.3
SMALL_MONTH_MAX_FREE = 1_000
# Soft steps between two reassignments of every session to its cheapest experts (solver.reassign);
# townships the re-pack left above their floors get whole-days steps twice as often.
FLOW_EVERY = 8
# The most of the time left that one round of re-packed townships may take (solver.timetable).
REPACK_SHARE = 0.25
# Steps named so free two whole days (`_two_days`): a sample of them would not hold the trade.
WHOLE_DAYS = "two days "
WHOLE_DAYS_STEP_FACTOR = 2  # and may take twice a step's time
WHOLE_DAYS_TRIES = 3  # day sets tried in a row for a township the re-pack left above its floors
WHOLE_DAYS_MAX_FREE = 3  # and free up to three times its candidates (three days of the 9-township county)
# A whole-township step needs `max_free` to hold at least 1/WHOLE_TOWNSHIP_SAMPLE of the township's candidates.
WHOLE_TOWNSHIP_SAMPLE = 3


class _Groups:
    """The candidate indices of each township, specialty, (township, week) and (expert, specialty), computed once."""

    def __init__(self, problem: Problem, candidates: Candidates) -> None:
        self.by_township: dict[str, list[int]] = defaultdict(list)
        self.by_specialty: dict[str, list[int]] = defaultdict(list)
        self.by_township_week: dict[tuple, list[int]] = defaultdict(list)
        self.by_day: dict[object, list[int]] = defaultdict(list)
        self.by_expert_specialty: dict[tuple[str, str], list[int]] = defaultdict(list)
        week_of = {day: day.isocalendar()[:2] for day in problem.days}
        for c in candidates.items:
            self.by_township[c.township].append(c.index)
            self.by_day[c.day].append(c.index)
            self.by_township_week[(c.township, week_of[c.day])].append(c.index)
            if c.key is not None:
                self.by_specialty[c.key.specialty].append(c.index)
                self.by_expert_specialty[(c.expert, c.key.specialty)].append(c.index)
        self.by_key_slot = candidates.by_key_slot()
        self.weeks = sorted({week for _township, week in self.by_township_week})
        self.holders: dict[str, list[str]] = defaultdict(list)
        for expert, specialty in self.by_expert_specialty:
            self.holders[specialty].append(expert)


def _colleagues(problem: Problem, candidates: Candidates, groups: _Groups, specialty: str, chosen: set[int], rng: random.Random, max_free: int) -> set[int]:
    """Experts of one specialty, free to trade its sessions among themselves where they serve now or served before.

    Continuity and fairness move sessions between colleagues; limiting each expert to the
    townships they serve or know keeps the step small enough to hold many of them.
    """
    serving: dict[str, set[str]] = defaultdict(set)
    for index in chosen:
        c = candidates.items[index]
        serving[c.expert].add(c.township)
    experts = groups.holders[specialty][:]
    rng.shuffle(experts)

    def where_they_serve_or_served(expert: str) -> list[int]:
        places = serving[expert] | problem.expert(expert).previous_townships
        return [i for i in groups.by_expert_specialty[(expert, specialty)] if candidates.items[i].township in places]

    return _whole_groups_up_to(max_free, (where_they_serve_or_served(expert) for expert in experts))


def _thin_day(candidates: Candidates, groups: _Groups, township: str, chosen: set[int]) -> set[int]:
    """A township's least-used car-day, free to empty into the spare rooms of its other car-days (trips).

    Frees, at the township and on its car-days only, every candidate of the rows served on the
    thinnest of them, for experts not serving elsewhere that day (they could not come). Empty
    when the township has fewer than two car-days.
    """
    items = candidates.items
    sessions_on: dict = defaultdict(int)
    elsewhere = set()
    for i in chosen:
        c = items[i]
        if c.township == township:
            sessions_on[c.day] += 1
        else:
            elsewhere.add((c.expert, c.day))
    if len(sessions_on) < 2:
        return set()
    thinnest = min(sorted(sessions_on), key=lambda day: sessions_on[day])
    keys = {items[i].key for i in chosen if items[i].township == township and items[i].day == thinnest}
    free = {i for i in chosen if items[i].township == township and items[i].day == thinnest}
    for i in groups.by_township.get(township, ()):
        c = items[i]
        if c.key in keys and c.day in sessions_on and (c.expert, c.day) not in elsewhere:
            free.add(i)
    return free


def _sessions_at(candidates: Candidates, chosen: Collection[int], township: str) -> frozenset[int]:
    """The chosen candidates at one township."""
    return frozenset(i for i in chosen if candidates.items[i].township == township)


class _TriedDays:
    """The day sets a township's whole-days steps have tried on its timetable as it stands (forgotten when it changes)."""

    def __init__(self) -> None:
        self._tried: dict[str, tuple[frozenset[int], set[frozenset]]] = {}

    def untried(self, township: str, sessions: frozenset[int], options: list[frozenset]) -> list[frozenset]:
        seen, tried = self._tried.get(township, (None, set()))
        if seen != sessions:
            tried = set()
            self._tried[township] = (sessions, tried)
        fresh = [days for days in options if days not in tried]
        if not fresh:  # every option tried: start over (CP-SAT may find in a second try what it missed)
            tried.clear()
            fresh = options
        return fresh

    def note(self, township: str, days: frozenset) -> None:
        self._tried[township][1].add(days)


def _two_days(
    problem: Problem, candidates: Candidates, groups: _Groups, township: str, chosen: set[int], rng: random.Random, max_free: int, tried: _TriedDays | None = None
) -> set[int]:
    """Two days of a township above one of its floors, whole: every candidate on them, at every township.

    A re-pack (solver.timetable) moves a township's sessions only to days its experts are free.
    With two whole days free, the experts who could come on the better day can trade their work
    there for the worse day's, and the township's sessions move with them. The days are for the
    first floor the township is above (`_car_day_pairs`, which may take three, `_market_day_pairs`,
    `_spread_pairs`); which better day works depends on who is free, so each step takes one its
    township has not tried on its timetable as it stands (`tried`). Empty when it is above none, or
    when the days hold more than `WHOLE_DAYS_MAX_FREE` x `max_free` candidates (a large county's days
    are too big for one step).
    """
    sessions = _sessions_at(candidates, chosen, township)
    here = [candidates.items[i] for i in sessions]
    options = _car_day_pairs(problem, candidates, township, here) or _market_day_pairs(problem, candidates, township, here) or _spread_pairs(problem, township, here)
    if not options:
        return set()
    if tried is not None:
        options = tried.untried(township, sessions, options)
    days = rng.choice(options)
    if tried is not None:
        tried.note(township, days)
    free = {i for day in days for i in groups.by_day.get(day, ())}
    return free if len(free) <= WHOLE_DAYS_MAX_FREE * max_free else set()


def _car_day_pairs(problem: Problem, candidates: Candidates, township: str, here: list) -> list[frozenset]:
    """More car-days than the township needs: its thinnest car-day with one car-day that has rooms to spare, or
    with two when one cannot take the thinnest day's sessions (else with any other car-day)."""
    sessions_on: dict = defaultdict(int)
    for c in here:
        sessions_on[c.day] += 1
    if len(sessions_on) < 2 or not _car_days_beyond_floor(problem, candidates, township, len(sessions_on)):
        return []
    thinnest = min(sorted(sessions_on), key=lambda day: sessions_on[day])
    full = 2 * problem.township(township).rooms  # sessions a day holds (supervisions aside)
    room = {day: full - sessions_on[day] for day in sorted(sessions_on) if day != thinnest and sessions_on[day] < full}
    options = [frozenset({thinnest, day}) for day in room]
    if not any(spare >= sessions_on[thinnest] for spare in room.values()):
        options += [frozenset({thinnest, one, two}) for one, two in itertools.combinations(room, 2)]
    return options or [frozenset({thinnest, day}) for day in sessions_on if day != thinnest]


def _market_day_pairs(problem: Problem, candidates: Candidates, township: str, here: list) -> list[frozenset]:
    """More sessions off the market days than the township must hold: an off-market car-day with a market day,
    one it does not use if any (a used one may have no room left)."""
    place = problem.township(township)
    demanded = [c for c in here if c.key is not None]
    if not place.preferred_weekdays or not _off_market_beyond_floor(problem, candidates, township, demanded):
        return []
    off = sorted({c.day for c in demanded if off_market_day(problem, c)})
    market = [day for day in problem.days if day.weekday() in place.preferred_weekdays and day not in place.closed_days]
    used = {c.day for c in here}
    better = [day for day in market if day not in used] or market
    return [frozenset({worse, day}) for worse in off for day in better if day != worse]


def _spread_pairs(problem: Problem, township: str, here: list) -> list[frozenset]:
    """A specialty beyond its even share in some week: a car-day in that week with a car-day in another."""
    over = _weeks_beyond_share(problem, township, [c for c in here if c.key is not None])
    days = sorted({c.day for c in here})
    options = []
    for week in over:
        inside = [day for day in days if day.isocalendar()[:2] == week]
        outside = [day for day in days if day.isocalendar()[:2] != week]
        options += [frozenset({one, two}) for one in inside for two in outside]
    return list(dict.fromkeys(options))  # two weeks over their share give some pairs twice


def _whole_groups_up_to(max_free: int, groups_of_candidates: Iterable[Collection[int]]) -> set[int]:
    """Whole groups of candidates, in the order given, until the next would pass `max_free` (the first is always taken)."""
    free: set[int] = set()
    for indices in groups_of_candidates:
        if free and len(free) + len(indices) > max_free:
            break
        free.update(indices)
    return free


def _visit_with_sessions(candidates: Candidates, groups: _Groups, link, chosen: set[int]) -> set[int]:
    """A member's link visit as one of their ordinary sessions rather than a supervision on top.

    Frees the linked township, the member's whole month, and their specialty colleagues where
    the member serves now, so a session there can pass to a colleague while the member takes
    one at the linked township on the visit day.
    """
    free = set(groups.by_township.get(link.township, ())) | set(candidates.by_expert.get(link.member, ()))
    serving = {candidates.items[i].township for i in chosen if candidates.items[i].expert == link.member}
    specialties = {c.key.specialty for i in candidates.by_expert.get(link.member, ()) if (c := candidates.items[i]).key is not None}
    for specialty in specialties:
        for colleague in groups.holders[specialty]:
            free.update(i for i in groups.by_expert_specialty[(colleague, specialty)] if candidates.items[i].township in serving)
    return free


def _reassign(candidates: Candidates, groups: _Groups, chosen: set[int], rng: random.Random, max_free: int, specialty: str | None = None) -> set[int]:
    """Who serves the sessions already placed: every expert who could take a chosen session's row in its half-day.

    The places and times stay (trips, market days, spread do not move); fairness and
    continuity trade sessions between experts. Whole sessions are freed, in random order, up
    to `max_free` candidates.
    """
    sessions = []
    for index in chosen:
        key = candidates.items[index].key
        if key is not None and (specialty is None or key.specialty == specialty):
            sessions.append((key, candidates.items[index].slot))
    rng.shuffle(sessions)
    return _whole_groups_up_to(max_free, (groups.by_key_slot.get(session, ()) for session in sessions))


def _timetable_above_its_floors(problem: Problem, candidates: Candidates, township: str, sessions: Collection[int]) -> bool:
    """Whether a township's timetable pays more than its part of the bounds on the terms a re-pack can
    lower: more car-days than it needs, more sessions off its market days than it must, or any
    specialty's week beyond its even share."""
    items = candidates.items
    if _car_days_beyond_floor(problem, candidates, township, len({items[i].day for i in sessions})):
        return True
    demanded = [items[i] for i in sessions if items[i].key is not None]
    return _off_market_beyond_floor(problem, candidates, township, demanded) or bool(_weeks_beyond_share(problem, township, demanded))


def _car_days_beyond_floor(problem: Problem, candidates: Candidates, township: str, car_days: int) -> bool:
    """More car-days at a township than it needs."""
    return car_days > township_days_needed(problem, candidates).get(township, 0)


def _off_market_beyond_floor(problem: Problem, candidates: Candidates, township: str, demanded: list) -> bool:
    """More of a township's sessions off its market days than it must hold (and preferences cost something)."""
    off = sum(off_market_day(problem, c) for c in demanded)
    return bool(problem.rules.weights.preference) and off > township_off_market_needed(problem, candidates).get(township, 0)


def _weeks_beyond_share(problem: Problem, township: str, demanded: list) -> list[tuple]:
    """The ISO weeks, in order, where some specialty's sessions at a township pass its even share (none when spread
    costs nothing)."""
    if not problem.rules.weights.spread:
        return []
    shares = even_week_shares(problem)
    per_week: dict[tuple, int] = defaultdict(int)
    for c in demanded:
        per_week[(c.key.specialty, c.day.isocalendar()[:2])] += 1
    return sorted({week for (specialty, week), count in per_week.items() if count > shares[(township, specialty, week)]})


def _repacked_townships(
    problem: Problem,
    candidates: Candidates,
    incumbent,
    targets: dict[str, int],
    rng: random.Random,
    settled: dict[str, frozenset[int]],
    until: float,
) -> set[int] | None:
    """Every township above its floors (`_timetable_above_its_floors`), re-packed in turn on the roster the last one left
    (solver.timetable), then the cheapest experts for the whole (solver.reassign); None when no
    township re-packs better. A township whose sessions are as they were when it last re-packed no
    better (`settled`) is not tried again, and none is started after `until`."""
    roster = set(incumbent.chosen)
    townships = [t.id for t in problem.townships]
    rng.shuffle(townships)
    changed = False
    for township in townships:
        if time.monotonic() >= until:
            break
        here = _sessions_at(candidates, roster, township)
        if settled.get(township) == here or not _timetable_above_its_floors(problem, candidates, township, here):
            continue
        timetable = repacked_timetable(problem, candidates, township, roster, incumbent.visits)
        staffed = staff(problem, candidates, timetable, roster, targets) if timetable is not None else None
        if staffed is None or len(staffed) < len(roster):  # every session staffed, or none moves
            settled[township] = here
            continue
        roster, changed = staffed, True
    if not changed:
        return None
    return cheapest_experts(problem, candidates, roster, incumbent.visits, targets) or roster


def _soft_neighbourhoods(
    problem: Problem,
    candidates: Candidates,
    groups: _Groups,
    rng: random.Random,
    chosen: Callable[[], set[int]],
    max_free: int,
    tried: _TriedDays | None = None,
) -> list[tuple[str, Callable[[], set[int]]]]:
    """The soft-term steps of one round, shuffled: each option gives the candidates it frees.

    A township is freed whole only where `max_free` holds at least a third of its candidates: a
    thinner sample rarely finds a better timetable, and the re-packed townships (solver.timetable)
    save car-days at a fraction of the cost (generated 400-expert county @60%, four seeds: mean
    1923 with those steps, 1910 without; on the 150-expert one, sampled less thinly, they still gain).
    """
    townships = [t.id for t in problem.townships]
    specialties = sorted(groups.by_specialty)
    options: list[tuple[str, Callable[[], set[int]]]] = []
    for township in townships:
        if len(groups.by_township.get(township, ())) > WHOLE_TOWNSHIP_SAMPLE * max_free:
            continue
        options.append((f"township {township}", lambda t=township: set(groups.by_township.get(t, ()))))
    for specialty in specialties:
        options.append((f"specialty {specialty}", lambda s=specialty: set(groups.by_specialty[s])))
        options.append((f"{specialty} colleagues", lambda s=specialty: _colleagues(problem, candidates, groups, s, chosen(), rng, max_free)))
        options.append((f"reassign {specialty}", lambda s=specialty: _reassign(candidates, groups, chosen(), rng, max_free, s)))
    for _ in range(3):
        options.append(("reassign across specialties", lambda: _reassign(candidates, groups, chosen(), rng, max_free)))
    for township in townships:
        options.append((f"thin day {township}", lambda t=township: _thin_day(candidates, groups, t, chosen())))
        options.append((f"{WHOLE_DAYS}{township}", lambda t=township: _two_days(problem, candidates, groups, t, chosen(), rng, max_free, tried)))
    for link in problem.links:
        if (link.member, link.township) not in supervision_links(problem, candidates):
            options.append((f"visit {link.member}@{link.township}", lambda l=link: _visit_with_sessions(candidates, groups, l, chosen())))
    for week in groups.weeks:
        some = rng.sample(townships, k=max(1, len(townships) // 4))
        options.append((f"week {week[1]}", lambda w=week, some=some: {i for t in some for i in groups.by_township_week.get((t, w), ())}))
    rng.shuffle(options)
    return options


def _unmet_neighbourhood(problem: Problem, candidates: Candidates, chosen: set[int], rng: random.Random) -> tuple[str, set[int]] | None:
    covered: dict = {}
    for index in chosen:
        key = candidates.items[index].key
        if key is not None:
            covered[key] = covered.get(key, 0) + 1
    short = [key for key, wanted in problem.demand.items() if covered.get(key, 0) < wanted and candidates.by_key.get(key)]
    if not short:
        return None
    key = rng.choice(short)
    helpers = {candidates.items[i].expert for i in candidates.by_key[key]}
    served_keys = {candidates.items[i].key for i in chosen if candidates.items[i].expert in helpers and candidates.items[i].key is not None}
    free = set(candidates.by_key[key])
    for expert in helpers:
        free.update(candidates.by_expert.get(expert, ()))
    for other in served_keys:
        free.update(candidates.by_key.get(other, ()))
    return f"unmet {key.township}/{key.type}/{key.specialty}", free


def _neighbourhoods(
    problem: Problem,
    candidates: Candidates,
    rng: random.Random,
    incumbent: Callable[[], object],
    max_free: int,
    targets: dict[str, int],
    deadline: float,
    coverage_settled: Callable[[], bool] = lambda: False,
) -> Iterator[tuple[str, set[int], set[int] | None]]:
    """Alternate unmet-demand steps (while any demand is short and coverage is not `coverage_settled`,
    at its proven floor) with soft-term steps. First, and every
    `FLOW_EVERY` steps, a roster of its own: the townships above their floors re-packed
    (`_repacked_townships`), or when none re-packs better, the cheapest experts for the sessions as
    placed (solver.reassign).

    Yields (name, free candidates, hint): the hint is None for the incumbent itself.
    """
    groups = _Groups(problem, candidates)
    first_round = True
    chosen = lambda: incumbent().chosen  # noqa: E731 - the incumbent changes between steps
    since_flow = FLOW_EVERY
    settled: dict[str, frozenset[int]] = {}  # townships whose timetable, as it stands, re-packs no better
    tried = _TriedDays()
    while True:
        options = _soft_neighbourhoods(problem, candidates, groups, rng, chosen, max_free, tried)
        if first_round:  # visits carried by ordinary sessions gain the most: try each once first
            options.sort(key=lambda option: not option[0].startswith("visit "))
            first_round = False
        for name, free in options:
            if since_flow >= FLOW_EVERY:
                since_flow = 0
                best = incumbent()
                name_of_proposal, roster = "repacked townships", _repacked_townships(
                    problem, candidates, best, targets, rng, settled, until=time.monotonic() + REPACK_SHARE * (deadline - time.monotonic())
                )
                if roster is None:
                    name_of_proposal, roster = "cheapest experts", cheapest_experts(problem, candidates, best.chosen, best.visits, targets)
                if roster is not None and roster != best.chosen:
                    yield name_of_proposal, roster | best.chosen, roster
            if since_flow in (0, FLOW_EVERY // 2):
                stuck = [t.id for t in problem.townships if settled.get(t.id) == _sessions_at(candidates, chosen(), t.id)]
                rng.shuffle(stuck)
                for township in stuck:  # re-packed no better, still above its floors: whole days (its experts may be busy elsewhere)
                    for _ in range(WHOLE_DAYS_TRIES):
                        if settled.get(township) != _sessions_at(candidates, chosen(), township):
                            break  # the last step moved it: the re-pack goes first again
                        freed = _two_days(problem, candidates, groups, township, chosen(), rng, max_free, tried)
                        if not freed:
                            break
                        yield f"{WHOLE_DAYS}{township}", freed, None
            since_flow += 1
            targeted = None if coverage_settled() else _unmet_neighbourhood(problem, candidates, chosen(), rng)
            if targeted is not None:
                yield *targeted, None
            freed = free()
            if freed:
                yield name, freed, None


def improve(
    problem: Problem,
    candidates: Candidates,
    incumbent,
    deadline: float,
    workers: int = 2,
    progress=None,
    seed: int = 0,
    targets=None,
    max_free: int = MAX_FREE,
    step_seconds: float = STEP_SECONDS,
    coverage_floor: int | None = None,
    lower_bound: Callable[[], int | None] = lambda: None,
):
    """Improve the incumbent neighbourhood by neighbourhood until the deadline, or until it reaches
    `lower_bound()` (None while the bound is not known yet); return the best found.

    `coverage_floor` is a lower bound on the weighted unmet demand and missed visits: once the
    incumbent is there, no step looks for more coverage.
    """
    rng = random.Random(seed)
    best = Incumbent(set(incumbent.chosen), set(incumbent.visits))
    targets = targets if targets is not None else fair_targets(problem, candidates)
    steps, best_objective = 0, None
    coverage_settled = lambda: coverage_floor is not None and coverage_cost(problem, candidates, best) <= coverage_floor  # noqa: E731
    for name, free, hint in _neighbourhoods(problem, candidates, rng, lambda: best, max_free, targets, deadline, coverage_settled):
        if time.monotonic() >= deadline - min(0.5, step_seconds):  # no time left for a step
            break
        if best_objective is not None and (bound := lower_bound()) is not None and best_objective <= bound:
            best_objective = evaluate(problem, candidates, best, targets).objective  # the whole model's word on it
            if best_objective is not None and best_objective <= bound:
                break  # proven optimal: nothing better exists
        if len(free) > max_free and hint is None and not name.startswith(WHOLE_DAYS):  # a step from another roster frees exactly what it needs
            free = set(rng.sample(sorted(free), max_free)) | (free & best.chosen)
        step_started = time.monotonic()
        sub, originals = restrict(problem, candidates, free | best.chosen)
        position = {index: p for p, index in enumerate(originals)}
        sub_free = {position[i] for i in free}
        sub_fixed = {position[i] for i in best.chosen if i not in free}
        roster = build_model(problem, sub, free=sub_free, fixed=sub_fixed, fair_targets=targets)
        roster.hint({position[i] for i in (hint if hint is not None else best.chosen)}, best.visits)
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = workers
        limit = step_seconds * (WHOLE_DAYS_STEP_FACTOR if name.startswith(WHOLE_DAYS) else 1)
        solver.parameters.max_time_in_seconds = max(0.2, min(limit, deadline - time.monotonic() - 0.1))
        solver.parameters.random_seed = rng.randrange(1 << 30)
        built = time.monotonic()
        status = solver.solve(roster.model)
        steps += 1
        timing = f"{len(free)} free, built in {built - step_started:.1f} s, {solver.status_name(status)} in {time.monotonic() - built:.1f} s"
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            continue
        chosen = {originals[p] for p in sub_fixed} | {originals[p] for p, v in roster.x.items() if solver.boolean_value(v)}
        visits = {key for key, v in roster.visits.items() if solver.boolean_value(v)}
        covered_before = sum(1 for i in best.chosen if candidates.items[i].key is not None)
        covered_after = sum(1 for i in chosen if candidates.items[i].key is not None)
        objective = round(solver.objective_value)
        if (len(visits), covered_after) < (len(best.visits), covered_before):
            continue  # never trade visits or coverage away for soft terms
        if (len(visits), covered_after) == (len(best.visits), covered_before) and best_objective is not None and objective > best_objective:
            continue  # the step ran out of time before it found the roster it started from
        best, best_objective = Incumbent(chosen, visits), objective
        if progress:
            progress(f"LNS step {steps} ({name}): {covered_after} sessions covered, {len(visits)} link visits, objective {objective} ({timing})")
    return best
