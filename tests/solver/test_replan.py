"""Minimal-change re-planning on the sample county (config/examples/quannan.yaml, 2027-01): leave and a closure."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from pathlib import Path

import pytest

from scheduler.problem_builder import build_problem
from scheduler.scenario import Scenario, load_scenario
from ortools.sat.python import cp_model

from solver.candidates import enumerate_candidates
from solver.engine import solve
from solver.model import build_model
from solver.problem import DemandKey, Department, Expert, Link, Problem, Requirement, Rules, Slot, Township
from solver.solution import Assignment, Solution, SolveReport, diff_rosters, new_assignment_id
from tests.solver.checker import violations
from tests.solver.replan_checks import assert_as_good_as_fresh, beyond_rooms

SAMPLE = Path(__file__).resolve().parents[2] / "config" / "examples" / "quannan.yaml"
MONTH = "2027-01"
# Each forced session costs one change when it moves (same id) and two when it is replaced
# (removed + added); a couple more cover a link visit's team moving with it.
CHAIN_SLACK = 2
# Long enough for the re-plan to prove its change count optimal on the sample even on a busy machine.
REPLAN_SECONDS = 20
REPLAN_WORK = 20.0
REPLAN_BACKSTOP_SECONDS = 120


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return load_scenario(SAMPLE)


@pytest.fixture(scope="module")
def published(scenario) -> tuple[Problem, Solution]:
    problem = build_problem(scenario, MONTH)
    solution = solve(problem, time_limit=6, workers=2)
    assert solution.report.status in ("OPTIMAL", "FEASIBLE")
    assert violations(problem, solution) == []
    return problem, solution


def with_leave(scenario: Scenario, expert_id: str, first: dt.date, last: dt.date) -> Scenario:
    document = scenario.model_dump(by_alias=True, mode="json")
    (entry,) = [e for e in document["experts"] if e["id"] == expert_id]
    entry["unavailable"].append({"from": first.isoformat(), "to": last.isoformat(), "reason": "病假"})
    return Scenario.model_validate(document)


def coverage_cost(problem: Problem, solution: Solution) -> int:
    weights = problem.rules.weights
    unmet = sum(u.sessions for u in solution.unmet if u.type != "supervision")
    missed = sum(u.sessions for u in solution.unmet if u.type == "supervision")
    return weights.unmet * unmet + weights.link * missed


def best_coverage_keeping(problem: Problem, kept: list[Assignment]) -> int:
    """The least weighted unmet demand and missed visits of any roster that keeps `kept` as they are (CP-SAT, proven)."""
    candidates = enumerate_candidates(problem)
    fixed = set()
    for a in kept:
        key = None if a.type == "supervision" else DemandKey(a.township, a.type, a.specialty)
        index = candidates.index_of(a.expert, a.slot, a.township, key)
        assert index is not None, a
        fixed.add(index)
    roster = build_model(problem, candidates, free=set(range(len(candidates.items))) - fixed, fixed=fixed)
    coverage = [p for p in roster.penalties if p.family in ("unmet", "link")]
    roster.model.minimize(cp_model.LinearExpr.weighted_sum([p.expression for p in coverage], [p.weight for p in coverage]))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = 60
    solver.parameters.num_workers = 2
    assert solver.solve(roster.model) == cp_model.OPTIMAL
    return round(solver.objective_value)


def check_minimal_change(previous: Solution, problem: Problem, new: Solution, forced: list[Assignment]) -> None:
    """The re-plan is valid, keeps its ids, and changes little beyond the sessions it had to."""
    assert new.report.status in ("OPTIMAL", "FEASIBLE"), new.report
    assert violations(problem, new) == []
    assert new.report.unmet_sessions <= previous.report.unmet_sessions + len(forced)

    forced_ids = {a.id for a in forced}
    assert len(forced_ids) == len(forced)
    new_by_id = {a.id: a for a in new.assignments}
    assert len(new_by_id) == len(new.assignments)
    # a session whose content did not change keeps its id (calendar UIDs derive from it)
    previous_by_content = {a.content: a.id for a in previous.assignments}
    for assignment in new.assignments:
        if assignment.content in previous_by_content:
            assert assignment.id == previous_by_content[assignment.content], assignment
    # A session's place is what it is without the visit flag: when a forced visit moves to a day on which the
    # member already serves, that session takes up the flag (same id, same place). Visits are judged on their own.
    unforced_changed = [
        a for a in previous.assignments if a.id not in forced_ids and (a.id not in new_by_id or new_by_id[a.id].content[:6] != a.content[:6])
    ]
    # a visit whose township-day lost a session (its member, or one of its team) may have to move
    forced_days = {(a.township, a.date) for a in forced}
    visits_before = {(a.expert, a.township, a.date) for a in previous.assignments if a.link_visit}
    visits_after = {(a.expert, a.township, a.date) for a in new.assignments if a.link_visit}
    unforced_visits_lost = {visit for visit in visits_before - visits_after if visit[1:] not in forced_days}
    visit_flag_moves = [
        a for a in previous.assignments if a.id in new_by_id and new_by_id[a.id].content[:6] == a.content[:6] and new_by_id[a.id].content != a.content
    ]
    diff = diff_rosters(previous.assignments, new.assignments)
    assert diff.changes >= 1
    if new.report.status == "OPTIMAL":
        # optimal for the re-plan's order (coverage, then changes): nothing still legal moves needlessly,
        # unless moving it buys coverage that keeping every unforced session cannot reach (a chain)
        if unforced_changed or unforced_visits_lost:
            kept = [a for a in previous.assignments if a.id not in forced_ids]
            assert coverage_cost(problem, new) < best_coverage_keeping(problem, kept), (unforced_changed, unforced_visits_lost)
        else:
            assert diff.changes <= 2 * len(forced) + CHAIN_SLACK + len(visit_flag_moves), diff
    else:
        # Stopped at the time limit: stage A (coverage) re-optimises the neighbourhood without a stability
        # term, so its churn survives when stage B runs out of time. Seen: 17 unforced changes for 3 forced.
        assert diff.changes <= len(forced) * 2 + 2 * len(unforced_changed) + len(visit_flag_moves), diff
    for assignment in forced:
        assert assignment in diff.removed or any(before == assignment for before, _after in diff.moved)


def test_replan_after_a_week_of_leave(scenario, published):
    problem, previous = published
    busiest, sessions = Counter(a.expert for a in previous.assignments).most_common(1)[0]
    assert sessions >= 2
    first_day = min(a.date for a in previous.assignments if a.expert == busiest)
    monday = first_day - dt.timedelta(days=first_day.weekday())
    friday = monday + dt.timedelta(days=4)
    changed = build_problem(with_leave(scenario, busiest, monday, friday), MONTH)
    forced = [a for a in previous.assignments if a.expert == busiest and monday <= a.date <= friday]
    assert forced

    # one worker and a deterministic work limit: the same re-plan however loaded the machine is
    new = solve(changed, time_limit=REPLAN_BACKSTOP_SECONDS, workers=1, previous=previous, work_limit=REPLAN_WORK)

    assert not [a for a in new.assignments if a.expert == busiest and monday <= a.date <= friday]
    check_minimal_change(previous, changed, new, forced)


def test_a_replan_with_a_work_limit_is_the_same_every_time(scenario, published):
    # The leave test once failed (`assert 9000 < 9000`): the re-plan said OPTIMAL for its neighbourhood
    # alone, and moved E046's session because the touched rows could not reach the coverage the whole
    # month reaches while keeping it. Which experts are in the neighbourhood depends on the published
    # roster, a 2-worker timed solve, hence the flake. Now OPTIMAL holds for the whole month, and with
    # one worker and a work limit no step of the re-plan reads the clock: the same roster every time.
    problem, previous = published
    busiest = Counter(a.expert for a in previous.assignments).most_common(1)[0][0]
    first_day = min(a.date for a in previous.assignments if a.expert == busiest)
    changed = build_problem(with_leave(scenario, busiest, first_day, first_day + dt.timedelta(days=4)), MONTH)

    runs = [solve(changed, time_limit=REPLAN_BACKSTOP_SECONDS, workers=1, previous=previous, work_limit=4.0) for _ in range(2)]

    assert runs[0].assignments == runs[1].assignments
    assert runs[0].report.status == runs[1].report.status
    assert violations(changed, runs[0]) == []


def test_replan_after_a_township_closure(scenario, published):
    problem, previous = published
    (township, day), _count = Counter((a.township, a.date) for a in previous.assignments).most_common(1)[0]
    changed = build_problem(scenario, MONTH, township_closures={township: frozenset({day})})
    forced = [a for a in previous.assignments if a.township == township and a.date == day]

    new = solve(changed, time_limit=REPLAN_SECONDS, workers=2, previous=previous)

    assert not [a for a in new.assignments if a.township == township and a.date == day]
    check_minimal_change(previous, changed, new, forced)


def test_replan_without_a_change_keeps_everything(published):
    problem, previous = published
    new = solve(problem, time_limit=4, workers=2, previous=previous)
    assert violations(problem, new) == []
    assert diff_rosters(previous.assignments, new.assignments).changes == 0
    assert {a.id for a in new.assignments} == {a.id for a in previous.assignments}


# --- tiny cases, solved to optimality: the strict form of "keep what is still legal" ------------

MON = dt.date(2027, 3, 1)
DAYS = tuple(MON + dt.timedelta(days=n) for n in range(5))


def tiny_problem(blocked_for: dict[str, dict[Slot, str]] | None = None, closed: frozenset[dt.date] = frozenset()) -> Problem:
    blocked_for = blocked_for or {}
    experts = tuple(Expert(f"E{n}", "d", "chief", frozenset({"cardio"}), 3, blocked=blocked_for.get(f"E{n}", {})) for n in range(1, 4))
    townships = (Township("t1", rooms=1, inpatient_ward=False, closed_days=closed), Township("t2", rooms=1, inpatient_ward=False))
    return Problem(
        "2027-03",
        tuple(Slot(day, "am") for day in DAYS),
        experts,
        townships,
        (Department("d", 0),),
        {DemandKey("t1", "clinic", "cardio"): 3, DemandKey("t2", "clinic", "cardio"): 2},
    )


def check_strict(previous: Solution, problem: Problem, new: Solution, forced: list[Assignment]) -> None:
    assert new.report.status == "OPTIMAL", new.report
    assert violations(problem, new) == []
    assert new.report.unmet_sessions == previous.report.unmet_sessions == 0
    forced_ids = {a.id for a in forced}
    new_by_id = {a.id: a for a in new.assignments}
    for assignment in previous.assignments:
        if assignment.id not in forced_ids:
            assert new_by_id.get(assignment.id) == assignment, assignment
    diff = diff_rosters(previous.assignments, new.assignments)
    assert diff.changes <= 2 * len(forced)
    assert len(new.assignments) == len(previous.assignments)


def test_tiny_replan_after_leave_keeps_every_other_session():
    problem = tiny_problem()
    previous = solve(problem, time_limit=5, workers=1)
    assert previous.report.status == "OPTIMAL" and previous.report.unmet_sessions == 0
    victim = previous.assignments[0]
    changed = tiny_problem({victim.expert: {victim.slot: "leave"}})

    new = solve(changed, time_limit=5, workers=1, previous=previous)

    assert victim.id not in {a.id for a in new.assignments if a.content == victim.content}
    assert not [a for a in new.assignments if a.expert == victim.expert and a.slot == victim.slot]
    check_strict(previous, changed, new, [victim])


def test_tiny_replan_after_closure_keeps_every_other_session():
    problem = tiny_problem()
    previous = solve(problem, time_limit=5, workers=1)
    day = next(a.date for a in previous.assignments if a.township == "t1")
    forced = [a for a in previous.assignments if a.township == "t1" and a.date == day]
    changed = tiny_problem(closed=frozenset({day}))

    new = solve(changed, time_limit=5, workers=1, previous=previous)

    assert not [a for a in new.assignments if a.township == "t1" and a.date == day]
    check_strict(previous, changed, new, forced)


def test_replan_leaves_the_frozen_past_as_it_was():
    problem = tiny_problem()
    previous = solve(problem, time_limit=5, workers=1)
    last_day = max(a.date for a in previous.assignments)
    victim = next(a for a in previous.assignments if a.date == last_day)
    changed = tiny_problem({victim.expert: {victim.slot: "leave"}})
    # with everything before the victim's day frozen, the victim's session can only go later or
    # stay unmet; without the freeze, the solver may pull it into an earlier day
    frozen_until = last_day - dt.timedelta(days=1)

    new = solve(changed, time_limit=5, workers=1, previous=previous, frozen_until=frozen_until)

    before_past = {a.content for a in previous.assignments if a.date <= frozen_until}
    after_past = {a.content for a in new.assignments if a.date <= frozen_until}
    assert after_past == before_past
    assert violations(changed, new) == []


def test_replan_keeps_a_link_visit_on_its_day_when_another_day_would_do():
    # M visits t1 with E1 on Monday and on Wednesday; the published visit is Wednesday's. A leave
    # at t2 on Thursday must not move it to Monday (that would change two sessions' calendars).
    def problem_with(blocked: dict[Slot, str]) -> Problem:
        experts = (
            Expert("M", "d", "chief", frozenset({"cardio"}), 10),
            Expert("E1", "d", "chief", frozenset({"cardio"}), 10),
            Expert("E2", "d", "chief", frozenset({"cardio"}), 10, blocked=blocked),
        )
        return Problem(
            "2027-03",
            tuple(Slot(day, half) for day in DAYS for half in ("am", "pm")),
            experts,
            (Township("t1", rooms=2, inpatient_ward=False), Township("t2", rooms=1, inpatient_ward=False)),
            (Department("d", 0),),
            {DemandKey("t1", "clinic", "cardio"): 4, DemandKey("t2", "clinic", "cardio"): 2},
            links=(Link("M", "t1"),),
            rules=Rules(link_team_min=1),
        )

    monday, tuesday, wednesday, thursday = DAYS[0], DAYS[1], DAYS[2], DAYS[3]
    rows = [
        Assignment(monday, "am", "t1", "clinic", "cardio", "M"),
        Assignment(monday, "am", "t1", "clinic", "cardio", "E1"),
        Assignment(wednesday, "am", "t1", "clinic", "cardio", "M", link_visit=True),
        Assignment(wednesday, "am", "t1", "clinic", "cardio", "E1"),
        Assignment(tuesday, "am", "t2", "clinic", "cardio", "E2"),
        Assignment(thursday, "am", "t2", "clinic", "cardio", "E2"),
    ]
    previous = Solution("2027-03", tuple(a.with_id(new_assignment_id("2027-03", a)) for a in rows), (), SolveReport("FEASIBLE"))
    assert violations(problem_with({}), previous) == []
    changed = problem_with({Slot(thursday, day_half): "leave" for day_half in ("am", "pm")})

    new = solve(changed, time_limit=5, workers=1, previous=previous)

    assert violations(changed, new) == []
    forced = [a for a in previous.assignments if a.expert == "E2" and a.date == thursday]
    check_strict(previous, changed, new, forced)
    assert [a for a in new.assignments if a.link_visit] == [previous.assignments[2]]


def test_a_visit_closed_out_of_its_day_moves_onto_a_session_the_member_already_has():
    # M visits t1 on Wednesday with E1, and serves there on Monday too. Closing t1 on Wednesday
    # moves the visit onto Monday's session: that session keeps its id and place and takes up the
    # flag, which is the visit moving (forced), not an unforced change.
    monday, wednesday = DAYS[0], DAYS[2]
    only_monday_and_wednesday = {Slot(day, half): "leave" for day in DAYS if day not in (monday, wednesday) for half in ("am", "pm")}

    def problem_with(closed: frozenset[dt.date]) -> Problem:
        experts = (
            Expert("M", "d", "chief", frozenset({"cardio"}), 10, blocked=only_monday_and_wednesday),
            Expert("E1", "d", "chief", frozenset({"cardio"}), 10),
            Expert("E2", "d", "chief", frozenset({"cardio"}), 10),
        )
        return Problem(
            "2027-03",
            tuple(Slot(day, half) for day in DAYS for half in ("am", "pm")),
            experts,
            (Township("t1", rooms=2, inpatient_ward=False, closed_days=closed),),
            (Department("d", 0),),
            {DemandKey("t1", "clinic", "cardio"): 4},
            links=(Link("M", "t1"),),
            rules=Rules(link_team_min=1),
        )

    rows = [
        Assignment(monday, "am", "t1", "clinic", "cardio", "M"),
        Assignment(monday, "am", "t1", "clinic", "cardio", "E1"),
        Assignment(wednesday, "am", "t1", "clinic", "cardio", "M", link_visit=True),
        Assignment(wednesday, "am", "t1", "clinic", "cardio", "E1"),
    ]
    previous = Solution("2027-03", tuple(a.with_id(new_assignment_id("2027-03", a)) for a in rows), (), SolveReport("FEASIBLE"))
    assert violations(problem_with(frozenset()), previous) == []
    changed = problem_with(frozenset({wednesday}))
    forced = [a for a in previous.assignments if a.date == wednesday]

    new = solve(changed, time_limit=5, workers=1, previous=previous)

    monday_session = previous.assignments[0]
    (carrier,) = [a for a in new.assignments if a.link_visit]
    assert carrier.id == monday_session.id and carrier.content[:6] == monday_session.content[:6]
    check_minimal_change(previous, changed, new, forced)


# --- a changed month of a small generated county: never less than a fresh solve keeps ----------
# (issue 16: the re-plan used to free only the touched rows and leave sessions nowhere to go)

SMALL_MONTH = "2027-03"
# The same limit for the re-plan and for the fresh solve it is held to; one worker each.
SMALL_SECONDS = 8.0


@pytest.fixture(scope="module")
def small_county() -> tuple[Scenario, Problem, Solution]:
    from bench.generate import generate_scenario

    scenario = generate_scenario(9, 40, 1.0, seed=3, month=SMALL_MONTH)
    problem = build_problem(scenario, SMALL_MONTH)
    published = solve(problem, time_limit=SMALL_SECONDS, workers=1)
    assert violations(problem, published) == []
    return scenario, problem, published


def busiest_township(scenario: Scenario, published: Solution) -> str:
    rooms = {t.id: t.rooms for t in scenario.townships}
    sessions = Counter(a.township for a in published.assignments if a.type != "supervision")
    return max(sorted(t for t in sessions if rooms[t] >= 2), key=lambda t: sessions[t])


def changed_scenario(scenario: Scenario, change) -> Scenario:
    document = scenario.model_dump(by_alias=True, mode="json")
    change(document)
    return Scenario.model_validate(document)


def check_never_worse_than_fresh(published: Solution, changed: Problem, township: str, forced: int) -> None:
    """The re-plan covers as much as a fresh solve with the same limit, makes its link visits, and changes
    assignments at other townships only as far as the sessions it had to move and the ones it gained."""
    new = solve(changed, time_limit=SMALL_SECONDS, workers=1, previous=published)
    fresh = solve(changed, time_limit=SMALL_SECONDS, workers=1)
    assert_as_good_as_fresh(published, changed, new, fresh, township, forced)


def rooms_cut_to_one(scenario, township: str):
    """The month's problem with `township` cut to one room."""

    def one_room(document):
        for entry in document["townships"]:
            if entry["id"] == township:
                entry["rooms"] = 1

    return build_problem(changed_scenario(scenario, one_room), SMALL_MONTH)


