"""Augmenting chains (solver.augment): a short row covered by moving placed sessions, every hard rule kept."""

from __future__ import annotations

from collections import Counter

from solver.augment import augment
from solver.candidates import enumerate_candidates
from solver.problem import Department, Link, Rules, Slot
from solver.search import to_assignments
from solver.solution import Solution, SolveReport
from tests.solver.checker import violations
from tests.solver.conftest import MON, TUE, WED, clinic, expert, make_problem, member, session, slots_of, township


def _indices(candidates, *entries) -> set[int]:
    found = {candidates.index_of(*entry) for entry in entries}
    assert None not in found, "a hand-made session is no candidate"
    return found


def _rows(candidates, chosen) -> Counter:
    return Counter(candidates.items[i].key for i in chosen if candidates.items[i].key is not None)


def _hard_rule_violations(problem, candidates, chosen, visits=()) -> list[str]:
    roster = Solution(problem.month, tuple(to_assignments(problem, candidates, chosen, visits)), (), SolveReport("FEASIBLE"))
    return [v for v in violations(problem, roster) if not v.startswith("unmet (")]  # unmet is not reported here


def test_a_two_specialty_expert_at_their_limit_hands_their_row_to_a_colleague_and_takes_the_short_one():
    # A (cardio + resp, one session) serves t1's cardiology; B (cardio only) is free; t2's respiratory row is
    # short, and only A can serve it: no candidate fits as the roster stands (A is busy and at the limit).
    problem = make_problem(
        [expert("A", ("cardio", "resp"), max_sessions=1), expert("B", ("cardio",), max_sessions=1)],
        [township("t1"), township("t2")],
        {clinic("t1"): 1, clinic("t2", "resp"): 1},
    )
    candidates = enumerate_candidates(problem)
    start = _indices(candidates, session("A", MON, "t1"))
    after = augment(problem, candidates, start)
    assert _rows(candidates, after) == Counter({clinic("t1"): 1, clinic("t2", "resp"): 1})
    assert after == _indices(candidates, session("B", MON, "t1"), session("A", MON, "t2", specialty="resp"))
    assert _hard_rule_violations(problem, candidates, after) == []


def test_an_expert_at_their_monthly_limit_gives_up_a_session_on_another_day():
    # A (cardio + resp, one session) serves t1's cardiology on Monday; t2 (closed on Monday) asks for
    # respiratory, which only A can serve, on Tuesday, where A is free: only rule 4 stands in the way.
    problem = make_problem(
        [expert("A", ("cardio", "resp"), max_sessions=1), expert("B", ("cardio",), max_sessions=1, blocked={Slot(TUE, "am"): "leave"})],
        [township("t1"), township("t2", closed_days=frozenset({MON}))],
        {clinic("t1"): 1, clinic("t2", "resp"): 1},
        slots=slots_of(MON, TUE),
    )
    candidates = enumerate_candidates(problem)
    after = augment(problem, candidates, _indices(candidates, session("A", MON, "t1")))
    assert _rows(candidates, after) == Counter({clinic("t1"): 1, clinic("t2", "resp"): 1})
    assert _indices(candidates, session("A", TUE, "t2", specialty="resp")) <= after
    assert _hard_rule_violations(problem, candidates, after) == []


def test_an_expert_busy_in_that_half_day_at_the_same_township_hands_the_session_over():
    # A (cardio + resp) serves t1's cardiology in the only half-day; t1 also asks for respiratory, which only A
    # can serve: rule 3 (one place per half-day) alone blocks it, and B can take the cardiology.
    problem = make_problem(
        [expert("A", ("cardio", "resp")), expert("B", ("cardio",))],
        [township("t1", rooms=2)],
        {clinic("t1"): 1, clinic("t1", "resp"): 1},
    )
    candidates = enumerate_candidates(problem)
    after = augment(problem, candidates, _indices(candidates, session("A", MON, "t1")))
    assert after == _indices(candidates, session("B", MON, "t1"), session("A", MON, "t1", specialty="resp"))
    assert _hard_rule_violations(problem, candidates, after) == []


