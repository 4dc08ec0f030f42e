"""The bounds on scenario input (issue 17): ids, dates and months, duplicate keys, aliases, size, and the bounded parse."""

from __future__ import annotations

import datetime as dt
import os
import unicodedata
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel, ValidationError

from scheduler.calendar import parse_month
from scheduler.errors import ScenarioError
from scheduler.scenario import parse_scenario
from scheduler.scenario.bounded import parse_scenario_bounded
from scheduler.scenario.fields import FIRST_DATE, LAST_DATE, Id, IsoDate, Month, shown
from scheduler.scenario.load import MAX_PROBLEMS, MAX_VALUES, dump_scenario, load_scenario, validate_document

MINIMAL = Path(__file__).parent / "minimal.yaml"


def minimal_document() -> dict:
    return yaml.safe_load(MINIMAL.read_text(encoding="utf-8"))


def problems_of(raw) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(raw) if isinstance(raw, (str, bytes)) else validate_document(raw)
    return [str(problem) for problem in caught.value.problems]


class _IdModel(BaseModel):
    id: Id


class _DateModel(BaseModel):
    day: IsoDate


class _MonthModel(BaseModel):
    month: Month


# ---- ids ----

@pytest.mark.parametrize("value", ["E01", "nanjing", "internal_med", "nan-jing-2", "南迳", "a" * 64, "0"])
def test_good_ids_are_accepted_as_written(value):
    assert _IdModel(id=value).id == value


@pytest.mark.parametrize("value, fragment", [
    ("t01\u200b", "invisible character U+200B ZERO WIDTH SPACE at character 4"),
    ("E\u202e01", "invisible character U+202E RIGHT-TO-LEFT OVERRIDE"),
    ("../../etc/passwd", "U+002E FULL STOP at character 1"),
    ("E0\n1", "control character U+000A"),
    (" ", "a space at character 1"),
    ("E 01", "a space at character 2"),
    ("x" * 10_000, "must be at most 64 characters (got 10000)"),
    ("", "must not be empty"),
    ("-E01", "must start with a letter or a digit"),
    ("Ｅ０１", "write 'E01', not 'Ｅ０１'"),
    ("E01\x00", "control character U+0000"),
])
def test_look_alike_and_unsafe_ids_are_refused(value, fragment):
    with pytest.raises(ValidationError) as caught:
        _IdModel(id=value)
    message = caught.value.errors()[0]["msg"]
    assert fragment in message
    assert len(message) < 200  # a 10,000-character id is never repeated back


def test_ids_are_read_in_nfc_so_two_spellings_of_one_letter_are_one_id():
    decomposed, composed = "Jose\u0301", "Jos\u00e9"
    assert decomposed != composed and unicodedata.normalize("NFC", decomposed) == composed
    assert _IdModel(id=decomposed).id == composed
    document = minimal_document()
    document["townships"][1]["id"] = decomposed  # defined decomposed ...
    document["links"][0]["townships"][1] = composed  # ... referenced composed
    document["demand"][3]["township"] = decomposed
    scenario = validate_document(document)
    assert scenario.townships[1].id == composed == scenario.links[0].townships[1] == scenario.demand[3].township


def test_an_id_and_the_same_id_in_nfd_are_duplicates():
    document = minimal_document()
    document["townships"][0]["id"] = "Jos\u00e9"
    document["townships"][1]["id"] = "Jose\u0301"
    assert "townships[1].id: duplicate id 'José' (also townships[0])" in problems_of(document)


# ---- dates and months ----

def test_the_date_range_is_2000_to_2100():
    assert (FIRST_DATE, LAST_DATE) == (dt.date(2000, 1, 1), dt.date(2100, 12, 31))
    assert _DateModel(day="2000-01-01").day == FIRST_DATE
    assert _DateModel(day=LAST_DATE).day == LAST_DATE


