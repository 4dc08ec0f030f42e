"""Phone-sized pages for the people the roster sends and receives: a township head's and an expert's own page.

Township head: who comes this month and next, a form to request extra sessions, and the requests' states.
Expert: my sessions, a leave form. Both show published rosters only, and both have their calendar feed:
a new link with a QR code (shown once: only its hash is kept), the live links, and a button to revoke each
(a revoked link's feed answers 404).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from api.pages.month_data import roster_document
from api.pages.roster_views import session_list
from api.deps import Tenant
from api.pages.web import SERVICE_ZONE, checked_month, page, page_lang, redirect, render, require_tenant, session_factory, shift_month, this_month
from api.pages.words import page_word
from config.settings import get_settings
from scheduler import auth, flows, i18n, requests, store
from scheduler.db import transaction
from scheduler.labels import CommunityLabels
from scheduler.errors import Conflict, FieldError, NotFound, ScenarioError
from scheduler.scenario.fields import checked_date, parse_month
from scheduler.scenario.messages import CodedFieldError, coded
from scheduler.scenario.schema import HALF_DAYS, SESSION_TYPES
from scheduler.subscriptions import feed_url as feed_address
from scheduler.reason_text import reason_text

router = APIRouter(include_in_schema=False)


def _first_month(request: Request) -> str:
    """`?month=YYYY-MM` (to look ahead or back), else this month."""
    asked = request.query_params.get("month")
    return checked_month(asked) if asked else this_month()


def _in_range(month: str) -> bool:
    try:
        parse_month(month)
    except ValueError:
        return False
    return True


def _published_months(request: Request, tenant: Tenant, *, township: str | None = None, expert: str | None = None) -> tuple[Any, list[dict[str, Any]]]:
    """The community's scenario and, for this month (or `?month=`) and the next, the published sessions of a township or an expert."""
    lang = page_lang(request)
    first = _first_month(request)
    with session_factory(request)() as session:
        scenario = store.export_scenario(session, tenant.id)
        months = [first] + [m for m in (shift_month(first, 1),) if _in_range(m)]  # 2100-12 has no next month
        documents = [(month, roster_document(session, tenant.id, month, status="published")) for month in months]
    blocks = [{"month": month, "sessions": session_list(document, scenario, township=township, expert=expert, lang=lang)} for month, document in documents]
    return scenario, blocks


def _form_date(value: str, field: str, problems: list[FieldError], required: bool = True) -> dt.date | None:
    """A form's date within the one date range (scheduler.scenario.fields), or None with the problem added."""
    value = (value or "").strip()
    if not value:
        if required:
            problems.append(coded(field, "missing"))
        return None
    try:
        return checked_date(value, field)
    except ScenarioError as error:
        problems.extend(error.problems)
        return None


def _messages(error: ScenarioError, lang: str) -> list[str]:
    labels = {"first_day": "first_day", "last_day": "last_day", "sessions": "sessions", "type": "session_type", "specialty": "specialty", "half_day": "half_day", "reason": "reason"}
    return [
        f"{page_word(labels[p.path], lang) if p.path in labels else p.path}: {p.message_in(lang) if isinstance(p, CodedFieldError) else p.message}"
        for p in error.problems
    ]


# --- calendar feed links (both pages) -----------------------------------------------------------

FEED_SCOPE_OF_ROLE = {"township": "township", "expert": "expert"}


def _feed_key(tenant: Tenant) -> tuple[str, str]:
    """The feed scope and key of the caller's own calendar: their township's, or their own as an expert."""
    caller = tenant.caller
    scope = FEED_SCOPE_OF_ROLE[caller.role]
    return scope, (caller.township if scope == "township" else caller.expert) or ""


def _feed_url(request: Request, tenant: Tenant, token: str) -> str:
    settings = getattr(request.app.state, "settings", None) or get_settings()
    return feed_address(settings.base_url.rstrip("/") or str(request.base_url).rstrip("/"), tenant.code, token)


def _feed_context(request: Request, tenant: Tenant, feed_url: str = "") -> dict[str, Any]:
    """What the feed section (_feed.html) shows: a new link and its QR code, the caller's live links."""
    lang = page_lang(request)
    scope, key = _feed_key(tenant)
    with session_factory(request)() as session:
        live = [row for row in auth.list_feed_tokens(session, tenant.id, scope=scope, key=key) if row.revoked_at is None]
    return {
        "feed_path": "/" + tenant.caller.role,
        "feed_url": feed_url,
        # webcal:// makes a phone open its calendar app to subscribe; the QR code carries the plain URL.
        "feed_webcal_url": "webcal://" + feed_url.split("://", 1)[1] if feed_url else "",
        "feed_qr": segno.make(feed_url, error="m").svg_inline(scale=4, title=page_word("feed_title", lang)) if feed_url else "",
        "feed_count": len(live),
        "feed_links": [{"id": row.id, "created": i18n.date_text(row.created_at.astimezone(SERVICE_ZONE).date(), lang)} for row in live],
    }


