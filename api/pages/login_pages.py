"""Logging in and out with an API token, the home redirect by role, and the stylesheet."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, Response

from api.pages.web import LANG_COOKIE, STATIC_DIR, TOKEN_COOKIE, current_caller, page, redirect, render, session_factory
from scheduler.auth import authenticate

router = APIRouter(include_in_schema=False)
ROLE_HOMES = {"office": "/office", "township": "/township", "expert": "/expert"}
STATIC_FILES = {"rota.css": "text/css; charset=utf-8"}
COOKIE_SECONDS = 30 * 24 * 3600


@router.get("/")
@page
def home(request: Request) -> Response:
    caller = current_caller(request)
    if caller is None:
        return redirect(request, "/login")
    return redirect(request, ROLE_HOMES.get(caller.role, "/login"))


@router.get("/login")
@page
def login_form(request: Request) -> Response:
    return render(request, "login.html", caller=None, failed=False)


@router.post("/login")
@page
def login(request: Request, token: Annotated[str, Form()] = "") -> Response:
    with session_factory(request)() as session:
        caller = authenticate(session, token.strip()) if token.strip() else None
    if caller is None:
        return render(request, "login.html", status_code=401, caller=None, failed=True)
    response = redirect(request, ROLE_HOMES.get(caller.role, "/"))
    # HttpOnly: page scripts never see the token; Lax: other sites cannot post forms with it.
    response.set_cookie(TOKEN_COOKIE, token.strip(), max_age=COOKIE_SECONDS, httponly=True, samesite="lax", secure=request.url.scheme == "https")
    return response


@router.post("/logout")
@page
def logout(request: Request) -> Response:
    response = redirect(request, "/login")
    response.delete_cookie(TOKEN_COOKIE)
    return response


@router.get("/static/{name}")
def static_file(name: str) -> Response:
    if name not in STATIC_FILES:
        return Response(status_code=404)
    return FileResponse(STATIC_DIR / name, media_type=STATIC_FILES[name], headers={"Cache-Control": "public, max-age=3600"})


__all__ = ["router", "LANG_COOKIE"]
