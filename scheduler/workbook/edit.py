"""One row of the office's workbook edited on a page: the same cells, rules and messages as an uploaded workbook.

The office's data pages show each list (experts, townships, departments, ...) as the workbook's sheet
shows it, and edit one row at a time. An edit writes the community's workbook, changes that one row's
cells to what the form holds, and reads the whole workbook back: every cell is read by the workbook's
own readers, the result is validated as a scenario, and a problem is told as an uploaded workbook's
would be (`职称：未知职称“教授”`). So a page edit can never accept what an import would refuse.

Rows are addressed by their row number in the sheet, with the row's first cell (its id, or for the
id-less sheets the first column) as a check that the row is still the one the office opened.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import openpyxl

from scheduler.errors import Conflict, NotFound
from scheduler.scenario.schema import Scenario
from scheduler.workbook.layout import LIST_SHEETS, UNAVAILABILITY, Column, Sheet
from scheduler.workbook.messages import WorkbookError, WorkbookProblem
from scheduler.workbook.reader import read_workbook
from scheduler.workbook.writer import scenario_workbook

__all__ = ["EDITABLE_SHEETS", "SheetRows", "editable_sheet", "problem_on_form", "sheet_rows", "with_row", "without_row", "workbook_problems"]

EDITABLE_SHEETS: dict[str, Sheet] = {sheet.key: sheet for sheet in (*LIST_SHEETS, UNAVAILABILITY)}
FIRST_ROW = 2  # headers are row 1


@dataclass(frozen=True)
class SheetRows:
    """A sheet as the workbook shows it: its columns and each data row's cells as text, with the row's number."""

    sheet: Sheet
    rows: tuple[tuple[int, tuple[str, ...]], ...]

    def row(self, number: int) -> tuple[str, ...]:
        for found, cells in self.rows:
            if found == number:
                return cells
        raise NotFound(f"{self.sheet.key} has no row {number}")


def editable_sheet(key: str) -> Sheet:
    try:
        return EDITABLE_SHEETS[key]
    except KeyError:
        raise NotFound(f"no list '{key}' to edit") from None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "date") and callable(value.date):
        return value.date().isoformat()
    return str(value)


def _book(scenario: Scenario, lang: str) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(scenario_workbook(scenario, lang)))


def _columns(worksheet: Any, sheet: Sheet, lang: str) -> dict[Column, int]:
    headers = {_text(cell.value): index for index, cell in enumerate(worksheet[1], start=1)}
    return {column: headers[column.header(lang)] for column in sheet.columns if column.header(lang) in headers}


def sheet_rows(scenario: Scenario, key: str, lang: str) -> SheetRows:
    """The list's rows as its sheet in the community's workbook holds them (the cells' text in `lang`)."""
    sheet = editable_sheet(key)
    worksheet = _book(scenario, lang)[sheet.name(lang)]
    columns = _columns(worksheet, sheet, lang)
    rows = []
    for number in range(FIRST_ROW, worksheet.max_row + 1):
        cells = tuple(_text(worksheet.cell(number, columns[column]).value) if column in columns else "" for column in sheet.columns)
        if any(cells):
            rows.append((number, cells))
    return SheetRows(sheet, tuple(rows))


def _checked_row(worksheet: Any, sheet: Sheet, columns: dict[Column, int], number: int, first_cell: str) -> None:
    if number < FIRST_ROW or number > worksheet.max_row:
        raise NotFound(f"{sheet.key} has no row {number}")
    held = _text(worksheet.cell(number, columns[sheet.columns[0]]).value)
    if held != first_cell:
        raise Conflict(f"row {number} of {sheet.key} now holds '{held}', not '{first_cell}': the list changed, reload it")


def _read_back(book: openpyxl.Workbook, lang: str) -> Scenario:
    out = io.BytesIO()
    book.save(out)
    return read_workbook(out.getvalue(), lang)


def with_row(scenario: Scenario, key: str, number: int | None, first_cell: str, values: dict[str, str], lang: str) -> Scenario:
    """The scenario with one row of a list set to `values` (column key -> text); `number` None adds a row.

    WorkbookError (every problem, as an upload's) when the result breaks a rule; Conflict when the row
    no longer holds `first_cell` (someone changed the list since the form was opened).
    """
    sheet = editable_sheet(key)
    book = _book(scenario, lang)
    worksheet = book[sheet.name(lang)]
    columns = _columns(worksheet, sheet, lang)
    if number is None:
        number = worksheet.max_row + 1 if any(cell.value is not None for cell in worksheet[worksheet.max_row]) else worksheet.max_row
        number = max(number, FIRST_ROW)
    else:
        _checked_row(worksheet, sheet, columns, number, first_cell)
    for column, index in columns.items():
        text = values.get(column.key, "").strip()
        worksheet.cell(number, index).value = text or None
    return _read_back(book, lang)


def without_row(scenario: Scenario, key: str, number: int, first_cell: str, lang: str) -> Scenario:
    """The scenario with one row of a list removed (WorkbookError when something still refers to it)."""
    sheet = editable_sheet(key)
    book = _book(scenario, lang)
    worksheet = book[sheet.name(lang)]
    _checked_row(worksheet, sheet, _columns(worksheet, sheet, lang), number, first_cell)
    worksheet.delete_rows(number)
    return _read_back(book, lang)


def problem_on_form(problem: Any, key: str, number: int | None, lang: str) -> str:
    """A problem as the form shows it: `职称：…` on the row being edited, the full `需求!A5（乡镇）：…` elsewhere."""
    if isinstance(problem, WorkbookProblem) and problem.where is not None:
        where = problem.where
        on_this_row = where.sheet == editable_sheet(key).name(lang) and (number is None or where.row == number)
        if on_this_row and where.header:
            return f"{where.header}：{problem.message}" if lang == "zh-CN" else f"{where.header}: {problem.message}"
    return str(problem)


def workbook_problems(error: WorkbookError, key: str, number: int | None, lang: str) -> list[str]:
    return [problem_on_form(problem, key, number, lang) for problem in error.problems]
