"""The independent checker: for each hard rule, a tiny roster that breaks it is caught and one that keeps it is not."""

from __future__ import annotations

from dataclasses import replace

import pytest

from solver.problem import Department, Expert, Link, Problem, Rules, Slot, Township
from solver.solution import Assignment, Reason, SolveReport, Solution, Unmet, new_assignment_id
from tests.solver.checker import violations
from tests.solver.conftest import MON, SAT, TUE, WED, clinic, expert, member, slots_of, township



def county(**changes) -> Problem:
    """Two townships (t1 one room and a ward, t2 one room, no ward), three clinicians and a non-clinical member M."""
    experts = {
        "E1": expert("E1"),
        "E2": expert("E2", title="attending"),
        "E3": expert("E3", ("resp",), title="associate_chief"),
        "M": member("M"),
    }
    experts.update(changes.pop("experts", {}))
    fields = dict(
        month="2027-03",
        slots=slots_of(MON, TUE, WED, halves=("am", "pm")),
        experts=tuple(experts.values()),
        townships=(township("t1", ward=True), township("t2")),
        departments=(Department("d", 0), Department("admin", 0)),
        demand={clinic(): 2, clinic(kind="teaching"): 1, clinic(kind="ward_round"): 1, clinic("t2", "resp"): 1},
        links=(Link("M", "t1"),),
        rules=Rules(link_team_min=2),
    )
    fields.update(changes)
    return Problem(**fields)


def session(day, half, township, kind, specialty, expert, link_visit=False) -> Assignment:
    return Assignment(day, half, township, kind, specialty, expert, link_visit)


VALID = (
    session(MON, "am", "t1", "ward_round", "cardio", "E1"),
    session(MON, "pm", "t1", "clinic", "cardio", "E2"),
    session(MON, "am", "t1", "supervision", None, "M", link_visit=True),
    session(TUE, "am", "t1", "clinic", "cardio", "E2"),
    session(TUE, "pm", "t1", "teaching", "cardio", "E1"),
    session(TUE, "am", "t2", "clinic", "resp", "E3"),
)


def roster(assignments, unmet=(), month="2027-03") -> Solution:
    with_ids = tuple(a.with_id(new_assignment_id(month, a, salt=str(n))) for n, a in enumerate(assignments))
    return Solution(month, with_ids, tuple(unmet), SolveReport(status="FEASIBLE"))


def swap(old: Assignment, new: Assignment, assignments=VALID) -> tuple[Assignment, ...]:
    return tuple(new if a == old else a for a in assignments)


def rules_broken(found: list[str]) -> set[str]:
    return {line.split(" (")[0] for line in found}


def test_the_reference_roster_keeps_every_rule():
    assert violations(county(), roster(VALID)) == []


# Rule 1: specialty held


def test_rule_1_catches_a_session_outside_the_experts_specialties():
    broken = swap(VALID[5], session(TUE, "am", "t2", "clinic", "resp", "E2"))
    found = violations(county(), roster(broken))
    assert "rule 1" in rules_broken(found)
    assert any("E2" in line and "rule 1" in line for line in found)


def test_rule_1_accepts_a_second_specialty():
    problem = county(experts={"E2": Expert("E2", "d", "attending", frozenset({"cardio", "resp"}), 4)})
    kept = swap(VALID[5], session(WED, "am", "t2", "clinic", "resp", "E2"))
    assert violations(problem, roster(kept)) == []


def test_rule_1_rejects_a_supervision_carrying_a_specialty():
    broken = swap(VALID[2], session(MON, "am", "t1", "supervision", "cardio", "M", link_visit=True))
    assert "rule 1" in rules_broken(violations(county(), roster(broken)))


# Rule 2: working days, availability, closures


def test_rule_2_catches_a_non_working_day():
    broken = swap(VALID[5], session(SAT, "am", "t2", "clinic", "resp", "E3"))
    assert "rule 2" in rules_broken(violations(county(), roster(broken)))


def test_rule_2_catches_an_unavailable_expert_but_not_the_other_half_of_the_day():
    blocked_pm = {"E3": Expert("E3", "d", "associate_chief", frozenset({"resp"}), 4, blocked={Slot(TUE, "pm"): "conference"})}
    assert violations(county(experts=blocked_pm), roster(VALID)) == []
    blocked_am = {"E3": Expert("E3", "d", "associate_chief", frozenset({"resp"}), 4, blocked={Slot(TUE, "am"): "conference"})}
    found = violations(county(experts=blocked_am), roster(VALID))
    assert any(line.startswith("rule 2") and "conference" in line and "E3" in line for line in found)