def _no_store(response: Response, feed_url: str) -> Response:
    if feed_url:
        response.headers["Cache-Control"] = "no-store"  # the page holds a secret shown once
    return response


def _create_feed(request: Request, role: str, view) -> Response:
    tenant = require_tenant(request, role)
    scope, key = _feed_key(tenant)
    with transaction(session_factory(request)) as session:
        _, token = auth.create_feed_token(session, tenant.id, scope, key, created_by=tenant.caller.token_id)
    return view(request, tenant, feed_url=_feed_url(request, tenant, token))


def _revoke_feed(request: Request, role: str, feed_token_id: int) -> Response:
    """Revoke one of the caller's own feed links; another's (or another community's, or none) is a 404 page."""
    tenant = require_tenant(request, role)
    scope, key = _feed_key(tenant)
    with transaction(session_factory(request)) as session:
        row = auth.get_feed_token(session, tenant.id, feed_token_id)
        if row.scope != scope or row.scope_key != key:
            raise NotFound(f"no feed token with id {feed_token_id}")
        auth.revoke_feed_token(session, tenant.id, feed_token_id)
    return redirect(request, "/" + role, revoked=1, month=request.query_params.get("month"))


# --- township head ----------------------------------------------------------------------------


def _township_view(
    request: Request, tenant: Tenant, *, form: dict[str, Any] | None = None, errors: list[str] | None = None, notice: str = "", feed_url: str = "", status_code: int = 200
) -> Response:
    lang = page_lang(request)
    caller = tenant.caller
    # The requests first, then the published sessions: a request is marked scheduled in the transaction that
    # publishes its session, so a page that shows it scheduled always shows the session too (read the other
    # way round, a settlement committing between the two reads showed "scheduled" beside the older roster).
    with session_factory(request)() as session:
        rows = requests.list_requests(session, tenant.id, township=caller.township)
    scenario, months = _published_months(request, tenant, township=caller.township)
    specialties = {s.code: s.name for s in scenario.specialties}
    labels = CommunityLabels.from_scenario(scenario)
    request_rows = [
        {
            "id": r.id,
            "state": r.state,
            "what": f"{specialties.get(r.specialty, r.specialty)} {i18n.session_type_name(r.type, lang)}",
            "sessions": r.sessions,
            "window": page_word("request_window", lang, first=i18n.date_text(r.first_day, lang), last=i18n.date_text(r.last_day, lang)),
            "reason": reason_text(r.why, lang, labels),
        }
        for r in rows
    ]
    names = {t.id: t.name for t in scenario.townships}
    response = render(
        request,
        "township.html",
        status_code=status_code,
        caller=caller,
        month_param=request.query_params.get("month"),
        township_name=names.get(caller.township or "", caller.township),
        months=months,
        requests=request_rows,
        type_options=[(code, i18n.session_type_name(code, lang)) for code in SESSION_TYPES],
        specialty_options=[(s.code, s.name) for s in scenario.specialties],
        form=form or {},
        errors=errors,
        notice=notice,
        **_feed_context(request, tenant, feed_url),
    )
    return _no_store(response, feed_url)


@router.get("/township")
@page
def township_page(request: Request, filed: int | None = None, revoked: int | None = None) -> Response:
    tenant = require_tenant(request, "township")
    lang = page_lang(request)
    notice = page_word("request_filed", lang) if filed else page_word("feed_revoked", lang) if revoked else ""
    return _township_view(request, tenant, notice=notice)


@router.post("/township/feed")
@page
def create_township_feed(request: Request) -> Response:
    return _create_feed(request, "township", _township_view)


@router.post("/township/feeds/{feed_token_id}/revoke")
@page
def revoke_township_feed(request: Request, feed_token_id: int) -> Response:
    return _revoke_feed(request, "township", feed_token_id)


