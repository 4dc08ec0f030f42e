"""parse_scenario: the messages it gives, that they come all together, and what it accepts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from scheduler.errors import FieldError, ScenarioError
from scheduler.scenario import dump_scenario, load_scenario, parse_scenario
from scheduler.scenario.load import validate_document

MINIMAL = Path(__file__).parent / "minimal.yaml"


def minimal_document() -> dict:
    return yaml.safe_load(MINIMAL.read_text(encoding="utf-8"))


def problems_of(document) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        validate_document(document)
    return [str(problem) for problem in caught.value.problems]


def test_unknown_specialty_message_is_exactly_as_specified():
    document = minimal_document()
    document["experts"][0]["specialties"][0] = "cardo"
    assert problems_of(document) == ["experts[0].specialties[0]: unknown specialty 'cardo'"]


def test_every_problem_comes_together():
    document = minimal_document()
    document["experts"][0]["specialties"][0] = "cardo"          # reference
    document["townships"][0]["rooms"] = 0                       # range
    document["experts"][1]["max_sessions"] = "four"             # type
    document["demand"][0]["type"] = "surgery"                   # enum
    document["half_days"]["pm"]["start"] = "2:30"               # clock
    document["colour"] = "blue"                                 # unknown key
    document["experts"][0]["unavailable"][0]["from"] = "2026-10-30"  # from after to
    document["links"][0]["member"] = "E99"                      # dangling member
    found = problems_of(document)
    for path in ("experts[0].specialties[0]:", "townships[0].rooms:", "experts[1].max_sessions:", "demand[0].type:",
                 "half_days.pm.start:", "colour: unknown field", "experts[0].unavailable[0]:", "links[0].member: unknown expert 'E99'"):
        assert any(line.startswith(path) for line in found), (path, found)
    assert len(found) == len(set(found)) == 8


def test_error_paths_index_lists_from_zero():
    document = minimal_document()
    document["demand"][2]["specialty"] = "nope"
    assert problems_of(document) == ["demand[2].specialty: unknown specialty 'nope'"]


def test_defaults_are_applied():
    document = minimal_document()
    for key in ("half_days", "rules", "links", "demand"):
        del document[key]
    scenario = validate_document(document)
    assert (scenario.half_days.am.start, scenario.half_days.pm.end) == ("08:30", "17:00")
    assert scenario.rules.teaching_min_title == "associate_chief" and scenario.rules.weights.unmet == 1000
    assert scenario.rules.link_team_min == 2 and scenario.rules.ward_round_half_days == ["am"]
    assert scenario.townships[1].rooms == 1 and scenario.townships[1].inpatient_ward is False
    assert scenario.departments[0].min_on_site == 1


def test_unquoted_clock_times_stay_times():
    text = MINIMAL.read_text(encoding="utf-8").replace('"14:00"', "14:00")
    assert parse_scenario(text).half_days.pm.start == "14:00"


def test_json_reads_the_same_as_yaml():
    scenario = load_scenario(MINIMAL)
    assert parse_scenario(json.dumps(scenario.to_document(), ensure_ascii=False)) == scenario
    assert parse_scenario(dump_scenario(scenario)) == scenario
    assert parse_scenario(dump_scenario(scenario, as_json=True).encode("utf-8")) == scenario


def test_the_two_unavailability_shapes():
    scenario = load_scenario(MINIMAL)
    ranged, half = scenario.experts[0].unavailable
    assert (ranged.first_day.isoformat(), ranged.last_day.isoformat(), ranged.half_day) == ("2026-10-12", "2026-10-14", None)
    assert (half.first_day, half.last_day, half.half_day) == (half.date, half.date, "pm")


@pytest.mark.parametrize("document, fragment", [
    (None, "is empty"),
    ([], "must be a mapping at the top level (got a list)"),
    ("text", "must be a mapping at the top level (got a str)"),
    (3, "must be a mapping at the top level (got an int)"),
])
def test_documents_that_are_not_mappings(document, fragment):
    (line,) = problems_of(document)
    assert fragment in line


def test_bytes_that_are_not_text():
    with pytest.raises(ScenarioError, match="not UTF-8"):
        parse_scenario(b"\xff\xfe\x00\x01")


def test_field_error_renders_path_then_message():
    assert str(FieldError("townships[3].rooms", "must be at least 1 (got 0)")) == "townships[3].rooms: must be at least 1 (got 0)"
    assert str(FieldError("", "scenario.yaml is empty")) == "scenario.yaml is empty"
    assert ScenarioError([FieldError("a", "b")]).as_json() == [{"path": "a", "message": "b"}]
