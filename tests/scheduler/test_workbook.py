"""The standing data as a workbook: round trips, workbooks made by openpyxl and by LibreOffice, every bad cell's message.

The LibreOffice fixtures in workbooks/ are made by scripts/make-workbook-fixtures from the CSV files beside
them (LibreOffice imports each CSV as typed, detecting numbers, dates and times, and saves one .xlsx).
"""

from __future__ import annotations

import datetime as dt
import io
import time
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from scheduler.errors import ScenarioError
from scheduler.scenario import load_scenario
from scheduler.scenario.load import validate_document
from scheduler.workbook import (
    WorkbookError,
    document_to_workbook,
    layout,
    reader,
    template_workbook,
    workbook_to_document,
    workbook_to_scenario,
    workbook_to_scenario_bounded,
)

HERE = Path(__file__).parent
WORKBOOKS = HERE / "workbooks"
MINIMAL = HERE / "minimal.yaml"
SAMPLE = HERE.parents[1] / "config" / "examples" / "quannan.yaml"


def cell_values(data: bytes) -> dict[str, list[tuple]]:
    """Every sheet's cell values, row by row: what "the same workbook content" means."""
    book = load_workbook(io.BytesIO(data))
    return {sheet.title: [tuple(row) for row in sheet.iter_rows(values_only=True)] for sheet in book.worksheets}


def edited(data: bytes, edits: dict[tuple[str, str], object], drop: tuple[str, ...] = (), add: tuple[tuple[str, list[list]], ...] = ()) -> bytes:
    """The workbook with some cells changed, sheets dropped or added, saved again by openpyxl."""
    book = load_workbook(io.BytesIO(data))
    for (sheet, cell), value in edits.items():
        book[sheet][cell] = value
    for name in drop:
        del book[name]
    for name, rows in add:
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def problems(data: bytes, lang: str = "zh-CN") -> list[str]:
    with pytest.raises(WorkbookError) as caught:
        workbook_to_scenario(data, lang)
    return caught.value.lines()


@pytest.fixture(scope="module")
def minimal_zh() -> bytes:
    return document_to_workbook(load_scenario(MINIMAL), "zh-CN")


@pytest.fixture(scope="module")
def minimal_en() -> bytes:
    return document_to_workbook(load_scenario(MINIMAL), "en")


# ---- round trips -----------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
@pytest.mark.parametrize("path", [MINIMAL, SAMPLE], ids=["minimal", "sample"])
def test_import_of_an_export_is_the_scenario(path, lang):
    scenario = load_scenario(path)
    assert workbook_to_scenario(document_to_workbook(scenario, lang), lang) == scenario
    # The document form too, and whatever language the messages are asked in.
    assert workbook_to_document(document_to_workbook(scenario.to_document(), lang), "en") == scenario.to_document()


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
@pytest.mark.parametrize("path", [MINIMAL, SAMPLE], ids=["minimal", "sample"])
def test_export_import_export_gives_the_same_cells(path, lang):
    first = document_to_workbook(load_scenario(path), lang)
    second = document_to_workbook(workbook_to_scenario(first, lang), lang)
    assert cell_values(second) == cell_values(first)


