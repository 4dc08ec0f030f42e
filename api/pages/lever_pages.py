"""The office's lever pages: pin and unpin sessions (`/office/{month}/pins`), restore an earlier version (a button on the
versions list), and who did what (`/office/audit`, filters by person, township, month and kind).

The forms call the same scheduler functions as the API (scheduler.pins, scheduler.revert, scheduler.audit); a clash is
shown with every broken rule told (where and why) in the page's language, and nothing is saved.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from api.pages.lever_words import LEVER_WORDS  # noqa: F401  (adds the lever pages' words to the word table)
import api.pages.user_words  # noqa: F401 - the words of the office users' audit entries
from api.pages.roster_views import session_view
from api.pages.web import SERVICE_ZONE, checked_month, page, page_lang, redirect, render, require_tenant, session_factory
from api.pages.words import page_word
from scheduler import audit, forced, pins, revert, store
from scheduler.db import transaction
from scheduler.errors import Conflict, NotFound, ScenarioError
from scheduler.events import event_summary, kind_label
from scheduler.labels import CommunityLabels
from scheduler.reason_text import Refused, reason_text
from scheduler.roster_rules import RuleBroken

router = APIRouter(include_in_schema=False)
AUDIT_KINDS = ("version", "event", "pin", "unpin", "revert", "force", "user")


def _labels(request: Request, community_id: int) -> CommunityLabels:
    """The community's names, for a clash told in Chinese (townships, experts, specialties)."""
    with session_factory(request)() as session:
        return CommunityLabels.from_scenario(store.export_scenario(session, community_id))


def _moment(moment: dt.datetime) -> str:
    return moment.astimezone(SERVICE_ZONE).strftime("%Y-%m-%d %H:%M")


def actor_text(name: str, role: str, lang: str) -> str:
    """Who acted, as the pages say it: the token's name and its role in the page language ("system", "cli" translated)."""
    if role in ("system", "cli"):
        return page_word("actor_" + role, lang)
    return f"{name}（{page_word('role_' + role, lang)}）" if lang == "zh-CN" else f"{name} ({page_word('role_' + role, lang)})"


# --- pins ---------------------------------------------------------------------------------------


def _pins_view(request: Request, month: str, *, notice: str = "", errors: list[str] | None = None, status_code: int = 200) -> Response:
    tenant = require_tenant(request, "office")
    lang = page_lang(request)
    with session_factory(request)() as session:
        labels = CommunityLabels.from_scenario(store.export_scenario(session, tenant.id))
        held = pins.list_pins(session, tenant.id, month)
        try:
            solution, version, _, _ = store.load_roster_version(session, tenant.id, month)
        except NotFound:
            solution, version = None, None
    pinned_ids = {p.assignment_id for p in held}
    sessions = [session_view(a, labels, lang) for a in sorted(solution.assignments, key=lambda a: (a.date, a.half_day, a.township, a.expert))] if solution else []
    pinned_rows = [
        {"view": view, "note": p.note, "pinned_by": p.pinned_by, "pinned_at": _moment(p.pinned_at)}
        for p in held
        for view in [next((s for s in sessions if s.assignment_id == p.assignment_id), None)]
        if view is not None
    ]
    return render(
        request, "office_pins.html", status_code=status_code, caller=tenant.caller, month=month, version=version, pinned=pinned_rows,
        sessions=[s for s in sessions if s.assignment_id not in pinned_ids], notice=notice, errors=errors or [],
    )


@router.get("/office/{month}/pins")
@page
def pins_page(request: Request, month: str) -> Response:
    require_tenant(request, "office")
    month = checked_month(month)
    done = request.query_params.get("done", "")
    return _pins_view(request, month, notice=page_word(done, page_lang(request)) if done in ("pinned", "unpinned") else "")


@router.post("/office/{month}/pins")
@page
def pin_session(request: Request, month: str, assignment_id: Annotated[str, Form(max_length=100)] = "", note: Annotated[str, Form(max_length=500)] = "") -> Response:
    tenant = require_tenant(request, "office")
    month = checked_month(month)
    with transaction(session_factory(request)) as session:
        pins.pin_assignment(session, tenant.id, month, assignment_id, note.strip())
    return redirect(request, f"/office/{month}/pins", done="pinned")


@router.post("/office/{month}/pins/{assignment_id}/unpin")
@page
def unpin_session(request: Request, month: str, assignment_id: str) -> Response:
    tenant = require_tenant(request, "office")
    month = checked_month(month)
    with transaction(session_factory(request)) as session:
        pins.unpin_assignment(session, tenant.id, month, assignment_id)
    return redirect(request, f"/office/{month}/pins", done="unpinned")


# --- revert -------------------------------------------------------------------------------------


