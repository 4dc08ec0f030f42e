"""The office's calendar-year page (`/c/{community}/office/calendar/{year}`): enter the State Council notice.

Pre-filled from the `holidays` package (its statutory days, and its make-up days where it carries the
year); the office corrects the two lists from the notice and saves. The form posts to the same
scheduler.calendar_year functions as `PUT /calendar/{year}`, so the days apply to every month of the
year and each published month is re-checked through the event path.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import TypeAdapter, ValidationError

from api.pages.web import page, page_lang, redirect, render, require_tenant, session_factory, this_month
from api.pages.words import page_word
from scheduler import calendar_year, standing
from scheduler.calendar import last_announced_year, office_entered
from scheduler.db import transaction
from scheduler.errors import NotFound, ScenarioError
from scheduler.scenario.fields import IsoDate
from scheduler.scenario.messages import CodedFieldError
from scheduler.scenario.schema import CalendarSpec

router = APIRouter(include_in_schema=False)
_DATE = TypeAdapter(IsoDate)
_FIELDS = {"days_off": "calendar_days_off", "make_up_workdays": "calendar_make_up"}


def _year(text: str) -> int:
    first, last = calendar_year.year_bounds()
    if not text.isdigit() or not first <= int(text) <= last:
        raise NotFound(f"no calendar year {text}")
    return int(text)


def _dates(text: str, field: str, lang: str) -> tuple[list[dt.date], list[str]]:
    """The dates of a textarea, one per line (anything after the date on a line is a note); problems in the page language."""
    days, problems = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        words = line.replace("，", " ").replace(",", " ").split()
        if not words:
            continue
        try:
            days.append(_DATE.validate_python(words[0]))
        except ValidationError:
            problems.append(page_word("calendar_bad_line", lang, field=page_word(_FIELDS[field], lang), line=number, text=words[0][:20]))
    return days, problems


def _spec(request: Request, community: int) -> CalendarSpec:
    with session_factory(request)() as session:
        return CalendarSpec.model_validate(standing.get_calendar(session, community))


def _view(request: Request, year: int, *, form: dict[str, str] | None = None, errors: list[str] | None = None, notice: str = "", status_code: int = 200) -> Response:
    tenant = require_tenant(request, "office")
    spec = _spec(request, tenant.id)
    arrangement = calendar_year.year_arrangement(spec, year)
    names = arrangement.holiday_names
    form = form or {
        "days_off": "\n".join(f"{day.isoformat()} {names.get(day, '')}".rstrip() for day in arrangement.days_off),
        "make_up_workdays": "\n".join(day.isoformat() for day in arrangement.make_up_workdays),
    }
    first, last = calendar_year.year_bounds()
    return render(
        request, "office_calendar.html", status_code=status_code, caller=tenant.caller, month=this_month(),
        year=year, announced=arrangement.announced, last_announced=last_announced_year(),
        entered=office_entered(spec, year),
        days=[
            {"date": day.isoformat(), "weekday": day.weekday(), "name": names.get(day, ""), "kind": kind}
            for day, kind in sorted([(d, "day-off") for d in arrangement.days_off] + [(d, "make-up") for d in arrangement.make_up_workdays])
        ],
        prev_year=year - 1 if year > first else None, next_year=year + 1 if year < last else None,
        form=form, errors=errors or [], notice=notice,
    )


@router.get("/office/calendar")
@page
def calendar_home(request: Request) -> Response:
    require_tenant(request, "office")
    return redirect(request, f"/office/calendar/{this_month()[:4]}")


@router.get("/office/calendar/{year}")
@page
def calendar_page(request: Request, year: str) -> Response:
    require_tenant(request, "office")
    notice = page_word("calendar_saved", page_lang(request)) if request.query_params.get("saved") else ""
    return _view(request, _year(year), notice=notice)


@router.post("/office/calendar/{year}")
@page
def save_calendar(
    request: Request,
    year: str,
    days_off: Annotated[str, Form(max_length=20_000)] = "",
    make_up_workdays: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    tenant = require_tenant(request, "office")
    lang, number = page_lang(request), _year(year)
    form = {"days_off": days_off, "make_up_workdays": make_up_workdays}
    off, off_problems = _dates(days_off, "days_off", lang)
    worked, worked_problems = _dates(make_up_workdays, "make_up_workdays", lang)
    if off_problems or worked_problems:
        return _view(request, number, form=form, errors=off_problems + worked_problems, status_code=422)
    try:
        with transaction(session_factory(request)) as session:
            spec = CalendarSpec.model_validate(standing.get_calendar(session, tenant.id))
            standing.set_calendar(session, tenant.id, calendar_year.with_year(spec, number, off, worked).model_dump(mode="json"))
    except ScenarioError as error:
        problems = [p.message_in(lang) if isinstance(p, CodedFieldError) else p.message for p in error.problems]
        return _view(request, number, form=form, errors=problems, status_code=422)
    return redirect(request, f"/office/calendar/{number}", saved="1")