def test_sheets_and_headers_are_in_one_language(minimal_zh, minimal_en):
    assert list(cell_values(minimal_zh)) == ["说明", "设置", "专科", "科室", "乡镇", "专家", "请假", "挂点", "需求", "日历"]
    assert list(cell_values(minimal_en)) == ["Instructions", "Settings", "Specialties", "Departments", "Townships", "Experts",
                                             "Unavailability", "Links", "Demand", "Calendar"]
    zh, en = cell_values(minimal_zh), cell_values(minimal_en)
    assert zh["专家"][0] == ("编号", "姓名", "科室", "职称", "专科", "每月最多次数", "避开星期", "既往乡镇")
    assert en["Experts"][0] == ("Id", "Name", "Department", "Title", "Specialties", "Max sessions a month", "Avoided weekdays", "Previous townships")
    # Words in the cells follow the language; names (data) stay as the office wrote them.
    assert zh["专家"][1] == ("E01", "李海林", "内科", "主任医师", "心血管内科、普通内科", 6, "周五", "南迳镇卫生院")
    assert en["Experts"][1] == ("E01", "李海林", "内科", "chief physician", "心血管内科, 普通内科", 6, "fri", "南迳镇卫生院")
    assert zh["乡镇"][1][4:] == ("是", "周一、周四") and en["Townships"][1][4:] == ("yes", "mon, thu")
    assert zh["请假"][1:] == [("李海林", dt.datetime(2026, 10, 12), dt.datetime(2026, 10, 14), None, "conference"),
                            ("李海林", dt.datetime(2026, 10, 20), None, "下午", None)]
    assert zh["日历"][1:] == [(dt.datetime(2026, 10, 9), "停诊"), (dt.datetime(2026, 10, 11), "调休上班")]
    instructions = " ".join(line for (line,) in zh["说明"] if line)
    assert "、" in instructions and "周一" in instructions and not any(word in instructions for word in ("Row", "sheet", "the"))


def test_a_reference_is_written_by_code_where_its_name_would_not_read_back():
    document = load_scenario(MINIMAL).to_document()
    document["experts"][1]["name"] = document["experts"][2]["name"]  # two experts called 陈书记
    document["specialties"][1]["name"] = "内科、全科"  # a name holding a list separator
    cells = cell_values(document_to_workbook(document))
    assert cells["挂点"][1][0] == "E03"
    assert cells["专家"][1][4] == "心血管内科、internal_med"
    assert workbook_to_document(document_to_workbook(document)) == validate_document(document).to_document()


def test_the_template_needs_only_the_community_name():
    template = template_workbook()
    assert problems(template) == ["设置!B2（医共体名称）：必须填写"]
    assert problems(template_workbook("en"), "en") == ["Settings!B2 (Community name): required field is missing"]
    scenario = workbook_to_scenario(edited(template, {("设置", "B2"): "新县总医院"}))
    assert scenario.community.name == "新县总医院" and scenario.community.timezone == "Asia/Shanghai"
    assert scenario.calendar.holidays == "CN" and scenario.experts == [] and scenario.rules.link_team_min == 2
    assert cell_values(template)["专家"] == [tuple(column.zh for column in layout.EXPERTS.columns)]


def test_the_template_offers_the_choices_of_enumerated_columns():
    sheet = load_workbook(io.BytesIO(template_workbook()))["专家"]
    offered = {str(validation.sqref): validation.formula1 for validation in sheet.data_validations.dataValidation}
    assert offered == {"D2:D2001": '"主任医师,副主任医师,主治医师"'}


# ---- what a cell may say -------------------------------------------------------------------------------------


