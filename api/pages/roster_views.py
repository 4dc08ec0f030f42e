"""What the pages show of a roster, built from a `rota.roster/1` document and the scenario (no database, no HTTP).

The month grid (townships x dates, off days shaded, link visits marked), session lists for a township or an
expert, unmet demand with its reasons, and the rows of a diff between two versions. Templates only loop.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from api.pages.words import page_word
from scheduler import i18n
from scheduler.calendar import MonthCalendar, month_days
from scheduler.labels import CommunityLabels
from scheduler.roster_file import parse_roster
from scheduler.scenario.schema import Scenario
from scheduler.reason_text import reason_from_row, reason_text
from solver.solution import Assignment, RosterDiff

HALF_DAY_ORDER = {"am": 0, "pm": 1}


@dataclass(frozen=True)
class SessionView:
    """One session as a person reads it."""

    assignment_id: str
    date: dt.date
    date_text: str
    weekday: str
    half_day: str
    half_day_text: str
    township: str
    township_name: str
    expert: str
    expert_name: str
    specialty_name: str
    type: str
    type_text: str
    link_visit: bool

    @property
    def what(self) -> str:
        """`心血管内科 坐诊`, or just `挂点督导` for a session without a specialty."""
        return f"{self.specialty_name} {self.type_text}".strip()


@dataclass(frozen=True)
class GridDay:
    date: dt.date
    day: int
    weekday: str
    working: bool
    holiday_name: str


@dataclass(frozen=True)
class GridCell:
    date: dt.date
    off: bool
    off_reason: str
    sessions: tuple[SessionView, ...]


@dataclass(frozen=True)
class GridRow:
    township: str
    township_name: str
    cells: tuple[GridCell, ...]
    sessions: int


@dataclass(frozen=True)
class MonthGrid:
    month: str
    days: tuple[GridDay, ...]
    rows: tuple[GridRow, ...]


@dataclass(frozen=True)
class UnmetView:
    township_name: str
    what: str
    sessions: int
    reason: str
    member_name: str


@dataclass(frozen=True)
class MovedView:
    before: SessionView
    after: SessionView


@dataclass(frozen=True)
class DiffView:
    added: tuple[SessionView, ...]
    removed: tuple[SessionView, ...]
    moved: tuple[MovedView, ...]

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.moved)


def session_view(assignment: Assignment, labels: CommunityLabels, lang: str = i18n.DEFAULT_LANG) -> SessionView:
    """One assignment with every name resolved in the language."""
    return SessionView(
        assignment_id=assignment.id,
        date=assignment.date,
        date_text=i18n.date_text(assignment.date, lang),
        weekday=i18n.weekday_name(assignment.date, lang),
        half_day=assignment.half_day,
        half_day_text=i18n.half_day_name(assignment.half_day, lang),
        township=assignment.township,
        township_name=labels.township(assignment.township),
        expert=assignment.expert,
        expert_name=labels.expert(assignment.expert),
        specialty_name=labels.specialty(assignment.specialty),
        type=assignment.type,
        type_text=i18n.session_type_name(assignment.type, lang),
        link_visit=assignment.link_visit,
    )


def _in_order(assignments: Iterable[Assignment]) -> list[Assignment]:
    # The link visit first in a cell, then by half-day, so the member leads the team on the page too.
    return sorted(assignments, key=lambda a: (a.date, HALF_DAY_ORDER.get(a.half_day, 9), not a.link_visit, a.type, a.expert))


def month_grid(
    roster_document: dict[str, Any] | None,
    scenario: Scenario,
    month: str,
    month_calendar: MonthCalendar,
    closures: Mapping[str, Iterable[dt.date]] | None = None,
    *,
    township: str | None = None,
    department: str | None = None,
    expert: str | None = None,
    lang: str = i18n.DEFAULT_LANG,
) -> MonthGrid:
    """The township-by-date grid of a month, filtered to one township, department or expert when asked."""
    labels = CommunityLabels.from_scenario(scenario)
    assignments: tuple[Assignment, ...] = parse_roster(roster_document)[0].assignments if roster_document else ()
    departments = {e.id: e.department for e in scenario.experts}
    if department:
        assignments = tuple(a for a in assignments if departments.get(a.expert) == department)
    if expert:
        assignments = tuple(a for a in assignments if a.expert == expert)
    closed_by_township = {code: set(days) for code, days in (closures or {}).items()}
    days = month_days(month)
    grid_days = tuple(
        GridDay(day, day.day, i18n.weekday_short_name(day, lang), month_calendar.is_working_day(day), month_calendar.holidays.get(day, ""))
        for day in days
    )
    by_cell: dict[tuple[str, dt.date], list[Assignment]] = defaultdict(list)
    for a in assignments:
        by_cell[(a.township, a.date)].append(a)
    township_ids = [t.id for t in scenario.townships]
    township_ids += sorted({a.township for a in assignments} - set(township_ids))
    if township:
        township_ids = [code for code in township_ids if code == township]
    rows = []
    for code in township_ids:
        cells = []
        for grid_day in grid_days:
            closed_here = grid_day.date in closed_by_township.get(code, ())
            off = not grid_day.working or closed_here
            reason = _off_reason(grid_day, closed_here, lang)
            sessions = tuple(session_view(a, labels, lang) for a in _in_order(by_cell.get((code, grid_day.date), ())))
            cells.append(GridCell(grid_day.date, off, reason if off else "", sessions))
        rows.append(GridRow(code, labels.township(code), tuple(cells), sum(len(c.sessions) for c in cells)))
    return MonthGrid(month, grid_days, tuple(rows))


def _off_reason(grid_day: GridDay, closed_here: bool, lang: str) -> str:
    """Why a day is shaded: the holiday's name, `停诊` for a closure, or nothing for a plain weekend."""
    if closed_here:
        return page_word("closed", lang)
    return grid_day.holiday_name


