"""The health bureau's (卫健委) page: every community's month on one page, with the office report's charts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.pages.report_pages import report_charts_cached
from api.pages.web import checked_month, page, page_lang, redirect_global, render, require_caller, session_factory, shift_month, this_month
from scheduler.auth import BUREAU_ROLE
from scheduler.province import CommunityMonth, province_month

router = APIRouter(include_in_schema=False)


def _row(view: CommunityMonth, lang: str) -> dict[str, Any]:
    row: dict[str, Any] = {"code": view.code, "name": view.name, "status": view.status, "published_version": view.published_version, "report": view.report}
    if view.report is not None:
        row["sessions"] = sum(load.sessions for load in view.report.load)
        row["capacity"] = sum(load.capacity for load in view.report.load)
        row["charts"] = report_charts_cached(view.code, view.report, view.scenario, view.labels, view.extra_demand, lang)
    return row


@router.get("/province")
@page
def province_home(request: Request) -> Response:
    require_caller(request, BUREAU_ROLE)
    return redirect_global(request, f"/province/{this_month()}")


@router.get("/province/{month}")
@page
def province_page(request: Request, month: str) -> Response:
    caller = require_caller(request, BUREAU_ROLE)
    month = checked_month(month)
    lang = page_lang(request)
    with session_factory(request)() as session:
        views = province_month(session, month)
    return render(
        request, "province.html", caller=caller, month=month, prev_month=shift_month(month, -1), next_month=shift_month(month, 1),
        communities=[_row(view, lang) for view in views],
    )