def test_a_workbook_made_by_hand_in_openpyxl_reads_every_accepted_spelling():
    book = Workbook()
    settings = book.active
    settings.title = "Settings"  # English sheet names and headers in a workbook read for Chinese messages
    for row in (["Item", "Value"], ["Community name", "手工县医院"], ["holiday calendar", "仅周末"], ["上午开始", dt.time(8, 0)],
                ["Morning ends", "11:00"], ["下午开始", "14:00"], ["下午结束", dt.datetime(1900, 1, 1, 17, 30)],
                ["查房时段", "上午；下午"], ["权重：公平", 20.0]):
        settings.append(row)
    sheets = {
        "专科": [["名称", "代码"], ["心血管内科", "cardio"], [None, None], ["儿科", "paeds"]],
        "科室": [["代码", "名称", "最少在岗人数"], ["internal", "内科", "1"], ["paed", "儿科", None]],
        "乡镇": [["编号", "名称", "单程车程（分钟）", "住院病区", "赶集日"],
                ["n1", "一号镇", 30.0, True, "Monday,星期四"], ["n2", "二号镇", "45", "否", "周六 ; sun"]],
        "专家": [["编号", "姓名", "职称", "科室", "专科", "每月最多次数"],
                [1001, "甲", "副主任医师", "内科", "cardio，儿科", 4], [1002.0, "乙", "Attending", "paed", "儿科", "3"]],
        "请假": [["专家", "开始日期", "结束日期", "半天"], ["甲", dt.date(2027, 3, 1), "2027/3/3", None], [1002, "2027年3月9日", None, "pm"]],
        "Links": [["Member", "Townships"], ["甲", "n1\nn2"]],
        "需求": [["乡镇", "类型", "专科", "次数"], ["一号镇", "专家门诊", "心血管内科", 2], ["n2", "ward round", "paeds", 1]],
        "日历": [["日期", "类型"], ["2027-03-06", "补班"], [dt.datetime(2027, 3, 8), "closed"]],
    }
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    expected = {
        "format": "rota.scenario/1",
        "community": {"name": "手工县医院", "timezone": "Asia/Shanghai"},
        "calendar": {"holidays": "none", "closed": ["2027-03-08"], "extra_workdays": ["2027-03-06"]},
        "half_days": {"am": {"start": "08:00", "end": "11:00"}, "pm": {"start": "14:00", "end": "17:30"}},
        "specialties": [{"code": "cardio", "name": "心血管内科"}, {"code": "paeds", "name": "儿科"}],
        "departments": [{"code": "internal", "name": "内科", "min_on_site": 1}, {"code": "paed", "name": "儿科"}],
        "townships": [
            {"id": "n1", "name": "一号镇", "travel_minutes": 30, "inpatient_ward": True, "preferred_weekdays": ["mon", "thu"]},
            {"id": "n2", "name": "二号镇", "travel_minutes": 45, "inpatient_ward": False, "preferred_weekdays": ["sat", "sun"]},
        ],
        "experts": [
            {"id": "1001", "name": "甲", "title": "associate_chief", "department": "internal", "specialties": ["cardio", "paeds"], "max_sessions": 4,
             "unavailable": [{"from": "2027-03-01", "to": "2027-03-03"}]},
            {"id": "1002", "name": "乙", "title": "attending", "department": "paed", "specialties": ["paeds"], "max_sessions": 3,
             "unavailable": [{"date": "2027-03-09", "half_day": "pm"}]},
        ],
        "links": [{"member": "1001", "townships": ["n1", "n2"]}],
        "demand": [{"township": "n1", "type": "clinic", "specialty": "cardio", "sessions": 2},
                   {"township": "n2", "type": "ward_round", "specialty": "paeds", "sessions": 1}],
        "rules": {"ward_round_half_days": ["am", "pm"], "weights": {"fairness": 20}},
    }
    assert workbook_to_scenario(buffer.getvalue()) == validate_document(expected)


# ---- bad cells: sheet, row, column and what is wrong ---------------------------------------------------

