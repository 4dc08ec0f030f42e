"""The service: `create_app` builds the FastAPI app, and this is the one place errors become HTTP answers.

Every community's routes and pages live under `/c/{community}/...` (COMMUNITY_PREFIX); `/healthz`,
`/metrics`, `/docs`, `/openapi.json`, the login pages and the health bureau's `/province/...` are global.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

from api.deps import Forbidden, Unauthorized, request_lang
from api.feed_fastpath import FeedFastPath
from api.jobs import JobRunner
from api.limits import install_body_guard
from api.openapi import install_openapi
from api.pages.headers import install_security_headers
from config.logging import configure_logging
from config.settings import SAMPLE_SCENARIO, Settings, get_settings
from scheduler import flows, store
from scheduler.db import session_factory, transaction
from scheduler.actors import request_actor_box
from scheduler.errors import Conflict, NotFound, ScenarioError
from scheduler.feed_cache import FeedCache, expire_on_commit
from scheduler.migrate import migrate
from scheduler.labels import CommunityLabels
from scheduler.reason_text import Refused, reason_text, rule_break_fields, rule_breaks_text
from scheduler.roster_rules import RuleBroken
from scheduler.tasks import TasksUnavailable
from scheduler.scenario.load import load_scenario

log = logging.getLogger(__name__)
COMMUNITY_PREFIX = "/c/{community}"
DEMO_COMMUNITY = "quannan"


def _problem_path(loc: tuple[Any, ...]) -> str:
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + ("from" if part == "from_" else str(part))
    return text


def allowed_methods(app: FastAPI, scope: Scope) -> list[str]:
    """The methods of the path the request names (GET brings HEAD), in a fixed order: what a 405's `Allow` lists.

    Starlette names only the first route whose path matched; a path often has several routes (GET and POST of
    `/experts`). The path is the most literal template that matches: `/closures/reopen` is that path (POST), not
    `/closures/{closure_id}` (DELETE) with an id that no closure has.
    """
    matching: dict[str, set[str]] = {}
    for route in iter_route_contexts(app.router.routes):
        if route.methods and route.path_format and route.matches(scope)[0] in (Match.FULL, Match.PARTIAL):
            matching.setdefault(route.path_format, set()).update(route.methods)
    if not matching:
        return []
    path = min(matching, key=lambda template: (template.count("{"), -len(template)))
    order = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
    return sorted(matching[path], key=lambda method: (order.index(method) if method in order else len(order), method))


def _error(status: int, detail: Any, **extra: Any) -> JSONResponse:
    return JSONResponse({"detail": detail, **extra}, status_code=status)


def _reader_lang(request: Request) -> str:
    """The reader's language of an error body (`?lang=`, Accept-Language, the service's); a bad `?lang=` falls back, the error stays the error."""
    try:
        return request_lang(request, request.query_params.get("lang"))
    except ScenarioError:
        return request_lang(request, None)


def _community_labels(request: Request) -> CommunityLabels | None:
    """The names of the community the request addresses (a Chinese error names townships and experts), or None outside one."""
    code = request.path_params.get("community")
    if not code:
        return None
    try:
        with request.app.state.session_factory() as session:
            return CommunityLabels.from_scenario(store.export_scenario(session, code))
    except NotFound:
        return None


def install_error_handlers(app: FastAPI) -> None:
    """Every error the service knows, rendered once: JSON bodies that say what was wrong.

    Every body is an `api.schemas.ErrorBody` (`detail`, and `rules` / `current_version` on some 409s), which is
    what the OpenAPI document declares for every error status (`api.openapi`); a new status or field goes there too.
    """

    @app.exception_handler(ScenarioError)
    async def scenario_error(_request: Request, error: ScenarioError) -> JSONResponse:
        return _error(422, error.as_json())

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, error: RequestValidationError) -> JSONResponse:
        problems = []
        for item in error.errors():
            message = str(item.get("msg", "invalid"))
            if item.get("type") == "missing":
                message = "required field is missing"
            elif item.get("type") == "extra_forbidden":
                message = "unknown field"
            problems.append({"path": _problem_path(tuple(item.get("loc", ()))), "message": message})
        return _error(422, problems)

    @app.exception_handler(RuleBroken)
    async def rule_broken(request: Request, error: RuleBroken) -> JSONResponse:
        lang = _reader_lang(request)
        labels = await run_in_threadpool(_community_labels, request)
        return _error(
            409, rule_breaks_text(error.breaks, lang, labels), rules=[rule_break_fields(b.rule, b.reason, lang, labels) for b in error.breaks]
        )

    @app.exception_handler(Refused)
    async def refused(request: Request, error: Refused) -> JSONResponse:
        labels = await run_in_threadpool(_community_labels, request)
        return _error(409, reason_text(error.reason, _reader_lang(request), labels))

    @app.exception_handler(Conflict)
    async def conflict(_request: Request, error: Conflict) -> JSONResponse:
        current = getattr(error, "current_version", None)
        extra = {} if current is None else {"current_version": current}
        return _error(409, str(error), **extra)

    @app.exception_handler(TasksUnavailable)
    async def tasks_unavailable(_request: Request, error: TasksUnavailable) -> JSONResponse:
        response = _error(503, str(error))
        response.headers["Retry-After"] = "30"
        return response

    @app.exception_handler(NotFound)
    async def not_found(_request: Request, error: NotFound) -> JSONResponse:
        return _error(404, str(error))

    @app.exception_handler(Unauthorized)
    async def unauthorized(_request: Request, error: Unauthorized) -> JSONResponse:
        response = _error(401, str(error))
        response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.exception_handler(Forbidden)
    async def forbidden(_request: Request, error: Forbidden) -> JSONResponse:
        return _error(403, str(error))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        response = _error(error.status_code, error.detail if error.detail else "error")
        for name, value in (error.headers or {}).items():
            response.headers[name] = value
        if error.status_code == 405:
            # Starlette names the methods of the first route whose path matched; the path may have more routes.
            methods = allowed_methods(request.app, request.scope)
            if methods:
                response.headers["Allow"] = ", ".join(methods)
        return response

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return _error(500, "internal error: the service logged the details")


def current_and_next_month(today: dt.date | None = None) -> list[str]:
    """This month and the next, as YYYY-MM (what the demo generates)."""
    today = today or dt.date.today()
    following = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return [f"{today.year:04d}-{today.month:02d}", f"{following.year:04d}-{following.month:02d}"]


def load_demo(app: FastAPI) -> list[str]:
    """Import the sample county as `quannan` if it is not there yet, and queue generation of its months with no roster."""
    factory = app.state.session_factory
    with transaction(factory) as session:
        if DEMO_COMMUNITY not in {row.code for row in store.list_communities(session)}:
            store.import_scenario(session, DEMO_COMMUNITY, load_scenario(SAMPLE_SCENARIO))
    queued = []
    for month in current_and_next_month():
        with factory() as session:
            if store.list_versions(session, DEMO_COMMUNITY, month):
                continue
        with factory() as session:
            community_id = store.get_community(session, DEMO_COMMUNITY).id
        app.state.jobs.submit("generate", month, community_id=community_id, community=DEMO_COMMUNITY, args={"cause": "demo"})
        queued.append(month)
    return queued


try:
    from api.pages import community_router, global_router, install_csrf_refusal  # the pages helper's web pages, when installed
except ImportError:
    community_router = global_router = install_csrf_refusal = None
PAGES_INSTALLED = community_router is not None and global_router is not None


@functools.cache
def shared_routes() -> tuple[BaseRoute, ...]:
    """Every router of the API and the pages, included once per process, for every app the process builds.

    FastAPI works out an included route's dependencies and models on first use and keeps them on the inclusion
    (~0.3 s for these ~170 routes); an app that included the routers itself would pay that for every app made in
    the process (each API test builds one). The inclusions hold no app: a request reaches its app through the
    ASGI scope, and no app overrides dependencies.
    """
    from api.routes import allowance, closures, contacts, events, feeds, levers, office_users, province, requests, rosters, standing, swaps, tokens, workbook

    holder = APIRouter()
    for module in (tokens, office_users, standing, workbook, contacts, closures, events, rosters, levers, allowance, requests, swaps, feeds):
        holder.include_router(module.router, prefix=COMMUNITY_PREFIX)
    holder.include_router(feeds.global_router)
    holder.include_router(province.router)
    holder.include_router(importlib.import_module("api.routes.metrics").router)  # events helper: GET /metrics
    if PAGES_INSTALLED:
        holder.include_router(global_router)
        holder.include_router(community_router, prefix=COMMUNITY_PREFIX)
    return tuple(holder.routes)


def create_app(settings: Settings | None = None, *, demo: bool = False) -> FastAPI:
    """The service app: on start it migrates the database, keeps the engine on app.state and starts the workers."""
    settings = settings or get_settings()
    if not logging.getLogger().handlers:
        configure_logging()  # a process uvicorn spawned (`rota serve --workers`) starts with no logging set up

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = migrate(settings.database_url)
        app.state.engine = engine
        app.state.session_factory = session_factory(engine)
        expire_on_commit(app.state.session_factory, app.state.feed_cache)
        app.state.jobs = JobRunner(app.state.session_factory, settings)
        app.state.jobs.queue.resume_orphans()  # without a broker: jobs a stopped process left unfinished run here
        stop_events = None
        if settings.run_scheduler and flows.has_event_outbox():
            # The replica that wins the store's lock runs the timed jobs and the event worker (scheduler.leader);
            # with ROTA_RUN_SCHEDULER=false this process only answers requests and another one leads.
            from scheduler.leader import start_active_roles

            stop_events = start_active_roles(app.state.session_factory, settings)
        if demo:
            load_demo(app)
        try:
            yield
        finally:
            if stop_events is not None:
                stop_events()
            app.state.jobs.shutdown()
            engine.dispose()

    app = FastAPI(
        title="township-rota",
        version="0.1.0",
        description="Monthly rosters that send county hospital specialists down to township health centres.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.feed_cache = FeedCache(max_bytes=settings.feed_cache_bytes, fresh_seconds=settings.feed_fresh_seconds)
    # Added first, so it runs innermost: its answers pass through the security headers and the body guard like any other.
    app.add_middleware(FeedFastPath, cache=app.state.feed_cache)
    install_error_handlers(app)
    install_body_guard(app, settings)
    install_security_headers(app)
    app.add_middleware(request_actor_box)  # outermost: every request's writes know its actor

    @app.get("/healthz", tags=["service"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers and the database is reachable."""
        from sqlalchemy import text

        with app.state.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return {"status": "ok"}

    app.router.routes.extend(shared_routes())
    if PAGES_INSTALLED:
        install_csrf_refusal(app)  # a page post refused by the CSRF check: a 403 page, not a JSON error
    install_openapi(app)
    return app
