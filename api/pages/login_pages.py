"""Logging in and out, the home redirect by role (into the caller's community), and the stylesheet.

The login form takes an office user's name and password (`scheduler.office_users`, argon2), or, as the
office's fallback and the bureau's way in, an API token. Township heads and experts log in by a one-time
link instead (`api.pages.login_link_pages`). Either way a page session is opened
(`scheduler.auth.open_page_session`) and the cookie holds its id, never a password or a token; logging out
revokes the session row, so the old cookie opens nothing afterwards, wherever a copy of it is. Failed
logins are throttled per client address and, for a name, per community and name (`login_throttle`).

A token says which community it belongs to, so the global `/login` serves every one (a user names the
community's code there); each community also has its own `/c/{community}/login` (where its pages send a
visitor who is not logged in), which takes only its own users and tokens and the bureau's.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, Response

import api.pages.login_words  # noqa: F401 - adds the login pages' words to the word table
from api.pages.csrf import cookie_secure
from api.pages.login_throttle import throttle_for
from api.pages.web import (
    LANG_COOKIE,
    LEGACY_TOKEN_COOKIE,
    SESSION_COOKIE,
    STATIC_DIR,
    current_caller,
    page,
    redirect,
    redirect_global,
    render,
    require_tenant,
    session_factory,
)
from scheduler import store
from scheduler.auth import PAGE_SESSION_SECONDS, Caller, authenticate, end_page_session, open_page_session
from scheduler.db import transaction
from scheduler.office_users import log_in_user

router = APIRouter(include_in_schema=False)  # global
login_router = APIRouter(include_in_schema=False)  # global and under each community
community_router = APIRouter(include_in_schema=False)
ROLE_HOMES = {"office": "/office", "township": "/township", "expert": "/expert"}
BUREAU_HOME = "/province"
STATIC_FILES = {"rota.css": "text/css; charset=utf-8"}


def home_path(caller: Caller) -> str:
    """Where a caller's pages start: their community's page for their role, or the bureau's province page."""
    if caller.is_bureau:
        return BUREAU_HOME
    return f"/c/{caller.community}{ROLE_HOMES.get(caller.role, '/office')}"


@router.get("/")
@page
def home(request: Request) -> Response:
    caller = current_caller(request)
    if caller is None:
        return redirect_global(request, "/login")
    return redirect_global(request, home_path(caller))


@community_router.get("/")
@page
def community_home(request: Request) -> Response:
    tenant = require_tenant(request, readers=True)
    return redirect_global(request, home_path(tenant.caller))


def _addressed_community(request: Request) -> str | None:
    """The community code of a `/c/{community}/login` address (NotFound when there is no such community), None on `/login`."""
    code = request.path_params.get("community")
    if code is not None:
        with session_factory(request)() as session:
            store.get_community(session, code)
    return code


def start_session(request: Request, caller: Caller, *, seconds: int = PAGE_SESSION_SECONDS) -> Response:
    """Open a page session for a caller who just proved who they are, and answer with the cookie and a redirect to their home."""
    with transaction(session_factory(request)) as session:
        # Always a new id (never one the browser brought along): a planted session id logs nobody in.
        session_id = open_page_session(session, caller.token_id, user_id=caller.user_id, login_link_id=caller.login_link_id, seconds=seconds)
    response = redirect_global(request, home_path(caller))
    # HttpOnly: page scripts never see it; Lax: other sites' posts do not carry it; Secure over https (or behind an https proxy).
    response.set_cookie(SESSION_COOKIE, session_id, max_age=seconds, httponly=True, samesite="lax", secure=cookie_secure(request), path="/")
    response.delete_cookie(LEGACY_TOKEN_COOKIE, path="/")
    return response


def _login_page(request: Request, status_code: int = 200, **context) -> Response:
    context.setdefault("failed", "")
    context.setdefault("throttled", False)
    context.setdefault("name_value", "")
    context.setdefault("community_value", "")
    return render(request, "login.html", status_code=status_code, caller=None, **context)


@login_router.get("/login")
@page
def login_form(request: Request) -> Response:
    _addressed_community(request)
    return _login_page(request)


def _user_caller(request: Request, community: str | None, name: str, password: str) -> Caller | None:
    if not community:
        return None
    with transaction(session_factory(request)) as session:  # a transaction: an outdated hash is upgraded at a good login
        return log_in_user(session, community, name, password)


def _token_caller(request: Request, community: str | None, token: str) -> Caller | None:
    with session_factory(request)() as session:
        caller = authenticate(session, token.strip()) if token.strip() else None
    if caller is not None and community is not None and not caller.is_bureau and caller.community != community:
        return None  # a community's login page takes its own tokens only
    return caller


@login_router.post("/login")
@page
def login(
    request: Request,
    token: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",  # no length limits here: a wrong one is a failed login, answered as a page
    password: Annotated[str, Form()] = "",
    community_field: Annotated[str, Form(alias="community")] = "",  # on the global /login only
) -> Response:
    addressed = _addressed_community(request)
    by_name = bool(name.strip())
    community_code = addressed or community_field.strip()
    throttle, address = throttle_for(request)
    keys = [address] + ([f"user:{community_code}:{name.strip()}"] if by_name else [])
    kept = {"failed": "user" if by_name else "token", "name_value": name.strip(), "community_value": community_field.strip()}
    if any(throttle.blocked(key) for key in keys):
        return _login_page(request, status_code=429, throttled=True, **kept)
    caller = _user_caller(request, community_code, name, password) if by_name else _token_caller(request, addressed, token)
    if caller is None:
        for key in keys:
            throttle.failed(key)
        return _login_page(request, status_code=401, **kept)
    return start_session(request, caller)


@login_router.post("/logout")
@page
def logout(request: Request) -> Response:
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id:
        with transaction(session_factory(request)) as session:
            end_page_session(session, session_id)  # server-side: a copy of the cookie stops working too
    response = redirect(request, "/login")
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=cookie_secure(request))
    response.delete_cookie(LEGACY_TOKEN_COOKIE, path="/")
    return response


@router.get("/static/{name}")
def static_file(name: str) -> Response:
    if name not in STATIC_FILES:
        return Response(status_code=404)
    return FileResponse(STATIC_DIR / name, media_type=STATIC_FILES[name], headers={"Cache-Control": "public, max-age=3600"})


__all__ = ["router", "login_router", "community_router", "LANG_COOKIE"]
