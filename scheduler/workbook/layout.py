"""The workbook's layout: which sheets, which columns, in which language, and the scenario field each holds.

One place for the shape, read by the writer, the reader and the instructions sheet alike:

| sheet (zh / en) | one row per | columns |
|---|---|---|
| 说明 / Instructions | a line of help (ignored on import) | |
| 设置 / Settings | setting: 项目 (which), 值 (value), 说明 (help, ignored) | community name and time zone, holiday calendar, half-day times, rules and weights |
| 日历 / Calendar | date | 日期, 类型 (停诊 = closed, 调休上班 = extra workday) |
| 专科 / Specialties | specialty | 代码, 名称 |
| 科室 / Departments | county department | 代码, 名称, 最少在岗人数 |
| 乡镇 / Townships | township health centre | 编号, 名称, 单程车程（分钟）, 诊室数, 住院病区, 赶集日 |
| 专家 / Experts | expert | 编号, 姓名, 科室, 职称, 专科, 每月最多次数, 避开星期, 既往乡镇 |
| 请假 / Unavailability | absence of one expert | 专家, 开始日期, 结束日期, 半天, 原因 |
| 挂点 / Links | party-committee member | 党委成员, 挂点乡镇 |
| 需求 / Demand | demand row | 乡镇, 类型, 专科, 次数 |

Headers are row 1; data from row 2; empty rows are skipped; columns may come in any order, and a sheet
or a header in either language is recognised whatever language is asked for messages.
"""

from __future__ import annotations

from dataclasses import dataclass

from scheduler.workbook.vocabulary import (
    BOOLEAN_WORDS,
    CALENDAR_DAY_WORDS,
    HALF_DAY_WORDS,
    HOLIDAY_WORDS,
    SESSION_TYPE_WORDS,
    TITLE_WORDS,
    Words,
)

TEXT = "text"
ID = "id"
WHOLE = "whole"
BOOLEAN = "boolean"
TITLE = "title"
SESSION_TYPE = "session_type"
HALF_DAY = "half_day"
HALF_DAYS = "half_days"
WEEKDAYS = "weekdays"
DATE = "date"
CLOCK = "clock"
HOLIDAYS = "holidays"
CALENDAR_DAY = "calendar_day"
# A reference to another sheet's item, by its code/id or its name; one, or a list in one cell.
REF = "ref"
REFS = "refs"
WORDS_OF_KIND: dict[str, Words] = {  # the kinds whose cells hold one word of a closed set
    TITLE: TITLE_WORDS,
    SESSION_TYPE: SESSION_TYPE_WORDS,
    HALF_DAY: HALF_DAY_WORDS,
    HOLIDAYS: HOLIDAY_WORDS,
    CALENDAR_DAY: CALENDAR_DAY_WORDS,
    BOOLEAN: BOOLEAN_WORDS,
}


@dataclass(frozen=True, eq=False)  # each column is one object of this module: compared and hashed by identity (fast)
class Column:
    """One column of a sheet: the document field it holds, its header in each language and how its cells read."""

    key: str
    zh: str
    en: str
    kind: str
    width: int = 12
    target: str = ""  # for REF/REFS: the list referred to (specialties, departments, townships, experts)
    required: bool = False  # a sheet without this column is refused (list sheets also take this from the schema)
    hint_zh: str = ""
    hint_en: str = ""

    def header(self, lang: str) -> str:
        return self.zh if lang == "zh-CN" else self.en


@dataclass(frozen=True)
class Sheet:
    """A sheet: its name in each language and its columns in the order written."""

    key: str
    zh: str
    en: str
    columns: tuple[Column, ...] = ()
    required: bool = False
    hint_zh: str = ""
    hint_en: str = ""

    def name(self, lang: str) -> str:
        return self.zh if lang == "zh-CN" else self.en


@dataclass(frozen=True)
class Setting:
    """One row of the settings sheet: the document field (a path of keys) it holds."""

    path: tuple[str, ...]
    zh: str
    en: str
    kind: str
    hint_zh: str = ""
    hint_en: str = ""

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh-CN" else self.en


INSTRUCTIONS = Sheet("instructions", "说明", "Instructions")

SETTINGS_COLUMNS = (
    Column("item", "项目", "Item", TEXT, 22, required=True),
    Column("value", "值", "Value", TEXT, 28, required=True),
    Column("help", "说明", "Help", TEXT, 60),
)
SETTINGS = Sheet("settings", "设置", "Settings", SETTINGS_COLUMNS, required=True,
                 hint_zh="医共体名称、时区、节假日安排、上下午时间和排班规则；值留空则用默认值（名称必填）。",
                 hint_en="Community name, time zone, holiday calendar, half-day times and rules; an empty value takes the default (the name is required).")

