"""What routes declare: the session factory, the job runner, the settings and the authenticated caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session, sessionmaker

from api.jobs import JobRunner
from config.settings import Settings
from scheduler.auth import Caller, authenticate


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


Factory = Annotated[sessionmaker[Session], Depends(get_factory)]
Jobs = Annotated[JobRunner, Depends(get_jobs)]
AppSettings = Annotated[Settings, Depends(get_settings_of_app)]


def current_caller(factory: Factory, authorization: Annotated[str | None, Header()] = None) -> Caller:
    """The caller of the request, from `Authorization: Bearer <token>`; 401 when missing, unknown or revoked."""
    if not authorization:
        raise Unauthorized("missing bearer token: send Authorization: Bearer <token>")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("the Authorization header must be 'Bearer <token>'")
    with factory() as session:
        caller = authenticate(session, token.strip())
    if caller is None:
        raise Unauthorized("unknown or revoked token")
    return caller


CurrentCaller = Annotated[Caller, Depends(current_caller)]


def office(caller: CurrentCaller) -> Caller:
    """Only the medical affairs office (403 for other roles)."""
    if not caller.is_office:
        raise Forbidden(f"this needs the office role (the token's role is {caller.role})")
    return caller


Office = Annotated[Caller, Depends(office)]


def require_township(caller: Caller, township: str) -> None:
    """Office, or a township token bound to this township (403 otherwise)."""
    if caller.is_office:
        return
    if caller.role != "township" or caller.township != township:
        raise Forbidden(f"this token may not act for township '{township}'")


def require_expert(caller: Caller, expert: str) -> None:
    """Office, or an expert token bound to this expert (403 otherwise)."""
    if caller.is_office:
        return
    if caller.role != "expert" or caller.expert != expert:
        raise Forbidden(f"this token may not act for expert '{expert}'")