def test_rule_2_catches_a_closed_township():
    problem = county(townships=(Township("t1", 1, True), Township("t2", 1, False, closed_days=frozenset({TUE}))))
    assert "rule 2" in rules_broken(violations(problem, roster(VALID)))
    problem = county(townships=(Township("t1", 1, True), Township("t2", 1, False, closed_days=frozenset({WED}))))
    assert violations(problem, roster(VALID)) == []


# Rule 3: one place per half-day, one township per day


def test_rule_3_catches_two_sessions_in_one_half_day():
    problem = county(townships=(Township("t1", 2, True), Township("t2", 1, False)))
    broken = VALID + (session(MON, "pm", "t1", "clinic", "cardio", "E2"),)  # E2 already there Mon pm
    assert "rule 3" in rules_broken(violations(problem, roster(broken)))


def test_rule_3_catches_two_townships_in_one_day():
    problem = county(experts={"E1": Expert("E1", "d", "chief", frozenset({"cardio", "resp"}), 4)})
    two_places = swap(VALID[5], session(TUE, "am", "t2", "clinic", "resp", "E1"))  # E1 also teaches at t1 Tue pm
    found = violations(problem, roster(two_places))
    assert any(line.startswith("rule 3") and "E1" in line and "2 townships" in line for line in found)
    next_day = swap(VALID[5], session(WED, "am", "t2", "clinic", "resp", "E1"))
    assert violations(problem, roster(next_day)) == []


# Rule 4: monthly limit, supervision included


def test_rule_4_counts_every_session_against_max_sessions():
    exact = {"E2": Expert("E2", "d", "attending", frozenset({"cardio"}), 2)}
    assert violations(county(experts=exact), roster(VALID)) == []
    over = {"E2": Expert("E2", "d", "attending", frozenset({"cardio"}), 1)}
    assert "rule 4" in rules_broken(violations(county(experts=over), roster(VALID)))
    no_supervision_left = {"M": Expert("M", "admin", "chief", frozenset(), 0)}
    found = violations(county(experts=no_supervision_left), roster(VALID))
    assert any(line.startswith("rule 4") and "M has 1" in line for line in found)


# Rule 5: rooms, supervision takes none


def test_rule_5_catches_more_sessions_than_rooms_but_not_a_supervision():
    assert violations(county(), roster(VALID)) == []  # Mon am: a ward round and a supervision in one room
    crowded = swap(VALID[1], session(MON, "am", "t1", "clinic", "cardio", "E2"))
    found = violations(county(), roster(crowded))
    assert any(line.startswith("rule 5") and "t1" in line for line in found)
    two_rooms = county(townships=(Township("t1", 2, True), Township("t2", 1, False)))
    assert violations(two_rooms, roster(crowded)) == []


# Rule 6: teaching title, ward rounds


def test_rule_6_catches_teaching_below_the_minimum_title():
    broken = swap(VALID[4], session(TUE, "pm", "t1", "teaching", "cardio", "E2"))
    broken = swap(VALID[3], session(TUE, "am", "t1", "clinic", "cardio", "E1"), broken)
    assert "rule 6" in rules_broken(violations(county(), roster(broken)))
    assert violations(county(rules=Rules(link_team_min=2, teaching_min_title="attending")), roster(broken)) == []


def test_rule_6_catches_a_ward_round_without_a_ward_or_in_the_afternoon():
    no_ward = county(townships=(Township("t1", 1, False), Township("t2", 1, False)))
    assert any("no inpatient ward" in line for line in violations(no_ward, roster(VALID)))
    afternoon = swap(VALID[0], session(MON, "am", "t1", "clinic", "cardio", "E2"))
    afternoon = swap(VALID[1], session(MON, "pm", "t1", "ward_round", "cardio", "E1"), afternoon)
    found = violations(county(), roster(afternoon))
    assert any(line.startswith("rule 6") and "pm" in line for line in found)
    both_halves = county(rules=Rules(link_team_min=2, ward_round_half_days=frozenset({"am", "pm"})))
    assert violations(both_halves, roster(afternoon)) == []