def session_list(
    roster_document: dict[str, Any] | None,
    scenario: Scenario,
    *,
    township: str | None = None,
    expert: str | None = None,
    lang: str = i18n.DEFAULT_LANG,
) -> tuple[SessionView, ...]:
    """A month's sessions in date order, of one township or one expert."""
    if not roster_document:
        return ()
    labels = CommunityLabels.from_scenario(scenario)
    assignments = parse_roster(roster_document)[0].assignments
    chosen = [a for a in assignments if (township is None or a.township == township) and (expert is None or a.expert == expert)]
    return tuple(session_view(a, labels, lang) for a in _in_order(chosen))


def unmet_views(roster_document: dict[str, Any] | None, scenario: Scenario, lang: str = i18n.DEFAULT_LANG) -> tuple[UnmetView, ...]:
    """The unmet rows of a roster with names resolved, the largest shortfall first."""
    if not roster_document:
        return ()
    labels = CommunityLabels.from_scenario(scenario)
    rows = [row for row in roster_document.get("unmet") or [] if isinstance(row, dict)]
    views = []
    for row in rows:
        type_text = i18n.session_type_name(str(row.get("type", "")), lang)
        what = f"{labels.specialty(row.get('specialty'))} {type_text}".strip()
        member = row.get("member")
        reason = reason_text(reason_from_row(row), lang, labels)
        views.append(UnmetView(labels.township(str(row.get("township", ""))), what, int(row.get("sessions", 0)), reason, labels.expert(member) if member else ""))
    return tuple(sorted(views, key=lambda view: -view.sessions))


def diff_view(diff: RosterDiff, labels: CommunityLabels, lang: str = i18n.DEFAULT_LANG) -> DiffView:
    """A roster diff with every session named."""
    return DiffView(
        added=tuple(session_view(a, labels, lang) for a in _in_order(diff.added)),
        removed=tuple(session_view(a, labels, lang) for a in _in_order(diff.removed)),
        moved=tuple(MovedView(session_view(before, labels, lang), session_view(after, labels, lang)) for before, after in sorted(diff.moved, key=lambda pair: (pair[1].date, pair[1].half_day))),
    )
