"""One-time login links on the pages: the office makes them (`/office/logins`), a township head or an expert uses one (`/login/link/{token}`).

The office picks a township centre or an expert and either sends the link to that person's contact (the
notices' outbox) or has it shown once, with a QR code to scan from the office's screen. Opening a link
shows who it is for and a button; the button's post (CSRF-checked like every form) spends the link and
opens a page session with the person's role and scope (`scheduler.login_links`). A link that is used,
expired, revoked or unknown answers 410 with a page saying to ask the office for a new one.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from api.deps import Tenant
import api.pages.login_words  # noqa: F401 - adds the login pages' words to the word table
from api.pages.login_pages import start_session
from api.pages.login_throttle import throttle_for
from api.pages.web import SERVICE_ZONE, page, page_lang, redirect, render, require_tenant, session_factory, this_month
from api.pages.words import page_word
from config.settings import get_settings
from scheduler import i18n, login_links, store
from scheduler.db import transaction
from scheduler.errors import ScenarioError
from scheduler.labels import CommunityLabels

router = APIRouter(include_in_schema=False)


class _NoContact(Exception):
    """The person a link was to be sent to has no contact: the link is not made."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _settings(request: Request):
    return getattr(request.app.state, "settings", None) or get_settings()


def _until(moment: dt.datetime, lang: str) -> str:
    local = moment.astimezone(SERVICE_ZONE)
    return f"{i18n.date_text(local.date(), lang)} {local:%H:%M}"


def _link_url(request: Request, community_code: str, raw: str) -> str:
    base = _settings(request).base_url.rstrip("/") or str(request.base_url).rstrip("/")
    return base + login_links.link_path(community_code, raw)


# --- the office's page --------------------------------------------------------------------------


def _logins_view(request: Request, tenant: Tenant, *, link_url: str = "", notice: str = "", errors: list[str] | None = None, status_code: int = 200) -> Response:
    lang = page_lang(request)
    with session_factory(request)() as session:
        scenario = store.export_scenario(session, tenant.id)
        listed = login_links.open_links(session, tenant.id)
    response = render(
        request, "office_logins.html", status_code=status_code, caller=tenant.caller, month=this_month(),
        hours=f"{_settings(request).login_link_hours:g}",
        townships=[(t.id, t.name) for t in scenario.townships], experts=[(e.id, e.name) for e in scenario.experts],
        links=[
            {"id": link.row.id, "in_use": link.in_use, "text": page_word("logins_item_in_use" if link.in_use else "logins_item", lang, name=link.row.name,
                                                                       role=page_word("logins_role_" + link.row.role, lang), expires=_until(link.row.expires_at, lang))}
            for link in listed
        ],
        link_url=link_url,
        link_qr=segno.make(link_url, error="m").svg_inline(scale=4, title=page_word("logins_title", lang)) if link_url else "",
        notice=notice, errors=errors,
    )
    if link_url:
        response.headers["Cache-Control"] = "no-store"  # the page holds a secret shown once
    return response


@router.get("/office/logins")
@page
def logins_page(request: Request, revoked: int | None = None) -> Response:
    tenant = require_tenant(request, "office")
    return _logins_view(request, tenant, notice=page_word("logins_revoked", page_lang(request)) if revoked else "")


@router.post("/office/logins")
@page
def create_link(request: Request, person: Annotated[str, Form(max_length=200)] = "", deliver: Annotated[str, Form(max_length=10)] = "show") -> Response:
    tenant = require_tenant(request, "office")
    lang = page_lang(request)
    role, _, ref_id = person.partition(":")
    if role not in login_links.LINK_ROLES or not ref_id:
        return _logins_view(request, tenant, errors=[page_word("logins_bad_person", lang)], status_code=400)
    settings = _settings(request)
    try:
        with transaction(session_factory(request)) as session:
            target = login_links.person(session, tenant.id, role, ref_id)
            row, raw = login_links.create_login_link(session, tenant.id, role, ref_id, hours=settings.login_link_hours, created_by=tenant.caller.name or tenant.caller.role)
            url = _link_url(request, tenant.code, raw)
            expires = _until(row.expires_at, lang)
            sent: list[str] = []
            if deliver == "send":
                labels = CommunityLabels.from_scenario(store.export_scenario(session, tenant.id))
                sent = login_links.send_login_link(session, tenant.id, row, url, labels, SERVICE_ZONE)
                if not sent:
                    raise _NoContact(target.name)  # rolls the link back: nothing made, nothing queued
    except ScenarioError:
        return _logins_view(request, tenant, errors=[page_word("logins_bad_person", lang)], status_code=400)
    except _NoContact as missing:
        return _logins_view(request, tenant, errors=[page_word("logins_no_contact", lang, name=missing.name)], status_code=400)
    if sent:
        channels = ("、" if lang == "zh-CN" else ", ").join(page_word("channel_" + key.rsplit(":", 1)[1], lang) for key in sent)  # a key ends in its channel
        return _logins_view(request, tenant, notice=page_word("logins_sent", lang, name=target.name, channels=channels, expires=expires))
    return _logins_view(request, tenant, link_url=url, notice=page_word("logins_created", lang, name=target.name, expires=expires))


@router.post("/office/logins/{link_id}/revoke")
@page
def revoke_link(request: Request, link_id: int) -> Response:
    tenant = require_tenant(request, "office")
    with transaction(session_factory(request)) as session:
        login_links.revoke_login_link(session, tenant.id, link_id)
    return redirect(request, "/office/logins", revoked=1)


# --- using a link -------------------------------------------------------------------------------


def _spent(request: Request) -> Response:
    lang = page_lang(request)
    return render(request, "message.html", status_code=410, heading=page_word("link_login_title", lang), message=page_word("link_spent", lang))


def _link_context(request: Request, row: Any, code: str) -> dict[str, Any]:
    lang = page_lang(request)
    with session_factory(request)() as session:
        community_name = store.get_community(session, code).name
    return {"intro": page_word("link_login_intro_" + row.role, lang, name=row.name, community=community_name)}


@router.get("/login/link/{token}")
@page
def link_page(request: Request, community: str, token: str) -> Response:
    with session_factory(request)() as session:
        store.get_community(session, community)  # an unknown community is a 404
        row = login_links.live_link(session, community, token)
    if row is None:
        return _spent(request)
    response = render(request, "login_link.html", token=token, **_link_context(request, row, community))
    response.headers["Cache-Control"] = "no-store"
    # The token is in this page's address: no other site is told it. (Not "no-referrer": Chromium then posts the
    # button's form with `Origin: null`, which the CSRF check refuses as it must.)
    response.headers["Referrer-Policy"] = "same-origin"
    return response


@router.post("/login/link/{token}")
@page
def use_link(request: Request, community: str, token: str) -> Response:
    throttle, address = throttle_for(request)
    if throttle.blocked(address):
        return _spent(request)
    with transaction(session_factory(request)) as session:
        store.get_community(session, community)
        caller = login_links.redeem_login_link(session, community, token)
    if caller is None:
        throttle.failed(address)
        return _spent(request)
    return start_session(request, caller, seconds=int(_settings(request).link_session_hours * 3600))
