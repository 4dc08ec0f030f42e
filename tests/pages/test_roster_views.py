"""The pages render straight from a roster document and the scenario (no database, no HTTP)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from api.pages.report_pages import ReportNames
from api.pages.roster_views import diff_view, month_grid, session_list, unmet_views
from api.pages.web import render_page
from scheduler.calendar import month_calendar_for
from scheduler.labels import CommunityLabels
from scheduler.report_charts import all_charts
from scheduler.reports import month_report
from solver.solution import diff_rosters
from tests.pages.conftest import MONTH

D = dt.date


def grid_for(solved, **filters):
    calendar = month_calendar_for(solved.scenario.calendar, MONTH)
    return month_grid(solved.document, solved.scenario, MONTH, calendar, filters.pop("closures", None), **filters)


def test_grid_has_every_township_and_day_with_off_days_shaded(solved_month):
    grid = grid_for(solved_month)
    assert [row.township for row in grid.rows] == [t.id for t in solved_month.scenario.townships]
    assert [day.day for day in grid.days] == list(range(1, 32))
    days = {day.date: day for day in grid.days}
    assert not days[D(2027, 1, 1)].working and days[D(2027, 1, 1)].holiday_name  # New Year's Day, named
    assert not days[D(2027, 1, 2)].working  # Saturday
    assert not days[D(2027, 1, 4)].working  # closed by the scenario
    assert days[D(2027, 1, 5)].working and days[D(2027, 1, 5)].weekday == "二"
    for row in grid.rows:
        for cell in row.cells:
            assert cell.off == (not days[cell.date].working)
            assert not (cell.off and cell.sessions), "no session falls on an off day"


def test_every_assignment_sits_once_in_its_cell_and_link_visits_are_marked(solved_month):
    grid = grid_for(solved_month)
    placed = [(row.township, cell.date, s.assignment_id, s.link_visit) for row in grid.rows for cell in row.cells for s in cell.sessions]
    rows = solved_month.document["assignments"]
    assert sorted(p[2] for p in placed) == sorted(r["id"] for r in rows)
    by_id = {r["id"]: r for r in rows}
    for township, day, assignment_id, link_visit in placed:
        row = by_id[assignment_id]
        assert (township, day.isoformat(), link_visit) == (row["township"], row["date"], row["link_visit"])
    assert sum(row.sessions for row in grid.rows) == len(rows)


def test_filters_keep_one_township_department_or_expert(solved_month):
    scenario = solved_month.scenario
    rows = solved_month.document["assignments"]
    only_t02 = grid_for(solved_month, township="t02")
    assert [row.township for row in only_t02.rows] == ["t02"]
    assert only_t02.rows[0].sessions == sum(1 for r in rows if r["township"] == "t02")
    expert = rows[0]["expert"]
    mine = grid_for(solved_month, expert=expert)
    assert {s.expert for row in mine.rows for cell in row.cells for s in cell.sessions} == {expert}
    assert sum(row.sessions for row in mine.rows) == sum(1 for r in rows if r["expert"] == expert)
    department = next(e.department for e in scenario.experts if e.id == expert)
    members = {e.id for e in scenario.experts if e.department == department}
    theirs = grid_for(solved_month, department=department)
    assert sum(row.sessions for row in theirs.rows) == sum(1 for r in rows if r["expert"] in members)


def test_a_township_closure_shades_only_that_township(solved_month):
    grid = grid_for(solved_month, closures={"t03": frozenset({D(2027, 1, 6)})}, lang="zh-CN")
    cells = {(row.township, cell.date): cell for row in grid.rows for cell in row.cells}
    assert cells[("t03", D(2027, 1, 6))].off and cells[("t03", D(2027, 1, 6))].off_reason == "停诊"
    assert not cells[("t02", D(2027, 1, 6))].off


def test_the_month_page_renders_the_grid_in_chinese_and_english(solved_month):
    scenario = solved_month.scenario
    grid = grid_for(solved_month)
    context = dict(
        caller=None, month=MONTH, community=scenario.community.name, prev_month="2026-12", next_month="2027-02", version=1, status="published",
        grid=grid, unmet=unmet_views(solved_month.document, scenario), filters={"township": "", "department": "", "expert": ""},
        township_options=[], department_options=[], expert_options=[], calendar_warnings=[], solver_seconds=3, events_pending=0,
    )
    html = render_page("office_month.html", "zh-CN", **context)
    assert '<html lang="zh-CN">' in html
    assert html.count('class="slot ') == len(solved_month.document["assignments"])
    assert html.count('<span class="mark">★</span>') == sum(1 for r in solved_month.document["assignments"] if r["link_visit"])
    for word in ("未满足的需求", "生成排班", "下载Excel", "筛选", scenario.townships[0].name):
        assert word in html
    english = render_page("office_month.html", "en", **{**context, "grid": grid_for(solved_month, lang="en"), "unmet": unmet_views(solved_month.document, scenario, "en")})
    assert "Unmet demand" in english and "Generate roster" in english and "未满足的需求" not in english


def test_unmet_rows_carry_names_and_reasons(solved_month):
    views = unmet_views(solved_month.document, solved_month.scenario)
    unmet = solved_month.document["unmet"]
    assert len(views) == len(unmet)
    assert sum(v.sessions for v in views) == sum(r["sessions"] for r in unmet)
    assert {v.reason for v in unmet_views(solved_month.document, solved_month.scenario, "en")} == {r["reason"] for r in unmet}
    assert all(not re.search(r"[A-Za-z]{3,} [A-Za-z]{3,}", v.reason) for v in views)  # reworded in Chinese
    names = {t.name for t in solved_month.scenario.townships}
    assert all(v.township_name in names for v in views)


def test_session_lists_and_diff_name_everything(solved_month):
    scenario = solved_month.scenario
    first = solved_month.solution.assignments[0]
    mine = session_list(solved_month.document, scenario, expert=first.expert)
    assert [s.date for s in mine] == sorted(s.date for s in mine)
    assert all(s.expert == first.expert for s in mine)
    moved = dataclasses.replace(first, date=first.date + dt.timedelta(days=1))
    after = (moved, *solved_month.solution.assignments[2:])
    view = diff_view(diff_rosters(solved_month.solution.assignments, after), CommunityLabels.from_scenario(scenario))
    assert [m.after.date for m in view.moved] == [moved.date]
    assert [s.assignment_id for s in view.removed] == [solved_month.solution.assignments[1].id]
    assert not view.added and not view.empty


def test_report_page_tables_show_the_report_figures(solved_month):
    scenario = solved_month.scenario
    labels = CommunityLabels.from_scenario(scenario)
    report = month_report(solved_month.document, scenario)
    html = render_page(
        "report.html", "zh-CN", caller=None, compact=False, month=MONTH, report=report, names=ReportNames(labels, "zh-CN"),
        charts=all_charts(report, labels), unmet=unmet_views(solved_month.document, scenario),
    )
    assert "各卫生院需求满足情况" in html and html.count("<svg") >= 4
    for township in report.coverage:
        if not township.rows:
            continue
        total = re.search(rf'data-township-total="{township.township}"><td>[^<]*</td><td class="demanded">(\d+)</td><td class="met">(\d+)</td><td class="unmet">(\d+)</td>', html)
        assert total and tuple(map(int, total.groups())) == (township.demanded, township.met, township.unmet)
    for trips in report.trips:
        cell = re.search(rf'<tr data-township="{trips.township}"><th scope="row">[^<]*</th><td class="trips">(\d+)</td>', html)
        assert cell and int(cell.group(1)) == trips.trips
    summary = f"共{report.sessions}次安排；需求{report.demanded}次，已排{report.met}次，缺{report.unmet}次"
    assert summary in html
