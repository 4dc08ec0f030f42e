"""Ids that look alike are not two ids, and a file says each thing once (issue 17 item 10).

The id pattern (scheduler/scenario/fields.py `Id`, documented there and in the README): 1-64 characters, each a
letter (any script), a digit, `-` or `_`, starting with a letter or a digit, read in NFC, no invisible, control or
full-width characters. Each case goes through the real scenario loader (YAML text, as `rota validate`, `PUT
/scenario` and `rota import` read it) and through the standing-data edits the API calls, on both engines, and
checks the message, in English and in Chinese.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scheduler import standing, store
from scheduler.db import transaction
from scheduler.errors import ScenarioError
from scheduler.scenario import parse_scenario
from scheduler.scenario.fields import ID_MAX_LENGTH
from scheduler.scenario.load import load_scenario
from scheduler.scenario.messages import CodedFieldError

MINIMAL = Path(__file__).parent / "minimal.yaml"
PITOU = "  - {id: pitou, name: 陂头镇卫生院, travel_minutes: 25}\n"
ONLY = "must hold only letters, digits, '-' and '_'"


def minimal_text() -> str:
    return MINIMAL.read_text(encoding="utf-8")


def problems(text: str) -> list[CodedFieldError]:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text)
    return caught.value.problems


def lines(text: str, lang: str = "en") -> list[str]:
    return [f"{p.path}: {p.message_in(lang) if lang != 'en' else p.message}" for p in problems(text)]


def with_township(id_yaml: str) -> str:
    """The minimal county with a third township whose id is written `id_yaml` (a YAML scalar)."""
    return minimal_text().replace(PITOU, PITOU + f"  - {{id: {id_yaml}, name: 第三镇, travel_minutes: 30}}\n")


def test_the_id_pattern_is_documented_where_a_newcomer_looks():
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    assert "ids are letters (any script), digits, `-` and `_`, 1-64 characters, NFC, no invisible or full-width" in readme
    assert ID_MAX_LENGTH == 64


# ---- look-alike and unsafe ids, through the loader ----

@pytest.mark.parametrize("id_yaml, english, chinese", [
    ('"nanjing\\u200b"',  # beside `nanjing`: the same id to the eye, with a zero-width space
     f"townships[2].id: {ONLY} (found invisible character U+200B ZERO WIDTH SPACE at character 8)",
     "townships[2].id: 只能包含字母、数字、“-”和“_”（第8个字符是不可见字符 U+200B）"),
    ('"nan\\u202ejing"',
     f"townships[2].id: {ONLY} (found invisible character U+202E RIGHT-TO-LEFT OVERRIDE at character 4)",
     "townships[2].id: 只能包含字母、数字、“-”和“_”（第4个字符是不可见字符 U+202E）"),
    ("../../etc/passwd",
     f"townships[2].id: {ONLY} (found U+002E FULL STOP at character 1)",
     "townships[2].id: 只能包含字母、数字、“-”和“_”（第1个字符是字符 U+002E（.））"),
    ('"t0\\n3"',
     f"townships[2].id: {ONLY} (found control character U+000A at character 3)",
     "townships[2].id: 只能包含字母、数字、“-”和“_”（第3个字符是控制字符 U+000A）"),
    ("' '",
     f"townships[2].id: {ONLY} (found a space at character 1)",
     "townships[2].id: 只能包含字母、数字、“-”和“_”（第1个字符是空格 U+0020）"),
    ("t" * 10_000,
     "townships[2].id: must be at most 64 characters (got 10000)",
     "townships[2].id: 不能超过64个字符（现为10000个）"),
    ("Ｔ０３",
     "townships[2].id: must not use full-width or other compatibility characters (write 'T03', not 'Ｔ０３')",
     "townships[2].id: 不能使用全角等兼容字符（应写作“T03”，而不是“Ｔ０３”）"),
    ("''", "townships[2].id: must not be empty", "townships[2].id: 不能为空"),
    ("_t03", "townships[2].id: must start with a letter or a digit (got '_t03')", "townships[2].id: 必须以字母或数字开头（现为“_t03”）"),
])
def test_a_look_alike_or_unsafe_id_is_refused_naming_the_field(id_yaml, english, chinese):
    text = with_township(id_yaml)
    assert lines(text) == [english]
    assert lines(text, "zh-CN") == [chinese]
    assert all(len(line) < 200 for line in lines(text))  # a 10,000-character id is never repeated back


@pytest.mark.parametrize("good", ["t03", "T-03", "t_03", "第三镇", "0", "a" * ID_MAX_LENGTH])
def test_good_ids_are_kept_as_written(good):
    scenario = parse_scenario(with_township(f"'{good}'"))
    assert scenario.townships[2].id == good


def test_a_reference_with_an_invisible_character_is_refused_and_never_shown_raw():
    text = minimal_text().replace("  - {township: pitou, type: teaching", '  - {township: "pitou\\u202e", type: teaching')
    found = problems(text)
    assert [p.path for p in found] == ["demand[3].township", "demand[3].township"]
    assert found[0].message == f"{ONLY} (found invisible character U+202E RIGHT-TO-LEFT OVERRIDE at character 6)"
    assert found[1].message == r"unknown township 'pitou\u202e'"
    assert found[1].message_in("zh-CN") == "未知乡镇“pitou\\u202e”"
    assert not any("\u202e" in p.message_in(lang) for p in found for lang in ("en", "zh-CN"))


def test_an_id_in_nfd_is_the_same_id_as_in_nfc():
    composed, decomposed = "Jos\u00e9", "Jose\u0301"
    text = minimal_text().replace("{id: pitou,", f"{{id: {decomposed},").replace("[nanjing, pitou]", f"[nanjing, {composed}]")
    text = text.replace("{township: pitou,", f"{{township: {composed},")
    scenario = parse_scenario(text)
    assert scenario.townships[1].id == composed == scenario.links[0].townships[1]
    beside = minimal_text().replace(PITOU, PITOU + f"  - {{id: {composed}, name: a, travel_minutes: 1}}\n  - {{id: {decomposed}, name: b, travel_minutes: 1}}\n")
    assert lines(beside) == ["townships[3].id: duplicate id 'José' (also townships[2])"]


# ---- a key twice, a day both closed and worked ----

@pytest.mark.parametrize("old, new, line", [
    ("format: rota.scenario/1\n", "format: rota.scenario/1\nformat: rota.scenario/1\n",
     "format: duplicate key 'format' (lines 2 and 3): a key may appear once in a mapping"),
    ("  timezone: Asia/Shanghai\n", "  timezone: Asia/Shanghai\n  timezone: Asia/Urumqi\n",
     "community.timezone: duplicate key 'timezone' (lines 5 and 6): a key may appear once in a mapping"),
    ("  holidays: CN\n", "  holidays: CN\n  holidays: none\n",
     "calendar.holidays: duplicate key 'holidays' (lines 7 and 8): a key may appear once in a mapping"),
    ("    max_sessions: 6\n", "    max_sessions: 6\n    max_sessions: 60\n",
     "experts[0].max_sessions: duplicate key 'max_sessions' (lines 27 and 28): a key may appear once in a mapping"),
    ("rooms: 2,", "rooms: 2, rooms: 3,",
     "townships[0].rooms: duplicate key 'rooms' (lines 19 and 19): a key may appear once in a mapping"),
])
def test_a_key_twice_is_refused_naming_the_field_and_both_lines(old, new, line):
    text = minimal_text()
    assert old in text
    assert lines(text.replace(old, new, 1)) == [line]


def test_a_key_twice_reads_in_chinese_too():
    text = minimal_text().replace("  holidays: CN\n", "  holidays: CN\n  holidays: none\n")
    assert lines(text, "zh-CN") == ["calendar.holidays: 键“holidays”重复（第7行和第8行）：同一处每个键只能出现一次"]


def test_a_day_both_closed_and_a_make_up_workday_is_refused_naming_both():
    text = minimal_text().replace("  closed: [2026-10-09]\n  extra_workdays: [2026-10-11]\n", "  closed: [2026-10-09, 2026-10-11]\n  extra_workdays: [2026-10-11]\n")
    assert lines(text) == ["calendar: 2026-10-11 is both closed (closed[1]) and an extra workday (extra_workdays[0]): a date is either closed or worked"]
    assert lines(text, "zh-CN") == ["calendar: 2026-10-11既是停诊日（closed[1]）又是调休上班日（extra_workdays[0]）：一天只能是其中之一"]


# ---- the same checks on the standing-data edits (what the API's PUT/POST call), on both engines ----

@pytest.fixture
def county(session_factory) -> str:
    with transaction(session_factory) as session:
        store.import_scenario(session, "minimal", load_scenario(MINIMAL))
    return "minimal"


def _refused(session_factory, edit) -> list[str]:
    with pytest.raises(ScenarioError) as caught, transaction(session_factory) as session:
        edit(session)
    return [str(p) for p in caught.value.problems]


def test_a_new_township_with_a_look_alike_id_is_refused_and_nothing_is_stored(session_factory, county):
    township = {"id": "nanjing\u200b", "name": "假南迳", "travel_minutes": 30}
    assert _refused(session_factory, lambda s: standing.put_item(s, county, "townships", township, create_only=True)) == [
        f"id: {ONLY} (found invisible character U+200B ZERO WIDTH SPACE at character 8)"
    ]
    with session_factory() as session:
        assert [t["id"] for t in standing.list_items(session, county, "townships")] == ["nanjing", "pitou"]


def test_a_link_to_a_path_like_township_is_refused(session_factory, county):
    found = _refused(session_factory, lambda s: standing.set_links(s, county, "E03", ["nanjing", "../../etc/passwd"]))
    assert found == [f"townships[1]: {ONLY} (found U+002E FULL STOP at character 1)", "townships[1]: unknown township '../../etc/passwd'"]
    with session_factory() as session:
        assert standing.list_links(session, county) == [{"member": "E03", "townships": ["nanjing", "pitou"]}]


def test_the_calendar_edit_refuses_a_day_both_closed_and_worked(session_factory, county):
    calendar = {"holidays": "CN", "closed": ["2026-10-09", "2026-10-11"], "extra_workdays": ["2026-10-11"]}
    assert _refused(session_factory, lambda s: standing.set_calendar(s, county, calendar)) == [
        "calendar: 2026-10-11 is both closed (closed[1]) and an extra workday (extra_workdays[0]): a date is either closed or worked"
    ]
    with session_factory() as session:
        assert standing.get_calendar(session, county)["closed"] == ["2026-10-09"]
