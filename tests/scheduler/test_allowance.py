"""下沉补助: what counts as served from the published history, the figures by an independent count, the sheets."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from scheduler.allowance import (
    DEFAULT_RATES,
    AllowanceError,
    AllowanceRates,
    ExpertInfo,
    PublishedVersion,
    allowance_csv,
    allowance_rows,
    allowance_xlsx,
    experts_of,
    load_rates,
    parse_rates,
    served_sessions,
)
from scheduler.errors import ScenarioError
from scheduler.problem_builder import build_problem
from scheduler.roster_file import parse_roster, roster_json
from scheduler.scenario import load_scenario
from scheduler.scenario.schema import Unavailability
from solver.engine import solve

MINIMAL = Path(__file__).parent / "minimal.yaml"
SHANGHAI = ZoneInfo("Asia/Shanghai")
EXPERTS = [
    ExpertInfo("E01", "李海林", "chief", "内科"),
    ExpertInfo("E02", "王芳", "attending", "内科"),
    ExpertInfo("E03", "陈书记", "associate_chief", "内科"),
]


def row(assignment_id: str, day: str, half: str, township: str, kind: str, specialty: str | None, expert: str, link: bool = False) -> dict:
    return {"id": assignment_id, "date": day, "half_day": half, "township": township, "type": kind, "specialty": specialty,
            "expert": expert, "link_visit": link}


def roster(version: int, assignments: list[dict]) -> dict:
    return {"format": "rota.roster/1", "community": "测试县总医院", "month": "2026-10", "version": version, "status": "published",
            "assignments": assignments, "unmet": [], "solver": {"status": "FEASIBLE"}}


A1 = row("a1", "2026-10-09", "am", "nanjing", "clinic", "cardio", "E01")
A2 = row("a2", "2026-10-09", "am", "nanjing", "clinic", "internal_med", "E02")
A3 = row("a3", "2026-10-09", "pm", "nanjing", "supervision", None, "E03", link=True)
A4 = row("a4", "2026-10-12", "am", "pitou", "teaching", "internal_med", "E01")
A5 = row("a5", "2026-10-15", "am", "nanjing", "ward_round", "internal_med", "E02")
A5_MOVED = {**A5, "date": "2026-10-16"}
A6 = row("a6", "2026-10-13", "am", "pitou", "clinic", "cardio", "E01")
A7 = row("a7", "2026-10-20", "pm", "pitou", "clinic", "internal_med", "E02")
A8 = row("a8", "2026-10-14", "am", "nanjing", "clinic", "cardio", "E01")
A9 = row("a9", "2026-10-22", "am", "pitou", "clinic", "internal_med", "E02")
A10 = row("a10", "2026-10-27", "am", "nanjing", "clinic", "cardio", "E01")

# (published at, the rota.roster/1 document): version 2 was published on 14 October at 10:00 in Shanghai.
HISTORY = [
    ("2026-09-28T01:00:00+00:00", roster(1, [A1, A2, A3, A4, A5, A6, A7, A8])),
    ("2026-10-14T02:00:00+00:00", roster(2, [A1, A2, A3, A4, A5_MOVED, A9])),  # a6 dropped after its day; a7, a8 in time
    ("2026-10-21T01:00:00+00:00", roster(3, [A1, A2, A3, A5_MOVED, A9, A10])),  # a4 dropped after its day
]


def versions_of(history: list[tuple[str, dict]]) -> list[PublishedVersion]:
    return [PublishedVersion(dt.datetime.fromisoformat(when), parse_roster(document)[0], document["version"]) for when, document in history]


def independent_count(history: list[tuple[str, dict]], experts: list[ExpertInfo], rates: AllowanceRates) -> dict[str, dict]:
    """The figures straight from the JSON: per id, the last version holding it and the first one after that."""
    published = [(dt.datetime.fromisoformat(when).astimezone(SHANGHAI).date(), document["assignments"]) for when, document in history]
    last_seen: dict[str, int] = {}
    for index, (_, assignments) in enumerate(published):
        for assignment in assignments:
            last_seen[assignment["id"]] = index
    counted = []
    for assignment_id, index in last_seen.items():
        form = next(a for a in published[index][1] if a["id"] == assignment_id)
        if index == len(published) - 1 or dt.date.fromisoformat(form["date"]) < published[index + 1][0]:
            counted.append(form)
    titles = {e.id: e.title for e in experts}
    figures: dict[str, dict] = {}
    for expert in {a["expert"] for a in counted}:
        mine = [a for a in counted if a["expert"] == expert]
        shared_days = {a["date"] for a in mine
                       if any(o["expert"] != expert and o["date"] == a["date"] and o["township"] == a["township"] for o in counted)}
        days = len({a["date"] for a in mine})
        figures[expert] = {
            "types": {kind: sum(1 for a in mine if a["type"] == kind) for kind in ("clinic", "teaching", "ward_round", "supervision")},
            "days": days,
            "townships": {a["township"] for a in mine},
            "shared": len(shared_days),
            "amount": sum((getattr(getattr(rates, a["type"]), titles[expert]) for a in mine), Decimal(0)) + rates.per_day * days,
        }
    return figures


def figures_of(rows) -> dict[str, dict]:
    return {
        r.expert: {
            "types": {"clinic": r.clinic, "teaching": r.teaching, "ward_round": r.ward_round, "supervision": r.supervision},
            "days": r.days_down, "townships": set(r.townships), "shared": r.shared_car_days, "amount": r.amount,
        }
        for r in rows
    }


# ---- what counts as served ------------------------------------------------------------------------------------


def test_what_counts_as_served():
    served = {a.id: a for a in served_sessions(versions_of(HISTORY))}
    assert set(served) == {"a1", "a2", "a3", "a4", "a5", "a6", "a9", "a10"}
    assert served["a5"].date == dt.date(2026, 10, 16)  # moved by a re-plan: counted once, where it took place
    # a6 (13 Oct) and a4 (12 Oct) were dropped by versions published after their days: served all the same.
    # a7 (20 Oct) was cancelled in advance, a8 (14 Oct) on its own day before it began: neither counts.


def test_days_are_the_community_time_zones():
    # Dropped at 13 Oct 17:00 UTC = 14 Oct 01:00 in Shanghai: the session of 13 Oct had taken place there.
    history = [("2026-10-01T00:00:00+00:00", roster(1, [A6])), ("2026-10-13T17:00:00+00:00", roster(2, []))]
    assert [a.id for a in served_sessions(versions_of(history))] == ["a6"]
    assert served_sessions(versions_of(history), timezone="UTC") == []  # in UTC the change came on its day: in time


def test_sessions_after_until_are_not_served_yet():
    served = served_sessions(versions_of(HISTORY), until=dt.date(2026, 10, 16))
    assert {a.id for a in served} == {"a1", "a2", "a3", "a4", "a5", "a6"}


def test_no_published_version_serves_nothing():
    assert served_sessions([]) == [] and allowance_rows([], EXPERTS) == []


def test_the_hand_made_month():
    rows = {r.expert: r for r in allowance_rows(versions_of(HISTORY), EXPERTS)}
    first, second, member = rows["E01"], rows["E02"], rows["E03"]
    assert (first.clinic, first.teaching, first.ward_round, first.supervision, first.sessions) == (3, 1, 0, 0, 4)
    assert (first.days_down, first.townships, first.shared_car_days) == (4, ("nanjing", "pitou"), 1)
    assert (first.session_amount, first.day_amount, first.amount) == (Decimal(850), Decimal(200), Decimal(1050))
    assert (second.clinic, second.ward_round, second.days_down, second.shared_car_days, second.amount) == (2, 1, 3, 1, Decimal(450))
    assert (member.supervision, member.days_down, member.shared_car_days, member.amount) == (1, 1, 1, Decimal(150))


def test_the_figures_match_an_independent_count_of_the_roster_json():
    rates = parse_rates("per_day: 35.5\nclinic: {chief: 310, associate_chief: 220.25, attending: 160}\nsupervision: {chief: 0, associate_chief: 80, attending: 0}")
    assert figures_of(allowance_rows(versions_of(HISTORY), EXPERTS, rates)) == independent_count(HISTORY, EXPERTS, rates)


def test_a_solved_month_and_its_replan_match_an_independent_count():
    """A real roster (solved) published, re-planned after a leave and published again mid-month."""
    scenario = load_scenario(MINIMAL)
    first = solve(build_problem(scenario, "2026-10"), time_limit=3, workers=1)
    away = Unavailability.model_validate({"from": "2026-10-19", "to": "2026-10-31"})
    leave = scenario.model_copy(update={"experts": [
        expert.model_copy(update={"unavailable": [*expert.unavailable, away]}) if expert.id == "E02" else expert for expert in scenario.experts
    ]})
    second = solve(build_problem(leave, "2026-10"), time_limit=3, workers=1, previous=first, frozen_until=dt.date(2026, 10, 15))
    replanned = roster_json("测试县总医院", second, 2, "published")
    struck = replanned["assignments"].pop(0)  # and the office struck a past session from the record: it was served all the same
    history = [("2026-09-25T02:00:00+00:00", roster_json("测试县总医院", first, 1, "published")), ("2026-10-16T02:00:00+00:00", replanned)]
    history = json.loads(json.dumps(history))  # exactly what the files hold
    experts = experts_of(scenario)
    rows = allowance_rows(versions_of(history), experts)
    assert struck["date"] < "2026-10-16" and struck["id"] in {a.id for a in served_sessions(versions_of(history))}
    assert figures_of(rows) == independent_count(history, experts, DEFAULT_RATES)
    assert sum(r.sessions for r in rows) > len(replanned["assignments"])  # the struck session counts beside the standing ones


def test_idle_experts_only_when_asked_and_unknown_ones_refused():
    rows = allowance_rows(versions_of(HISTORY[:1]), [*EXPERTS, ExpertInfo("E09", "闲人", "attending", "内科")], include_idle=True)
    idle = rows[-1]
    assert (idle.expert, idle.sessions, idle.days_down, idle.amount) == ("E09", 0, 0, Decimal(0))
    assert [r.expert for r in allowance_rows(versions_of(HISTORY[:1]), [*EXPERTS, ExpertInfo("E09", "闲人", "attending", "内科")])] == ["E01", "E02", "E03"]
    with pytest.raises(AllowanceError, match="E03"):
        allowance_rows(versions_of(HISTORY), EXPERTS[:2])


# ---- the rate table ------------------------------------------------------------------------------------------


def test_a_rate_table_keeps_the_defaults_it_does_not_name(tmp_path):
    path = tmp_path / "rates.yaml"
    path.write_text("per_day: 80\nteaching: {chief: 300, associate_chief: 260, attending: 180.5}\n", encoding="utf-8")
    rates = load_rates(path)
    assert rates.per_day == Decimal(80) and rates.teaching.attending == Decimal("180.5")
    assert rates.clinic == DEFAULT_RATES.clinic
    as_json = tmp_path / "rates.json"
    as_json.write_text(json.dumps({"ward_round": {"chief": 1, "associate_chief": 2, "attending": 3}}), encoding="utf-8")
    assert load_rates(as_json).session_rate("ward_round", "associate_chief") == Decimal(2)
    assert parse_rates("") == DEFAULT_RATES


@pytest.mark.parametrize("text, fragment", [
    ("per_day: -5", "per_day: Input should be greater than or equal to 0"),
    ("per_day: 1.234", "per_day: Decimal input should have no more than 2 decimal places"),
    ("clinic: {chief: 300}", "clinic.associate_chief: Field required"),
    ("taxi: 5", "taxi: unknown field"),
    ("per_day: [1", "is not valid YAML or JSON"),
])
def test_a_bad_rate_table_names_the_field(text, fragment):
    with pytest.raises(ScenarioError) as caught:
        parse_rates(text)
    assert fragment in str(caught.value)


def test_a_rate_file_that_is_missing_or_huge(tmp_path):
    with pytest.raises(ScenarioError, match="cannot read"):
        load_rates(tmp_path / "none.yaml")
    huge = tmp_path / "huge.yaml"
    huge.write_text("#" * 200_000, encoding="utf-8")
    with pytest.raises(ScenarioError, match="larger than"):
        load_rates(huge)


# ---- the sheets ----------------------------------------------------------------------------------------------

TOWNSHIPS = {"nanjing": "南迳镇卫生院", "pitou": "陂头镇卫生院"}


def test_csv_opens_in_excel_and_holds_one_row_per_expert():
    rows = allowance_rows(versions_of(HISTORY), EXPERTS)
    text = allowance_csv(rows, township_names=TOWNSHIPS)
    assert text.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(text.encode("utf-8").decode("utf-8-sig"))))
    assert table[0] == ["编号", "姓名", "科室", "职称", "坐诊", "带教", "业务查房", "挂点督导", "合计次数", "下沉天数", "乡镇数", "下沉乡镇", "同车天数",
                        "次数补助（元）", "天数补助（元）", "合计（元）"]
    assert table[1] == ["E01", "李海林", "内科", "主任医师", "3", "1", "0", "0", "4", "4", "2", "南迳镇卫生院、陂头镇卫生院", "1", "850.00", "200.00", "1050.00"]
    assert len(table) == 4
    english = list(csv.reader(io.StringIO(allowance_csv(rows, "en", TOWNSHIPS).lstrip("\ufeff"))))
    assert english[0][:4] == ["Id", "Name", "Department", "Title"] and english[1][3] == "chief physician"
    assert english[1][11] == "南迳镇卫生院; 陂头镇卫生院"  # names are data; every word of the sheet is English


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_xlsx_has_the_rows_their_totals_and_the_rates(lang):
    rows = allowance_rows(versions_of(HISTORY), EXPERTS)
    book = load_workbook(io.BytesIO(allowance_xlsx(rows, community="测试县总医院", month="2026-10", lang=lang, township_names=TOWNSHIPS)))
    sheet_name, rates_name = ("下沉补助", "补助标准") if lang == "zh-CN" else ("Allowance", "Rates")
    assert book.sheetnames == [sheet_name, rates_name]
    sheet = book[sheet_name]
    assert sheet["A1"].value == ("测试县总医院 2026年10月 专家下沉补助" if lang == "zh-CN" else "测试县总医院: down-rotation allowance, 2026-10")
    assert sheet["A2"].value == ("编号" if lang == "zh-CN" else "Id")
    assert [sheet.cell(row=r, column=1).value for r in range(3, 7)] == ["E01", "E02", "E03", "合计" if lang == "zh-CN" else "Total"]
    assert sheet["P3"].value == 1050 and sheet["P3"].number_format == "0.00"
    assert sheet["I6"].value == sum(r.sessions for r in rows) and sheet["P6"].value == sum(r.amount for r in rows) == 1650
    rates = book[rates_name]
    assert rates["B2"].value == 200 and rates["A6"].value == ("每下沉一天（元）" if lang == "zh-CN" else "Per day down (CNY)") and rates["B6"].value == 50
    words = [cell.value for row in sheet.iter_rows(max_row=2) for cell in row if isinstance(cell.value, str)]
    words += [cell.value for row in rates.iter_rows() for cell in row if isinstance(cell.value, str)]
    if lang == "en":
        assert not any("\u4e00" <= ch <= "\u9fff" for word in words for ch in word.replace("测试县总医院", ""))
    else:
        assert not any(ch.isascii() and ch.isalpha() for word in words for ch in word)
