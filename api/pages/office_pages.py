"""A community office's pages (`/c/{community}/office/...`): the month grid, generate and publish, versions and diffs, requests and events, Excel."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from api.pages.lever_pages import actor_text, reverted_notice
from api.pages.event_views import event_rows
from api.pages.month_data import load_month
from api.pages.roster_views import diff_view, month_grid, unmet_views
from api.deps import Tenant
from api.pages.web import PageNotFound, SERVICE_ZONE, checked_month, page, page_lang, redirect, render, require_tenant, session_factory, shift_month, this_month
from api.pages.words import page_word
from config.settings import get_settings
from scheduler import events, flows, forced, i18n, requests, store
from scheduler.calendar import estimate_warning, last_announced_year
from scheduler.db import transaction
from scheduler.labels import CommunityLabels
from scheduler.errors import Conflict, NotFound, ScenarioError
from scheduler.xlsx import roster_workbook
from scheduler.reason_text import reason_text
from solver.solution import diff_rosters

router = APIRouter(include_in_schema=False)


def _settings(request: Request):
    return getattr(request.app.state, "settings", None) or get_settings()


def _moment(moment: dt.datetime | None) -> str:
    return moment.astimezone(SERVICE_ZONE).strftime("%Y-%m-%d %H:%M") if moment else ""


def _job_notice(request: Request, tenant: Tenant, job_id: str | None, lang: str) -> tuple[str, list[str], bool]:
    """(notice, errors, still running) for a generation job of the community the page was sent back with."""
    jobs = getattr(request.app.state, "jobs", None)
    job = jobs.get(job_id, community_id=tenant.id, community=tenant.code) if jobs is not None and job_id else None
    if job is None:
        return "", [], False
    if job.state in ("queued", "running"):
        return ("正在生成排班，页面会自动刷新…" if lang == "zh-CN" else "Generating the roster; this page refreshes by itself…"), [], True
    if job.state == "failed":
        return "", [job.error or "failed"], False
    return (f"已生成第{job.result_version}版（草稿）。" if lang == "zh-CN" else f"Generated version {job.result_version} (draft)."), [], False


def _calendar_warning(warning: str, month: str, lang: str) -> str:
    """The calendar's warning in the page language (the calendar module words it in English for the CLI)."""
    year = int(month[:4])
    if warning == estimate_warning(year):
        return page_word("calendar_estimate", lang, year=year, last=last_announced_year())
    return warning


@router.get("/office")
@page
def office_home(request: Request) -> Response:
    require_tenant(request, "office")
    return redirect(request, f"/office/{this_month()}")


@router.get("/office/inbox")
@page
def inbox(request: Request, settled: int | None = None) -> Response:
    tenant = require_tenant(request, "office")
    notice = ""
    if settled is not None:
        with session_factory(request)() as session:
            try:
                row = requests.get_request(session, tenant.id, settled)
            except NotFound:
                row = None
        if row is not None:
            lang = page_lang(request)
            with session_factory(request)() as session:
                labels = CommunityLabels.from_scenario(store.export_scenario(session, tenant.id))
            reason = reason_text(row.why, lang, labels)
            notice = f"#{row.id} " + page_word("state_" + row.state, lang) + (f"：{reason}" if row.state != "scheduled" and reason else "")
    return _inbox_view(request, notice)


def _inbox_view(request: Request, notice: str = "", status_code: int = 200) -> Response:
    tenant = require_tenant(request, "office")
    lang = page_lang(request)
    with session_factory(request)() as session:
        scenario = store.export_scenario(session, tenant.id)
        pending = requests.list_requests(session, tenant.id, state="pending")
        failed = events.list_events(session, tenant.id, status="failed")
    names = {t.id: t.name for t in scenario.townships}
    specialties = {s.code: s.name for s in scenario.specialties}
    labels = CommunityLabels.from_scenario(scenario)
    rows = [
        {
            "id": r.id,
            "township_name": names.get(r.township, r.township),
            "what": f"{specialties.get(r.specialty, r.specialty)} {i18n.session_type_name(r.type, lang)}",
            "sessions": r.sessions,
            "window": page_word("request_window", lang, first=i18n.date_text(r.first_day, lang), last=i18n.date_text(r.last_day, lang)),
            "note": r.note,
            "reason": reason_text(r.why, lang, labels),
        }
        for r in reversed(pending)
    ]
    pending_ids = {r.id for r in pending}
    return render(request, "office_inbox.html", status_code=status_code, caller=tenant.caller, month=this_month(), requests=rows, events=failed, pending_ids=pending_ids, notice=notice)


