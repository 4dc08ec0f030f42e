"""Large-neighbourhood search (solver.search): it only ever improves a roster, and never at the cost of a rule,
a covered session or a link visit; each kind of neighbourhood frees what it says."""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import Counter

import pytest
from ortools.sat.python import cp_model

from bench.generate import generate_scenario
from scheduler.problem_builder import build_problem
from solver.candidates import enumerate_candidates
from solver.construct import construct
from solver.engine import Incumbent, evaluate, to_assignments
from solver.search.config import SearchConfig
from solver.search.context import SearchContext
from solver.search.floors import timetable_above_its_floors
from solver.search.kinds import Kind
from solver.search.lns import improve
from solver.search.memory import TriedDays
from solver.search.neighbourhoods.proposals import repacked_townships
from solver.search.neighbourhoods.reassign import whoever_could_take
from solver.search.neighbourhoods.thin_day import thin_day
from solver.search.neighbourhoods.visit import visit_with_sessions
from solver.search.neighbourhoods.whole_days import two_days
from solver.search.schedule import steps as search_steps
from solver.model import build_model
from solver.bounds import township_days_needed
from solver.problem import DemandKey, Department, Expert, Problem, Rules, Slot, Township, Weights
from solver.reasons import explain_unmet
from solver.rules.objectives import fair_targets
from solver.solution import Solution, SolveReport
from tests.solver.checker import violations


@pytest.fixture(scope="module")
def county():
    problem = build_problem(generate_scenario(9, 60, 0.9, seed=3, month="2027-03"), "2027-03")
    return problem, enumerate_candidates(problem)


def _context(problem, candidates, start: Incumbent, seed: int = 0, max_free: int = 1000) -> SearchContext:
    """A search's context on a fixed incumbent, as `improve` makes it."""
    return SearchContext(problem, candidates, random.Random(seed), lambda: start, fair_targets(problem, candidates), SearchConfig(max_free=max_free))


def _covered(candidates, roster: Incumbent) -> int:
    return sum(1 for i in roster.chosen if candidates.items[i].key is not None)


def test_search_improves_the_start_without_losing_a_rule_a_session_or_a_visit(county):
    problem, candidates = county
    state = construct(problem, candidates)
    start = Incumbent(set(state.chosen), set(state.visits))
    targets = fair_targets(problem, candidates)
    before = evaluate(problem, candidates, start, targets)
    found = improve(problem, candidates, start, deadline=time.monotonic() + 4, config=SearchConfig(max_free=1000, step_seconds=0.3), targets=targets)
    after = evaluate(problem, candidates, found, targets)
    assert _covered(candidates, found) >= _covered(candidates, start)
    assert len(found.visits) >= len(start.visits)
    assert after.objective < before.objective  # a greedy start always leaves something to gain in 4 s
    unmet = tuple(explain_unmet(problem, candidates, found.chosen, found.visits))
    roster = Solution(problem.month, tuple(to_assignments(problem, candidates, found.chosen, found.visits)), unmet, SolveReport("FEASIBLE"))
    assert violations(problem, roster) == []


def test_a_visit_neighbourhood_frees_the_township_the_members_month_and_colleagues_where_the_member_serves(county):
    problem, candidates = county
    link = next(l for l in problem.links if l.township in candidates.townships_served(l.member))
    state = construct(problem, candidates)
    context = _context(problem, candidates, Incumbent(set(state.chosen), set(state.visits)))
    groups = context.groups
    free = visit_with_sessions(context, link)
    assert set(groups.by_township[link.township]) <= free
    assert set(candidates.by_expert[link.member]) <= free
    serving = {candidates.items[i].township for i in state.chosen if candidates.items[i].expert == link.member} - {link.township}
    assert serving, "the member serves somewhere besides the linked township"
    specialties = problem.expert(link.member).specialties
    colleagues_there = {
        i for i, c in enumerate(candidates.items)
        if c.key is not None and c.key.specialty in specialties and c.township in serving
    }
    assert colleagues_there <= free
    assert not {i for i in free if candidates.items[i].township not in serving | {link.township} and candidates.items[i].expert != link.member}


