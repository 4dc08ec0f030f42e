"""What routes declare: the session factory, the job runner, the settings, and who calls for which community.

Every community route lives under `/c/{community}/...`. `resolve_tenant` is the one place that turns
an address and a token into a `Tenant` (the community and the caller acting in it): an unknown
community is 404; a token of another community is 403 for everything of this one; the health
bureau (not bound to a community) passes only where a route lets readers in, and only to read.
The API's dependencies (`Member`, `Reader`, `Office`) and the pages (`api.pages.web`) both call it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Path, Query, Request
from sqlalchemy.orm import Session, sessionmaker

from api.jobs import JobRunner
from config.settings import Settings
from scheduler import i18n, store
from scheduler.actors import note_request_actor
from scheduler.auth import Caller, actor_of, authenticate
from scheduler.errors import FieldError, ScenarioError
from scheduler.store import COMMUNITY_CODE_PATTERN

READ_METHODS = ("GET", "HEAD")


class Unauthorized(Exception):
    """No bearer token, or one that is unknown or revoked (HTTP 401)."""


class Forbidden(Exception):
    """A valid token whose role or scope does not reach what was asked (HTTP 403)."""


def get_factory(request: Request) -> sessionmaker[Session]:
    return request.app.state.session_factory


def get_jobs(request: Request) -> JobRunner:
    return request.app.state.jobs


def get_settings_of_app(request: Request) -> Settings:
    return request.app.state.settings


def request_lang(request: Request, lang: Annotated[str | None, Query(max_length=20, description="zh-CN (default) or en")] = None) -> str:
    """The reader's language for text in a response: `?lang=`, else the first supported Accept-Language tag, else the service's."""
    if lang:
        try:
            return i18n.parse_lang(lang)
        except ValueError as error:
            raise ScenarioError([FieldError("lang", str(error))]) from None
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip()
        if tag and tag != "*":
            try:
                return i18n.parse_lang(tag)
            except ValueError:
                continue
    try:
        return i18n.parse_lang(request.app.state.settings.language)
    except (AttributeError, ValueError):
        return i18n.DEFAULT_LANG


Factory = Annotated[sessionmaker[Session], Depends(get_factory)]
Jobs = Annotated[JobRunner, Depends(get_jobs)]
Lang = Annotated[str, Depends(request_lang)]
AppSettings = Annotated[Settings, Depends(get_settings_of_app)]
CommunityCode = Annotated[str, Path(pattern=COMMUNITY_CODE_PATTERN, max_length=64, description="the community's code")]


@dataclass(frozen=True)
class Tenant:
    """The community a request is addressed to and the caller acting in it (the bureau only ever reads)."""

    id: int
    code: str
    name: str
    caller: Caller

    @property
    def is_office(self) -> bool:
        return self.caller.is_office

    @property
    def is_bureau(self) -> bool:
        return self.caller.is_bureau

    @property
    def role(self) -> str:
        return self.caller.role


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header; Unauthorized when missing or malformed."""
    if not authorization:
        raise Unauthorized("missing bearer token: send Authorization: Bearer <token>")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("the Authorization header must be 'Bearer <token>'")
    return token.strip()


def resolve_tenant(factory: sessionmaker[Session], code: str, caller: Caller, *, readers: bool = False, method: str = "GET") -> Tenant:
    """The community `code` (NotFound when unknown) with a caller allowed in it (Forbidden otherwise).

    Members are the office, township and expert tokens of that community. With `readers`, the
    bureau is let in too, for reads (GET/HEAD) only.
    """
    with factory() as session:
        community = store.get_community(session, code)
        tenant = Tenant(community.id, community.code, community.name, caller)
        note_request_actor(actor_of(session, caller))
    if caller.is_bureau:
        if not readers or method.upper() not in READ_METHODS:
            raise Forbidden("the health bureau reads published rosters and reports only")
        return tenant
    if caller.community_id != community.id:
        raise Forbidden(f"this token belongs to another community, not '{code}'")
    return tenant


def current_caller(factory: Factory, authorization: Annotated[str | None, Header()] = None) -> Caller:
    """The caller of the request, from `Authorization: Bearer <token>`; 401 when missing, unknown or revoked."""
    token = bearer_token(authorization)
    with factory() as session:
        caller = authenticate(session, token)
    if caller is None:
        raise Unauthorized("unknown or revoked token")
    return caller


CurrentCaller = Annotated[Caller, Depends(current_caller)]


def community_member(community: CommunityCode, request: Request, factory: Factory, caller: CurrentCaller) -> Tenant:
    """The addressed community and a caller of its own (office, township or expert)."""
    return resolve_tenant(factory, community, caller, method=request.method)


def community_reader(community: CommunityCode, request: Request, factory: Factory, caller: CurrentCaller) -> Tenant:
    """The addressed community and a caller of its own, or the bureau (reads only)."""
    return resolve_tenant(factory, community, caller, readers=True, method=request.method)


Member = Annotated[Tenant, Depends(community_member)]
Reader = Annotated[Tenant, Depends(community_reader)]


def office(tenant: Member) -> Tenant:
    """Only the community's medical affairs office (403 for other roles)."""
    if not tenant.is_office:
        raise Forbidden(f"this needs the office role (the token's role is {tenant.role})")
    return tenant


Office = Annotated[Tenant, Depends(office)]


def bureau(caller: CurrentCaller) -> Caller:
    """Only the health bureau (403 for community tokens)."""
    if not caller.is_bureau:
        raise Forbidden(f"this needs the bureau role (the token's role is {caller.role})")
    return caller


Bureau = Annotated[Caller, Depends(bureau)]


def require_township(tenant: Tenant, township: str) -> None:
    """The community's office, or a township token bound to this township (403 otherwise)."""
    if tenant.is_office:
        return
    if tenant.role != "township" or tenant.caller.township != township:
        raise Forbidden(f"this token may not act for township '{township}'")


def require_expert(tenant: Tenant, expert: str) -> None:
    """The community's office, or an expert token bound to this expert (403 otherwise)."""
    if tenant.is_office:
        return
    if tenant.role != "expert" or tenant.caller.expert != expert:
        raise Forbidden(f"this token may not act for expert '{expert}'")