BAD_CELLS = [
    ("unknown_title", {("专家", "D3"): "主任"}, ["专家!D3（职称）：未知职称“主任”（可填：主任医师、副主任医师、主治医师）"]),
    ("not_a_number", {("专家", "F3"): "四"}, ["专家!F3（每月最多次数）：必须是整数（现为“四”）"]),
    ("below_minimum", {("乡镇", "D2"): 0}, ["乡镇!D2（诊室数）：不能小于1（现为0）"]),
    ("above_maximum", {("专家", "F2"): 10**11}, ["专家!F2（每月最多次数）：不能大于2147483647（现为100000000000）"]),
    ("not_a_real_date", {("请假", "B3"): "2026-02-30"}, ["请假!B3（开始日期）：“2026-02-30”不是真实存在的日期"]),
    ("not_a_date", {("请假", "B3"): "下周一"}, ["请假!B3（开始日期）：必须是日期，如 2027-01-29（现为“下周一”）"]),
    ("date_out_of_range", {("日历", "A2"): dt.datetime(1999, 12, 31)}, ["日历!A2（日期）：日期必须在2000-01-01至2100-12-31之间（现为1999-12-31）"]),
    ("far_leave_end", {("请假", "C2"): dt.datetime(9999, 12, 31)}, ["请假!C2（结束日期）：日期必须在2000-01-01至2100-12-31之间（现为9999-12-31）"]),
    ("unknown_department", {("专家", "C3"): "外科"}, ["专家!C3（科室）：未知科室“外科”"]),
    ("unknown_link_township", {("挂点", "B2"): "南迳镇卫生院、龙源坝"}, ["挂点!B2（挂点乡镇）：未知乡镇“龙源坝”"]),
    ("unknown_expert_on_leave", {("请假", "A3"): "张三"}, ["请假!A3（专家）：未知专家“张三”"]),
    ("ambiguous_name", {("专家", "B3"): "陈书记"}, ["挂点!A2（党委成员）：名称“陈书记”对应多个专家（E02、E03），请填编号"]),
    ("duplicate_id", {("专家", "A3"): "E01"}, ["专家!A3（编号）：编号“E01”重复（与专家!A2相同）"]),
    ("zero_width_space_in_id", {("乡镇", "A3"): "pitou\u200b"}, ["乡镇!A3（编号）：只能包含字母、数字、“-”和“_”（第6个字符是不可见字符 U+200B）"]),
    ("right_to_left_override_in_id", {("乡镇", "A3"): "pi\u202etou"}, ["乡镇!A3（编号）：只能包含字母、数字、“-”和“_”（第3个字符是不可见字符 U+202E）"]),
    ("path_as_id", {("乡镇", "A3"): "../../etc/passwd"}, ["乡镇!A3（编号）：只能包含字母、数字、“-”和“_”（第1个字符是字符 U+002E（.））"]),
    ("space_in_id", {("专家", "A2"): "E 01"}, ["专家!A2（编号）：只能包含字母、数字、“-”和“_”（第2个字符是空格 U+0020）"]),
    ("blank_id", {("乡镇", "A3"): " "}, ["乡镇!A3（编号）：必须填写"]),
    ("long_id", {("乡镇", "A3"): "x" * 10_000}, ["乡镇!A3（编号）：不能超过64个字符（现为10000个）"]),
    ("full_width_id", {("专家", "A2"): "Ｅ０１"}, ["专家!A2（编号）：不能使用全角等兼容字符（应写作“E01”，而不是“Ｅ０１”）"]),
    ("unknown_weekday", {("乡镇", "F2"): "周一、周八"}, ["乡镇!F2（赶集日）：未知星期“周八”（可填：周一、周二、周三、周四、周五、周六、周日）"]),
    ("weekday_twice", {("乡镇", "F2"): "周一、mon"}, ["乡镇!F2（赶集日）：星期“周一”重复列出"]),
    ("not_yes_or_no", {("乡镇", "E2"): "可能"}, ["乡镇!E2（住院病区）：未知取值“可能”（可填：是、否）"]),
    ("specialty_twice", {("专家", "E2"): "cardio、心血管内科"}, ["专家!E2（专科）：专科“cardio”重复列出"]),
    ("from_after_to", {("请假", "C2"): dt.datetime(2026, 10, 1)}, ["请假!第2行：开始日期2026-10-12晚于结束日期2026-10-01"]),
    ("half_day_with_range", {("请假", "D2"): "上午"}, ["请假!第2行：半天只能用于单日，不能用于日期范围"]),
    ("to_without_from", {("请假", "B3"): None, ("请假", "C3"): dt.datetime(2026, 10, 21), ("请假", "D3"): None},
     ["请假!第3行：日期范围需要开始日期和结束日期"]),
    ("leave_without_a_date", {("请假", "B3"): None}, ["请假!B3（开始日期）：必须填写"]),
    ("closed_and_worked", {("日历", "A3"): dt.datetime(2026, 10, 9)},
     ["日历：2026-10-09既是停诊日（日历!A2）又是调休上班日（日历!A3）：一天只能是其中之一"]),
    ("unknown_kind_of_day", {("日历", "B2"): "放假"}, ["日历!B2（类型）：未知日期类型“放假”（可填：停诊、调休上班）"]),
    ("unknown_time_zone", {("设置", "B3"): "Asia/Beijing"}, ["设置!B3（时区）：未知的 IANA 时区“Asia/Beijing”"]),
    ("clock_out_of_range", {("设置", "B5"): "25:00"}, ["设置!B5（上午开始）：必须是时间 时:分，如 08:30（现为“25:00”）"]),
    ("not_a_clock", {("设置", "B5"): "早上"}, ["设置!B5（上午开始）：必须是时间 时:分，如 08:30（现为“早上”）"]),
    ("morning_after_afternoon", {("设置", "B6"): "15:00"}, ["设置!B6（上午结束）：上午结束（15:00）不能晚于下午开始（14:00）"]),
    ("start_after_end", {("设置", "B7"): "18:00"}, ["设置!B7（下午开始）：开始时间18:00必须早于结束时间17:00"]),
    ("supervision_demanded", {("需求", "B2"): "挂点督导"}, ["需求!B2（类型）：必须是“坐诊”、“带教”或“业务查房”之一（现为“挂点督导”）"]),
    ("link_twice", {("挂点", "A3"): "E03", ("挂点", "B3"): "南迳镇卫生院"}, ["挂点!B3（挂点乡镇）：“E03”已在挂点!B2挂点“nanjing”"]),
    ("link_without_townships", {("挂点", "B2"): None}, ["挂点!B2（挂点乡镇）：不能为空"]),
    ("empty_required_cell", {("乡镇", "C2"): None}, ["乡镇!C2（单程车程（分钟））：必须填写"]),
    ("renamed_item_still_referred_to_by_name", {("科室", "B2"): "大内科"},
     ["专家!C2（科室）：未知科室“内科”", "专家!C3（科室）：未知科室“内科”", "专家!C4（科室）：未知科室“内科”"]),
    ("unknown_setting", {("设置", "A30"): "颜色", ("设置", "B30"): "蓝"}, ["设置!A30（项目）：未知设置项“颜色”"]),
    ("unknown_column", {("专家", "I1"): "备注", ("专家", "I2"): "x"},
     ["专家!I1（备注）：未知列“备注”（可用：编号、姓名、科室、职称、专科、每月最多次数、避开星期、既往乡镇）", "专家!I2：这一列没有表头"]),
    ("cell_without_header", {("专家", "J2"): "x"}, ["专家!J2：这一列没有表头"]),
    ("missing_column", {("专家", "B1"): None}, ["专家：缺少列“姓名”", "专家!B2：这一列没有表头", "专家!B3：这一列没有表头", "专家!B4：这一列没有表头"]),
]