# Rule 7: department staffing


def test_rule_7_catches_a_department_left_below_its_minimum():
    # d has 3 available experts; min_on_site 2 leaves 1 free to go; Tue am sends E2 and E3.
    strict = county(departments=(Department("d", 2), Department("admin", 0)))
    found = violations(strict, roster(VALID))
    assert any(line.startswith("rule 7") and "E2, E3" in line for line in found)
    assert violations(county(departments=(Department("d", 1), Department("admin", 0))), roster(VALID)) == []


def test_rule_7_counts_experts_available_that_half_day_even_if_not_rostered():
    extra = Expert("E4", "d", "attending", frozenset(), 0)  # max_sessions 0: not rostered, but at the hospital
    problem = county(departments=(Department("d", 1), Department("admin", 0)), experts={"E4": extra})
    assert violations(problem, roster(VALID)) == []
    blocked = Expert("E1", "d", "chief", frozenset({"cardio"}), 4, blocked={Slot(TUE, "am"): "leave"})
    problem = county(departments=(Department("d", 1), Department("admin", 0)), experts={"E1": blocked})
    assert "rule 7" in rules_broken(violations(problem, roster(VALID)))  # Tue am: 2 available, 1 may go, 2 away


def test_rule_7_counts_a_supervision_as_away():
    member_in_d = {"M": Expert("M", "d", "chief", frozenset(), 2)}
    # d now has 4 available: min_on_site 3 lets one go, and Mon am has E1 (ward round) and M (supervision) away.
    found = violations(county(experts=member_in_d, departments=(Department("d", 3), Department("admin", 0))), roster(VALID))
    assert any(line.startswith("rule 7") and line.endswith("E1, M") for line in found)
    assert violations(county(experts=member_in_d, departments=(Department("d", 2), Department("admin", 0))), roster(VALID)) == []


# Rule 8: link visits


def test_rule_8_accepts_a_clinicians_own_session_as_the_visit():
    problem = county(links=(Link("E1", "t1"),), rules=Rules(link_team_min=1))
    flagged = swap(VALID[0], replace(VALID[0], link_visit=True), tuple(a for a in VALID if a.expert != "M"))
    assert violations(problem, roster(flagged)) == []


def test_rule_8_catches_a_visit_without_its_team():
    alone = swap(VALID[1], session(TUE, "am", "t2", "clinic", "resp", "E3"), VALID[:3] + VALID[3:5])
    found = violations(county(), roster(alone))
    assert any(line.startswith("rule 8") and "1 other experts, needs 2" in line for line in found)
    assert not any(line.startswith("rule 8") for line in violations(county(rules=Rules(link_team_min=1)), roster(alone)))


def test_rule_8_catches_two_flags_for_one_visit_and_a_flag_without_a_link():
    twice = swap(VALID[0], replace(VALID[0], link_visit=True))
    problem = county(links=(Link("M", "t1"), Link("E1", "t2")))
    found = violations(problem, roster(twice, unmet=[Unmet("t2", "supervision", None, 1, Reason.text("E1 on leave"), member="E1")]))
    assert any("flag without a link" in line for line in found)
    twice_by_m = VALID + (session(MON, "pm", "t1", "supervision", None, "M", link_visit=True),)
    found = violations(county(), roster(twice_by_m))
    assert any("2 link_visit flags for one visit" in line for line in found)


def test_rule_8_catches_a_supervision_that_is_not_a_flagged_link_visit():
    unflagged = swap(VALID[2], replace(VALID[2], link_visit=False))
    found = violations(county(), roster(unflagged, unmet=[Unmet("t1", "supervision", None, 1, Reason.text("x"), member="M")]))
    assert any("supervision that is not a link visit" in line for line in found)
    stranger = VALID + (session(TUE, "am", "t1", "supervision", None, "M", link_visit=True),)
    found = violations(county(links=(Link("M", "t2"),)), roster(stranger))
    assert any("supervision by someone not linked" in line for line in found)


def test_rule_8_requires_an_unmet_row_for_each_missed_visit():
    without_visit = tuple(a for a in VALID if a.expert != "M")
    found = violations(county(), roster(without_visit))
    assert any(line.startswith("rule 8") and "1 visit(s) missing, 0 reported" in line for line in found)
    reported = [Unmet("t1", "supervision", None, 1, Reason.text("M is on leave all month"), member="M")]
    assert violations(county(), roster(without_visit, unmet=reported)) == []
    assert any("1 reported unmet" in line for line in violations(county(), roster(VALID, unmet=reported)))