@router.post("/office/{month}/revert")
@page
def revert_page(request: Request, month: str, version: Annotated[int, Form(ge=1, le=2_147_483_647)]) -> Response:
    tenant = require_tenant(request, "office")
    month = checked_month(month)
    lang = page_lang(request)
    try:
        number, changes = revert.revert_to(session_factory(request), tenant.id, month, version)
    except RuleBroken as clash:
        labels = _labels(request, tenant.id)
        lines = [reason_text(b.reason, lang, labels) for b in clash.breaks]
        return render(request, "message.html", status_code=409, heading=page_word("revert_clash", lang, version=version), clash=lines, caller=tenant.caller, month=month)
    except Conflict:
        return render(request, "message.html", status_code=409, heading=page_word("revert_clash", lang, version=version), caller=tenant.caller, month=month)
    return redirect(request, f"/office/{month}/versions", reverted=f"{version}-{number}-{changes}")


# --- audit --------------------------------------------------------------------------------------


def _audit_what(entry: audit.AuditView, labels: CommunityLabels, lang: str) -> str:
    if entry.kind == "event":
        summary = event_summary(entry.subject, entry.after or {}, lang)
        return f"{kind_label(entry.subject, lang)}{'：' if lang == 'zh-CN' else ': '}{summary}" if summary else kind_label(entry.subject, lang)
    if entry.kind == "user":
        return _user_change(entry, lang)
    if entry.version is not None:
        return page_word("audit_version", lang, version=entry.version)
    return ""


def _user_change(entry: audit.AuditView, lang: str) -> str:
    """An office user's change as the audit page says it: added, disabled, enabled again, or given a new password (scheduler.office_users)."""
    after = entry.after if isinstance(entry.after, dict) else {}
    if entry.before is None:
        key = "audit_user_added"
    elif "password" in after:
        key = "audit_user_password"
    elif after.get("disabled") is False:
        key = "audit_user_enabled"
    else:
        key = "audit_user_disabled"
    return page_word(key, lang, name=after.get("name", ""))


@router.get("/office/audit")
@page
def audit_page(request: Request) -> Response:
    tenant = require_tenant(request, "office")
    lang = page_lang(request)
    wanted = {name: (request.query_params.get(name) or "").strip()[:100] for name in ("actor", "township", "month", "kind")}
    if wanted["month"]:
        wanted["month"] = checked_month(wanted["month"])
    if wanted["kind"] not in ("", *AUDIT_KINDS):
        wanted["kind"] = ""
    with session_factory(request)() as session:
        scenario = store.export_scenario(session, tenant.id)
        entries = audit.list_audit(session, tenant.id, **{k: v or None for k, v in wanted.items()})
    labels = CommunityLabels.from_scenario(scenario)
    rows: list[dict[str, Any]] = [
        {
            "when": _moment(e.at),
            "actor": actor_text(e.actor, e.actor_role, lang),
            "kind": page_word("audit_kind_" + e.kind, lang) if e.kind in AUDIT_KINDS else e.kind,
            "month": e.month or "",
            "township": labels.township(e.township) if e.township else "",
            "what": _audit_what(e, labels, lang),
        }
        for e in entries
    ]
    return render(
        request, "office_audit.html", caller=tenant.caller, rows=rows, filters=wanted, kinds=[(k, page_word("audit_kind_" + k, lang)) for k in AUDIT_KINDS],
        township_options=[(t.id, t.name) for t in scenario.townships],
    )


def reverted_notice(value: str, lang: str) -> str:
    """The versions page's notice after a revert (`?reverted=RESTORED-NEW-CHANGES`), or "" for anything else."""
    parts = value.split("-")
    if len(parts) != 3 or not all(part.isdigit() and len(part) < 10 for part in parts):
        return ""
    restored, version, changes = (int(part) for part in parts)
    return page_word("reverted", lang, restored=restored, version=version, changes=changes)


# --- forced requests ----------------------------------------------------------------------------


@router.post("/office/requests/{request_id}/force")
@page
def force_request_page(request: Request, request_id: int, date: Annotated[str, Form(max_length=20)] = "") -> Response:
    tenant = require_tenant(request, "office")
    lang = page_lang(request)
    try:
        day = dt.date.fromisoformat(date.strip())
    except ValueError:
        return render(request, "message.html", status_code=422, heading=page_word("force_bad_date", lang), caller=tenant.caller)
    try:
        forced.force_request(session_factory(request), tenant.id, request_id, day)
    except (Refused, RuleBroken) as refused:
        return render(request, "message.html", status_code=409, heading=page_word("force_failed", lang), message=reason_text(refused.reason, lang, _labels(request, tenant.id)),
                      caller=tenant.caller)
    except (Conflict, ScenarioError) as refused:
        detail = str(refused) if lang == "en" else ""
        return render(request, "message.html", status_code=409 if isinstance(refused, Conflict) else 422, heading=page_word("force_failed", lang), detail=detail, caller=tenant.caller)
    return redirect(request, "/office/inbox", settled=request_id)