@pytest.mark.parametrize("edits, expected", [case[1:] for case in BAD_CELLS], ids=[case[0] for case in BAD_CELLS])
def test_a_bad_cell_is_named_by_sheet_row_and_column(minimal_zh, edits, expected):
    assert problems(edited(minimal_zh, edits)) == expected


BAD_CELLS_EN = [
    ("unknown_title", {("Experts", "D3"): "主任"},
     ["Experts!D3 (Title): unknown title '主任' (use one of: chief physician, associate chief physician, attending physician)"]),
    ("duplicate_id", {("Experts", "A3"): "E01"}, ["Experts!A3 (Id): duplicate id 'E01' (also Experts!A2)"]),
    ("zero_width_space_in_id", {("Townships", "A3"): "pitou\u200b"},
     ["Townships!A3 (Id): must hold only letters, digits, '-' and '_' (found invisible character U+200B ZERO WIDTH SPACE at character 6)"]),
    ("from_after_to", {("Unavailability", "C2"): dt.datetime(2026, 10, 1)}, ["Unavailability!row 2: 'from' 2026-10-12 is after 'to' 2026-10-01"]),
    ("supervision_demanded", {("Demand", "B2"): "supervision"}, ["Demand!B2 (Type): must be one of 'clinic', 'teaching' or 'ward round' (got 'link supervision')"]),
    ("unknown_weekday", {("Townships", "F2"): "mon, funday"},
     ["Townships!F2 (Market days): unknown weekday 'funday' (use one of: mon, tue, wed, thu, fri, sat, sun)"]),
    ("date_out_of_range", {("Calendar", "A2"): dt.datetime(2101, 1, 3)}, ["Calendar!A2 (Date): must be a date from 2000-01-01 to 2100-12-31 (got 2101-01-03)"]),
]


