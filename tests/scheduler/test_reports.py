"""Month reports: every figure equals what the roster JSON implies, on a hand-made roster and on a solved month."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest

from scheduler.reports import month_report
from scheduler.roster_file import roster_json
from scheduler.scenario.load import load_scenario
from solver.problem import DemandKey
from solver.solution import Assignment, SolveReport, Solution, Unmet
from solver.solution import Reason, ReasonCode
from tests.solved import solved_once

MINIMAL = Path(__file__).parent / "minimal.yaml"
D = dt.date


@pytest.fixture(scope="module")
def minimal():
    return load_scenario(MINIMAL)


def hand_made_roster() -> dict:
    assignments = (
        # E03 (the committee member, no specialty) visits nanjing on the 15th with E01 and E02 there.
        Assignment(D(2026, 10, 15), "am", "nanjing", "clinic", "cardio", "E01", False, "a1"),
        Assignment(D(2026, 10, 15), "am", "nanjing", "ward_round", "internal_med", "E02", False, "a2"),
        Assignment(D(2026, 10, 15), "am", "nanjing", "supervision", None, "E03", True, "a3"),
        Assignment(D(2026, 10, 22), "pm", "nanjing", "clinic", "cardio", "E01", False, "a4"),
        # pitou: a teaching session, but the member's visit there has nobody else that day.
        Assignment(D(2026, 10, 16), "am", "pitou", "teaching", "internal_med", "E01", False, "a5"),
        Assignment(D(2026, 10, 19), "am", "pitou", "supervision", None, "E03", True, "a6"),
    )
    unmet = (Unmet("nanjing", "clinic", "cardio", 1, Reason.of(ReasonCode.ALL_AT_MONTHLY_LIMIT, township="nanjing", type="clinic", specialty="cardio", sessions=1, experts=["E01"])),)
    return roster_json("测试县总医院", Solution("2026-10", assignments, unmet, SolveReport("OPTIMAL", 0, 0, 0.1, 2)), version=2, status="published")


def test_coverage_counts_met_and_unmet_against_the_summed_demand(minimal):
    report = month_report(hand_made_roster(), minimal)
    assert (report.month, report.version, report.status) == ("2026-10", 2, "published")
    nanjing, pitou = report.coverage
    assert nanjing.township == "nanjing"
    rows = {(row.type, row.specialty): (row.demanded, row.met, row.unmet) for row in nanjing.rows}
    # Two demand rows of nanjing cardio clinics add up to 3.
    assert rows == {("clinic", "cardio"): (3, 2, 1), ("ward_round", "internal_med"): (1, 1, 0)}
    assert (nanjing.demanded, nanjing.met, nanjing.unmet, nanjing.ratio) == (4, 3, 1, 0.75)
    assert [(row.type, row.specialty, row.demanded, row.met) for row in pitou.rows] == [("teaching", "internal_med", 1, 1)]
    assert (report.demanded, report.met, report.unmet, report.sessions) == (5, 4, 1, 6)


def test_extra_demand_from_requests_adds_to_what_was_asked(minimal):
    report = month_report(hand_made_roster(), minimal, extra_demand={DemandKey("pitou", "clinic", "cardio"): 2})
    pitou = report.coverage[1]
    assert [(row.type, row.specialty, row.demanded, row.met, row.short) for row in pitou.rows] == [
        ("clinic", "cardio", 2, 0, 2),
        ("teaching", "internal_med", 1, 1, 0),
    ]


def test_link_visit_compliance_needs_the_visit_and_the_team(minimal):
    report = month_report(hand_made_roster(), minimal)
    (member,) = report.members
    assert member.member == "E03"
    nanjing, pitou = member.links
    assert (nanjing.township, nanjing.visit_days, nanjing.team_sizes, nanjing.complied) == ("nanjing", (D(2026, 10, 15),), (2,), True)
    # The pitou visit happened but the team minimum (1 other expert) was not there that day.
    assert (pitou.visit_days, pitou.team_sizes, pitou.complied) == ((D(2026, 10, 19),), (0,), False)
    assert (member.links_complied, member.complied, report.links_total, report.links_complied) == (1, False, 2, 1)


def test_a_missing_visit_carries_the_unmet_reason(minimal):
    document = hand_made_roster()
    document["assignments"] = [row for row in document["assignments"] if row["id"] != "a6"]
    document["unmet"].append({"township": "pitou", "type": "supervision", "specialty": None, "member": "E03", "sessions": 1, "reason": "陈书记 is away all month"})
    report = month_report(document, minimal)
    pitou = report.members[0].links[1]
    assert (pitou.visits, pitou.complied, pitou.unmet_reason) == (0, False, Reason.text("陈书记 is away all month"))
    document["unmet"][-1].update({"reason_code": "MEMBER_UNAVAILABLE", "reason_params": {"member": "E03", "township": "pitou"}})
    (pitou,) = [link for link in month_report(document, minimal).members[0].links if link.township == "pitou"]
    assert pitou.unmet_reason == Reason.of(ReasonCode.MEMBER_UNAVAILABLE, member="E03", township="pitou")
    # The supervision row is a missing visit, not unmet demand.
    assert report.unmet == 1


def test_load_counts_every_session_type_against_capacity(minimal):
    report = month_report(hand_made_roster(), minimal)
    load = {row.expert: row for row in report.load}
    assert (load["E01"].sessions, load["E01"].capacity, load["E01"].sessions_by_type) == (3, 6, {"clinic": 2, "teaching": 1})
    assert load["E01"].utilisation == pytest.approx(3 / 6)
    assert (load["E03"].sessions, load["E03"].link_visits, load["E03"].over_capacity) == (2, 2, False)
    assert (load["E02"].sessions, load["E02"].capacity) == (1, 4)
    (internal,) = report.departments
    assert (internal.department, internal.sessions, internal.capacity, internal.experts) == ("internal", 6, 12, 3)


def test_trips_are_distinct_township_days(minimal):
    report = month_report(hand_made_roster(), minimal)
    nanjing, pitou = report.trips
    assert (nanjing.trips, nanjing.sessions, nanjing.expert_journeys, nanjing.experts) == (2, 4, 4, 3)
    assert nanjing.road_minutes == 2 * 2 * 40
    assert (pitou.trip_days, pitou.sessions, pitou.road_minutes) == ((D(2026, 10, 16), D(2026, 10, 19)), 2, 2 * 2 * 25)
    assert report.total_trips == 4


@pytest.fixture(scope="module")
def solved_sample(sample_scenario_path):
    scenario = load_scenario(sample_scenario_path)
    solution = solved_once(scenario, "2027-01")
    return scenario, roster_json(scenario.community.name, solution)


def test_figures_of_a_solved_month_equal_what_its_json_implies(solved_sample):
    scenario, document = solved_sample
    report = month_report(document, scenario)
    rows = document["assignments"]
    assert report.sessions == len(rows)
    # Coverage: recount from the JSON rows directly.
    met = Counter((r["township"], r["type"], r["specialty"]) for r in rows if r["type"] != "supervision")
    unmet = Counter()
    for r in document["unmet"]:
        if r["type"] != "supervision":
            unmet[(r["township"], r["type"], r["specialty"])] += r["sessions"]
    demanded = Counter()
    for d in scenario.demand:
        demanded[(d.township, d.type, d.specialty)] += d.sessions
    for township in report.coverage:
        for row in township.rows:
            key = (row.township, row.type, row.specialty)
            assert (row.demanded, row.met, row.unmet) == (demanded[key], met[key], unmet[key])
            # A roster the solver made covers exactly what was asked: met + unmet = demanded.
            assert row.met + row.unmet == row.demanded
    assert report.met == sum(met.values()) and report.unmet == sum(unmet.values())
    # Load: every assignment lands on exactly one expert.
    per_expert = Counter(r["expert"] for r in rows)
    assert {row.expert: row.sessions for row in report.load if row.sessions} == dict(per_expert)
    assert all(not row.over_capacity for row in report.load)
    # Trips: distinct (township, date) pairs.
    assert report.total_trips == len({(r["township"], r["date"]) for r in rows})
    # Links: each link visit row of the JSON is counted once, and the solver keeps every feasible link.
    assert sum(link.visits for member in report.members for link in member.links) == sum(1 for r in rows if r["link_visit"])
    missing = {(r["member"], r["township"]) for r in document["unmet"] if r.get("member")}
    for member in report.members:
        for link in member.links:
            assert link.complied or (link.member, link.township) in missing