@pytest.mark.parametrize("value, fragment", [
    ("1999-12-31", "must be a date from 2000-01-01 to 2100-12-31 (got 1999-12-31)"),
    ("2101-01-01", "(got 2101-01-01)"),
    ("9999-12-31", "(got 9999-12-31)"),
    (dt.date(1, 1, 1), "(got 0001-01-01)"),
    ("0001-01-01", "(got 0001-01-01)"),
    ("2027-02-30", "'2027-02-30' is not a real date"),
    ("x" * 100_000, "must be a date YYYY-MM-DD (got 'xxxx"),
])
def test_dates_outside_the_range_are_refused(value, fragment):
    with pytest.raises(ValidationError) as caught:
        _DateModel(day=value)
    message = caught.value.errors()[0]["msg"]
    assert fragment in message and len(message) < 200


def test_every_date_of_a_scenario_is_bounded():
    for path, value in (("calendar.closed[0]", "0001-01-01"), ("experts[0].unavailable[1].date", "2101-03-01")):
        document = minimal_document()
        if path.startswith("calendar"):
            document["calendar"]["closed"][0] = value
        else:
            document["experts"][0]["unavailable"][1]["date"] = value
        (line,) = problems_of(document)
        assert line.startswith(f"{path}: must be a date from 2000-01-01 to 2100-12-31")


@pytest.mark.parametrize("month", ["2000-01", "2027-01", "2100-12"])
def test_months_in_range_parse(month):
    year, number = parse_month(month)
    assert f"{year:04d}-{number:02d}" == month
    assert _MonthModel(month=month).month == month


@pytest.mark.parametrize("month", ["0000-01", "9999-12", "1999-12", "2101-01", "2027-13", "2027-00", "27-01", "2027-1", "２０２７-０１", "x" * 10_000])
def test_months_out_of_range_or_malformed_are_refused_naming_the_month(month):
    with pytest.raises(ValueError) as caught:
        parse_month(month)
    message = str(caught.value)
    assert message.startswith("month must be YYYY-MM from 2000-01 to 2100-12 (got ")
    assert len(message) < 150
    with pytest.raises(ValidationError):
        _MonthModel(month=month)


def test_a_date_both_closed_and_worked_is_an_error_naming_both_fields():
    document = minimal_document()
    document["calendar"]["closed"] = ["2026-10-09", "2026-10-11"]
    document["calendar"]["extra_workdays"] = ["2026-10-11"]
    assert problems_of(document) == [
        "calendar: 2026-10-11 is both closed (closed[1]) and an extra workday (extra_workdays[0]): a date is either closed or worked"
    ]


# ---- duplicate keys ----

def test_a_key_twice_in_yaml_is_an_error_with_its_path_and_lines():
    text = MINIMAL.read_text(encoding="utf-8").replace("    max_sessions: 6\n", "    max_sessions: 6\n    max_sessions: 60\n")
    assert problems_of(text) == ["experts[0].max_sessions: duplicate key 'max_sessions' (lines 27 and 28): a key may appear once in a mapping"]


def test_a_key_twice_in_a_flow_mapping_too():
    text = MINIMAL.read_text(encoding="utf-8").replace("{id: pitou, name: 陂头镇卫生院,", "{id: pitou, name: 陂头镇卫生院, name: 别名,")
    assert problems_of(text) == ["townships[1].name: duplicate key 'name' (lines 20 and 20): a key may appear once in a mapping"]


def test_a_key_twice_in_json_is_an_error_with_its_path():
    document = load_scenario(MINIMAL).to_document()
    text = dump_scenario(validate_document(document), as_json=True)
    text = text.replace('"rooms": 2,', '"rooms": 2, "rooms": 3,', 1)
    assert problems_of(text) == ["townships[0].rooms: duplicate key 'rooms' (given twice): a key may appear once in a mapping"]