SETTING_ROWS = (
    Setting(("community", "name"), "医共体名称", "Community name", TEXT, "必填，如 全南县总医院", "required, e.g. Quannan County General Hospital"),
    Setting(("community", "timezone"), "时区", "Time zone", TEXT, "IANA 时区，如 Asia/Shanghai", "IANA zone, e.g. Asia/Shanghai"),
    Setting(("calendar", "holidays"), "节假日安排", "Holiday calendar", HOLIDAYS,
            "中国法定节假日（含调休）或 仅周末", "China statutory holidays (with make-up days) or weekends only"),
    Setting(("half_days", "am", "start"), "上午开始", "Morning starts", CLOCK, "如 08:30", "e.g. 08:30"),
    Setting(("half_days", "am", "end"), "上午结束", "Morning ends", CLOCK, "如 11:30", "e.g. 11:30"),
    Setting(("half_days", "pm", "start"), "下午开始", "Afternoon starts", CLOCK, "如 14:30", "e.g. 14:30"),
    Setting(("half_days", "pm", "end"), "下午结束", "Afternoon ends", CLOCK, "如 17:00", "e.g. 17:00"),
    Setting(("rules", "teaching_min_title"), "带教最低职称", "Teaching minimum title", TITLE,
            "主任医师、副主任医师 或 主治医师", "chief, associate chief or attending physician"),
    Setting(("rules", "ward_round_half_days"), "查房时段", "Ward-round half-days", HALF_DAYS, "上午、下午（可多选）", "am, pm (one or both)"),
    Setting(("rules", "link_visits_per_month"), "每月挂点报到次数", "Link visits a month", WHOLE, "每个挂点每月至少报到的次数", "visits each link gets a month"),
    Setting(("rules", "link_team_min"), "挂点团队最少人数", "Link team minimum", WHOLE,
            "报到当天同去该乡镇的其他专家最少人数", "other experts serving the township with the member that day"),
    Setting(("rules", "weights", "link"), "权重：挂点报到", "Weight: link visit", WHOLE, "未完成一次挂点报到的代价", "cost of a missed link visit"),
    Setting(("rules", "weights", "unmet"), "权重：需求缺口", "Weight: unmet demand", WHOLE, "每缺一次需求的代价", "cost of one unmet session"),
    Setting(("rules", "weights", "fairness"), "权重：公平", "Weight: fairness", WHOLE, "专家之间负担均衡", "even load across experts"),
    Setting(("rules", "weights", "spread"), "权重：分散", "Weight: spread", WHOLE, "同一专科在月内分散安排", "a specialty's sessions spread over the month"),
    Setting(("rules", "weights", "trips"), "权重：出车", "Weight: trips", WHOLE, "同乡镇同日合并出车", "fewer (township, day) trips"),
    Setting(("rules", "weights", "continuity"), "权重：连续", "Weight: continuity", WHOLE, "专家回到以前去过的乡镇", "experts return where they served"),
    Setting(("rules", "weights", "preference"), "权重：偏好", "Weight: preference", WHOLE, "赶集日与专家避开的星期", "market days and avoided weekdays"),
)

CALENDAR = Sheet(
    "calendar", "日历", "Calendar",
    (
        Column("date", "日期", "Date", DATE, 14, required=True, hint_zh="如 2027-01-29", hint_en="e.g. 2027-01-29"),
        Column("kind", "类型", "Kind", CALENDAR_DAY, 14, required=True, hint_zh="停诊（不排班）或 调休上班（周末上班）",
               hint_en="closed (no sessions) or extra workday (a weekend day worked)"),
    ),
    hint_zh="节假日安排之外的停诊日和调休上班日，一行一天。", hint_en="Closed days and extra workdays beyond the holiday calendar, one row a day.",
)

SPECIALTIES = Sheet(
    "specialties", "专科", "Specialties",
    (
        Column("code", "代码", "Code", ID, 16, hint_zh="字母、数字、汉字、- 或 _，如 cardio", hint_en="letters, digits, - or _, e.g. cardio"),
        Column("name", "名称", "Name", TEXT, 20, hint_zh="如 心血管内科", hint_en="e.g. cardiology"),
    ),
    required=True,
)

DEPARTMENTS = Sheet(
    "departments", "科室", "Departments",
    (
        Column("code", "代码", "Code", ID, 16),
        Column("name", "名称", "Name", TEXT, 16),
        Column("min_on_site", "最少在岗人数", "Minimum on site", WHOLE, 14, hint_zh="留空为 0", hint_en="empty = 0"),
    ),
    required=True,
)

TOWNSHIPS = Sheet(
    "townships", "乡镇", "Townships",
    (
        Column("id", "编号", "Id", ID, 14),
        Column("name", "名称", "Name", TEXT, 20),
        Column("travel_minutes", "单程车程（分钟）", "Travel minutes (one way)", WHOLE, 16),
        Column("rooms", "诊室数", "Rooms", WHOLE, 8, hint_zh="留空为 1", hint_en="empty = 1"),
        Column("inpatient_ward", "住院病区", "Inpatient ward", BOOLEAN, 10, hint_zh="是 或 否，留空为否", hint_en="yes or no; empty = no"),
        Column("preferred_weekdays", "赶集日", "Market days", WEEKDAYS, 14, hint_zh="如 周一、周四", hint_en="e.g. mon, thu"),
    ),
    required=True,
)

