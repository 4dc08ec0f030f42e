"""下沉补助: what each expert served in a month and what it pays, from the month's published roster history.

**What counts as served** (the one place this rule lives: `served_sessions`). A session is known by its
assignment id across versions (a kept or moved session keeps its id). Given the month's published versions
in the order they were published, each with the time it was published:

1. A session in the **latest** published version counts, in the form it has there: a session moved by a
   re-plan counts once, where it finally took place.
2. A session that a later published version **dropped** counts, in the last form a published version gave
   it, when that later version was published after the session's day: its day came while it stood on the
   published roster, so it was served, and a change made afterwards cannot undo it.
3. A session dropped by a version published on or before its day does not count: it was cancelled in time
   (its day closed, its expert on leave, its township's demand cut, a re-plan moved it away).
4. Drafts never count (only published versions are given), and each session counts once.
5. With `until`, sessions after that day are left out (not served yet): for a report during the month.

Days are compared in the community's time zone. **Days down** are the distinct dates an expert served at a
township; **car-days shared** the days on which at least one other expert served at the same township
(experts going to one township on one day share the car); the **amount** is, per session, the rate of its
type and the expert's title, plus the day rate for each day down (`AllowanceRates`, loadable from YAML or
JSON; the default is a placeholder each county replaces with its own table).

Outputs: `AllowanceRow` dataclasses, `.xlsx` bytes and CSV text (UTF-8 with a BOM, so Excel opens it in
Chinese), zh-CN by default, English available, never mixed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Mapping, Sequence
from zoneinfo import ZoneInfo

import yaml
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from scheduler import i18n
from scheduler.calendar import parse_month
from scheduler.errors import FieldError, ScenarioError
from scheduler.scenario.schema import Scenario
from scheduler.zone import SERVICE_TIMEZONE
from solver.solution import Assignment, Solution

SESSION_KINDS = ("clinic", "teaching", "ward_round", "supervision")
RATES_FILE_MAX_BYTES = 100_000
Money = Annotated[Decimal, Field(ge=0, le=1_000_000, max_digits=10, decimal_places=2)]


# ---- the rate table ----------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TitleRates(_Strict):
    """Yuan per half-day session of one type, by the expert's title."""

    chief: Money
    associate_chief: Money
    attending: Money

    def of(self, title: str) -> Decimal:
        return getattr(self, title)


class AllowanceRates(_Strict):
    """The rate table: yuan per session by type and title, and per day down (travel and meals).

    The defaults are placeholders of a plausible size, not any county's policy: each county loads its own
    (`load_rates`), e.g. `{per_day: 80, clinic: {chief: 300, associate_chief: 200, attending: 150}}`;
    a type left out keeps its default.
    """

    clinic: TitleRates = TitleRates(chief=Decimal(200), associate_chief=Decimal(150), attending=Decimal(100))
    teaching: TitleRates = TitleRates(chief=Decimal(250), associate_chief=Decimal(200), attending=Decimal(150))
    ward_round: TitleRates = TitleRates(chief=Decimal(200), associate_chief=Decimal(150), attending=Decimal(100))
    supervision: TitleRates = TitleRates(chief=Decimal(100), associate_chief=Decimal(100), attending=Decimal(100))
    per_day: Money = Decimal(50)

    def session_rate(self, session_type: str, title: str) -> Decimal:
        rates: TitleRates = getattr(self, session_type)
        return rates.of(title)


DEFAULT_RATES = AllowanceRates()


def parse_rates(text: str | bytes, source: str = "the rate table") -> AllowanceRates:
    """A rate table from YAML or JSON text; ScenarioError naming each wrong field otherwise."""
    if len(text) > RATES_FILE_MAX_BYTES:
        raise ScenarioError([FieldError("", f"{source} is larger than {RATES_FILE_MAX_BYTES:,} bytes")])
    try:
        document = yaml.safe_load(text) if text and str(text).strip() else {}
    except yaml.YAMLError as exc:
        raise ScenarioError([FieldError("", f"{source} is not valid YAML or JSON: {str(exc).splitlines()[0]}")]) from None
    try:
        return AllowanceRates.model_validate(document or {})
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            path = ".".join(str(part) for part in error["loc"])
            problems.append(FieldError(path, "unknown field" if error["type"] == "extra_forbidden" else error["msg"]))
        raise ScenarioError(problems) from None


def load_rates(path: str | Path) -> AllowanceRates:
    """A rate table from a YAML or JSON file."""
    file_path = Path(path)
    try:
        raw = file_path.read_bytes()[: RATES_FILE_MAX_BYTES + 1]
    except OSError as exc:
        raise ScenarioError([FieldError("", f"cannot read {file_path}: {exc.strerror or exc}")]) from None
    return parse_rates(raw, source=file_path.name)


# ---- what was served -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PublishedVersion:
    """One published version of a month's roster, and when it was published."""

    published_at: dt.datetime
    solution: Solution
    version: int = 0


@dataclass(frozen=True)
class ExpertInfo:
    """Who an allowance row is for: id, name, title code and department (its display name)."""

    id: str
    name: str
    title: str
    department: str


