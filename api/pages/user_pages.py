"""The office's users page (`/office/users`): list the community's office users, add one, disable one, enable one again, set a new password.

The forms call the same scheduler.office_users functions as `rota user create/disable/enable` and the API
(`/office-users`), so a name or password is checked by the same rules; the page says what is wrong in its
own language. Disabling a user ends their page sessions at once; a new password ends their sessions except
the asking browser's. Enabling a disabled user lets them log in again with their password (enabling an active
one changes nothing). Every change is an audit entry with the actor (the office page's caller).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

import api.pages.user_words  # noqa: F401 - adds the users page's words to the word table
from api.deps import Tenant
from api.pages.csrf import SESSION_COOKIE
from api.pages.web import SERVICE_ZONE, page, page_lang, redirect, render, require_tenant, session_factory, this_month
from api.pages.words import page_word
from scheduler import office_users
from scheduler.db import transaction
from scheduler.errors import ScenarioError

router = APIRouter(include_in_schema=False)
DONE_WORDS = {"added": "users_added", "disabled": "users_disabled_done", "enabled": "users_enabled_done", "password": "users_password_done"}
FORM_MAX = 2000  # longer than any name or password the rules take: the rules answer, with their message


def _moment(iso: str | None) -> str:
    return dt.datetime.fromisoformat(iso).astimezone(SERVICE_ZONE).strftime("%Y-%m-%d %H:%M") if iso else ""


def problem_lines(error: ScenarioError, lang: str) -> list[str]:
    """A refused name or password, in the page language (the rule's own words, the field named in English)."""
    lines = []
    for problem in error.problems:
        message = problem.message_in(lang) if isinstance(problem, office_users.UserProblem) else problem.message
        field = page_word("users_field_password" if problem.path == "password" else "users_field_name", lang)
        lines.append(page_word("users_problem", lang, field=field, message=message))
    return lines


def _users_view(request: Request, tenant: Tenant, *, notice: str = "", errors: list[str] | None = None, name_value: str = "",
                status_code: int = 200) -> Response:
    lang = page_lang(request)
    with session_factory(request)() as session:
        listed = office_users.list_users(session, tenant.id)
    rows: list[dict[str, Any]] = [
        {
            "id": user.id,
            "name": user.name,
            "disabled": user.disabled,
            "is_you": tenant.caller.user_id == user.id,
            "state": page_word("users_state_disabled" if user.disabled else "users_state_active", lang),
            "created": page_word("users_created", lang, when=_moment(user.created_at)),
            "disabled_at": page_word("users_disabled_at", lang, when=_moment(user.disabled_at)) if user.disabled_at else "",
            "last_login": page_word("users_last_login", lang, when=_moment(user.last_login_at)) if user.last_login_at else page_word("users_never", lang),
        }
        for user in listed
    ]
    return render(request, "office_users.html", status_code=status_code, caller=tenant.caller, month=this_month(), users=rows, notice=notice,
                  errors=errors or [], name_value=name_value, name_max=office_users.NAME_MAX, password_min=office_users.PASSWORD_MIN)


@router.get("/office/users")
@page
def users_page(request: Request, done: str = "", user: int | None = None) -> Response:
    tenant = require_tenant(request, "office")
    notice = ""
    if done in DONE_WORDS and user is not None:
        with session_factory(request)() as session:
            name = office_users.get_user(session, tenant.id, user).name
        notice = page_word(DONE_WORDS[done], page_lang(request), name=name)
    return _users_view(request, tenant, notice=notice)


@router.post("/office/users")
@page
def add_user(request: Request, name: Annotated[str, Form(max_length=FORM_MAX)] = "", password: Annotated[str, Form(max_length=FORM_MAX)] = "") -> Response:
    tenant = require_tenant(request, "office")
    lang = page_lang(request)
    try:
        with transaction(session_factory(request)) as session:
            user_id = office_users.create_user(session, tenant.id, name, password)
    except ScenarioError as error:
        return _users_view(request, tenant, errors=problem_lines(error, lang), name_value=name, status_code=422)
    except office_users.NameTaken as taken:
        return _users_view(request, tenant, errors=[page_word("users_name_taken", lang, name=taken.name)], name_value=name, status_code=409)
    return redirect(request, "/office/users", done="added", user=user_id)


@router.post("/office/users/{user_id}/disable")
@page
def disable_user(request: Request, user_id: int) -> Response:
    tenant = require_tenant(request, "office")
    try:
        with transaction(session_factory(request)) as session:
            target = office_users.get_user(session, tenant.id, user_id)
            office_users.disable_user(session, tenant.id, target.name, acting_user_id=tenant.caller.user_id)
    except office_users.DisablingOneself:
        return _users_view(request, tenant, errors=[page_word("users_self_disable", page_lang(request))], status_code=409)
    return redirect(request, "/office/users", done="disabled", user=user_id)


@router.post("/office/users/{user_id}/enable")
@page
def enable_user(request: Request, user_id: int) -> Response:
    tenant = require_tenant(request, "office")
    with transaction(session_factory(request)) as session:
        target = office_users.get_user(session, tenant.id, user_id)
        office_users.enable_user(session, tenant.id, target.name)
    return redirect(request, "/office/users", done="enabled", user=user_id)


@router.post("/office/users/{user_id}/password")
@page
def set_password(request: Request, user_id: int, password: Annotated[str, Form(max_length=FORM_MAX)] = "") -> Response:
    tenant = require_tenant(request, "office")
    try:
        with transaction(session_factory(request)) as session:
            target = office_users.get_user(session, tenant.id, user_id)
            # The asking browser stays logged in when it is the user's own: only their other sessions end.
            office_users.set_password(session, tenant.id, target.name, password, keep_session=request.cookies.get(SESSION_COOKIE))
    except ScenarioError as error:
        return _users_view(request, tenant, errors=problem_lines(error, page_lang(request)), status_code=422)
    return redirect(request, "/office/users", done="password", user=user_id)