def test_a_reassign_neighbourhood_frees_whoever_could_take_the_sessions_already_placed(county):
    problem, candidates = county
    state = construct(problem, candidates)
    context = _context(problem, candidates, Incumbent(set(state.chosen), set(state.visits)), seed=1, max_free=400)
    groups = context.groups
    specialty = next(candidates.items[i].key.specialty for i in sorted(state.chosen) if candidates.items[i].key is not None)
    free = whoever_could_take(context, specialty)
    placed = {(candidates.items[i].key, candidates.items[i].slot) for i in state.chosen if candidates.items[i].key is not None}
    assert free and len(free) <= 400
    for index in free:  # only the rows and half-days of sessions already placed, of that specialty
        c = candidates.items[index]
        assert (c.key, c.slot) in placed and c.key.specialty == specialty
    freed_sessions = {(candidates.items[i].key, candidates.items[i].slot) for i in free}
    for key, slot in freed_sessions:  # each such session whole: everyone who could take it
        assert set(groups.by_key_slot[(key, slot)]) <= free


def test_a_thin_day_neighbourhood_frees_the_rows_of_a_townships_least_used_car_day_on_its_car_days(county):
    problem, candidates = county
    state = construct(problem, candidates)
    context = _context(problem, candidates, Incumbent(set(state.chosen), set(state.visits)))
    groups = context.groups
    items = candidates.items
    township = next(t.id for t in problem.townships if len({items[i].day for i in state.chosen if items[i].township == t.id}) >= 2)
    free = thin_day(context, township)
    sessions_on = Counter(items[i].day for i in state.chosen if items[i].township == township)
    thin_days = [day for day, count in sessions_on.items() if count == min(sessions_on.values())]
    emptied = [day for day in thin_days if {i for i in state.chosen if items[i].township == township and items[i].day == day} <= free]
    assert emptied, "every session of a least-used car-day is free"
    rows = {items[i].key for i in state.chosen if items[i].township == township and items[i].day == emptied[0]}
    elsewhere = {(items[i].expert, items[i].day) for i in state.chosen if items[i].township != township}
    could_come = {
        i for i in groups.by_township[township]
        if items[i].key in rows and items[i].day in sessions_on and (items[i].expert, items[i].day) not in elsewhere
    }
    assert could_come <= free  # those rows, at the township, on its car-days, by anyone free to come
    thin_sessions = {i for i in state.chosen if items[i].township == township and items[i].day == emptied[0]}
    assert free - thin_sessions <= could_come  # and nothing else


def test_repacked_townships_propose_a_complete_roster_on_fewer_car_days(county):
    problem, candidates = county
    state = construct(problem, candidates)
    start = Incumbent(set(state.chosen), set(state.visits))
    items = candidates.items

    def car_days(chosen) -> Counter:
        return Counter(township for township, _day in {(items[i].township, items[i].day) for i in chosen})

    proposal = repacked_townships(_context(problem, candidates, start), until=time.monotonic() + 60)
    assert proposal is not None  # a greedy start leaves car-days to save
    assert _covered(candidates, Incumbent(proposal, start.visits)) == _covered(candidates, start)
    before, after = car_days(start.chosen), car_days(proposal)
    assert sum(after.values()) < sum(before.values())
    def places(chosen, township: str) -> Counter:
        return Counter((items[i].key, items[i].slot) for i in chosen if items[i].township == township)

    for township in problem.townships:
        here = [i for i in start.chosen if items[i].township == township.id]
        if not timetable_above_its_floors(problem, candidates, township.id, here):  # nothing a re-pack could lower: kept
            assert places(proposal, township.id) == places(start.chosen, township.id)
    unmet = tuple(explain_unmet(problem, candidates, proposal, start.visits))
    proposed = Solution(problem.month, tuple(to_assignments(problem, candidates, proposal, start.visits)), unmet, SolveReport("FEASIBLE"))
    assert violations(problem, proposed) == []


MON, TUE, NEXT_MON = dt.date(2027, 3, 1), dt.date(2027, 3, 2), dt.date(2027, 3, 8)
CARDIO = DemandKey("t1", "clinic", "cardio")


