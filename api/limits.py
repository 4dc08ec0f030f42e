"""Request bodies: a credential and a size limit, both checked before the app reads a byte of the body.

`BodyGuard` is a pure ASGI middleware in front of the routes. For a request that announces a body
(a Content-Length above 0, or chunked):

1. **A credential first.** If the route it matches requires a caller and the request carries no
   credential at all (no `Authorization` header, no login cookie), it is answered 401 before its body is
   read. The route table is the one place that says what is public: a route requires a caller when its
   dependencies include `api.deps.current_caller` (`CurrentCaller`, `Office`, ...). This only turns away
   requests with NO credential; the dependency still checks the credential itself, after the body.
   Pages authenticate inside their endpoints (`api.pages.web.require_caller`), not by a dependency, so to
   this guard they count as public and only the size limit protects them.
2. **A size limit**: `ROTA_MAX_BODY_BYTES`, or a route's own (the scenario upload's,
   `ROTA_MAX_SCENARIO_BODY_BYTES`, named by the route's name so that it follows the route wherever it is
   mounted). An announced length over it is answered 413 at once; a chunked body is counted as it is read
   by Starlette's `RequestBodyLimitMiddleware` and answered 413, and no longer read, once it passes it.

Answers are the service's JSON errors (`{"detail": ...}`), 401 with `WWW-Authenticate: Bearer`. (FastAPI's
own app-wide `max_body_size` is not used: it turns every answer to an over-long request, this guard's
JSON ones included, into a plain-text 413.)
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from api.deps import current_caller
from api.pages.web import SESSION_COOKIE
from config.settings import Settings

AUTHENTICATING_DEPENDENCIES = (current_caller,)
# Route names (the endpoint's function name unless the route says otherwise) with a larger body limit.
SCENARIO_UPLOAD_ROUTES = ("import_scenario", "import_workbook", "import_workbook_form")


def requires_caller(dependant: Dependant) -> bool:
    """Whether a route's dependencies (at any depth) authenticate the caller."""
    pending = [dependant]
    while pending:
        dependant = pending.pop()
        if dependant.call in AUTHENTICATING_DEPENDENCIES:
            return True
        pending.extend(dependant.dependencies)
    return False


def _announced_length(headers: Mapping[str, str]) -> int | None:
    value = headers.get("content-length")
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _has_credential(headers: Mapping[str, str], credential_cookies: Iterable[str]) -> bool:
    if headers.get("authorization", "").strip():
        return True
    cookie_header = headers.get("cookie", "")
    names = {part.split("=", 1)[0].strip() for part in cookie_header.split(";") if "=" in part}
    return any(name in names for name in credential_cookies)


async def _answer(send: Send, status: int, detail: str, extra_headers: list[tuple[bytes, bytes]] = ()) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), (b"connection", b"close"),
               *extra_headers]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyGuard:
    """ASGI middleware: 401 without a credential, 413 over the route's size limit, before the body is read (see the module)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        routes_of: FastAPI,
        max_body_bytes: int,
        route_limits: Mapping[str, int] | None = None,
        credential_cookies: Iterable[str] = (SESSION_COOKIE,),
    ) -> None:
        self.app = app
        self.routes_of = routes_of
        self.max_body_bytes = max_body_bytes
        self.route_limits = dict(route_limits or {})
        self.credential_cookies = tuple(credential_cookies)
        self._routes: list[tuple[Any, bool]] | None = None

    def _route_table(self) -> list[tuple[Any, bool]]:
        """Every route with whether it requires a caller, read once from the app (its table is fixed once it serves).

        Built at the lifespan's start (see `__call__`); lazily on the first request only where no lifespan runs.
        """
        if self._routes is None:
            self._routes = [
                (context, requires_caller(context.dependant))
                for context in iter_route_contexts(self.routes_of.router.routes)
                if getattr(context, "dependant", None) is not None
            ]
        return self._routes

    def _route(self, scope: Scope) -> tuple[Any, bool] | None:
        for context, needs_caller in self._route_table():
            if context.matches(scope)[0] == Match.FULL:
                return context, needs_caller
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            # Build the route table at start-up, before the first request: building it walks every route's
            # dependencies (~1 s of CPU on a busy machine), which on the event loop would stall every request.
            self._route_table()
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        length = _announced_length(headers)
        if not length and "chunked" not in headers.get("transfer-encoding", "").lower():
            await self.app(scope, receive, send)
            return
        matched = self._route(scope)
        if matched is not None and matched[1] and not _has_credential(headers, self.credential_cookies):
            await _answer(send, 401, "missing bearer token: send Authorization: Bearer <token>", [(b"www-authenticate", b"Bearer")])
            return
        limit = self.route_limits.get(matched[0].name, self.max_body_bytes) if matched is not None else self.max_body_bytes
        if length is not None and length > limit:
            await _answer(send, 413, f"request body too large: {length} bytes, at most {limit} here")
            return
        await RequestBodyLimitMiddleware(self.app, limit)(scope, receive, send)


def install_body_guard(app: FastAPI, settings: Settings) -> None:
    """Put `BodyGuard` in front of the app's routes, with the settings' limits (the scenario upload has its own)."""
    app.add_middleware(
        BodyGuard, routes_of=app, max_body_bytes=settings.max_body_bytes,
        route_limits={name: settings.max_scenario_body_bytes for name in SCENARIO_UPLOAD_ROUTES},
    )
