"""The roster as the Excel grid the medical affairs office knows: townships down, days across, AM/PM under each day.

Pure rendering (openpyxl, no database): a `rota.roster/1` document in, .xlsx bytes out. A second sheet lists
the unmet demand with its reasons.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from scheduler import i18n
from scheduler.calendar import MonthCalendar, month_days, parse_month
from scheduler.labels import CommunityLabels
from scheduler.reason_text import reason_from_row, reason_text
from scheduler.roster_file import parse_roster
from solver.solution import Assignment

LINK_MARK = "★"
HALF_DAYS = ("am", "pm")
FIRST_DAY_COLUMN = 2  # column A holds the township names
HEADER_ROWS = 4  # title, legend, dates, half-days
OFF_DAY_FILL = PatternFill(fill_type="solid", start_color="FFD9D9D9", end_color="FFD9D9D9")
HEADER_FILL = PatternFill(fill_type="solid", start_color="FFDDEBF7", end_color="FFDDEBF7")
LINK_FONT = InlineFont(b=True, color="FFC00000")
THIN = Side(style="thin", color="FFBFBFBF")
GRID_BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP_CENTRE = Alignment(wrap_text=True, vertical="center", horizontal="center")
WRAP_TOP = Alignment(wrap_text=True, vertical="top")


def session_cell_line(assignment: Assignment, labels: CommunityLabels, lang: str = i18n.DEFAULT_LANG) -> str:
    """One line of a grid cell: `★李海林 挂点督导`, `王芳 心血管内科 坐诊`."""
    session_type = i18n.session_type_name(assignment.type, lang)
    what = session_type if assignment.specialty is None else f"{labels.specialty(assignment.specialty)} {session_type}"
    mark = LINK_MARK if assignment.link_visit else ""
    return f"{mark}{labels.expert(assignment.expert)} {what}"


def _cell_text(sessions: list[Assignment], labels: CommunityLabels, lang: str) -> str | CellRichText:
    lines = [session_cell_line(a, labels, lang) for a in sessions]
    if not any(a.link_visit for a in sessions):
        return "\n".join(lines)
    # Rich text so only the link-visit line stands out (bold red), not the whole cell.
    blocks: list[str | TextBlock] = []
    for index, (assignment, line) in enumerate(zip(sessions, lines)):
        text = line if index == len(lines) - 1 else line + "\n"
        blocks.append(TextBlock(LINK_FONT, text) if assignment.link_visit else text)
    return CellRichText(blocks)


def day_column(day: dt.date, half_day: str) -> int:
    """The sheet column (1-based) of a date's half-day in the roster grid."""
    return FIRST_DAY_COLUMN + (day.day - 1) * 2 + HALF_DAYS.index(half_day)


def _township_order(labels: CommunityLabels, assignments: tuple[Assignment, ...], unmet_townships: list[str]) -> list[str]:
    order = list(labels.township_names)
    for township in [a.township for a in assignments] + unmet_townships:
        if township not in order:
            order.append(township)
    return order