def _one_car_day_at_t1(days: tuple[dt.date, ...], weights: Weights, market_days=frozenset()):
    """t1 wants two cardiology sessions; A and B serve them on Monday morning and afternoon, one car-day (all it needs)."""
    slots = tuple(Slot(day, half) for day in days for half in ("am", "pm"))
    experts = (Expert("A", "d", "chief", frozenset({"cardio"}), 10), Expert("B", "d", "chief", frozenset({"cardio"}), 10))
    township = Township("t1", rooms=1, inpatient_ward=False, preferred_weekdays=frozenset(market_days))
    problem = Problem("2027-03", slots, experts, (township,), (Department("d", 0),), {CARDIO: 2}, rules=Rules(weights=weights))
    candidates = enumerate_candidates(problem)
    chosen = {candidates.index_of("A", Slot(MON, "am"), "t1", CARDIO), candidates.index_of("B", Slot(MON, "pm"), "t1", CARDIO)}
    assert township_days_needed(problem, candidates)["t1"] == 1
    return problem, candidates, Incumbent(chosen, set())


def _repacked(problem, candidates, start: Incumbent) -> set[int] | None:
    return repacked_townships(_context(problem, candidates, start), until=time.monotonic() + 10)


def test_a_township_on_the_car_days_it_needs_but_off_its_market_day_is_repacked_onto_it():
    problem, candidates, start = _one_car_day_at_t1((MON, TUE), Weights(fairness=0, spread=0, trips=3, continuity=0, preference=1), {TUE.weekday()})
    proposal = _repacked(problem, candidates, start)
    assert proposal is not None
    assert {candidates.items[i].day for i in proposal} == {TUE} and len(proposal) == 2
    assert _repacked(problem, candidates, Incumbent(proposal, set())) is None  # on its market day: nothing left to gain


def test_a_township_on_the_car_days_it_needs_but_one_week_over_its_share_is_spread_over_the_weeks():
    # one working day a week: a week's even share of two sessions is one; spread (5) costs more than a car-day (3)
    problem, candidates, start = _one_car_day_at_t1((MON, NEXT_MON), Weights(fairness=0, spread=5, trips=3, continuity=0, preference=0))
    proposal = _repacked(problem, candidates, start)
    assert proposal is not None
    assert sorted(candidates.items[i].day for i in proposal) == [MON, NEXT_MON]
    assert violations(problem, Solution(problem.month, tuple(to_assignments(problem, candidates, proposal, ())), (), SolveReport("FEASIBLE"))) == []


def test_no_step_looks_for_coverage_once_the_roster_is_at_its_floor(county):
    problem, candidates = county
    state = construct(problem, candidates)
    start = Incumbent(set(state.chosen), set(state.visits))
    assert _covered(candidates, start) < sum(problem.demand.values())  # some demand is short
    targets = fair_targets(problem, candidates)

    def step_kinds(settled: bool) -> list[Kind]:
        steps = search_steps(_context(problem, candidates, start), time.monotonic() + 4, coverage_settled=lambda: settled)
        return [next(steps).kind for _ in range(20)]

    assert Kind.UNMET in step_kinds(settled=False)
    assert Kind.UNMET not in step_kinds(settled=True)


def test_a_chains_step_comes_before_the_unmet_steps_once_per_incumbent(county):
    problem, candidates = county
    state = construct(problem, candidates)
    start = Incumbent(set(state.chosen), set(state.visits))
    steps = search_steps(_context(problem, candidates, start), time.monotonic() + 4)
    kinds = [next(steps).kind for _ in range(20)]
    assert kinds.count(Kind.CHAINS) == 1  # the incumbent never changes here: one chains step for it
    assert kinds.index(Kind.CHAINS) < kinds.index(Kind.UNMET)
    settled = search_steps(_context(problem, candidates, start), time.monotonic() + 4, coverage_settled=lambda: True)
    assert Kind.CHAINS not in [next(settled).kind for _ in range(20)]