def test_a_full_room_is_freed_by_moving_its_session_to_another_half_day():
    # t1 has one room; A's cardiology fills it on Monday, the only day R (respiratory) is there; A could come Tuesday.
    tuesday = Slot(TUE, "am")
    problem = make_problem(
        [expert("A", ("cardio",)), expert("R", ("resp",), blocked={tuesday: "leave"})],
        [township("t1", rooms=1)],
        {clinic("t1"): 1, clinic("t1", "resp"): 1},
        slots=slots_of(MON, TUE),
    )
    candidates = enumerate_candidates(problem)
    after = augment(problem, candidates, _indices(candidates, session("A", MON, "t1")))
    assert after == _indices(candidates, session("A", TUE, "t1"), session("R", MON, "t1", specialty="resp"))
    assert _hard_rule_violations(problem, candidates, after) == []


def test_a_chain_of_two_moves_covers_a_row_two_steps_away():
    # C (resp + ent) is the only ENT expert and serves respiratory; A (cardio + resp) serves cardiology; B
    # (cardio) is free: C takes ENT, A takes C's respiratory, B takes A's cardiology. Each has one session.
    problem = make_problem(
        [expert("A", ("cardio", "resp"), max_sessions=1), expert("B", ("cardio",), max_sessions=1), expert("C", ("resp", "ent"), max_sessions=1)],
        [township("t1"), township("t2"), township("t3")],
        {clinic("t1"): 1, clinic("t2", "resp"): 1, clinic("t3", "ent"): 1},
    )
    candidates = enumerate_candidates(problem)
    start = _indices(candidates, session("A", MON, "t1"), session("C", MON, "t2", specialty="resp"))
    after = augment(problem, candidates, start)
    assert sum(_rows(candidates, after).values()) == 3
    assert _hard_rule_violations(problem, candidates, after) == []


def test_the_department_minimum_is_kept_by_handing_the_half_day_to_a_colleague_of_another_department():
    # Department d keeps one of its two experts on site; A (d, cardio + resp) serves cardiology, so D (d, resp)
    # cannot go; E (department e, cardio) can take A's session, which lets D serve respiratory.
    problem = make_problem(
        [expert("A", ("cardio",)), expert("D", ("resp",)), expert("E", ("cardio",), department="e")],
        [township("t1", rooms=2)],
        {clinic("t1"): 1, clinic("t1", "resp"): 1},
        departments=[Department("d", 1), Department("e", 0)],
    )
    candidates = enumerate_candidates(problem)
    after = augment(problem, candidates, _indices(candidates, session("A", MON, "t1")))
    assert after == _indices(candidates, session("E", MON, "t1"), session("D", MON, "t1", specialty="resp"))
    assert _hard_rule_violations(problem, candidates, after) == []


def test_sessions_of_a_link_visit_stay_where_they_are():
    # As in the first case, but A's cardiology at t1 is the team of M's visit there: no chain may take it out.
    problem = make_problem(
        [expert("A", ("cardio", "resp"), max_sessions=1), expert("B", ("cardio",), max_sessions=1), member("M")],
        [township("t1"), township("t2")],
        {clinic("t1"): 1, clinic("t2", "resp"): 1},
        links=[Link("M", "t1")],
        rules=Rules(link_team_min=1),
    )
    candidates = enumerate_candidates(problem)
    start = _indices(candidates, session("A", MON, "t1"), ("M", Slot(MON, "am"), "t1", None))
    visits = {("M", "t1", MON)}
    after = augment(problem, candidates, start, visits)
    assert after == start
    assert _hard_rule_violations(problem, candidates, after, visits) == []


def test_a_roster_with_nothing_short_comes_back_as_it_was():
    problem = make_problem([expert("A"), expert("B")], [township("t1", rooms=2)], {clinic("t1"): 2}, slots=slots_of(MON, WED))
    candidates = enumerate_candidates(problem)
    start = _indices(candidates, session("A", MON, "t1"), session("B", WED, "t1"))
    assert augment(problem, candidates, start) == start
