"""Plumbing shared by the pages: templates, language, the login cookie, the caller, its community and the session factory.

The pages authenticate with the API's own tokens, but the cookie never holds one: logging in with a token
opens a page session (`scheduler.auth.open_page_session`: a random id, stored hashed, ending after a
working day) and the HttpOnly, SameSite=Lax cookie `rota_session` holds its id. Every page resolves it
again, so logging out (the row revoked) or a revoked API token ends it at once. Every form carries a CSRF
token (`api.pages.csrf`), which `render` puts into the page and a refusal turns into a 403 page here.
A community's pages live under `/c/{community}/`; the community and the caller's right to it are resolved
by the same function as the API's (`api.deps.resolve_tenant`), and their links and redirects stay under
that address (`local_path`).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session, sessionmaker

from api.deps import Forbidden, Tenant, resolve_tenant
from api.pages.csrf import SESSION_COOKIE, CsrfRefused, form_token, keep_secret
from api.pages.words import month_title, page_word
from config.settings import get_settings
from scheduler import i18n
from scheduler.auth import Caller, page_session_caller
from scheduler.calendar import parse_month
from scheduler.errors import NotFound
from scheduler.zone import SERVICE_ZONE

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
LEGACY_TOKEN_COOKIE = "rota_token"  # what the cookie was called when it held the raw token: cleared, never read
LANG_COOKIE = "rota_lang"

templates = Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=select_autoescape(["html", "svg"]), trim_blocks=True, lstrip_blocks=True)


class PageDenied(Exception):
    """The caller is not logged in (redirect to the login page) or may not see the page (403)."""

    def __init__(self, logged_in: bool) -> None:
        super().__init__("forbidden" if logged_in else "login required")
        self.logged_in = logged_in


def session_factory(request: Request) -> sessionmaker[Session]:
    """The service's session factory, as the app factory left it on the application state."""
    return request.app.state.session_factory


def page_lang(request: Request) -> str:
    """`?lang=` if given, else the language cookie, else the service's language (zh-CN by default)."""
    for candidate in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE), get_settings().language):
        if candidate:
            try:
                return i18n.parse_lang(candidate)
            except ValueError:
                continue
    return i18n.DEFAULT_LANG


_NOBODY = object()


def current_caller(request: Request) -> Caller | None:
    """The caller of the page session the cookie names, or None (no cookie; unknown, expired or ended session; revoked token).

    Resolved once per request (kept on request.state): a page asks several times.
    """
    known = getattr(request.state, "page_caller", None)
    if known is not None:
        return None if known is _NOBODY else known
    session_id = request.cookies.get(SESSION_COOKIE)
    caller = None
    if session_id:
        with session_factory(request)() as session:
            caller = page_session_caller(session, session_id)
    request.state.page_caller = caller if caller is not None else _NOBODY
    return caller


def require_caller(request: Request, *roles: str) -> Caller:
    """The logged-in caller (of any community, or the bureau) if their role is one of `roles`; PageDenied otherwise."""
    caller = current_caller(request)
    if caller is None:
        raise PageDenied(logged_in=False)
    if roles and caller.role not in roles:
        raise PageDenied(logged_in=True)
    return caller


def require_tenant(request: Request, *roles: str, readers: bool = False) -> Tenant:
    """The page's community and a logged-in caller of it whose role is one of `roles` (the bureau too, reading, with `readers`).

    Not logged in: PageDenied (to the login page); unknown community: NotFound; a login of another
    community or a role not listed: PageDenied (403).
    """
    caller = require_caller(request)
    try:
        tenant = resolve_tenant(session_factory(request), request.path_params["community"], caller, readers=readers, method=request.method)
    except Forbidden:
        raise PageDenied(logged_in=True) from None
    if roles and caller.role not in roles and not (readers and caller.is_bureau):
        raise PageDenied(logged_in=True)
    return tenant


def community_base(request: Request) -> str:
    """`/c/{community}` for a community's page, "" for the global pages."""
    code = request.path_params.get("community")
    return f"/c/{code}" if code else ""


def local_path(request: Request, path: str) -> str:
    """A path of the page's own community (or a global path on a global page)."""
    return community_base(request) + path


def this_month(today: dt.date | None = None) -> str:
    """The current month in the counties' time zone (Beijing time)."""
    today = today or dt.datetime.now(SERVICE_ZONE).date()
    return f"{today.year:04d}-{today.month:02d}"