def test_rooms_cut_replans_as_well_as_a_fresh_solve(small_county):
    scenario, _problem, published = small_county
    township = busiest_township(scenario, published)

    check_never_worse_than_fresh(published, rooms_cut_to_one(scenario, township), township, beyond_rooms(published, township, 1))


@pytest.mark.slow  # fresh solve and re-plan (~9 s); the same change through the API runs by default
def test_a_week_closed_replans_as_well_as_a_fresh_solve(small_county):
    scenario, _problem, published = small_county
    township = busiest_township(scenario, published)
    days = sorted({a.date for a in published.assignments if a.township == township})
    middle = days[len(days) // 2]
    week = frozenset(middle - dt.timedelta(days=middle.weekday() - n) for n in range(5))
    changed = build_problem(scenario, SMALL_MONTH, township_closures={township: week})
    forced = sum(1 for a in published.assignments if a.township == township and a.date in week)
    assert forced > 0
    check_never_worse_than_fresh(published, changed, township, forced)


@pytest.mark.slow  # fresh solve and re-plan (~8 s); the same change through the API runs by default
def test_a_demand_row_cut_in_half_replans_as_well_as_a_fresh_solve(small_county):
    scenario, _problem, published = small_county
    township, changed, forced = busiest_row_halved(scenario, published)
    assert forced > 0
    check_never_worse_than_fresh(published, changed, township, forced)


def busiest_row_halved(scenario: Scenario, published: Solution) -> tuple[str, Problem, int]:
    """The busiest township's most served demand row cut in half: (township, the changed month, sessions it loses)."""
    township = busiest_township(scenario, published)
    served = Counter((a.type, a.specialty) for a in published.assignments if a.township == township and a.type != "supervision")
    (kind, specialty), sessions = served.most_common(1)[0]

    def halve(document):
        for row in document["demand"]:
            if (row["township"], row["type"], row["specialty"]) == (township, kind, specialty):
                row["sessions"] //= 2

    changed = build_problem(changed_scenario(scenario, halve), SMALL_MONTH)
    return township, changed, sessions - changed.demand[DemandKey(township, kind, specialty)]


@pytest.mark.slow
def test_a_large_month_widens_from_the_touched_rows_when_they_cover_less(small_county, monkeypatch):
    # A large month (the 400-expert county) re-plans the touched rows on their own candidates first
    # and moves to the whole month's only when that covers less than before: here as if it were large.
    import solver.replan

    monkeypatch.setattr(solver.replan, "FULL_MONTH_MAX_EXPERT_HALF_DAYS", 0)
    monkeypatch.setattr(solver.replan, "WHOLE_MONTH_SECONDS_PER_EXPERT_HALF_DAY", 0.0)
    scenario, _problem, published = small_county
    township = busiest_township(scenario, published)

    check_never_worse_than_fresh(published, rooms_cut_to_one(scenario, township), township, beyond_rooms(published, township, 1))


# The generated small county at full load, published as a short solve leaves it (some demand unmet): a demand row
# halved frees experts who can cover rows left short before only through chains of moves (issue 16).
CHAIN_SECONDS = 5.0


@pytest.fixture(scope="module")
def full_small_county() -> tuple[Scenario, Problem, Solution]:
    from bench.generate import generate_scenario

    scenario = generate_scenario(9, 60, 1.0, seed=3, month=SMALL_MONTH)
    problem = build_problem(scenario, SMALL_MONTH)
    published = solve(problem, time_limit=3, workers=1)
    assert violations(problem, published) == [] and published.report.unmet_sessions > 0
    return scenario, problem, published


@pytest.mark.slow  # a 3 s solve, then a 5 s re-plan and a 5 s fresh solve of the changed month (~30 s on 2 busy cores)
def test_a_demand_cut_that_frees_experts_for_short_rows_replans_as_well_as_a_fresh_solve(full_small_county):
    # Freed whole, each chain from a short row held 3,000-4,000 candidates: its model took the step's time to build
    # and solve and found nothing, and the re-plan ended 1 session short of the fresh solve.
    scenario, _problem, published = full_small_county
    township, changed, forced = busiest_row_halved(scenario, published)
    new = solve(changed, time_limit=CHAIN_SECONDS, workers=1, previous=published)
    fresh = solve(changed, time_limit=CHAIN_SECONDS, workers=1)
    assert_as_good_as_fresh(published, changed, new, fresh, township, forced)


# --- the changes every roster must make (solver.replan.forced_changes), and a start that settles the re-plan ----------

CARDIO, DERM = DemandKey("t1", "clinic", "cardio"), DemandKey("t1", "clinic", "derm")
HALF_DAYS = tuple(Slot(day, half) for day in DAYS for half in ("am", "pm"))


def one_township(rooms: int = 2, cardio: int = 6, derm: int = 4, max_sessions: int = 10, requirements=()) -> Problem:
    experts = (
        Expert("C1", "d", "chief", frozenset({"cardio"}), max_sessions),
        Expert("C2", "d", "chief", frozenset({"cardio"}), max_sessions),
        Expert("D1", "d", "chief", frozenset({"derm"}), max_sessions),
        Expert("D2", "d", "chief", frozenset({"derm"}), max_sessions),
    )
    township = Township("t1", rooms=rooms, inpatient_ward=False)
    return Problem("2027-03", HALF_DAYS, experts, (township,), (Department("d", 0),), {CARDIO: cardio, DERM: derm}, requirements=requirements)


def published_one_township() -> Solution:
    """Monday: cardio in the morning, derm in the afternoon, two rooms each; the rest of the week one of each a day."""
    monday, rest = DAYS[0], DAYS[1:]
    rows = [
        Assignment(monday, "am", "t1", "clinic", "cardio", "C1"),
        Assignment(monday, "am", "t1", "clinic", "cardio", "C2"),
        Assignment(monday, "pm", "t1", "clinic", "derm", "D1"),
        Assignment(monday, "pm", "t1", "clinic", "derm", "D2"),
        *(Assignment(day, "am", "t1", "clinic", "cardio", "C1") for day in rest),
        *(Assignment(day, "pm", "t1", "clinic", "derm", "D1") for day in rest[:2]),
    ]
    previous = Solution("2027-03", tuple(a.with_id(new_assignment_id("2027-03", a)) for a in rows), (), SolveReport("FEASIBLE"))
    assert violations(one_township(), previous) == []
    return previous


def fewest_dropped(problem: Problem, still: list[Assignment]) -> int:
    """The fewest of `still` that any roster of `problem` leaves out, whatever it covers (CP-SAT, proven)."""
    candidates = enumerate_candidates(problem)
    previous = [candidates.index_of(a.expert, a.slot, a.township, a.key) for a in still]
    roster = build_model(problem, candidates, free=set(range(len(candidates.items))), fixed=set(), previous=previous, stability_weight=1)
    (stability,) = [p for p in roster.penalties if p.family == "stability"]
    roster.model.minimize(stability.expression)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    assert solver.solve(roster.model) == cp_model.OPTIMAL
    return round(solver.objective_value)


def kept_not_kept(problem: Problem, previous: Solution, new: Solution) -> int:
    """The sessions still possible in the changed month that `new` does not hold where they were (the re-plan's changes)."""
    from solver.replan import split_previous

    still, _lost = split_previous(problem, previous)
    places = {a.content[:6] for a in new.assignments}
    return sum(1 for a in still if a.content[:6] not in places)


@pytest.mark.parametrize(
    "change, forced",
    [
        ("rooms cut to one", 2),  # Monday morning and afternoon each hold one session too many
        ("demand cut", 4),  # cardio 6 -> 2: four of its six sessions go
        ("expert limit cut", 2),  # C1 serves 5, may serve 3
        ("forced request", 1),  # three cardio on Monday: one of Monday's two derm sessions makes way
    ],
)
def test_forced_changes_are_what_the_fewest_change_re_plan_makes(change, forced):
    from solver.replan import forced_changes, split_previous

    previous = published_one_township()
    changed = {
        "rooms cut to one": lambda: one_township(rooms=1),
        "demand cut": lambda: one_township(cardio=2),
        "expert limit cut": lambda: one_township(max_sessions=3),
        "forced request": lambda: one_township(cardio=7, requirements=(Requirement(CARDIO, frozenset({DAYS[0]}), 3),)),
    }[change]()
    still, _lost = split_previous(changed, previous)

    new = solve(changed, time_limit=10, workers=1, previous=previous)

    assert forced_changes(changed, still) == fewest_dropped(changed, still) == forced
    assert violations(changed, new) == []
    assert new.report.unmet_sessions == 0
    assert kept_not_kept(changed, previous, new) == forced


def test_a_large_month_whose_start_drops_only_what_it_must_runs_no_search_step(monkeypatch):
    # A large month (the 400-expert county) gets no CP-SAT step when its start is at the floor with the forced changes
    # alone: here as if the one township were large. The demand cut drops four cardio sessions and nothing else.
    import solver.replan

    monkeypatch.setattr(solver.replan, "FULL_MONTH_MAX_EXPERT_HALF_DAYS", 0)
    steps = []
    monkeypatch.setattr(solver.replan, "_tiered_solve", lambda *args, **kwargs: steps.append(args) or None)
    previous = published_one_township()
    changed = one_township(cardio=2)

    new = solve(changed, time_limit=5, workers=1, previous=previous)

    assert steps == []
    assert violations(changed, new) == []
    assert new.report.unmet_sessions == 0 and new.report.unmet_bound == 0
    assert kept_not_kept(changed, previous, new) == 4
    assert new.report.objective is not None and new.report.objective_terms


def test_a_replan_hands_the_garbage_collector_back_as_it_found_it():
    # A re-plan keeps the caller's objects out of the collector's full passes while it runs (solver.replan), and must
    # not unfreeze what a caller froze itself (a server that froze its heap before forking).
    import gc

    previous = published_one_township()
    changed = one_township(cardio=2)
    assert gc.get_freeze_count() == 0
    solve(changed, time_limit=5, workers=1, previous=previous)
    assert gc.get_freeze_count() == 0 and gc.isenabled()
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        solve(changed, time_limit=5, workers=1, previous=previous)
        # still frozen (fewer only by the objects freed meanwhile); the re-plan's own unfreeze would have made it 0
        assert 0.9 * frozen < gc.get_freeze_count() <= frozen
    finally:
        gc.unfreeze()


def test_a_replan_whose_pins_and_frozen_past_cannot_all_stay_tries_no_step():
    """C1 served Monday and Tuesday (history now) and is pinned on Thursday and Friday; cut to three sessions, no roster
    holds all four, so every step's model would be infeasible: the re-plan says so and tries none (it used to spend
    its whole time limit on hundreds of infeasible steps)."""
    from solver.problem import Pin

    previous = published_one_township()
    pinned = [a for a in previous.assignments if a.expert == "C1" and a.date in DAYS[3:]]
    changed = dataclasses.replace(one_township(max_sessions=3), pins=tuple(Pin(a.expert, a.slot, a.township, a.key) for a in pinned))
    told: list[str] = []

    new = solve(changed, time_limit=30, workers=1, previous=previous, progress=told.append, frozen_until=DAYS[1])

    assert any("none is tried" in line for line in told), told
    assert not any(line.startswith("re-plan, ") for line in told), told
    assert new.report.status == "FEASIBLE"
    past = {a.content for a in previous.assignments if a.date <= DAYS[1]}
    assert past <= {a.content for a in new.assignments}  # the frozen past stays as it was