EXPERTS = Sheet(
    "experts", "专家", "Experts",
    (
        Column("id", "编号", "Id", ID, 10, hint_zh="工号等，唯一", hint_en="staff number or similar, unique"),
        Column("name", "姓名", "Name", TEXT, 10),
        Column("department", "科室", "Department", REF, 12, target="departments", hint_zh="科室代码或名称", hint_en="department code or name"),
        Column("title", "职称", "Title", TITLE, 12, hint_zh="主任医师、副主任医师 或 主治医师", hint_en="chief, associate chief or attending physician"),
        Column("specialties", "专科", "Specialties", REFS, 22, target="specialties", hint_zh="可多个，用、分隔；非临床党委成员可留空",
               hint_en="several allowed, separated by commas; empty for a non-clinical committee member"),
        Column("max_sessions", "每月最多次数", "Max sessions a month", WHOLE, 12, hint_zh="0 = 不排班", hint_en="0 = not rostered"),
        Column("avoid_weekdays", "避开星期", "Avoided weekdays", WEEKDAYS, 12, hint_zh="如 周五", hint_en="e.g. fri"),
        Column("previous_townships", "既往乡镇", "Previous townships", REFS, 18, target="townships", hint_zh="以前去过的乡镇，便于复诊",
               hint_en="townships served before, for follow-up patients"),
    ),
    required=True,
)

UNAVAILABILITY = Sheet(
    "unavailability", "请假", "Unavailability",
    (
        Column("expert", "专家", "Expert", REF, 12, target="experts", required=True, hint_zh="专家编号或姓名", hint_en="expert id or name"),
        Column("from", "开始日期", "From", DATE, 14, required=True),
        Column("to", "结束日期", "To", DATE, 14, hint_zh="整天请假到这一天（含）；只请一天或半天时留空",
               hint_en="whole days up to this date (inclusive); empty for one day or a half-day"),
        Column("half_day", "半天", "Half-day", HALF_DAY, 8, hint_zh="上午 或 下午，只用于单日；留空为全天",
               hint_en="am or pm, for a single date only; empty = the whole day"),
        Column("reason", "原因", "Reason", TEXT, 20),
    ),
    hint_zh="一行一段不可排班时间：填开始和结束日期为整天区间；只填开始日期为一天（可加半天）。",
    hint_en="One row per absence: From and To for a range of whole days; From alone for one day (optionally one half-day).",
)

LINKS = Sheet(
    "links", "挂点", "Links",
    (
        Column("member", "党委成员", "Member", REF, 12, target="experts", hint_zh="专家编号或姓名", hint_en="expert id or name"),
        Column("townships", "挂点乡镇", "Townships", REFS, 30, target="townships", hint_zh="可多个，用、分隔", hint_en="several, separated by commas"),
    ),
)

DEMAND = Sheet(
    "demand", "需求", "Demand",
    (
        Column("township", "乡镇", "Township", REF, 16, target="townships", hint_zh="乡镇编号或名称", hint_en="township id or name"),
        Column("type", "类型", "Type", SESSION_TYPE, 10, hint_zh="坐诊、带教 或 业务查房", hint_en="clinic, teaching or ward round"),
        Column("specialty", "专科", "Specialty", REF, 16, target="specialties", hint_zh="专科代码或名称", hint_en="specialty code or name"),
        Column("sessions", "次数", "Sessions", WHOLE, 8, hint_zh="每月需要的半天次数", hint_en="half-day sessions wanted a month"),
    ),
)

# In the order written, and read (a sheet's references need the sheets they refer to read first).
SHEETS = (INSTRUCTIONS, SETTINGS, SPECIALTIES, DEPARTMENTS, TOWNSHIPS, EXPERTS, UNAVAILABILITY, LINKS, DEMAND, CALENDAR)
LIST_SHEETS = (SPECIALTIES, DEPARTMENTS, TOWNSHIPS, EXPERTS, LINKS, DEMAND)  # one row = one item of the document's list
ID_COLUMN = {"specialties": "code", "departments": "code", "townships": "id", "experts": "id"}
WHAT = {  # a referred list's item, for messages
    "specialties": ("专科", "specialty"),
    "departments": ("科室", "department"),
    "townships": ("乡镇", "township"),
    "experts": ("专家", "expert"),
}


def sheet_by_name() -> dict[str, Sheet]:
    """Every sheet under each of its names (zh, en, and its key), for recognising a workbook's sheets."""
    found: dict[str, Sheet] = {}
    for sheet in SHEETS:
        for name in (sheet.zh, sheet.en, sheet.key):
            found[name.strip().lower()] = sheet
    return found


def column_by_header(sheet: Sheet) -> dict[str, Column]:
    """A sheet's columns under each of their headers (zh, en, and the field key)."""
    found: dict[str, Column] = {}
    for column in sheet.columns:
        for header in (column.zh, column.en, column.key):
            found[header.strip().lower()] = column
    return found


def setting_by_label() -> dict[str, Setting]:
    """The settings rows under each of their labels (zh, en, and the dotted path)."""
    found: dict[str, Setting] = {}
    for setting in SETTING_ROWS:
        for label in (setting.zh, setting.en, ".".join(setting.path)):
            found[label.strip().lower()] = setting
    return found
