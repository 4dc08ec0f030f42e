"""The office's contact book (`/office/contacts`) and outbox (`/office/notices`) pages.

The same scheduler.contact_book and scheduler.notify functions as the API: every expert and township
centre with where its notices go, a form per recipient, and the notices with their status, the error of
a failed one and a button to send it again.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from api.pages.web import page, page_lang, redirect, render, require_tenant, session_factory, this_month
from api.pages.words import page_word
from scheduler import contact_book, notify
from scheduler.db import transaction
from scheduler.errors import Conflict, NotFound, ScenarioError
from scheduler.notify.models import NOTICE_STATUSES, RECIPIENT_KINDS

router = APIRouter(include_in_schema=False)
CONTACT_FIELDS = ("email", "webhook_url", "language")


@router.get("/office/contacts")
@page
def contacts_page(request: Request) -> Response:
    tenant = require_tenant(request, "office")
    with session_factory(request)() as session:
        found = contact_book.recipients(session, tenant.id)
    lang = page_lang(request)
    notice = page_word("contact_saved", lang) if request.query_params.get("saved") else ""
    return render(request, "office_contacts.html", caller=tenant.caller, month=this_month(), recipients=found, notice=notice,
                  missing=sum(1 for r in found if r.contact is None))


def _contact_view(request: Request, kind: str, ref_id: str, *, form: dict[str, str] | None = None, errors: list[str] | None = None,
                  status_code: int = 200) -> Response:
    tenant = require_tenant(request, "office")
    if kind not in RECIPIENT_KINDS:
        raise NotFound(f"no recipient kind '{kind}'")
    with session_factory(request)() as session:
        found = contact_book.recipient(session, tenant.id, kind, ref_id)
    contact = found.contact
    form = form or {"email": (contact.email if contact else "") or "", "webhook_url": (contact.webhook_url if contact else "") or "",
                    "language": contact.language if contact else "zh-CN"}
    return render(request, "office_contact.html", status_code=status_code, caller=tenant.caller, month=this_month(), recipient=found,
                  form=form, errors=errors or [])


@router.get("/office/contacts/{kind}/{ref_id}")
@page
def contact_page(request: Request, kind: str, ref_id: str) -> Response:
    return _contact_view(request, kind, ref_id)


@router.post("/office/contacts/{kind}/{ref_id}")
@page
def save_contact(
    request: Request,
    kind: str,
    ref_id: str,
    email: Annotated[str, Form(max_length=320)] = "",
    webhook_url: Annotated[str, Form(max_length=1000)] = "",
    language: Annotated[str, Form(max_length=10)] = "zh-CN",
) -> Response:
    tenant = require_tenant(request, "office")
    form = {"email": email, "webhook_url": webhook_url, "language": language}
    if kind not in RECIPIENT_KINDS:
        raise NotFound(f"no recipient kind '{kind}'")
    try:
        with transaction(session_factory(request)) as session:
            contact_book.save_contact(session, tenant.id, kind, ref_id, email=email, webhook_url=webhook_url, language=language)
    except ScenarioError as error:
        lang = page_lang(request)
        fields = [p.path if p.path in CONTACT_FIELDS else "email" for p in error.problems]
        return _contact_view(request, kind, ref_id, form=form, errors=[page_word("contact_bad_" + f, lang) for f in fields], status_code=422)
    return redirect(request, "/office/contacts", saved="1")


@router.post("/office/contacts/{kind}/{ref_id}/delete")
@page
def delete_contact(request: Request, kind: str, ref_id: str) -> Response:
    tenant = require_tenant(request, "office")
    with transaction(session_factory(request)) as session:
        contact_book.remove_contact(session, tenant.id, kind, ref_id)
    return redirect(request, "/office/contacts", saved="1")


@router.get("/office/notices")
@page
def notices_page(request: Request) -> Response:
    tenant = require_tenant(request, "office")
    status = request.query_params.get("status") or None
    if status is not None and status not in NOTICE_STATUSES:
        status = None
    with session_factory(request)() as session:
        found = notify.list_notices(session, status, limit=200, community_id=tenant.id)
    lang = page_lang(request)
    notice = page_word("notice_requeued", lang) if request.query_params.get("retried") else ""
    return render(request, "office_notices.html", caller=tenant.caller, month=this_month(), notices=found, status=status or "",
                  statuses=NOTICE_STATUSES, notice=notice)


@router.post("/office/notices/{notice_id}/retry")
@page
def retry_notice(request: Request, notice_id: int) -> Response:
    tenant = require_tenant(request, "office")
    try:
        with transaction(session_factory(request)) as session:
            notify.retry_notice(session, notice_id, community_id=tenant.id)
    except Conflict:
        return redirect(request, "/office/notices")  # it was sent meanwhile: the list says so
    return redirect(request, "/office/notices", retried="1")