def _roster_sheet(
    sheet: Worksheet,
    document: dict[str, Any],
    assignments: tuple[Assignment, ...],
    townships: list[str],
    labels: CommunityLabels,
    month_calendar: MonthCalendar,
    lang: str,
) -> None:
    month = document["month"]
    year, number = parse_month(month)
    days = month_days(month)
    last_column = day_column(days[-1], "pm")
    status_key = "status_published" if document.get("status") == "published" else "status_draft"
    sheet["A1"] = i18n.text(
        "workbook_title", lang, community=labels.community or document.get("community", ""), year=year, month=number,
        version=document.get("version", 1), status=i18n.text(status_key, lang),
    )
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=min(last_column, 20))
    sheet["A2"] = i18n.text("legend", lang)
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=min(last_column, 20))

    sheet.cell(row=3, column=1, value=i18n.text("header_township", lang))
    sheet.merge_cells(start_row=3, start_column=1, end_row=4, end_column=1)
    for row in (3, 4):
        sheet.cell(row=row, column=1).font = Font(bold=True)
        sheet.cell(row=row, column=1).alignment = WRAP_CENTRE
        sheet.cell(row=row, column=1).fill = HEADER_FILL
        sheet.cell(row=row, column=1).border = GRID_BORDER
    sheet.row_dimensions[3].height = 45

    off_days = [day for day in days if not month_calendar.is_working_day(day)]
    for day in days:
        am_column = day_column(day, "am")
        heading = i18n.text("day_header", lang, month=day.month, day=day.day, weekday=i18n.weekday_short_name(day, lang))
        if day in month_calendar.holidays:
            heading += "\n" + month_calendar.holidays[day]
        elif day in off_days and day.weekday() < 5:
            heading += "\n" + i18n.text("holiday_closed", lang)
        sheet.cell(row=3, column=am_column, value=heading)
        sheet.merge_cells(start_row=3, start_column=am_column, end_row=3, end_column=am_column + 1)
        for offset, half_day in enumerate(HALF_DAYS):
            sheet.cell(row=4, column=am_column + offset, value=i18n.half_day_name(half_day, lang))
            for row in (3, 4):
                cell = sheet.cell(row=row, column=am_column + offset)
                cell.font = Font(bold=True)
                cell.alignment = WRAP_CENTRE
                cell.border = GRID_BORDER
                cell.fill = OFF_DAY_FILL if day in off_days else HEADER_FILL
            sheet.column_dimensions[get_column_letter(am_column + offset)].width = 14

    cells: dict[tuple[str, dt.date, str], list[Assignment]] = defaultdict(list)
    for assignment in assignments:
        cells[(assignment.township, assignment.date, assignment.half_day)].append(assignment)
    for index, township in enumerate(townships):
        row = HEADER_ROWS + 1 + index
        name_cell = sheet.cell(row=row, column=1, value=labels.township(township))
        name_cell.font = Font(bold=True)
        name_cell.alignment = Alignment(vertical="center", wrap_text=True)
        name_cell.border = GRID_BORDER
        tallest = 1
        for day in days:
            for half_day in HALF_DAYS:
                cell = sheet.cell(row=row, column=day_column(day, half_day))
                cell.border = GRID_BORDER
                cell.alignment = WRAP_TOP
                if day in off_days:
                    cell.fill = OFF_DAY_FILL
                sessions = sorted(cells.get((township, day, half_day), []), key=lambda a: (not a.link_visit, a.expert, a.type))
                if sessions:
                    cell.value = _cell_text(sessions, labels, lang)
                    tallest = max(tallest, len(sessions))
        sheet.row_dimensions[row].height = max(30, 15 * tallest + 4)

    sheet.column_dimensions["A"].width = 16
    sheet.freeze_panes = sheet.cell(row=HEADER_ROWS + 1, column=FIRST_DAY_COLUMN)
    sheet.sheet_view.zoomScale = 90
    sheet.page_setup.orientation = "landscape"
    sheet.print_title_rows = f"3:{HEADER_ROWS}"
    sheet.print_title_cols = "A:A"


def _unmet_sheet(sheet: Worksheet, document: dict[str, Any], labels: CommunityLabels, lang: str) -> None:
    headers = ("header_township", "header_type", "header_specialty", "header_member", "header_sessions", "header_reason")
    for column, key in enumerate(headers, start=1):
        cell = sheet.cell(row=1, column=column, value=i18n.text(key, lang))
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.border = GRID_BORDER
    rows = [row for row in document.get("unmet") or [] if isinstance(row, dict)]
    for index, unmet in enumerate(rows, start=2):
        specialty = unmet.get("specialty")
        member = unmet.get("member")
        values = (
            labels.township(unmet.get("township", "")),
            i18n.session_type_name(unmet.get("type", ""), lang),
            labels.specialty(specialty) if specialty else None,  # None leaves the cell empty
            labels.expert(member) if member else None,
            unmet.get("sessions"),
            reason_text(reason_from_row(unmet), lang, labels),
        )
        for column, value in enumerate(values, start=1):
            cell = sheet.cell(row=index, column=column, value=value)
            cell.border = GRID_BORDER
            cell.alignment = WRAP_TOP
    if not rows:
        sheet.cell(row=2, column=1, value=i18n.text("no_unmet", lang))
    for column, width in zip("ABCDEF", (16, 10, 14, 14, 10, 70)):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A2"


def roster_workbook(
    roster_document: dict[str, Any],
    labels: CommunityLabels,
    month_calendar: MonthCalendar,
    lang: str = i18n.DEFAULT_LANG,
) -> bytes:
    """The month's roster as .xlsx bytes: the township-by-day grid (off days shaded, ★ link visits) and unmet demand."""
    lang = i18n.parse_lang(lang)
    solution, _, _ = parse_roster(roster_document)  # checks the document's shape and reads the assignments
    if month_calendar.month != solution.month:
        raise ValueError(f"month_calendar is for {month_calendar.month} but the roster is for {solution.month}")
    unmet_townships = [row.get("township", "") for row in roster_document.get("unmet") or [] if isinstance(row, dict)]
    townships = _township_order(labels, solution.assignments, unmet_townships)
    workbook = Workbook()
    roster_sheet = workbook.active
    roster_sheet.title = i18n.text("sheet_roster", lang)
    _roster_sheet(roster_sheet, roster_document, solution.assignments, townships, labels, month_calendar, lang)
    _unmet_sheet(workbook.create_sheet(i18n.text("sheet_unmet", lang)), roster_document, labels, lang)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()
