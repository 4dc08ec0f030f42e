"""`rota solve` / `rota replan` on the sample county, through the console entry (tests/console.py)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from scheduler.scenario import load_scenario
from tests.console import run_rota

SAMPLE = Path(__file__).resolve().parents[2] / "config" / "examples" / "quannan.yaml"
MONTH = "2027-01"
# A two-township county (tests/scheduler/minimal.yaml) for tests about an argument, not the roster: its month solves in
# about its time limit, where the sample county's starts and bounds take seconds beyond it.
MINIMAL = Path(__file__).resolve().parents[1] / "scheduler" / "minimal.yaml"
MINIMAL_MONTH = "2026-10"
ASSIGNMENT_FIELDS = {"id", "date", "half_day", "township", "type", "specialty", "expert", "link_visit"}
UNMET_FIELDS = {"township", "type", "specialty", "sessions", "reason"}
SOLVER_FIELDS = {"status", "objective", "best_bound", "wall_seconds", "workers"}


def rota(*arguments: str, cwd: Path) -> subprocess.CompletedProcess:
    return run_rota(*arguments, cwd=cwd)


def error_lines(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def assert_one_line_error(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = error_lines(result)
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0]


def check_roster_document(document: dict, version: int) -> None:
    """The fields spec/roster.md makes a contract."""
    assert document["format"] == "rota.roster/1"
    assert document["community"] == "全南县总医院"
    assert document["month"] == MONTH
    assert document["version"] == version
    assert document["status"] in ("draft", "published")
    assert document["assignments"], "the sample month has sessions"
    ids = [a["id"] for a in document["assignments"]]
    assert len(set(ids)) == len(ids)
    for assignment in document["assignments"]:
        assert ASSIGNMENT_FIELDS <= set(assignment)
        assert dt.date.fromisoformat(assignment["date"]).strftime("%Y-%m") == MONTH
        assert assignment["half_day"] in ("am", "pm")
        assert assignment["type"] in ("clinic", "teaching", "ward_round", "supervision")
        assert isinstance(assignment["link_visit"], bool)
        assert (assignment["specialty"] is None) == (assignment["type"] == "supervision")
    for row in document["unmet"]:
        assert UNMET_FIELDS <= set(row)
        assert row["sessions"] >= 1 and row["reason"]
        if row["type"] == "supervision":
            assert row["specialty"] is None and row["member"]
    solver = document["solver"]
    assert SOLVER_FIELDS <= set(solver)
    assert solver["status"] in ("OPTIMAL", "FEASIBLE")
    assert solver["workers"] == 2
    assert isinstance(solver["wall_seconds"], (int, float))


@pytest.fixture(scope="module")
def solved(tmp_path_factory) -> tuple[Path, dict, subprocess.CompletedProcess]:
    folder = tmp_path_factory.mktemp("cli")
    out = folder / "roster.json"
    result = rota("solve", str(SAMPLE), "--month", MONTH, "--out", str(out), "--time-limit", "4", cwd=folder)
    assert result.returncode == 0, result.stderr
    return folder, json.loads(out.read_text(encoding="utf-8")), result


def test_solve_writes_a_roster_document(solved):
    _folder, document, result = solved
    check_roster_document(document, version=1)
    assert document["status"] == "draft"
    assert "Traceback" not in result.stderr
    assert f"{MONTH}: {len(document['assignments'])} sessions" in result.stdout
    assert "solver: " + document["solver"]["status"] in result.stdout
    assert "wrote " in result.stdout


def test_replan_bumps_the_version_and_prints_the_diff(solved):
    folder, document, _result = solved
    busiest = Counter(a["expert"] for a in document["assignments"]).most_common(1)[0][0]
    leave_days = sorted({a["date"] for a in document["assignments"] if a["expert"] == busiest})[:2]
    scenario = load_scenario(SAMPLE).model_dump(by_alias=True, mode="json")
    (entry,) = [e for e in scenario["experts"] if e["id"] == busiest]
    entry["unavailable"] += [{"date": day, "reason": "请假"} for day in leave_days]
    changed = folder / "changed.json"
    changed.write_text(json.dumps(scenario, ensure_ascii=False), encoding="utf-8")
    out = folder / "roster-v2.json"

    result = rota(
        "replan", str(changed), "--month", MONTH, "--previous", str(folder / "roster.json"), "--out", str(out), "--time-limit", "3", cwd=folder
    )

    assert result.returncode == 0, result.stderr
    new = json.loads(out.read_text(encoding="utf-8"))
    check_roster_document(new, version=2)
    assert new["status"] == document["status"]
    assert not [a for a in new["assignments"] if a["expert"] == busiest and a["date"] in leave_days]
    old_by_id = {a["id"]: a for a in document["assignments"]}
    new_by_id = {a["id"]: a for a in new["assignments"]}
    added = [i for i in new_by_id if i not in old_by_id]
    removed = [i for i in old_by_id if i not in new_by_id]
    moved = [i for i in new_by_id if i in old_by_id and new_by_id[i] != old_by_id[i]]
    changes = len(added) + len(removed) + len(moved)
    assert changes >= 1
    assert f"changes: {changes} (added {len(added)}, removed {len(removed)}, moved {len(moved)})" in result.stdout
    for forced in (a for a in document["assignments"] if a["expert"] == busiest and a["date"] in leave_days):
        assert forced["id"] in removed or forced["id"] in moved


def test_replan_rejects_a_previous_roster_of_another_month(solved):
    folder, _document, _result = solved
    result = rota("replan", str(SAMPLE), "--month", "2027-02", "--previous", str(folder / "roster.json"), cwd=folder)
    assert_one_line_error(result, "--previous", "2027-01", "2027-02")


def test_replan_missing_previous_file(tmp_path):
    result = rota("replan", str(SAMPLE), "--month", MONTH, "--previous", str(tmp_path / "nope.json"), cwd=tmp_path)
    assert_one_line_error(result, "--previous", "nope.json")


@pytest.mark.parametrize("month", ["2027-13", "27-01"])
def test_bad_month_is_exit_2_one_line(tmp_path, month):
    result = rota("solve", str(SAMPLE), "--month", month, "--time-limit", "1", cwd=tmp_path)
    assert_one_line_error(result, "YYYY-MM", month)


@pytest.mark.parametrize("month", ["2027-1", "2027-001"])
def test_month_without_two_digits_is_rejected(tmp_path, month):
    result = rota("solve", str(SAMPLE), "--month", month, "--time-limit", "0.5", cwd=tmp_path)
    assert_one_line_error(result, "YYYY-MM", month)


def test_missing_scenario_file(tmp_path):
    result = rota("solve", str(tmp_path / "missing.yaml"), "--month", MONTH, cwd=tmp_path)
    assert_one_line_error(result, "no such file", "missing.yaml")


@pytest.mark.parametrize("limit", ["0"])
def test_time_limit_must_be_positive(tmp_path, limit):
    result = rota("solve", str(SAMPLE), "--month", MONTH, "--time-limit", limit, cwd=tmp_path)
    assert_one_line_error(result, "--time-limit")


def test_workers_must_be_at_least_one(tmp_path):
    result = rota("solve", str(SAMPLE), "--month", MONTH, "--workers", "0", cwd=tmp_path)
    assert_one_line_error(result, "--workers")


def test_out_into_a_missing_folder_is_exit_2_and_writes_nothing(tmp_path):
    result = rota("solve", str(MINIMAL), "--month", MINIMAL_MONTH, "--time-limit", "1", "--out", str(tmp_path / "no" / "r.json"), cwd=tmp_path)
    assert_one_line_error(result, "--out")
    assert not (tmp_path / "no").exists()