def experts_of(scenario: Scenario) -> list[ExpertInfo]:
    """The experts of a scenario, with their departments' names."""
    departments = {department.code: department.name for department in scenario.departments}
    return [ExpertInfo(e.id, e.name, e.title, departments.get(e.department, e.department)) for e in scenario.experts]


def _key(assignment: Assignment) -> Any:
    return assignment.id or assignment.content  # a version without ids (a file) is known by what it holds


def _local_day(moment: dt.datetime, zone: ZoneInfo) -> dt.date:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)  # the store keeps UTC
    return moment.astimezone(zone).date()


def served_sessions(
    versions: Sequence[PublishedVersion], *, timezone: str = SERVICE_TIMEZONE, until: dt.date | None = None
) -> list[Assignment]:
    """The sessions of a month that count as served, once each (the rule in this module's docstring)."""
    zone = ZoneInfo(timezone)
    ordered = sorted(versions, key=lambda v: (v.published_at if v.published_at.tzinfo else v.published_at.replace(tzinfo=dt.timezone.utc), v.version))
    if not ordered:
        return []
    latest = {_key(a): a for a in ordered[-1].solution.assignments}
    served: dict[Any, Assignment] = dict(latest)
    for earlier, later in zip(ordered, ordered[1:]):
        kept = {_key(a) for a in later.solution.assignments}
        dropped_on = _local_day(later.published_at, zone)
        for assignment in earlier.solution.assignments:
            key = _key(assignment)
            if key not in kept and key not in latest and assignment.date < dropped_on:
                served[key] = assignment  # its day passed before the change: served as it last stood
    sessions = [a for a in served.values() if until is None or a.date <= until]
    return sorted(sessions, key=lambda a: (a.date, a.half_day, a.township, a.expert, a.type))


# ---- rows ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AllowanceRow:
    """One expert's month: sessions by type, days down, townships, shared car-days and the amount."""

    expert: str
    name: str
    title: str
    department: str
    clinic: int
    teaching: int
    ward_round: int
    supervision: int
    days_down: int
    townships: tuple[str, ...]  # township ids, in the order first visited
    shared_car_days: int
    session_amount: Decimal
    day_amount: Decimal

    @property
    def sessions(self) -> int:
        return self.clinic + self.teaching + self.ward_round + self.supervision

    @property
    def amount(self) -> Decimal:
        return self.session_amount + self.day_amount


class AllowanceError(ValueError):
    """The history and the experts do not fit (an expert served but is not in the list)."""


def allowance_rows(
    versions: Sequence[PublishedVersion],
    experts: Sequence[ExpertInfo],
    rates: AllowanceRates = DEFAULT_RATES,
    *,
    timezone: str = SERVICE_TIMEZONE,
    until: dt.date | None = None,
    include_idle: bool = False,
) -> list[AllowanceRow]:
    """Per expert (in the order given): what they served in the month and its allowance; idle experts only if asked."""
    sessions = served_sessions(versions, timezone=timezone, until=until)
    known = {expert.id: expert for expert in experts}
    unknown = sorted({a.expert for a in sessions} - set(known))
    if unknown:
        raise AllowanceError(f"experts served sessions but are not in the experts list: {', '.join(unknown)}")
    at_township: dict[tuple[dt.date, str], set[str]] = defaultdict(set)
    by_expert: dict[str, list[Assignment]] = defaultdict(list)
    for session in sessions:
        at_township[(session.date, session.township)].add(session.expert)
        by_expert[session.expert].append(session)
    rows = []
    for expert in experts:
        mine = by_expert.get(expert.id, [])
        if not mine and not include_idle:
            continue
        counts = {kind: sum(1 for s in mine if s.type == kind) for kind in SESSION_KINDS}
        days = {s.date for s in mine}
        shared = {s.date for s in mine if len(at_township[(s.date, s.township)]) > 1}
        townships = tuple(dict.fromkeys(s.township for s in mine))
        session_amount = sum((rates.session_rate(s.type, expert.title) for s in mine), Decimal(0))
        rows.append(AllowanceRow(
            expert.id, expert.name, expert.title, expert.department, counts["clinic"], counts["teaching"], counts["ward_round"],
            counts["supervision"], len(days), townships, len(shared), session_amount, rates.per_day * len(days),
        ))
    return rows


# ---- sheets --------------------------------------------------------------------------------------