@router.post("/office/requests/{request_id}/approve")
@page
def approve_request(request: Request, request_id: int) -> Response:
    tenant = require_tenant(request, "office")
    try:
        forced.approve_request(session_factory(request), tenant.id, request_id)  # insertion, else moving others
    except (Conflict, NotFound) as error:
        return _inbox_view(request, str(error), status_code=409)
    return redirect(request, "/office/inbox", settled=request_id)


@router.post("/office/requests/{request_id}/decline")
@page
def decline_request(request: Request, request_id: int, reason: Annotated[str, Form()] = "") -> Response:
    tenant = require_tenant(request, "office")
    try:
        with transaction(session_factory(request)) as session:
            requests.decline_request(session, tenant.id, request_id, reason)
    except ScenarioError as error:
        return _inbox_view(request, "; ".join(p.message for p in error.problems), status_code=422)
    except (Conflict, NotFound) as error:
        return _inbox_view(request, str(error), status_code=409)
    return redirect(request, "/office/inbox")


@router.post("/office/events/{event_id}/retry")
@page
def retry_event(request: Request, event_id: int) -> Response:
    tenant = require_tenant(request, "office")
    try:
        with transaction(session_factory(request)) as session:
            events.retry_event(session, tenant.id, event_id)
    except (Conflict, NotFound) as error:
        return _inbox_view(request, str(error), status_code=409)
    return redirect(request, "/office/inbox")


@router.get("/office/{month}")
@page
def month_page(
    request: Request,
    month: str,
    version: int | None = None,
    township: str = "",
    department: str = "",
    expert: str = "",
    job: str = "",
    published: int | None = None,
) -> Response:
    require_tenant(request, "office")
    month = checked_month(month)
    notice = page_word("published_note", page_lang(request), version=published) if published else ""
    return _month_view(request, month, version, township, department, expert, job, notice=notice)


def _month_view(
    request: Request,
    month: str,
    version: int | None = None,
    township: str = "",
    department: str = "",
    expert: str = "",
    job: str = "",
    *,
    errors: list[str] | None = None,
    notice: str = "",
    status_code: int = 200,
) -> Response:
    tenant = require_tenant(request, "office")
    lang = page_lang(request)
    # The job first, then the month: a job is marked done in the transaction that saves its version, so a page that
    # finds it done shows that version. Read the other way round, a job finishing between the two reads gave a page
    # with no roster and no more refreshing (the job was done), which stayed so.
    job_notice, job_errors, running = _job_notice(request, tenant, job, lang)
    with session_factory(request)() as session:
        data = load_month(session, tenant.id, month, version)
        events_pending = events.pending_count(session, tenant.id)
        requests_waiting = len(requests.list_requests(session, tenant.id, state="pending"))
        events_failed = len(events.list_events(session, tenant.id, status="failed"))
        changes = event_rows(events.month_events(session, tenant.id, month, limit=30), month, lang)
    if version is not None and data.document is None:
        raise PageNotFound()
    scenario = data.scenario
    grid = month_grid(data.document, scenario, month, data.calendar, data.closures, township=township or None, department=department or None, expert=expert or None, lang=lang)
    response = render(
        request,
        "office_month.html",
        status_code=status_code,
        caller=tenant.caller,
        month=month,
        community=scenario.community.name,
        prev_month=shift_month(month, -1),
        next_month=shift_month(month, 1),
        version=data.version,
        status=data.status,
        grid=grid,
        unmet=unmet_views(data.document, scenario, lang),
        filters={"township": township, "department": department, "expert": expert},
        township_options=[(t.id, t.name) for t in scenario.townships],
        department_options=[(d.code, d.name) for d in scenario.departments],
        expert_options=[(e.id, f"{e.name}（{e.id}）") for e in scenario.experts if e.max_sessions > 0],
        calendar_warnings=[_calendar_warning(warning, month, lang) for warning in data.calendar.warnings],
        solver_seconds=int(_settings(request).solver_time_limit),
        events_pending=events_pending,
        requests_waiting=requests_waiting,
        events_failed=events_failed,
        month_events=changes,
        notice=notice or job_notice,
        errors=(errors or []) + job_errors,
    )
    if running:
        # Without JavaScript the page polls by itself until the generation job finishes.
        response.headers["Refresh"] = "2"
    return response


