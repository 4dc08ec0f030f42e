"""The office's closure page (`/c/{community}/office/closures`): close a township for some days, see the closed days, reopen them.

The form posts to the same scheduler.closures functions as the API and `rota close`, so each change is an
event and the worker re-plans; problems are said in the page's language, naming the field.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import TypeAdapter, ValidationError

from api.pages.web import SERVICE_ZONE, page, page_lang, redirect, render, require_tenant, session_factory, this_month
from api.pages.words import page_word
from scheduler import closures, store
from scheduler.db import transaction
from scheduler.errors import NotFound, ScenarioError
from scheduler.scenario.fields import IsoDate

router = APIRouter(include_in_schema=False)
_DATE = TypeAdapter(IsoDate)
FIELDS = ("township", "from", "to", "reason")


class _BadField(Exception):
    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


def _day(text: str, field: str, required: bool) -> dt.date | None:
    if not text.strip():
        if required:
            raise _BadField(field)
        return None
    try:
        return _DATE.validate_python(text.strip())
    except ValidationError:
        raise _BadField(field) from None


def _view(request: Request, *, form: dict[str, str] | None = None, errors: list[str] | None = None, notice: str = "", status_code: int = 200) -> Response:
    tenant = require_tenant(request, "office")
    with session_factory(request)() as session:
        scenario = store.export_scenario(session, tenant.id)
        closed = closures.list_closures(session, tenant.id)
    names = {t.id: t.name for t in scenario.townships}
    today = dt.datetime.now(SERVICE_ZONE).date()
    rows = [
        {"id": c.id, "township": c.township, "township_name": names.get(c.township, c.township), "date": c.date.isoformat(), "reason": c.reason}
        for c in closed
        if c.date >= today.replace(day=1)  # this month and later: the past stays as it was
    ]
    return render(
        request, "office_closures.html", status_code=status_code, caller=tenant.caller, month=this_month(),
        township_options=[(t.id, t.name) for t in scenario.townships], closures=rows, form=form or {}, errors=errors or [], notice=notice,
    )


def _problems(error: Exception, lang: str) -> list[str]:
    if isinstance(error, _BadField):
        return [page_word("closure_bad_" + error.field, lang)]
    if isinstance(error, ScenarioError):
        return [page_word("closure_bad_" + (p.path if p.path in FIELDS else "township"), lang) for p in error.problems]
    return [page_word("closure_not_closed", lang)]


@router.get("/office/closures")
@page
def closures_page(request: Request) -> Response:
    require_tenant(request, "office")
    filed = request.query_params.get("filed", "")
    lang = page_lang(request)
    notice = page_word("closure_filed_" + filed, lang) if filed in ("closed", "reopened") else ""
    return _view(request, notice=notice)


@router.post("/office/closures")
@page
def close_township(
    request: Request,
    township: Annotated[str, Form(max_length=100)] = "",
    first_day: Annotated[str, Form(alias="from", max_length=20)] = "",
    last_day: Annotated[str, Form(alias="to", max_length=20)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    tenant = require_tenant(request, "office")
    form = {"township": township, "from": first_day, "to": last_day, "reason": reason}
    try:
        first, last = _day(first_day, "from", True), _day(last_day, "to", False)
        with transaction(session_factory(request)) as session:
            closures.close_township(session, tenant.id, township, first, last, reason.strip())  # type: ignore[arg-type]
    except (_BadField, ScenarioError) as error:
        return _view(request, form=form, errors=_problems(error, page_lang(request)), status_code=422)
    return redirect(request, "/office/closures", filed="closed")


@router.post("/office/closures/reopen")
@page
def reopen_township(
    request: Request,
    township: Annotated[str, Form(max_length=100)] = "",
    first_day: Annotated[str, Form(alias="from", max_length=20)] = "",
    last_day: Annotated[str, Form(alias="to", max_length=20)] = "",
) -> Response:
    tenant = require_tenant(request, "office")
    try:
        first, last = _day(first_day, "from", True), _day(last_day, "to", False)
        with transaction(session_factory(request)) as session:
            closures.reopen_township(session, tenant.id, township, first, last)  # type: ignore[arg-type]
    except (_BadField, ScenarioError, NotFound) as error:
        return _view(request, errors=_problems(error, page_lang(request)), status_code=422 if not isinstance(error, NotFound) else 404)
    return redirect(request, "/office/closures", filed="reopened")


@router.post("/office/closures/{closure_id}/reopen")
@page
def reopen_day(request: Request, closure_id: int) -> Response:
    tenant = require_tenant(request, "office")
    try:
        with transaction(session_factory(request)) as session:
            closures.reopen_day(session, tenant.id, closure_id)
    except NotFound as error:
        return _view(request, errors=_problems(error, page_lang(request)), status_code=404)
    return redirect(request, "/office/closures", filed="reopened")