def test_a_merge_key_overridden_beside_it_is_not_a_duplicate():
    text = MINIMAL.read_text(encoding="utf-8").replace(
        "  - {id: E02, name: 王芳, department: internal, title: attending, specialties: [internal_med], max_sessions: 4}",
        "  - &junior {id: E02, name: 王芳, department: internal, title: attending, specialties: [internal_med], max_sessions: 4}\n"
        "  - {<<: *junior, id: E04, name: 张伟}",
    )
    scenario = parse_scenario(text)
    by_id = {e.id: e for e in scenario.experts}
    assert (by_id["E04"].name, by_id["E04"].max_sessions, by_id["E04"].specialties) == ("张伟", 4, ["internal_med"])


# ---- aliases ----

def test_files_that_use_aliases_modestly_still_parse_the_same():
    # PyYAML's own safe_dump writes an anchor for a value used twice: other tools' files can hold them.
    document = minimal_document()
    shared = ["mon", "thu"]
    document["townships"][0]["preferred_weekdays"] = shared
    document["experts"][1]["avoid_weekdays"] = shared
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    assert "&id001" in text and "*id001" in text
    assert parse_scenario(text) == validate_document(document)


def test_values_are_counted_with_aliases_expanded():
    levels = ['&a0 [x, x, x, x, x, x, x, x, x, x]'] + [f"&a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 6)]
    text = MINIMAL.read_text(encoding="utf-8").replace("  closed: [2026-10-09]\n", f"  closed: [{', '.join(levels)}]\n")
    assert len(text) < 3_000
    (line,) = problems_of(text)
    assert f"holds more than {MAX_VALUES:,} values by here" in line and line.startswith("calendar.closed[5][")


def test_shown_renders_a_bounded_part_of_any_value():
    bomb: list = ["lol"] * 10
    for _ in range(9):
        bomb = [bomb] * 10  # 10^10 values, a repr would never finish
    assert len(shown(bomb)) <= 60
    assert shown("x" * 10_000_000).startswith("'xxxx") and len(shown("x" * 10_000_000)) <= 60
    assert shown(10 ** 5000) == "a whole number of about 5001 digits"
    assert shown({"a": 1, "b": [1, 2]}) == "{'a': 1, 'b': [1, 2]}"
    assert shown(dt.date(2027, 1, 5)) == "2027-01-05"


def test_problems_are_capped_with_a_count_of_the_rest():
    document = minimal_document()
    document["experts"] = [{"id": f"E{n}"} for n in range(1_000)]  # five missing fields each
    document["links"] = []
    found = problems_of(document)
    assert len(found) == MAX_PROBLEMS + 1
    assert found[-1] == f"... and {5 * 1_000 - MAX_PROBLEMS:,} more problems not listed"


# ---- size and the bounded parse ----

def test_a_file_over_the_size_limit_is_refused_before_it_is_decoded():
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(b"\xff" * 3_000_000, source="big.yaml", max_bytes=2_000_000)  # not even UTF-8: never read
    assert str(caught.value) == "big.yaml is 3.0 MB, more than the 2.0 MB a scenario may be (ROTA_SCENARIO_MAX_BYTES)"


def test_the_size_limit_is_a_setting(monkeypatch):
    from config.settings import Settings

    monkeypatch.setenv("ROTA_SCENARIO_MAX_BYTES", "1234")
    monkeypatch.setenv("ROTA_SCENARIO_PARSE_TIMEOUT", "2.5")
    settings = Settings()
    assert (settings.scenario_max_bytes, settings.scenario_parse_timeout) == (1234, 2.5)
    assert (Settings.model_fields["scenario_max_bytes"].default, Settings.model_fields["scenario_parse_timeout"].default) == (2_000_000, 5.0)


def test_the_bounded_parse_gives_the_same_scenario_or_the_same_problems():
    raw = MINIMAL.read_bytes()
    assert parse_scenario_bounded(raw, timeout=60) == parse_scenario(raw)
    broken = raw.replace(b"specialties: [cardio, internal_med]", b"specialties: [cardo, internal_med]")
    with pytest.raises(ScenarioError) as caught:
        parse_scenario_bounded(broken, timeout=60, source="county.yaml")
    assert [str(p) for p in caught.value.problems] == ["experts[0].specialties[0]: unknown specialty 'cardo'"]


def _children() -> set[int]:
    path = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children")
    return {int(pid) for pid in path.read_text().split()}


def _large_valid_file() -> bytes:
    document = minimal_document()
    template = document["experts"][1]
    document["experts"] += [{**template, "id": f"X{n:05d}", "name": f"专家{n}"} for n in range(12_000)]
    raw = yaml.safe_dump(document, allow_unicode=True, sort_keys=False).encode("utf-8")
    assert 1_000_000 < len(raw) < 2_000_000
    return raw


def test_a_parse_over_its_time_limit_is_killed_and_refused():
    before = _children()
    with pytest.raises(ScenarioError) as caught:
        parse_scenario_bounded(_large_valid_file(), timeout=0.05, source="slow.yaml")  # ~1 s of parsing
    assert str(caught.value) == "slow.yaml took more than 0.05 s to read and was given up (ROTA_SCENARIO_PARSE_TIMEOUT)"
    assert _children() <= before  # killed and reaped, not left running


def test_a_large_valid_file_under_the_limit_is_accepted():
    scenario = parse_scenario_bounded(_large_valid_file(), timeout=120)
    assert len(scenario.experts) == 12_003 and scenario.experts[-1].id == "X11999"


# ---- messages as data ----

def test_every_message_has_both_languages_with_the_same_parameters():
    import re as regex

    from scheduler.scenario.messages import CATALOGUE

    for code, (english, chinese) in CATALOGUE.items():
        english_params, chinese_params = set(regex.findall(r"{(\w+)}", english)), set(regex.findall(r"{(\w+)}", chinese))
        # "invalid" carries pydantic's English words as `detail`, which the Chinese sentence leaves out
        assert chinese_params == english_params - ({"detail"} if code == "invalid" else set()), code
        words = regex.findall(r"[A-Za-z]{2,}", regex.sub(r"{\w+}", "", chinese))
        assert set(words) <= {"IANA", "NUL", "rota", "scenario"}, (code, words)  # no English prose in Chinese


def test_every_problem_of_a_broken_document_is_coded_and_reads_in_chinese():
    from scheduler.scenario.load import document_problems
    from scheduler.scenario.messages import CodedFieldError

    broken = Path(__file__).parent / "broken"
    seen_codes = set()
    for path in sorted(broken.glob("*.yaml")):
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except Exception:  # not YAML, not UTF-8, too deep: a problem of the file, not of a document
            continue
        if "bomb" in path.name or "alias" in path.name:
            continue
        _, problems = document_problems(document)
        for problem in problems:
            assert isinstance(problem, CodedFieldError), (path.name, problem)
            assert problem.message_in("en") == problem.message
            chinese = problem.message_in("zh-CN")
            assert chinese and chinese != problem.message
            seen_codes.add(problem.code)
    assert {"unknown_reference", "duplicate_id", "missing", "one_of", "date_range", "id_character", "from_after_to"} <= seen_codes


def test_chinese_renderings_of_the_common_problems():
    from scheduler.scenario.load import document_problems

    document = minimal_document()
    document["experts"][0]["specialties"][0] = "cardo"
    document["experts"][1]["title"] = "主任"
    document["townships"][1]["rooms"] = 0
    document["experts"][0]["unavailable"][0]["to"] = "9999-12-31"
    document["experts"][2]["id"] = "E01"
    _, problems = document_problems(document)
    assert {p.path: p.message_in("zh-CN") for p in problems} == {
        "experts[0].specialties[0]": "未知专科“cardo”",
        "experts[1].title": "必须是“chief”、“associate_chief”或“attending”之一（现为“主任”）",
        "townships[1].rooms": "不能小于1（现为0）",
        "experts[0].unavailable[0].to": "日期必须在2000-01-01至2100-12-31之间（现为9999-12-31）",
        "experts[2].id": "编号“E01”重复（与experts[0]相同）",
        "links[0].member": "未知专家“E03”",
    }