def test_the_search_covers_a_row_only_a_chain_reaches_and_keeps_every_rule():
    # A (cardio + resp, one session) serves t1's cardiology; only A can serve t2's respiratory row; B is free.
    experts = (Expert("A", "d", "chief", frozenset({"cardio", "resp"}), 1), Expert("B", "d", "chief", frozenset({"cardio"}), 1))
    townships = (Township("t1", rooms=1, inpatient_ward=False), Township("t2", rooms=1, inpatient_ward=False))
    resp = DemandKey("t2", "clinic", "resp")
    problem = Problem("2027-03", (Slot(MON, "am"),), experts, townships, (Department("d", 0),), {CARDIO: 1, resp: 1})
    candidates = enumerate_candidates(problem)
    start = Incumbent({candidates.index_of("A", Slot(MON, "am"), "t1", CARDIO)}, set())
    lines: list[str] = []
    found = improve(problem, candidates, start, deadline=time.monotonic() + 3, workers=1, progress=lines.append, config=SearchConfig(max_free=1000))
    assert _covered(candidates, found) == 2
    assert any(line.startswith("augmenting chains: 2 sessions covered") for line in lines)
    roster = Solution(problem.month, tuple(to_assignments(problem, candidates, found.chosen, found.visits)), (), SolveReport("FEASIBLE"))
    assert violations(problem, roster) == []


def _market_day_taken_by_another_township():
    """A and B serve t1 (market day Tuesday) on Monday and t2 (no market day) on Tuesday: two car-days, all
    they need, but t1 off its market day. Re-packing t1 alone cannot move it: A and B are at t2 on Tuesday."""
    weights = Weights(fairness=0, spread=0, trips=3, continuity=0, preference=1)
    slots = tuple(Slot(day, half) for day in (MON, TUE) for half in ("am", "pm"))
    experts = (Expert("A", "d", "chief", frozenset({"cardio"}), 10), Expert("B", "d", "chief", frozenset({"cardio"}), 10))
    townships = (
        Township("t1", rooms=1, inpatient_ward=False, preferred_weekdays=frozenset({TUE.weekday()})),
        Township("t2", rooms=1, inpatient_ward=False),
    )
    at_t2 = DemandKey("t2", "clinic", "cardio")
    problem = Problem("2027-03", slots, experts, townships, (Department("d", 0),), {CARDIO: 2, at_t2: 2}, rules=Rules(weights=weights))
    candidates = enumerate_candidates(problem)
    chosen = {
        candidates.index_of("A", Slot(MON, "am"), "t1", CARDIO),
        candidates.index_of("B", Slot(MON, "pm"), "t1", CARDIO),
        candidates.index_of("A", Slot(TUE, "am"), "t2", at_t2),
        candidates.index_of("B", Slot(TUE, "pm"), "t2", at_t2),
    }
    return problem, candidates, Incumbent(chosen, set())


def test_two_whole_days_trade_a_township_onto_its_market_day_when_its_experts_are_busy_there():
    problem, candidates, start = _market_day_taken_by_another_township()
    assert _repacked(problem, candidates, start) is None  # stuck: its experts are elsewhere on the market day
    free = two_days(_context(problem, candidates, start), "t1")
    assert free == set(range(len(candidates.items)))  # Monday and Tuesday, every township
    roster = build_model(problem, candidates, free=free)
    solver = cp_model.CpSolver()
    assert solver.solve(roster.model) == cp_model.OPTIMAL
    chosen = {i for i, v in roster.x.items() if solver.boolean_value(v)}
    assert {(candidates.items[i].township, candidates.items[i].day) for i in chosen} == {("t1", TUE), ("t2", MON)}


def test_two_days_are_left_out_when_the_township_is_at_its_floors_or_the_days_are_too_big():
    problem, candidates, start = _market_day_taken_by_another_township()
    assert two_days(_context(problem, candidates, start), "t2") == set()  # t2 is at its floors
    assert two_days(_context(problem, candidates, start, max_free=2), "t1") == set()  # 8 candidates > 3 x 2


def test_the_search_tries_two_whole_days_for_a_township_the_repack_leaves_above_its_floors(county):
    problem, candidates = county
    state = construct(problem, candidates)
    start = Incumbent(set(state.chosen), set(state.visits))
    above = [t.id for t in problem.townships if timetable_above_its_floors(problem, candidates, t.id, {i for i in start.chosen if candidates.items[i].township == t.id})]
    assert above, "the start no longer leaves a township above its floors"
    steps = search_steps(_context(problem, candidates, start), time.monotonic() + 4)
    first = [next(steps) for _ in range(4)]
    assert any(step.kind is Kind.WHOLE_DAYS and step.label.removeprefix("two days ") in above for step in first)