@pytest.mark.parametrize("edits, expected", [case[1:] for case in BAD_CELLS_EN], ids=[case[0] for case in BAD_CELLS_EN])
def test_a_bad_cell_in_english(minimal_en, edits, expected):
    assert problems(edited(minimal_en, edits), "en") == expected


def test_every_problem_is_listed_in_sheet_order_and_nothing_is_imported(minimal_zh):
    broken = edited(minimal_zh, {("需求", "D2"): "两次", ("专家", "D3"): "主任", ("设置", "B3"): "Mars/Olympus", ("乡镇", "D2"): 0})
    with pytest.raises(WorkbookError) as caught:
        workbook_to_document(broken)
    assert caught.value.lines() == [
        "设置!B3（时区）：未知的 IANA 时区“Mars/Olympus”",
        "乡镇!D2（诊室数）：不能小于1（现为0）",
        "专家!D3（职称）：未知职称“主任”（可填：主任医师、副主任医师、主治医师）",
        "需求!D2（次数）：必须是整数（现为“两次”）",
    ]
    # A ScenarioError: the CLI and the API render it where they render a scenario's problems, one line each.
    assert isinstance(caught.value, ScenarioError)
    assert caught.value.as_json()[1] == {"path": "乡镇!D2", "message": "不能小于1（现为0）"}


def test_the_same_workbook_read_for_english_messages(minimal_zh):
    broken = edited(minimal_zh, {("专家", "D3"): "主任"})
    assert problems(broken, "en") == ["专家!D3 (Title): unknown title '主任' (use one of: chief physician, associate chief physician, attending physician)"]


@pytest.mark.parametrize("change, expected", [
    ({"drop": ("专家",)}, ["工作簿：缺少工作表“专家”"]),
    ({"add": (("Sheet1", [["一些笔记"]]),)}, ["Sheet1：未知工作表（可用：说明、设置、专科、科室、乡镇、专家、请假、挂点、需求、日历）"]),
    ({"add": (("Experts", [["Id"]]),)}, ["Experts：与工作表“专家”重复"]),
], ids=["missing_sheet", "unknown_sheet", "same_sheet_twice"])
def test_sheets_that_are_missing_unknown_or_twice(minimal_zh, change, expected):
    assert problems(edited(minimal_zh, {}, **change)) == expected


def test_an_empty_extra_sheet_and_no_instructions_are_fine(minimal_zh):
    scenario = workbook_to_scenario(edited(minimal_zh, {}, drop=("说明",), add=(("Sheet1", []),)))
    assert scenario == load_scenario(MINIMAL)


def test_what_is_not_a_workbook():
    message = ["工作簿：不是 .xlsx 工作簿（请在 Excel 或 WPS 中另存为 .xlsx）"]
    assert problems(MINIMAL.read_bytes()) == message
    assert problems(b"") == message
    assert problems(b"PK\x03\x04 truncated zip") == message
    not_a_book = io.BytesIO()
    with zipfile.ZipFile(not_a_book, "w") as archive:
        archive.writestr("hello.txt", "a zip, not a workbook")
    assert problems(not_a_book.getvalue()) == message


def test_an_xml_entity_bomb_in_a_sheet_is_refused_at_once(minimal_zh):
    # "Billion laughs" inside the specialties sheet: expat stops the expansion, the sheet is reported unreadable.
    source = zipfile.ZipFile(io.BytesIO(minimal_zh))
    entities = "".join(f'<!ENTITY lol{i} "{("&lol%d;" % (i - 1)) * 10 if i > 1 else "lol" * 10}">' for i in range(1, 10))
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w") as archive:
        for name in source.namelist():
            data = source.read(name)
            if name == "xl/worksheets/sheet3.xml":
                data = (f"<!DOCTYPE worksheet [{entities}]>" + data.decode().replace(">cardio<", ">&lol9;<", 1)).encode()
            archive.writestr(name, data)
    started = time.perf_counter()
    assert problems(bomb.getvalue()) == ["专科：无法读取这个工作表（文件已损坏，或含有不允许的内容）"]
    assert time.perf_counter() - started < 10  # the bound for hostile files


