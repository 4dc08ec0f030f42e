"""A scenario written as the office's workbook (openpyxl): one sheet per kind of standing data, in zh-CN or en.

References to other sheets are written by name where the name reads back to the same item (unique in its
sheet, not another item's code, no list separator in it), else by code; ids and times are text cells, so
Excel keeps `001` and `08:30` as typed. The same scenario always gives the same cells, so an exported
workbook, imported and exported again, is the same workbook.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from scheduler import i18n
from scheduler.scenario.schema import HalfDays, Rules, Scenario
import scheduler.workbook.layout as layout
from scheduler.workbook.layout import Column, Setting, Sheet
from scheduler.workbook.vocabulary import HALF_DAY_WORDS, LIST_SEPARATORS, WEEKDAY_WORDS, join_items
from scheduler.zone import SERVICE_TIMEZONE

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill(fill_type="solid", start_color="FFDDEBF7", end_color="FFDDEBF7")
TEXT_FORMAT = "@"
DATE_FORMAT = "yyyy-mm-dd"
DROPDOWN_ROWS = 2000  # rows below the header that offer the choices of an enumerated column

_DROPDOWN_CODES = {  # the choices offered (not enforced: the reader also takes codes and other spellings)
    layout.TITLE: ("chief", "associate_chief", "attending"),
    layout.SESSION_TYPE: ("clinic", "teaching", "ward_round"),
    layout.HALF_DAY: ("am", "pm"),
    layout.CALENDAR_DAY: ("closed", "extra_workday"),
    layout.BOOLEAN: ("true", "false"),
}


def reference_names(document: dict[str, Any]) -> dict[str, dict[str, str]]:
    """For each referred list, code -> what a cell referring to it says (the name where it reads back unambiguously)."""
    names: dict[str, dict[str, str]] = {}
    for target, id_key in layout.ID_COLUMN.items():
        rows = document.get(target, [])
        codes = {row[id_key] for row in rows}
        counts: dict[str, int] = {}
        for row in rows:
            counts[row["name"]] = counts.get(row["name"], 0) + 1
        names[target] = {
            row[id_key]: row["name"] if _name_reads_back(row["name"], counts, codes) else row[id_key] for row in rows
        }
    return names


def _name_reads_back(name: str, counts: dict[str, int], codes: set[str]) -> bool:
    return (
        counts[name] == 1
        and name not in codes
        and name == name.strip()
        and not any(separator in name for separator in LIST_SEPARATORS)
    )


def _cell_value(kind: str, value: Any, lang: str, refs: dict[str, str] | None = None) -> Any:
    if value is None:
        return None
    if kind in layout.WORDS_OF_KIND:
        code = ("true" if value else "false") if kind == layout.BOOLEAN else value
        return layout.WORDS_OF_KIND[kind].write(code, lang)
    if kind == layout.WEEKDAYS:
        return join_items([WEEKDAY_WORDS.write(day, lang) for day in value], lang) or None
    if kind == layout.HALF_DAYS:
        return join_items([HALF_DAY_WORDS.write(half, lang) for half in value], lang) or None
    if kind == layout.REF:
        return (refs or {}).get(value, value)
    if kind == layout.REFS:
        return join_items([(refs or {}).get(code, code) for code in value], lang) or None
    if kind == layout.DATE:
        return dt.date.fromisoformat(value)
    return value


def _header_row(sheet: Worksheet, columns: tuple[Column, ...], lang: str) -> None:
    for index, column in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index, value=column.header(lang))
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        sheet.column_dimensions[get_column_letter(index)].width = column.width + (0 if lang == "zh-CN" else 4)
    sheet.freeze_panes = "A2"


def _write_cell(sheet: Worksheet, row: int, index: int, column_kind: str, value: Any) -> None:
    cell = sheet.cell(row=row, column=index, value=value)
    if column_kind == layout.DATE:
        cell.number_format = DATE_FORMAT
    elif column_kind != layout.WHOLE:
        cell.number_format = TEXT_FORMAT


def _dropdowns(sheet: Worksheet, columns: tuple[Column, ...], lang: str, first_row: int = 2) -> None:
    for index, column in enumerate(columns, start=1):
        codes = _DROPDOWN_CODES.get(column.kind)
        if not codes:
            continue
        choices = ",".join(layout.WORDS_OF_KIND[column.kind].write(code, lang) for code in codes)
        letter = get_column_letter(index)
        validation = DataValidation(type="list", formula1=f'"{choices}"', allow_blank=True, showErrorMessage=False)
        validation.add(f"{letter}{first_row}:{letter}{first_row + DROPDOWN_ROWS - 1}")
        sheet.add_data_validation(validation)


def _list_sheet(sheet: Worksheet, spec: Sheet, rows: list[dict[str, Any]], names: dict[str, dict[str, str]], lang: str) -> None:
    _header_row(sheet, spec.columns, lang)
    for row_number, item in enumerate(rows, start=2):
        for index, column in enumerate(spec.columns, start=1):
            refs = names.get(column.target) if column.target else None
            _write_cell(sheet, row_number, index, column.kind, _cell_value(column.kind, item.get(column.key), lang, refs))
    _dropdowns(sheet, spec.columns, lang)


def _setting_value(document: dict[str, Any], setting: Setting) -> Any:
    value: Any = document
    for key in setting.path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _settings_sheet(sheet: Worksheet, document: dict[str, Any], lang: str) -> None:
    _header_row(sheet, layout.SETTINGS_COLUMNS, lang)
    for row_number, setting in enumerate(layout.SETTING_ROWS, start=2):
        sheet.cell(row=row_number, column=1, value=setting.label(lang)).font = HEADER_FONT
        _write_cell(sheet, row_number, 2, setting.kind, _cell_value(setting.kind, _setting_value(document, setting), lang))
        sheet.cell(row=row_number, column=3, value=setting.hint_zh if lang == "zh-CN" else setting.hint_en)


def _unavailability_rows(document: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for expert in document.get("experts", []):
        for period in expert.get("unavailable", []):
            rows.append({
                "expert": expert["id"],
                "from": period.get("from", period.get("date")),
                "to": period.get("to"),
                "half_day": period.get("half_day"),
                "reason": period.get("reason"),
            })
    return rows


def _calendar_rows(document: dict[str, Any]) -> list[dict[str, Any]]:
    calendar = document.get("calendar", {})
    return [{"date": day, "kind": "closed"} for day in calendar.get("closed", [])] + [
        {"date": day, "kind": "extra_workday"} for day in calendar.get("extra_workdays", [])
    ]


def instruction_lines(lang: str) -> list[str]:
    """The help written on the instructions sheet, built from the layout so it always says what the reader reads."""
    zh = lang == "zh-CN"
    lines = [
        "专家下沉排班 基础数据表" if zh else "Township rota: standing data",
        "每个工作表第1行是表头，从第2行起一行一项；空行会被跳过。导入时任何一处出错，整个工作簿都不导入，并列出每个错误的工作表、行和列。"
        if zh else
        "Row 1 of each sheet holds the headers; from row 2, one item a row; empty rows are skipped. If any cell is wrong, nothing is "
        "imported and every problem is listed with its sheet, row and column.",
        "一个单元格填多项时，用 、 , ， ; ； 或换行分隔。" if zh else "Several items in one cell are separated by 、 , ， ; ； or a line break.",
        "星期填 周一…周日 或 mon…sun；职称填 主任医师、副主任医师、主治医师；是否填 是/否。"
        if zh else "Weekdays: mon … sun (or 周一 … 周日); titles: chief, associate chief or attending physician; yes/no: yes or no.",
        "引用其他工作表（科室、专科、乡镇、专家）时，填代码/编号或名称均可；名称重复时请填编号。"
        if zh else "A reference to another sheet (department, specialty, township, expert) may be its code/id or its name; where names repeat, use the id.",
        "",
    ]
    for spec in layout.SHEETS[1:]:
        hint = spec.hint_zh if zh else spec.hint_en
        lines.append(f"【{spec.name(lang)}】{hint}" if zh else f"[{spec.name(lang)}] {hint}".rstrip())
        for column in spec.columns if spec is not layout.SETTINGS else ():
            column_hint = column.hint_zh if zh else column.hint_en
            if column_hint:
                lines.append(f"    {column.header(lang)}：{column_hint}" if zh else f"    {column.header(lang)}: {column_hint}")
    return lines


def _instructions_sheet(sheet: Worksheet, lang: str) -> None:
    sheet.column_dimensions["A"].width = 110
    for row_number, line in enumerate(instruction_lines(lang), start=1):
        cell = sheet.cell(row=row_number, column=1, value=line or None)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet["A1"].font = Font(bold=True, size=14)


def write_workbook(document: dict[str, Any], lang: str) -> bytes:
    """The workbook of a `rota.scenario/1` document as it is (defaults filled in by the caller): .xlsx bytes."""
    lang = i18n.parse_lang(lang)
    names = reference_names(document)
    book = Workbook()
    book.remove(book.active)
    for spec in layout.SHEETS:
        sheet = book.create_sheet(spec.name(lang))
        if spec is layout.INSTRUCTIONS:
            _instructions_sheet(sheet, lang)
        elif spec is layout.SETTINGS:
            _settings_sheet(sheet, document, lang)
        elif spec is layout.UNAVAILABILITY:
            _list_sheet(sheet, spec, _unavailability_rows(document), names, lang)
        elif spec is layout.CALENDAR:
            _list_sheet(sheet, spec, _calendar_rows(document), names, lang)
        else:
            _list_sheet(sheet, spec, document.get(spec.key, []), names, lang)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def template_document() -> dict[str, Any]:
    """What the blank template holds: every setting at its default, the community name empty, no rows."""
    return {
        "community": {"name": None, "timezone": SERVICE_TIMEZONE},
        "calendar": {"holidays": "CN", "closed": [], "extra_workdays": []},
        "half_days": HalfDays().model_dump(mode="json"),
        "rules": Rules().model_dump(mode="json"),
    }


def scenario_workbook(scenario: Scenario, lang: str) -> bytes:
    """The workbook of a validated scenario."""
    return write_workbook(scenario.to_document(), lang)