def shift_month(month: str, by: int) -> str:
    """The month `by` months after (or before) `month`."""
    year, number = parse_month(month)
    index = year * 12 + (number - 1) + by
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


class PageNotFound(Exception):
    """A page for something that does not exist (a month, a version)."""


def checked_month(month: str) -> str:
    """A `YYYY-MM` path segment, or PageNotFound when it is not one."""
    try:
        parse_month(month)
    except ValueError:
        raise PageNotFound() from None
    return month


def render_page(template: str, lang: str = i18n.DEFAULT_LANG, *, link: Callable[..., str] | None = None, lang_switch_url: str = "", **context: Any) -> str:
    """A page template as HTML text, given its context: usable without a request (tests render straight from a roster)."""

    def plain_link(path: str, **params: Any) -> str:
        query = {key: value for key, value in params.items() if value not in (None, "")}
        return path + ("?" + urlencode(query) if query else "")

    context.setdefault("csrf_token", "")  # a page rendered without a request has no browser to bind a token to
    return templates.get_template(template).render(
        t=lambda key, **fields: page_word(key, lang, **fields),
        lang=lang,
        html_lang="zh-CN" if lang == "zh-CN" else "en",
        link=link or plain_link,
        lang_switch_url=lang_switch_url or "?lang=" + ("en" if lang == "zh-CN" else "zh-CN"),
        month_title=lambda month: month_title(month, lang),
        **context,
    )


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a page template for a request: its language, links that keep `?lang=`, a language switch."""
    lang = page_lang(request)

    def link(path: str, **params: Any) -> str:
        # Links keep an explicit ?lang= so a shared link opens in the same language.
        query = {key: value for key, value in params.items() if value not in (None, "")}
        if request.query_params.get("lang"):
            query.setdefault("lang", lang)
        return local_path(request, path) + ("?" + urlencode(query) if query else "")

    switch_query = dict(request.query_params)
    switch_query["lang"] = "en" if lang == "zh-CN" else "zh-CN"
    context.setdefault("caller", None)
    context.setdefault("base", community_base(request))
    context.setdefault("csrf_token", form_token(request))
    body = render_page(template, lang, link=link, lang_switch_url=request.url.path + "?" + urlencode(switch_query), **context)
    response = HTMLResponse(body, status_code=status_code)
    keep_secret(request, response)
    if request.query_params.get("lang"):
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, httponly=True, samesite="lax")
    return response


def redirect(request: Request, path: str, **params: Any) -> RedirectResponse:
    """A 303 See Other to a path of the page's community (after a form post), keeping the page language in the URL when it was there."""
    return redirect_global(request, local_path(request, path), **params)


def redirect_global(request: Request, path: str, **params: Any) -> RedirectResponse:
    """A 303 See Other to a path as given (the login page, another community's home), keeping the page language."""
    query = {key: value for key, value in params.items() if value not in (None, "")}
    if request.query_params.get("lang"):
        query.setdefault("lang", page_lang(request))
    return RedirectResponse(path + ("?" + urlencode(query) if query else ""), status_code=303)


def page(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a page endpoint: not logged in -> the login page, wrong role -> 403, missing thing -> 404, as pages."""

    @functools.wraps(endpoint)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        request: Request = kwargs["request"]
        try:
            return endpoint(*args, **kwargs)
        except PageDenied as denied:
            if not denied.logged_in:
                return redirect(request, "/login")  # the community's own login page, or the global one
            return render(request, "message.html", status_code=403, heading=page_word("forbidden", page_lang(request)), caller=current_caller(request))
        except (PageNotFound, NotFound) as missing:
            # The store words its NotFound for operators (English); the page says it in the page language first.
            detail = str(missing) if isinstance(missing, NotFound) else ""
            return render(request, "message.html", status_code=404, heading=page_word("not_found", page_lang(request)), detail=detail, caller=current_caller(request))

    return wrapper


def install_csrf_refusal(app: FastAPI) -> None:
    """Answer a refused page post (`api.pages.csrf.CsrfRefused`) with a 403 page in the page's language, saying why and what to do."""

    @app.exception_handler(CsrfRefused)
    async def csrf_refused(request: Request, error: CsrfRefused) -> HTMLResponse:
        lang = page_lang(request)
        key = "csrf_cross_origin" if error.why == "cross_origin" else "csrf_token_bad"
        return render(request, "message.html", status_code=403, heading=page_word("csrf_refused", lang), message=page_word(key, lang), caller=None)