def test_size_and_row_bounds(minimal_zh, monkeypatch):
    monkeypatch.setattr(reader, "MAX_WORKBOOK_BYTES", len(minimal_zh) - 1)
    assert problems(minimal_zh)[0].startswith("工作簿：文件太大")
    monkeypatch.setattr(reader, "MAX_WORKBOOK_BYTES", 10**8)
    monkeypatch.setattr(reader, "MAX_UNPACKED_BYTES", 1000)
    assert problems(minimal_zh)[0].startswith("工作簿：工作簿解压后太大")
    monkeypatch.setattr(reader, "MAX_UNPACKED_BYTES", 10**9)
    monkeypatch.setattr(reader, "MAX_ROWS", 3)
    found = problems(minimal_zh)
    assert found[0] == "设置!第4行：行太多：最多读 3 行"
    assert all("：行太多：最多读 3 行" in line for line in found) and "专家!第4行：行太多：最多读 3 行" in found


def test_problems_are_capped_with_a_count_of_the_rest(minimal_zh):
    rows = [[f"X{n}", f"某{n}", "内科", "教授", "cardio", "多"] for n in range(150)]
    book = load_workbook(io.BytesIO(minimal_zh))
    for row in rows:
        book["专家"].append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    found = problems(buffer.getvalue())
    assert len(found) == reader.MAX_PROBLEMS + 1 and found[-1] == "工作簿：另有 100 个问题未列出"
    assert found[0] == "专家!D5（职称）：未知职称“教授”（可填：主任医师、副主任医师、主治医师）"


def test_the_bounded_import_gives_the_same_scenario_or_the_same_problems(minimal_zh):
    assert workbook_to_scenario_bounded(minimal_zh, timeout=60) == load_scenario(MINIMAL)
    broken = edited(minimal_zh, {("专家", "D3"): "主任", ("乡镇", "D2"): 0})
    with pytest.raises(WorkbookError) as caught:
        workbook_to_scenario_bounded(broken, "zh-CN", timeout=60)
    assert caught.value.lines() == problems(broken)


def test_a_bounded_import_over_its_time_limit_is_refused():
    sample = document_to_workbook(load_scenario(SAMPLE))  # ~0.3 s or more to read
    with pytest.raises(WorkbookError) as caught:
        workbook_to_scenario_bounded(sample, "en", timeout=0.01)
    assert caught.value.lines() == ["workbook: reading took more than 0.01 s and was given up (ROTA_SCENARIO_PARSE_TIMEOUT)"]


# ---- workbooks LibreOffice wrote ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["quannan", "typed_by_hand", "bad_cells"])
def test_the_fixtures_were_written_by_libreoffice(name):
    properties = zipfile.ZipFile(WORKBOOKS / f"{name}_libreoffice.xlsx").read("docProps/app.xml").decode()
    assert "<Application>LibreOffice" in properties


def test_the_sample_typed_into_libreoffice_reads_as_the_sample():
    # LibreOffice made dates, times and numbers of the CSV cells: the reader takes them as the writer's text and numbers.
    book = load_workbook(WORKBOOKS / "quannan_libreoffice.xlsx")
    assert isinstance(book["请假"]["B2"].value, dt.datetime) and isinstance(book["设置"]["B5"].value, dt.time)
    assert workbook_to_scenario((WORKBOOKS / "quannan_libreoffice.xlsx").read_bytes()) == load_scenario(SAMPLE)