def _three_car_days_where_two_do():
    """t1 (one room) wants three sessions, served one a day on Monday, Tuesday and Wednesday: two car-days would do."""
    wed, thu = MON + dt.timedelta(days=2), MON + dt.timedelta(days=3)
    slots = tuple(Slot(day, half) for day in (MON, TUE, wed, thu) for half in ("am", "pm"))
    experts = tuple(Expert(name, "d", "chief", frozenset({"cardio"}), 10) for name in "ABC")
    township = Township("t1", rooms=1, inpatient_ward=False)
    problem = Problem("2027-03", slots, experts, (township,), (Department("d", 0),), {CARDIO: 3})
    candidates = enumerate_candidates(problem)
    chosen = {candidates.index_of(name, Slot(day, "am"), "t1", CARDIO) for name, day in zip("ABC", (MON, TUE, wed))}
    assert township_days_needed(problem, candidates)["t1"] == 2
    return problem, candidates, chosen, (wed, thu)


def test_whole_days_steps_try_each_day_set_of_a_timetable_once_before_any_again():
    problem, candidates, chosen, (wed, _thu) = _three_car_days_where_two_do()
    context = _context(problem, candidates, Incumbent(chosen, set()))

    def days_freed() -> frozenset:
        free = two_days(context, "t1")
        return frozenset(candidates.items[i].day for i in free)

    # the thinnest car-day (Monday) with each car-day that has a room to spare
    assert {days_freed(), days_freed()} == {frozenset({MON, TUE}), frozenset({MON, wed})}
    assert days_freed() in ({MON, TUE}, {MON, wed})  # all tried: it starts over


def test_a_changed_timetable_forgets_the_day_sets_tried_on_the_old_one():
    problem, candidates, chosen, (wed, thu) = _three_car_days_where_two_do()
    tried = TriedDays()
    options = [frozenset({MON, TUE}), frozenset({MON, wed})]
    before = frozenset(chosen)
    assert tried.untried("t1", before, options) == options
    tried.note("t1", options[0])
    assert tried.untried("t1", before, options) == options[1:]
    moved = before - {candidates.index_of("C", Slot(wed, "am"), "t1", CARDIO)} | {candidates.index_of("C", Slot(thu, "am"), "t1", CARDIO)}
    assert tried.untried("t1", frozenset(moved), options) == options


def test_the_search_tries_several_day_sets_in_a_row_for_a_township_the_repack_leaves_above_its_floors(county):
    problem, candidates = county
    state = construct(problem, candidates)
    start = Incumbent(set(state.chosen), set(state.visits))
    context = _context(problem, candidates, start)
    steps = search_steps(context, time.monotonic() + 4)
    yielded = [next(steps) for _ in range(16)]
    runs: list[list[set[int]]] = []
    for step, previous in zip(yielded, [None] + yielded):
        if step.kind is Kind.WHOLE_DAYS:
            if previous is not None and previous.label == step.label:
                runs[-1].append(step.free)
            else:
                runs.append([step.free])
    longest = max(runs, key=len)
    tries = context.config.whole_days_tries
    assert len(longest) == tries
    assert len({frozenset(free) for free in longest}) == tries  # each a different pair of days


def test_the_search_stops_once_it_reaches_the_lower_bound(county):
    problem, candidates = county
    state = construct(problem, candidates)
    start = Incumbent(set(state.chosen), set(state.visits))
    steps: list[str] = []
    improve(problem, candidates, start, deadline=time.monotonic() + 60, config=SearchConfig(max_free=1000, step_seconds=0.3), progress=steps.append, lower_bound=lambda: 10**9)
    assert len(steps) == 1  # the first roster kept is already at the (generous) bound: no second step
    # no bound known: it searches to the deadline (it stops only in the last step's time before it), however few of its
    # steps a loaded machine lets it keep
    config = SearchConfig(max_free=1000, step_seconds=0.3)
    started = time.monotonic()
    improve(problem, candidates, start, deadline=started + 3, config=config, lower_bound=lambda: None)
    assert time.monotonic() - started >= 3 - min(config.last_step_seconds, config.step_seconds)
