"""The benchmark scenario generator: valid, deterministic, realistic files of the six benchmark sizes."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from bench.generate import generate_scenario, main, usable_capacity
from scheduler.problem_builder import build_problem
from scheduler.scenario.load import dump_scenario, load_scenario
from solver.problem import TITLE_RANK

SIZES = [(9, 60), (22, 150), (26, 400)]
LOADS = [0.6, 0.9]
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> dict[tuple[int, int, float], Path]:
    folder = tmp_path_factory.mktemp("scenarios")
    files = {}
    for townships, experts in SIZES:
        for load in LOADS:
            path = folder / f"county-{townships}-{experts}-{int(load * 100)}.yaml"
            assert main(["--townships", str(townships), "--experts", str(experts), "--load", str(load), "--seed", "1", "--out", str(path)]) == 0
            files[(townships, experts, load)] = path
    return files


@pytest.mark.parametrize("townships, experts", SIZES)
@pytest.mark.parametrize("load", LOADS)
def test_every_size_loads_and_has_the_asked_shape(written, townships, experts, load):
    scenario = load_scenario(written[(townships, experts, load)])
    assert len(scenario.townships) == townships
    assert len(scenario.experts) == experts
    assert len(scenario.specialties) == 19
    problem = build_problem(scenario, "2027-03")
    capacity = usable_capacity(problem)
    demanded = sum(problem.demand.values())
    assert abs(demanded - load * capacity.usable_sessions) <= 1
    # Each specialty gets at most its own share of capacity, and none is asked that nobody holds.
    by_specialty = Counter()
    for key, sessions in problem.demand.items():
        by_specialty[key.specialty] += sessions
    for code, sessions in by_specialty.items():
        assert sessions <= load * capacity.by_specialty[code] + 1, code
    teaching = Counter()
    for key, sessions in problem.demand.items():
        if key.type == "teaching":
            teaching[key.specialty] += sessions
    for code, sessions in teaching.items():
        assert sessions <= load * capacity.senior_by_specialty[code] + 1e-9, code


def test_ward_rounds_are_asked_only_where_there_is_a_ward(written):
    scenario = load_scenario(written[(26, 400, 0.9)])
    wards = {t.id for t in scenario.townships if t.inpatient_ward}
    ward_rows = [row for row in scenario.demand if row.type == "ward_round"]
    assert ward_rows and all(row.township in wards for row in ward_rows)
    assert {row.type for row in scenario.demand} == {"clinic", "teaching", "ward_round"}


def test_people_look_like_a_county_hospital(written):
    scenario = load_scenario(written[(26, 400, 0.6)])
    titles = Counter(expert.title for expert in scenario.experts)
    assert 0.22 <= titles["chief"] / 400 <= 0.38
    assert 0.27 <= titles["associate_chief"] / 400 <= 0.43
    assert 0.27 <= titles["attending"] / 400 <= 0.43
    clinicians = [e for e in scenario.experts if e.specialties]
    assert all(1 <= len(e.specialties) <= 3 for e in clinicians)
    assert all(3 <= e.max_sessions <= 8 for e in clinicians)
    assert any(e.avoid_weekdays for e in scenario.experts)
    assert any(p.from_ is not None for e in scenario.experts for p in e.unavailable)
    assert any(p.half_day is not None for e in scenario.experts for p in e.unavailable)
    assert any(e.previous_townships for e in scenario.experts)
    assert {t.rooms for t in scenario.townships} <= {1, 2, 3}
    assert 0.3 <= sum(t.inpatient_ward for t in scenario.townships) / 26 <= 0.9
    assert any(t.preferred_weekdays for t in scenario.townships)
    assert any(d.min_on_site > 0 for d in scenario.departments)


@pytest.mark.parametrize("townships, experts", SIZES)
def test_links_follow_the_committee_pattern(written, townships, experts):
    scenario = load_scenario(written[(townships, experts, 0.6)])
    experts_by_id = {e.id: e for e in scenario.experts}
    assert len(scenario.links) == max(2, round(townships / 3))
    assert all(2 <= len(link.townships) <= 3 for link in scenario.links)
    members = [experts_by_id[link.member] for link in scenario.links]
    assert len({m.id for m in members}) == len(members)
    non_clinical = [m for m in members if not m.specialties]
    assert 1 <= len(non_clinical) <= 2
    assert all(m.title == "chief" for m in members)
    covered = {t for link in scenario.links for t in link.townships}
    assert len(covered) >= min(townships, 2 * len(scenario.links))


def test_same_seed_same_file_and_another_seed_another(written):
    first = dump_scenario(generate_scenario(9, 60, 0.6, seed=1))
    assert first == dump_scenario(generate_scenario(9, 60, 0.6, seed=1))
    assert first != dump_scenario(generate_scenario(9, 60, 0.6, seed=2))
    assert written[(9, 60, 0.6)].read_text(encoding="utf-8").endswith(first)


def test_another_month_has_its_dates_inside_it():
    scenario = generate_scenario(9, 60, 0.9, seed=3, month="2027-10")  # National Day week inside
    dates = [p.first_day for e in scenario.experts for p in e.unavailable] + [p.last_day for e in scenario.experts for p in e.unavailable]
    assert dates and all(d.year == 2027 and d.month == 10 for d in dates)
    problem = build_problem(scenario, "2027-10")
    assert abs(sum(problem.demand.values()) - 0.9 * usable_capacity(problem).usable_sessions) <= 1


def test_teaching_demand_respects_the_scenarios_title_rule():
    problem = build_problem(generate_scenario(22, 150, 0.9, seed=5), "2027-03")
    minimum = TITLE_RANK[problem.rules.teaching_min_title]
    for key, _ in problem.demand.items():
        if key.type == "teaching":
            assert any(key.specialty in e.specialties and TITLE_RANK[e.title] >= minimum for e in problem.experts)


def test_the_command_line_writes_yaml_and_rejects_bad_sizes(tmp_path):
    out = tmp_path / "small.yaml"
    done = subprocess.run(
        [sys.executable, "-m", "bench.generate", "--townships", "9", "--experts", "60", "--load", "0.9", "--seed", "1", "--month", "2027-03", "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert load_scenario(out).format == "rota.scenario/1"
    bad = subprocess.run([sys.executable, "-m", "bench.generate", "--experts", "5"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2
    assert "experts must be at least" in bad.stderr and "Traceback" not in bad.stderr