def test_a_county_typed_by_hand_in_libreoffice():
    book = load_workbook(WORKBOOKS / "typed_by_hand_libreoffice.xlsx")
    assert book["专家"]["A2"].value == 1001 and book["乡镇"]["E4"].value is True  # LibreOffice's own types
    expected = {
        "format": "rota.scenario/1",
        "community": {"name": "测试县人民医院", "timezone": "Asia/Shanghai"},
        "calendar": {"holidays": "CN", "closed": ["2027-01-29"], "extra_workdays": ["2027-02-20"]},
        "half_days": {"am": {"start": "08:00", "end": "11:30"}, "pm": {"start": "14:00", "end": "17:30"}},
        "specialties": [{"code": "cardio", "name": "心血管内科"}, {"code": "internal_med", "name": "普通内科"}, {"code": "paeds", "name": "儿科"}],
        "departments": [{"code": "internal", "name": "内科", "min_on_site": 1}, {"code": "paediatrics", "name": "儿科"}],
        "townships": [
            {"id": "nanjing", "name": "南迳镇卫生院", "travel_minutes": 40, "rooms": 2, "inpatient_ward": True, "preferred_weekdays": ["mon", "thu"]},
            {"id": "pitou", "name": "陂头镇卫生院", "travel_minutes": 25, "inpatient_ward": False},
            {"id": "longxia", "name": "龙下乡卫生院", "travel_minutes": 55, "rooms": 1, "inpatient_ward": True, "preferred_weekdays": ["sat", "sun"]},
        ],
        "experts": [
            {"id": "1001", "name": "李海林", "department": "internal", "title": "chief", "specialties": ["cardio", "internal_med"], "max_sessions": 6,
             "avoid_weekdays": ["fri"], "unavailable": [{"from": "2027-01-11", "to": "2027-01-13", "reason": "学术会议"}], "previous_townships": ["nanjing"]},
            {"id": "1002", "name": "王芳", "department": "internal", "title": "attending", "specialties": ["internal_med"], "max_sessions": 4,
             "unavailable": [{"date": "2027-01-20", "half_day": "pm"}]},
            {"id": "1003", "name": "陈书记", "department": "internal", "title": "associate_chief", "specialties": [], "max_sessions": 2},
            {"id": "1004", "name": "赵敏", "department": "paediatrics", "title": "associate_chief", "specialties": ["paeds"], "max_sessions": 5,
             "avoid_weekdays": ["mon", "wed"], "unavailable": [{"date": "2027-01-25"}], "previous_townships": ["pitou"]},
        ],
        "links": [{"member": "1003", "townships": ["nanjing", "pitou"]}],
        "demand": [
            {"township": "nanjing", "type": "clinic", "specialty": "cardio", "sessions": 4},
            {"township": "nanjing", "type": "teaching", "specialty": "internal_med", "sessions": 1},
            {"township": "nanjing", "type": "ward_round", "specialty": "internal_med", "sessions": 2},
            {"township": "pitou", "type": "clinic", "specialty": "paeds", "sessions": 3},
            {"township": "longxia", "type": "clinic", "specialty": "paeds", "sessions": 2},
        ],
        "rules": {"teaching_min_title": "chief", "ward_round_half_days": ["am", "pm"], "link_visits_per_month": 1, "link_team_min": 1},
    }
    assert workbook_to_scenario((WORKBOOKS / "typed_by_hand_libreoffice.xlsx").read_bytes()) == validate_document(expected)


def test_bad_cells_typed_into_libreoffice_are_all_named():
    assert problems((WORKBOOKS / "bad_cells_libreoffice.xlsx").read_bytes()) == [
        "设置!B3（时区）：未知的 IANA 时区“Asia/Beijing”",
        "乡镇!D3（诊室数）：不能小于1（现为0）",
        "乡镇!F3（赶集日）：未知星期“周八”（可填：周一、周二、周三、周四、周五、周六、周日）",
        "专家!D2（职称）：未知职称“主任”（可填：主任医师、副主任医师、主治医师）",
        "专家!F3（每月最多次数）：必须是整数（现为“六”）",
        "请假!B2（开始日期）：“2027/2/30”不是真实存在的日期",
        "需求!B2（类型）：必须是“坐诊”、“带教”或“业务查房”之一（现为“挂点督导”）",
        "需求!A3（乡镇）：未知乡镇“龙源坝”",
        "日历!A2（日期）：日期必须在2000-01-01至2100-12-31之间（现为1999-12-31）",
    ]
