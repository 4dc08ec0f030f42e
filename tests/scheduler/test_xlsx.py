"""The Excel roster: read the workbook back with openpyxl and check cells, marks and shading."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from scheduler.calendar import month_calendar_for
from scheduler.errors import ScenarioError
from scheduler.labels import CommunityLabels
from scheduler.roster_file import roster_json
from scheduler.scenario.schema import CalendarSpec
from scheduler.xlsx import LINK_MARK, day_column, roster_workbook
from solver.solution import Assignment, SolveReport, Solution, Unmet
from solver.solution import Reason, ReasonCode

LABELS = CommunityLabels(
    community="全南县总医院",
    township_names={"nanjing": "南迳镇卫生院", "pitou": "陂头镇卫生院", "longxiang": "龙下乡卫生院"},
    travel_minutes={"nanjing": 40, "pitou": 25, "longxiang": 55},
    specialty_names={"cardio": "心血管内科", "paeds": "儿科", "internal_med": "普通内科"},
    expert_names={"E01": "李海林", "E07": "王芳", "E08": "张伟"},
)
# January 2027: the 1st is New Year's Day, the 2nd/3rd a weekend, the 4th closed by the scenario.
CALENDAR = month_calendar_for(CalendarSpec(holidays="CN", closed=[dt.date(2027, 1, 4)]), "2027-01")
OFF_GREY = "FFD9D9D9"


def roster_document(status: str = "published") -> dict:
    assignments = (
        Assignment(dt.date(2027, 1, 5), "am", "nanjing", "clinic", "cardio", "E07", False, "a1"),
        Assignment(dt.date(2027, 1, 5), "am", "nanjing", "supervision", None, "E01", True, "a2"),
        Assignment(dt.date(2027, 1, 5), "pm", "nanjing", "teaching", "internal_med", "E08", False, "a3"),
        Assignment(dt.date(2027, 1, 12), "am", "pitou", "clinic", "paeds", "E08", False, "a4"),
    )
    unmet = (
        Unmet("pitou", "clinic", "paeds", 2, Reason.of(ReasonCode.ALL_AT_MONTHLY_LIMIT, township="pitou", type="clinic", specialty="paeds", sessions=2, experts=["E02", "E04"])),
        Unmet("longxiang", "supervision", None, 1, Reason.of(ReasonCode.MEMBER_UNAVAILABLE, member="E01", township="longxiang"), member="E01"),
    )
    solution = Solution("2027-01", assignments, unmet, SolveReport("OPTIMAL", 10, 10, 1.0, 2))
    return roster_json("全南县总医院", solution, version=3, status=status)


def open_workbook(document: dict, lang: str = "zh-CN"):
    return load_workbook(io.BytesIO(roster_workbook(document, LABELS, CALENDAR, lang)))


def test_grid_has_townships_down_and_half_days_across():
    workbook = open_workbook(roster_document())
    assert workbook.sheetnames == ["排班表", "未满足需求"]
    sheet = workbook["排班表"]
    assert sheet["A1"].value == "全南县总医院 2027年1月 专家下沉排班（第3版，已发布）"
    assert sheet["A3"].value == "乡镇卫生院"
    assert [sheet.cell(row=r, column=1).value for r in (5, 6, 7)] == ["南迳镇卫生院", "陂头镇卫生院", "龙下乡卫生院"]
    fifth_am = day_column(dt.date(2027, 1, 5), "am")
    assert sheet.cell(row=3, column=fifth_am).value == "1月5日\n二"
    assert (sheet.cell(row=4, column=fifth_am).value, sheet.cell(row=4, column=fifth_am + 1).value) == ("上午", "下午")
    # The link visit comes first and carries the star.
    assert sheet.cell(row=5, column=fifth_am).value == f"{LINK_MARK}李海林 挂点督导\n王芳 心血管内科 坐诊"
    assert sheet.cell(row=5, column=fifth_am + 1).value == "张伟 普通内科 带教"
    assert sheet.cell(row=6, column=day_column(dt.date(2027, 1, 12), "am")).value == "张伟 儿科 坐诊"
    assert sheet.cell(row=6, column=fifth_am).value is None
    assert sheet.freeze_panes == "B5"
    assert sheet.column_dimensions["A"].width == 16
    assert sheet.max_column == day_column(dt.date(2027, 1, 31), "pm")


def test_only_the_link_visit_line_is_bold_red():
    workbook = load_workbook(io.BytesIO(roster_workbook(roster_document(), LABELS, CALENDAR)), rich_text=True)
    blocks = list(workbook["排班表"].cell(row=5, column=day_column(dt.date(2027, 1, 5), "am")).value)
    assert blocks[0].text == f"{LINK_MARK}李海林 挂点督导\n" and blocks[0].font.b and blocks[0].font.color.rgb == "FFC00000"
    assert blocks[1] == "王芳 心血管内科 坐诊"


def test_weekends_holidays_and_closed_days_are_shaded_and_working_days_are_not():
    sheet = open_workbook(roster_document())["排班表"]

    def fill(day: int, row: int = 5, half_day: str = "am") -> str | None:
        cell = sheet.cell(row=row, column=day_column(dt.date(2027, 1, day), half_day))
        return cell.fill.fgColor.rgb if cell.fill.fill_type == "solid" else None

    for off_day in (1, 2, 3, 4, 9, 10, 31):
        assert fill(off_day) == OFF_GREY, off_day
        assert fill(off_day, row=7, half_day="pm") == OFF_GREY, off_day
        assert fill(off_day, row=3) == OFF_GREY, off_day  # the date header too
    for working_day in (5, 6, 11, 29):
        assert fill(working_day) is None, working_day
        assert fill(working_day, row=3) != OFF_GREY
    # The closed weekday and the statutory holiday say so in the header.
    assert sheet.cell(row=3, column=day_column(dt.date(2027, 1, 4), "am")).value.endswith("停诊")
    assert sheet.cell(row=3, column=day_column(dt.date(2027, 1, 1), "am")).value == "1月1日\n五\n" + CALENDAR.holidays[dt.date(2027, 1, 1)]


def test_unmet_sheet_lists_demand_and_reasons():
    sheet = open_workbook(roster_document())["未满足需求"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=1, max_row=3)]
    assert rows[0] == ["乡镇卫生院", "类型", "专科", "挂点党委成员", "缺口（次）", "原因"]
    assert rows[1][:5] == ["陂头镇卫生院", "坐诊", "儿科", None, 2]
    assert rows[1][5].startswith("陂头镇卫生院儿科坐诊缺2次：") and "均已达每月上限" in rows[1][5]
    assert rows[2] == ["龙下乡卫生院", "挂点督导", None, "李海林", 1, "龙下乡卫生院开诊的每个工作日，李海林都不可用（或科室无法抽调）"]


def test_a_roster_with_nothing_unmet_says_so():
    document = roster_document()
    document["unmet"] = []
    assert open_workbook(document)["未满足需求"]["A2"].value == "所有需求均已排满。"


def test_english_workbook_and_draft_status():
    workbook = open_workbook(roster_document(status="draft"), lang="en")
    assert workbook.sheetnames == ["Roster", "Unmet demand"]
    sheet = workbook["Roster"]
    assert sheet["A1"].value == "全南县总医院 2027-01 township rota (version 3, draft)"
    fifth_am = day_column(dt.date(2027, 1, 5), "am")
    assert sheet.cell(row=3, column=fifth_am).value == "1/5\nTue"
    assert sheet.cell(row=5, column=fifth_am).value == f"{LINK_MARK}李海林 link supervision\n王芳 心血管内科 clinic"


def test_bad_input_is_refused_with_the_field_named():
    document = roster_document()
    del document["assignments"][0]["expert"]
    with pytest.raises(ScenarioError) as raised:
        roster_workbook(document, LABELS, CALENDAR)
    assert [problem.path for problem in raised.value.problems] == ["assignments[0].expert"]
    february = month_calendar_for(CalendarSpec(holidays="CN"), "2027-02")
    with pytest.raises(ValueError, match="month_calendar is for 2027-02 but the roster is for 2027-01"):
        roster_workbook(roster_document(), LABELS, february)