@router.post("/township/requests")
@page
def file_request(
    request: Request,
    type: Annotated[str, Form()] = "",
    specialty: Annotated[str, Form()] = "",
    sessions: Annotated[str, Form()] = "1",
    first_day: Annotated[str, Form()] = "",
    last_day: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    tenant = require_tenant(request, "township")
    caller = tenant.caller
    lang = page_lang(request)
    form = {"type": type, "specialty": specialty, "sessions": sessions, "first_day": first_day, "last_day": last_day, "note": note}
    problems: list[FieldError] = []
    first = _form_date(first_day, "first_day", problems)
    last = _form_date(last_day, "last_day", problems, required=False)
    try:
        count = int(sessions)
    except ValueError:
        problems.append(coded("sessions", "whole_number", got=sessions))
        count = 0
    try:
        if problems:
            raise ScenarioError(problems)
        with transaction(session_factory(request)) as session:
            request_id = flows.request_extra_session(session, tenant.id, caller.township or "", type, specialty, count, first, last, note.strip())  # type: ignore[arg-type]
    except ScenarioError as error:
        return _township_view(request, tenant, form=form, errors=_messages(error, lang), status_code=422)
    return redirect(request, "/township", filed=request_id, month=request.query_params.get("month"))


@router.post("/township/requests/{request_id}/cancel")
@page
def cancel_request(request: Request, request_id: int) -> Response:
    tenant = require_tenant(request, "township")
    caller = tenant.caller
    lang = page_lang(request)
    try:
        with transaction(session_factory(request)) as session:
            if requests.get_request(session, tenant.id, request_id).township != caller.township:
                return render(request, "message.html", status_code=403, heading=page_word("forbidden", lang), caller=caller)
            requests.cancel_request(session, tenant.id, request_id)
    except (Conflict, NotFound) as error:
        return _township_view(request, tenant, errors=[str(error)], status_code=409)
    return redirect(request, "/township", month=request.query_params.get("month"))


# --- expert -----------------------------------------------------------------------------------


def _leave_lines(document: dict[str, Any], expert_id: str, lang: str) -> list[str]:
    for expert in document["experts"]:
        if expert["id"] != expert_id:
            continue
        lines = []
        for period in expert.get("unavailable", []):
            if "date" in period:
                line = i18n.date_text(period["date"], lang)
                if period.get("half_day"):
                    line += " " + i18n.half_day_name(period["half_day"], lang)
            elif period["from"] == period["to"]:
                line = i18n.date_text(period["from"], lang)
            else:
                line = page_word("request_window", lang, first=i18n.date_text(period["from"], lang), last=i18n.date_text(period["to"], lang))
            if period.get("reason"):
                line += f"（{period['reason']}）" if lang == "zh-CN" else f" ({period['reason']})"
            lines.append(line)
        return lines
    return []


def _expert_view(
    request: Request, tenant: Tenant, *, form: dict[str, Any] | None = None, errors: list[str] | None = None, notice: str = "", feed_url: str = "", status_code: int = 200
) -> Response:
    lang = page_lang(request)
    caller = tenant.caller
    scenario, months = _published_months(request, tenant, expert=caller.expert)
    with session_factory(request)() as session:
        standing = store.export_document(session, tenant.id)
    me = next((e for e in scenario.experts if e.id == caller.expert), None)
    departments = {d.code: d.name for d in scenario.departments}
    response = render(
        request,
        "expert.html",
        status_code=status_code,
        caller=caller,
        month_param=request.query_params.get("month"),
        expert_name=me.name if me else caller.expert,
        department_name=departments.get(me.department, me.department) if me else "",
        title_name=i18n.title_name(me.title, lang) if me else "",
        months=months,
        leave=_leave_lines(standing, caller.expert or "", lang),
        half_day_options=[(code, i18n.half_day_name(code, lang)) for code in HALF_DAYS],
        form=form or {},
        errors=errors,
        notice=notice,
        **_feed_context(request, tenant, feed_url),
    )
    return _no_store(response, feed_url)


@router.get("/expert")
@page
def expert_page(request: Request, filed: int | None = None, revoked: int | None = None) -> Response:
    tenant = require_tenant(request, "expert")
    lang = page_lang(request)
    notice = page_word("leave_filed", lang) if filed else page_word("feed_revoked", lang) if revoked else ""
    return _expert_view(request, tenant, notice=notice)


@router.post("/expert/leave")
@page
def file_leave(
    request: Request,
    first_day: Annotated[str, Form()] = "",
    last_day: Annotated[str, Form()] = "",
    half_day: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    tenant = require_tenant(request, "expert")
    caller = tenant.caller
    lang = page_lang(request)
    form = {"first_day": first_day, "last_day": last_day, "half_day": half_day, "reason": reason}
    problems: list[FieldError] = []
    first = _form_date(first_day, "first_day", problems)
    last = _form_date(last_day, "last_day", problems, required=False)
    try:
        if problems:
            raise ScenarioError(problems)
        with transaction(session_factory(request)) as session:
            flows.file_leave(session, tenant.id, caller.expert or "", first, last, half_day or None, reason.strip())  # type: ignore[arg-type]
    except ScenarioError as error:
        return _expert_view(request, tenant, form=form, errors=_messages(error, lang), status_code=422)
    return redirect(request, "/expert", filed=1, month=request.query_params.get("month"))


@router.post("/expert/feed")
@page
def create_feed(request: Request) -> Response:
    return _create_feed(request, "expert", _expert_view)


@router.post("/expert/feeds/{feed_token_id}/revoke")
@page
def revoke_expert_feed(request: Request, feed_token_id: int) -> Response:
    return _revoke_feed(request, "expert", feed_token_id)