@router.post("/office/{month}/generate")
@page
def generate(request: Request, month: str) -> Response:
    tenant = require_tenant(request, "office")
    month = checked_month(month)
    factory = session_factory(request)
    jobs = getattr(request.app.state, "jobs", None)
    if jobs is not None:
        job = jobs.submit("generate", month, community_id=tenant.id, community=tenant.code, args={"cause": "generate (office page)"})
        return redirect(request, f"/office/{month}", job=job.id)
    try:
        number = flows.generate(factory, tenant.id, month, cause="generate (office page)")
    except (Conflict, NotFound, ScenarioError) as error:
        return _month_view(request, month, errors=[str(error)], status_code=409)
    return redirect(request, f"/office/{month}", version=number)


@router.post("/office/{month}/publish")
@page
def publish(request: Request, month: str, version: Annotated[int | None, Form()] = None) -> Response:
    tenant = require_tenant(request, "office")
    month = checked_month(month)
    try:
        number = flows.publish(session_factory(request), tenant.id, month, version)
    except (Conflict, NotFound) as error:
        return _month_view(request, month, errors=[str(error)], status_code=409)
    return redirect(request, f"/office/{month}", version=number, published=number)


@router.get("/office/{month}/roster.xlsx")
@page
def roster_xlsx(request: Request, month: str, version: int | None = None) -> Response:
    tenant = require_tenant(request, "office")
    month = checked_month(month)
    with session_factory(request)() as session:
        data = load_month(session, tenant.id, month, version)
    if data.document is None:
        raise PageNotFound()
    body = roster_workbook(data.document, data.labels, data.calendar, page_lang(request))
    filename = f"roster-{month}-v{data.version}.xlsx"
    return Response(
        body,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/office/{month}/versions")
@page
def versions_page(request: Request, month: str, before: int | None = None, after: int | None = None) -> Response:
    tenant = require_tenant(request, "office")
    month = checked_month(month)
    lang = page_lang(request)
    with session_factory(request)() as session:
        data = load_month(session, tenant.id, month, with_versions=True)
        numbers = [v.version for v in data.versions]
        if after is None and len(numbers) >= 2:
            before, after = numbers[-2], numbers[-1]
        diff = None
        if before is not None and after is not None:
            if before not in numbers or after not in numbers:
                raise PageNotFound()
            old = store.load_roster_version(session, tenant.id, month, before)[0]
            new = store.load_roster_version(session, tenant.id, month, after)[0]
            diff = diff_view(diff_rosters(old.assignments, new.assignments), data.labels, lang)
    rows: list[dict[str, Any]] = [
        {
            "version": v.version,
            "status": v.status,
            "created_text": _moment(v.created_at),
            "cause": v.cause,
            "assignments": v.assignments,
            "unmet_sessions": v.unmet_sessions,
            "actor_text": actor_text(v.actor, v.actor_role, lang),
        }
        for v in reversed(data.versions)
    ]
    notice = reverted_notice(request.query_params.get("reverted", ""), lang)
    return render(request, "office_versions.html", caller=tenant.caller, month=month, versions=rows, diff=diff, before=before, after=after, notice=notice)
