"""CSRF defence of the pages: every form posts a token bound to this browser's session, and posts from another origin are refused.

Two checks on every unsafe request (POST, PUT, PATCH, DELETE) to a page route, run as a dependency of the
page routers (`api.pages`), so a page added to them later is covered without doing anything:

1. **The origin.** A browser sends `Origin` with every cross-origin form post (and Chromium, Firefox and
   Safari send it on same-origin posts too); when it is absent, `Referer` stands in. Either one naming
   another host than the request's own `Host` (or the public host of `ROTA_BASE_URL`, for a proxy that
   rewrites `Host`), or the opaque origin `null` (a sandboxed frame, a `data:` page), is refused.
   Neither present: the token decides alone.
2. **The token** (the synchronizer-token pattern, stateless). A browser gets a random `rota_csrf` cookie
   (HttpOnly, SameSite=Lax) the first time a page is rendered for it; each form carries the hidden field
   `csrf_token` = HMAC-SHA256(that cookie, the session cookie). Another site can neither read the cookie
   nor compute the HMAC, and the value changes with every login (a new session id), so a token copied
   from a login form does not open a logged-in form. The login form is covered too (its token is bound
   to "no session"), which is what stops a forged login.

Why not a library: starlette-csrf checks a header only (a plain HTML form cannot send one) and asgi-csrf
reads the body inside a middleware, before the route; here FastAPI has already parsed the form for the
endpoint, the dependency reads the same parsed form, and the whole check is the standard library's `hmac`.
Refusals raise `CsrfRefused`; `api.pages.web.install_csrf_refusal` turns it into a 403 page in the page's
language.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import Response

CSRF_COOKIE = "rota_csrf"
CSRF_FIELD = "csrf_token"
SESSION_COOKIE = "rota_session"  # the login cookie (a page session id, api.pages.web); the token is bound to it
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
COOKIE_SECONDS = 365 * 24 * 3600  # the random secret may live long: the token it yields changes with each session
_STATE_KEY = "csrf_secret"


class CsrfRefused(Exception):
    """A page post refused: from another origin (`cross_origin`) or without the right token (`token`)."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def _secret(request: Request) -> str:
    """This browser's CSRF secret: its cookie, or a new one for this response to set (kept on the request so every form gets the same)."""
    known = getattr(request.state, _STATE_KEY, None)
    if known:
        return known
    secret = request.cookies.get(CSRF_COOKIE) or ""
    if len(secret) < 32:
        secret = secrets.token_urlsafe(32)
    setattr(request.state, _STATE_KEY, secret)
    return secret


def _token(secret: str, session_id: str) -> str:
    return hmac.new(secret.encode("utf-8"), b"rota-csrf\x00" + session_id.encode("utf-8"), hashlib.sha256).hexdigest()


def form_token(request: Request, session_id: str | None = None) -> str:
    """The token a form rendered for this request carries (bound to the session cookie sent, or to `session_id` when given)."""
    session = request.cookies.get(SESSION_COOKIE, "") if session_id is None else session_id
    return _token(_secret(request), session)


def cookie_secure(request: Request) -> bool:
    """Whether the pages' cookies are marked Secure: over https, or when the public ROTA_BASE_URL is https (TLS ends at a proxy)."""
    settings = getattr(request.app.state, "settings", None)
    return request.url.scheme == "https" or (getattr(settings, "base_url", "") or "").lower().startswith("https://")


def keep_secret(request: Request, response: Response) -> None:
    """Set the CSRF cookie on a rendered page when the browser has none yet (or a malformed one)."""
    secret = getattr(request.state, _STATE_KEY, None)
    if secret and secret != request.cookies.get(CSRF_COOKIE):
        response.set_cookie(CSRF_COOKIE, secret, max_age=COOKIE_SECONDS, httponly=True, samesite="lax", secure=cookie_secure(request), path="/")


def _host_of(value: str) -> str | None:
    parts = urlsplit(value)
    if not parts.scheme or not parts.netloc:
        return None
    host = parts.netloc.lower()
    default = {"http": ":80", "https": ":443"}.get(parts.scheme.lower())
    return host[: -len(default)] if default and host.endswith(default) else host


def _own_host(request: Request) -> str:
    host = (request.headers.get("host") or request.url.netloc).lower()
    for default in (":80", ":443"):
        if host.endswith(default):
            return host[: -len(default)]
    return host


def _own_hosts(request: Request) -> set[str]:
    """The request's own host, and the public one of ROTA_BASE_URL (behind a proxy that rewrites Host)."""
    hosts = {_own_host(request)}
    settings = getattr(request.app.state, "settings", None)
    public = _host_of(getattr(settings, "base_url", "") or "")
    if public:
        hosts.add(public)
    return hosts


def check_origin(request: Request) -> None:
    """Refuse a request whose Origin (or, without one, Referer) is another site's, or opaque."""
    origin = request.headers.get("origin")
    if origin is not None:
        if origin.strip().lower() == "null" or _host_of(origin) not in _own_hosts(request):
            raise CsrfRefused("cross_origin")
        return
    referer = request.headers.get("referer")
    if referer and _host_of(referer) not in _own_hosts(request):
        raise CsrfRefused("cross_origin")


async def csrf_protect(request: Request) -> None:
    """The dependency of every page route: for an unsafe method, the origin check and the form's token (CsrfRefused otherwise)."""
    if request.method in SAFE_METHODS:
        return
    check_origin(request)
    secret = request.cookies.get(CSRF_COOKIE, "")
    try:
        sent = (await request.form()).get(CSRF_FIELD)
    except Exception:  # not a form at all (JSON, garbage): no token in it
        sent = None
    if not secret or not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), _token(secret, request.cookies.get(SESSION_COOKIE, "")).encode()):
        raise CsrfRefused("token")


__all__ = ["CSRF_COOKIE", "CSRF_FIELD", "SESSION_COOKIE", "CsrfRefused", "check_origin", "cookie_secure", "csrf_protect", "form_token", "keep_secret"]