_HEADERS = {
    "zh-CN": ("编号", "姓名", "科室", "职称", "坐诊", "带教", "业务查房", "挂点督导", "合计次数", "下沉天数", "乡镇数", "下沉乡镇", "同车天数",
              "次数补助（元）", "天数补助（元）", "合计（元）"),
    "en": ("Id", "Name", "Department", "Title", "Clinic", "Teaching", "Ward rounds", "Link supervision", "Sessions", "Days down",
           "Townships", "Townships served", "Shared car-days", "Session allowance (CNY)", "Day allowance (CNY)", "Total (CNY)"),
}
_WORDS = {
    "zh-CN": {"sheet": "下沉补助", "rates": "补助标准", "title": "{community} {year}年{month}月 专家下沉补助", "total": "合计",
              "type": "类型", "per_day": "每下沉一天（元）", "separator": "、", "rate_note": "每次（元）"},
    "en": {"sheet": "Allowance", "rates": "Rates", "title": "{community}: down-rotation allowance, {year}-{month:02d}", "total": "Total",
           "type": "Type", "per_day": "Per day down (CNY)", "separator": "; ", "rate_note": "per session (CNY)"},
}
_MONEY_FORMAT = "0.00"
_TOTALLED_COLUMNS = (5, 6, 7, 8, 9, 10, 13, 14, 15, 16)  # sessions by type and in all, days down, shared car-days, amounts
_FIRST_MONEY_COLUMN = 14


def _cells(row: AllowanceRow, lang: str, township_names: Mapping[str, str]) -> list[Any]:
    separator = _WORDS[lang]["separator"]
    return [
        row.expert, row.name, row.department, i18n.title_name(row.title, lang), row.clinic, row.teaching, row.ward_round,
        row.supervision, row.sessions, row.days_down, len(row.townships), separator.join(township_names.get(t, t) for t in row.townships),
        row.shared_car_days, row.session_amount, row.day_amount, row.amount,
    ]


def allowance_csv(rows: Sequence[AllowanceRow], lang: str = i18n.DEFAULT_LANG, township_names: Mapping[str, str] | None = None) -> str:
    """The rows as CSV text starting with a BOM (write it as UTF-8: Excel then reads the Chinese right)."""
    lang = i18n.parse_lang(lang)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(_HEADERS[lang])
    for row in rows:
        writer.writerow([f"{value:.2f}" if isinstance(value, Decimal) else value for value in _cells(row, lang, township_names or {})])
    return "\ufeff" + buffer.getvalue()


def allowance_xlsx(
    rows: Sequence[AllowanceRow],
    *,
    community: str,
    month: str,
    rates: AllowanceRates = DEFAULT_RATES,
    lang: str = i18n.DEFAULT_LANG,
    township_names: Mapping[str, str] | None = None,
) -> bytes:
    """The rows as a workbook: the allowance sheet (a title row, headers, one row per expert, totals) and the rates used."""
    lang = i18n.parse_lang(lang)
    year, number = parse_month(month)
    words = _WORDS[lang]
    book = Workbook()
    sheet = book.active
    sheet.title = words["sheet"]
    sheet.cell(row=1, column=1, value=words["title"].format(community=community, year=year, month=number)).font = Font(bold=True, size=13)
    bold, fill = Font(bold=True), PatternFill(fill_type="solid", start_color="FFDDEBF7", end_color="FFDDEBF7")
    for index, header in enumerate(_HEADERS[lang], start=1):
        cell = sheet.cell(row=2, column=index, value=header)
        cell.font, cell.fill = bold, fill
        sheet.column_dimensions[get_column_letter(index)].width = 24 if index == 12 else max(10, len(header) + 4)
    table = [_cells(row, lang, township_names or {}) for row in rows]
    for row_number, values in enumerate(table, start=3):
        for index, value in enumerate(values, start=1):
            cell = sheet.cell(row=row_number, column=index, value=value)
            if isinstance(value, Decimal):
                cell.number_format = _MONEY_FORMAT
    total_row = len(rows) + 3
    sheet.cell(row=total_row, column=1, value=words["total"]).font = bold
    for index in _TOTALLED_COLUMNS:
        total = sum((values[index - 1] for values in table), Decimal(0) if index >= _FIRST_MONEY_COLUMN else 0)
        cell = sheet.cell(row=total_row, column=index, value=total)
        cell.font = bold
        if isinstance(total, Decimal):
            cell.number_format = _MONEY_FORMAT
    sheet.freeze_panes = "A3"
    _rates_sheet(book.create_sheet(words["rates"]), rates, lang)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _rates_sheet(sheet: Any, rates: AllowanceRates, lang: str) -> None:
    words = _WORDS[lang]
    titles = ("chief", "associate_chief", "attending")
    header = [words["type"], *(f"{i18n.title_name(t, lang)} {words['rate_note']}" if lang == "en" else f"{i18n.title_name(t, lang)}{words['rate_note']}" for t in titles)]
    for index, text in enumerate(header, start=1):
        sheet.cell(row=1, column=index, value=text).font = Font(bold=True)
        sheet.column_dimensions[get_column_letter(index)].width = 26
    for row_number, kind in enumerate(SESSION_KINDS, start=2):
        sheet.cell(row=row_number, column=1, value=i18n.session_type_name(kind, lang))
        for index, title in enumerate(titles, start=2):
            sheet.cell(row=row_number, column=index, value=rates.session_rate(kind, title)).number_format = _MONEY_FORMAT
    last = len(SESSION_KINDS) + 2
    sheet.cell(row=last, column=1, value=words["per_day"])
    sheet.cell(row=last, column=2, value=rates.per_day).number_format = _MONEY_FORMAT
