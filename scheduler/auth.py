"""Who may call the service: bearer tokens with a role and a scope, and feed tokens for calendar URLs.

Neither kind of token is ever stored: a token is 32 random bytes shown once, and the tables keep
only its SHA-256, so a copy of the database opens no door. Roles: `office` (everything),
`township` (bound to one township) and `expert` (bound to one expert). Feed tokens are separate
(a phone's calendar app sends no headers, so the token sits in the URL) and each opens one feed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from scheduler.db import Base
from scheduler.errors import FieldError, NotFound, ScenarioError
from scheduler.models import Expert, Township, Department
from scheduler.notify.models import UtcDateTime, utc_now
from scheduler.store import get_community

ROLES = ("office", "township", "expert")
FEED_SCOPES = ("expert", "township", "department", "community")
Role = Literal["office", "township", "expert"]
API_TOKEN_PREFIX = "rota_"
FEED_TOKEN_BYTES = 32  # 256 bits: far above the 128 the feeds need to be unguessable


def token_digest(token: str) -> str:
    """The SHA-256 (hex) under which a token is stored and looked up."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class ApiToken(Base):
    """A bearer token of the API: its role, the township or expert it is bound to, and its hash."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    township: Mapped[str | None] = mapped_column(String)  # township code, for the township role
    expert: Mapped[str | None] = mapped_column(String)  # expert code, for the expert role
    label: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utc_now)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class FeedToken(Base):
    """An unguessable calendar URL token for one subscriber scope (expert, township, department, community)."""

    __tablename__ = "feed_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(16))
    scope_key: Mapped[str] = mapped_column(String, default="")  # expert id, township id, department code; "" for community
    created_by: Mapped[int | None] = mapped_column(Integer)  # the api token that asked for it, if any
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utc_now)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


@dataclass(frozen=True)
class Caller:
    """The authenticated caller of one request."""

    token_id: int
    role: str
    township: str | None = None
    expert: str | None = None

    @property
    def is_office(self) -> bool:
        return self.role == "office"


def _known_code(session: Session, model: type, code: str, path: str, what: str) -> None:
    community = get_community(session)
    found = session.scalar(select(model.id).where(model.community_id == community.id, model.code == code))
    if found is None:
        raise ScenarioError([FieldError(path, f"unknown {what} '{code}'")])


def _check_binding(session: Session, role: str, township: str | None, expert: str | None) -> None:
    if role not in ROLES:
        raise ScenarioError([FieldError("role", f"must be one of {', '.join(ROLES)} (got {role!r})")])
    if role == "township":
        if not township:
            raise ScenarioError([FieldError("township", "a township token needs the township it is bound to")])
        _known_code(session, Township, township, "township", "township")
    elif township:
        raise ScenarioError([FieldError("township", f"only a township token is bound to a township (role is {role})")])
    if role == "expert":
        if not expert:
            raise ScenarioError([FieldError("expert", "an expert token needs the expert it is bound to")])
        _known_code(session, Expert, expert, "expert", "expert")
    elif expert:
        raise ScenarioError([FieldError("expert", f"only an expert token is bound to an expert (role is {role})")])


def create_api_token(session: Session, role: str, *, township: str | None = None, expert: str | None = None, label: str = "") -> tuple[int, str]:
    """Issue a bearer token for a role (bound to a township or expert where the role needs one); return (id, token)."""
    _check_binding(session, role, township, expert)
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(token_sha256=token_digest(token), role=role, township=township or None, expert=expert or None, label=label)
    session.add(row)
    session.flush()
    return row.id, token


def authenticate(session: Session, token: str) -> Caller | None:
    """The caller a bearer token stands for, or None if it is unknown or revoked."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == token_digest(token)))
    if row is None or row.revoked_at is not None:
        return None
    return Caller(row.id, row.role, row.township, row.expert)


def list_api_tokens(session: Session) -> list[ApiToken]:
    """Every API token ever issued (hashes only), oldest first."""
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id)))


def revoke_api_token(session: Session, token_id: int) -> None:
    """Revoke an API token; it answers 401 from now on."""
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"no token with id {token_id}")
    if row.revoked_at is None:
        row.revoked_at = utc_now()
        session.flush()


# --- feed tokens -------------------------------------------------------------------------------


def _check_feed_scope(session: Session, scope: str, key: str) -> None:
    if scope not in FEED_SCOPES:
        raise ScenarioError([FieldError("scope", f"must be one of {', '.join(FEED_SCOPES)} (got {scope!r})")])
    if scope == "community":
        if key:
            raise ScenarioError([FieldError("key", "the community feed takes no key")])
        return
    if not key:
        raise ScenarioError([FieldError("key", f"a {scope} feed needs the {scope} it shows")])
    model = {"expert": Expert, "township": Township, "department": Department}[scope]
    _known_code(session, model, key, "key", scope)


def create_feed_token(session: Session, scope: str, key: str = "", *, created_by: int | None = None) -> tuple[int, str]:
    """Issue a feed token for one subscriber scope; return (id, token) — the token is shown only now."""
    _check_feed_scope(session, scope, key)
    token = secrets.token_urlsafe(FEED_TOKEN_BYTES)
    row = FeedToken(token_sha256=token_digest(token), scope=scope, scope_key=key, created_by=created_by)
    session.add(row)
    session.flush()
    return row.id, token


def resolve_feed_token(session: Session, token: str) -> FeedToken | None:
    """The live feed subscription a URL token opens, or None (unknown or revoked)."""
    row = session.scalar(select(FeedToken).where(FeedToken.token_sha256 == token_digest(token)))
    if row is None or row.revoked_at is not None:
        return None
    return row


def list_feed_tokens(session: Session, *, scope: str | None = None, key: str | None = None) -> list[FeedToken]:
    """Feed subscriptions, optionally of one scope (and key), oldest first."""
    query = select(FeedToken).order_by(FeedToken.id)
    if scope is not None:
        query = query.where(FeedToken.scope == scope)
    if key is not None:
        query = query.where(FeedToken.scope_key == key)
    return list(session.scalars(query))


def get_feed_token(session: Session, feed_token_id: int) -> FeedToken:
    """One feed subscription by id; NotFound otherwise."""
    row = session.get(FeedToken, feed_token_id)
    if row is None:
        raise NotFound(f"no feed token with id {feed_token_id}")
    return row


def revoke_feed_token(session: Session, feed_token_id: int) -> None:
    """Revoke a feed token: its URL answers 404 from now on."""
    row = get_feed_token(session, feed_token_id)
    if row.revoked_at is None:
        row.revoked_at = utc_now()
        session.flush()