def test_rule_8_counts_visits_on_distinct_days():
    problem = county(rules=Rules(link_team_min=1, link_visits_per_month=2), experts={"M": Expert("M", "admin", "chief", frozenset(), 3)})
    second = VALID + (session(TUE, "pm", "t1", "supervision", None, "M", link_visit=True),)
    assert violations(problem, roster(second)) == []
    found = violations(problem, roster(VALID))
    assert any("1 visit(s) missing" in line for line in found)


# Rule 9 and the unmet report


def test_rule_9_catches_more_sessions_than_demanded_and_sessions_nobody_asked_for():
    problem = county(townships=(Township("t1", 2, True), Township("t2", 1, False)))
    extra = VALID + (session(WED, "am", "t1", "clinic", "cardio", "E2"),)
    assert "rule 9" in rules_broken(violations(problem, roster(extra)))
    unasked = VALID + (session(WED, "am", "t2", "clinic", "cardio", "E2"),)
    found = violations(problem, roster(unasked))
    assert any(line.startswith("rule 9") and "t2 asked for 0 clinic/cardio" in line for line in found)


def test_unmet_rows_must_equal_demand_minus_assigned():
    short = tuple(a for a in VALID if a != VALID[5])
    found = violations(county(), roster(short))
    assert any(line.startswith("unmet (t2 clinic/resp: demand 1, assigned 0, reported unmet 0)") for line in found)
    right = [Unmet("t2", "clinic", "resp", 1, Reason.text("E3 is on leave"))]
    assert violations(county(), roster(short, unmet=right)) == []
    too_many = [Unmet("t2", "clinic", "resp", 2, Reason.text("E3 is on leave"))]
    assert any("reported unmet 2" in line for line in violations(county(), roster(short, unmet=too_many)))
    phantom = [Unmet("t1", "clinic", "cardio", 1, Reason.text("?"))]
    assert any("reported unmet 1" in line for line in violations(county(), roster(VALID, unmet=phantom)))


def test_unmet_rows_need_a_reason():
    short = tuple(a for a in VALID if a != VALID[5])
    assert any("without a reason" in line for line in violations(county(), roster(short, unmet=[Unmet("t2", "clinic", "resp", 1, Reason.text(""))])))


def test_duplicate_assignment_ids_are_caught():
    solution = roster(VALID)
    duplicated = replace(solution, assignments=solution.assignments[:-1] + (solution.assignments[-1].with_id(solution.assignments[0].id),))
    assert any("used 2 times" in line for line in violations(county(), duplicated))


@pytest.mark.parametrize("field_name, value", [("expert", "E99"), ("township", "t9")])
def test_unknown_expert_or_township_is_caught(field_name, value):
    broken = VALID + (replace(VALID[5], **{field_name: value}),)
    assert any(line.startswith("unknown") for line in violations(county(), roster(broken)))


def test_rule_8_does_not_count_another_members_supervision_as_the_team():
    second_member = {"N": Expert("N", "admin", "chief", frozenset(), 2)}
    links = (Link("M", "t1"), Link("N", "t1"))
    rules = Rules(link_team_min=2)
    both = VALID + (session(MON, "pm", "t1", "supervision", None, "N", link_visit=True),)
    assert violations(county(experts=second_member, links=links, rules=rules), roster(both)) == []
    # On Wednesday only E2 serves t1: M and N visiting together are not each other's team.
    wednesday = tuple(a for a in VALID if a.expert != "M") + (
        session(WED, "am", "t1", "clinic", "cardio", "E2"),
        session(WED, "am", "t1", "supervision", None, "M", link_visit=True),
        session(WED, "pm", "t1", "supervision", None, "N", link_visit=True),
    )
    problem = county(experts=second_member, links=links, rules=Rules(link_team_min=2),
                           demand={**county().demand, clinic(): 3})
    found = violations(problem, roster(wednesday))
    assert any("visit of M to t1 on 2027-03-03 has 1 other experts" in line for line in found)
    assert any("visit of N to t1 on 2027-03-03 has 1 other experts" in line for line in found)
