"""Who may call the service: bearer tokens with a role and a scope, and feed tokens for calendar URLs.

Neither kind of token is ever stored: a token is 32 random bytes shown once, and the tables keep
only its SHA-256, so a copy of the database opens no door. Every token belongs to one community
(tenant) and opens nothing of another. Roles: `office` (everything of its community), `township`
(bound to one township) and `expert` (bound to one expert); and `bureau`, the health bureau
(卫健委), bound to no community, which reads every community's published rosters and reports and
writes nothing. Feed tokens are separate (a phone's calendar app sends no headers, so the token
sits in the URL) and each opens one feed of one community.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from scheduler.actors import Actor
from scheduler.db import Base
from scheduler.errors import FieldError, NotFound, ScenarioError
from scheduler.models import Community, Department, Expert, Township
from scheduler.notify.models import UtcDateTime, utc_now
from scheduler.store import CommunityRef, community_id_of
from scheduler.i18n import with_article

COMMUNITY_ROLES = ("office", "township", "expert")
BUREAU_ROLE = "bureau"
ROLES = (*COMMUNITY_ROLES, BUREAU_ROLE)
FEED_SCOPES = ("expert", "township", "department", "community")
Role = Literal["office", "township", "expert", "bureau"]
API_TOKEN_PREFIX = "rota_"
FEED_TOKEN_BYTES = 32  # 256 bits: far above the 128 the feeds need to be unguessable


def token_digest(token: str) -> str:
    """The SHA-256 (hex) under which a token is stored and looked up."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class ApiToken(Base):
    """A bearer token of the API: its community (none for the bureau), role, the township or expert it is bound to, and its hash."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
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
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(16))
    scope_key: Mapped[str] = mapped_column(String, default="")  # expert id, township id, department code; "" for community
    created_by: Mapped[int | None] = mapped_column(Integer)  # the api token that asked for it, if any
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utc_now)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


@dataclass(frozen=True)
class Caller:
    """The authenticated caller of one request: the community it belongs to (None for the bureau), its role and scope.

    A caller comes from an API token (`token_id`), or from a page session opened by an office user's
    password (`user_id`) or by a one-time login link (`login_link_id`); `name` is who it is, for the records.
    """

    token_id: int | None
    role: str
    township: str | None = None
    expert: str | None = None
    community_id: int | None = None
    community: str | None = None  # the community's code
    user_id: int | None = None
    login_link_id: int | None = None
    name: str = ""

    @property
    def is_office(self) -> bool:
        return self.role == "office"

    @property
    def is_bureau(self) -> bool:
        return self.role == BUREAU_ROLE


def actor_of(session: Session, caller: Caller) -> Actor:
    """The actor a caller's writes are recorded under: the user's or person's name, else its token's label (or `token #id`), and its role."""
    if caller.name or caller.token_id is None:
        return Actor(caller.name or caller.role, caller.role, caller.token_id)
    label = session.scalar(select(ApiToken.label).where(ApiToken.id == caller.token_id))
    return Actor(label or f"token #{caller.token_id}", caller.role, caller.token_id)


def _known_code(session: Session, owner: int, model: type, code: str, path: str, what: str) -> None:
    found = session.scalar(select(model.id).where(model.community_id == owner, model.code == code))
    if found is None:
        raise ScenarioError([FieldError(path, f"unknown {what} '{code}'")])


def _check_binding(session: Session, owner: int | None, role: str, township: str | None, expert: str | None) -> None:
    if role not in ROLES:
        raise ScenarioError([FieldError("role", f"must be one of {', '.join(ROLES)} (got {role!r})")])
    if role == BUREAU_ROLE:
        if owner is not None:
            raise ScenarioError([FieldError("community", "a bureau token reads every community and belongs to none")])
    elif owner is None:
        raise ScenarioError([FieldError("community", f"{with_article(role)} token belongs to one community: name it")])
    if role == "township":
        if not township:
            raise ScenarioError([FieldError("township", "a township token needs the township it is bound to")])
        _known_code(session, owner, Township, township, "township", "township")
    elif township:
        raise ScenarioError([FieldError("township", f"only a township token is bound to a township (role is {role})")])
    if role == "expert":
        if not expert:
            raise ScenarioError([FieldError("expert", "an expert token needs the expert it is bound to")])
        _known_code(session, owner, Expert, expert, "expert", "expert")
    elif expert:
        raise ScenarioError([FieldError("expert", f"only an expert token is bound to an expert (role is {role})")])


def create_api_token(
    session: Session, community: CommunityRef | None, role: str, *, township: str | None = None, expert: str | None = None, label: str = ""
) -> tuple[int, str]:
    """Issue a bearer token of a community (None for the bureau role) for a role, bound to a township or expert where the role needs one; return (id, token)."""
    owner = community_id_of(session, community) if community is not None else None
    _check_binding(session, owner, role, township, expert)
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(community_id=owner, token_sha256=token_digest(token), role=role, township=township or None, expert=expert or None, label=label)
    session.add(row)
    session.flush()
    return row.id, token


def authenticate(session: Session, token: str) -> Caller | None:
    """The caller a bearer token stands for, or None if it is unknown, revoked, or a community token without its community."""
    found = session.execute(
        select(ApiToken, Community.code).outerjoin(Community, Community.id == ApiToken.community_id).where(ApiToken.token_sha256 == token_digest(token))
    ).first()
    if found is None:
        return None
    row, code = found
    if row.revoked_at is not None or (row.role != BUREAU_ROLE and row.community_id is None):
        return None
    return Caller(row.id, row.role, row.township, row.expert, row.community_id, code)


def list_api_tokens(session: Session, community: CommunityRef | None = None) -> list[ApiToken]:
    """The API tokens of one community (hashes only; None: every token, the console's view), oldest first."""
    query = select(ApiToken).order_by(ApiToken.id)
    if community is not None:
        query = query.where(ApiToken.community_id == community_id_of(session, community))
    return list(session.scalars(query))


def revoke_api_token(session: Session, token_id: int, community: CommunityRef | None = None) -> None:
    """Revoke an API token (of the given community, if one is given: NotFound for another's); it answers 401 from now on."""
    row = session.get(ApiToken, token_id)
    if row is None or (community is not None and row.community_id != community_id_of(session, community)):
        raise NotFound(f"no token with id {token_id}")
    if row.revoked_at is None:
        row.revoked_at = utc_now()
        session.flush()


# --- feed tokens -------------------------------------------------------------------------------


def _check_feed_scope(session: Session, owner: int, scope: str, key: str) -> None:
    if scope not in FEED_SCOPES:
        raise ScenarioError([FieldError("scope", f"must be one of {', '.join(FEED_SCOPES)} (got {scope!r})")])
    if scope == "community":
        if key:
            raise ScenarioError([FieldError("key", "the community feed takes no key")])
        return
    if not key:
        raise ScenarioError([FieldError("key", f"{with_article(scope)} feed needs the {scope} it shows")])
    model = {"expert": Expert, "township": Township, "department": Department}[scope]
    _known_code(session, owner, model, key, "key", scope)


def create_feed_token(session: Session, community: CommunityRef, scope: str, key: str = "", *, created_by: int | None = None) -> tuple[int, str]:
    """Issue a feed token of a community for one subscriber scope; return (id, token) — the token is shown only now."""
    owner = community_id_of(session, community)
    _check_feed_scope(session, owner, scope, key)
    token = secrets.token_urlsafe(FEED_TOKEN_BYTES)
    row = FeedToken(community_id=owner, token_sha256=token_digest(token), scope=scope, scope_key=key, created_by=created_by)
    session.add(row)
    session.flush()
    return row.id, token


def resolve_feed_token(session: Session, community: CommunityRef, token: str) -> FeedToken | None:
    """The live feed subscription a URL token opens in a community, or None (unknown, revoked, or another community's)."""
    row = session.scalar(select(FeedToken).where(FeedToken.token_sha256 == token_digest(token)))
    if row is None or row.revoked_at is not None:
        return None
    try:
        owner = community_id_of(session, community)
    except NotFound:
        return None
    return row if row.community_id == owner else None


def feed_token_community(session: Session, token: str) -> str | None:
    """The code of the community a live feed token belongs to, or None (for the addresses feeds had before communities)."""
    found = session.execute(
        select(FeedToken.revoked_at, Community.code).join(Community, Community.id == FeedToken.community_id).where(FeedToken.token_sha256 == token_digest(token))
    ).first()
    if found is None or found[0] is not None:
        return None
    return found[1]


def list_feed_tokens(session: Session, community: CommunityRef, *, scope: str | None = None, key: str | None = None) -> list[FeedToken]:
    """A community's feed subscriptions, optionally of one scope (and key), oldest first."""
    query = select(FeedToken).where(FeedToken.community_id == community_id_of(session, community)).order_by(FeedToken.id)
    if scope is not None:
        query = query.where(FeedToken.scope == scope)
    if key is not None:
        query = query.where(FeedToken.scope_key == key)
    return list(session.scalars(query))


def get_feed_token(session: Session, community: CommunityRef, feed_token_id: int) -> FeedToken:
    """One feed subscription of a community by id; NotFound otherwise (another community's too)."""
    row = session.get(FeedToken, feed_token_id)
    if row is None or row.community_id != community_id_of(session, community):
        raise NotFound(f"no feed token with id {feed_token_id}")
    return row


def revoke_feed_token(session: Session, community: CommunityRef, feed_token_id: int) -> None:
    """Revoke a feed token of a community: its URL answers 404 from now on."""
    row = get_feed_token(session, community, feed_token_id)
    if row.revoked_at is None:
        row.revoked_at = utc_now()
        session.flush()


# --- office users and login links ---------------------------------------------------------------
# The tables are here, beside the tokens and sessions they stand with; what is done with them lives in
# scheduler.office_users (names and argon2 passwords) and scheduler.login_links (one-time links).


class OfficeUser(Base):
    """A person of a community's medical affairs office who logs in to the pages with a name and a password (argon2 hash)."""

    __tablename__ = "office_users"
    __table_args__ = (UniqueConstraint("community_id", "name", name="uq_office_users_community_id_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utc_now)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class LoginLink(Base):
    """A one-time login link for a township head or an expert: its hash, who it opens a session for, when it ends, when it was used."""

    __tablename__ = "login_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # township | expert
    township: Mapped[str | None] = mapped_column(String)
    expert: Mapped[str | None] = mapped_column(String)
    name: Mapped[str] = mapped_column(Text, default="")  # the person's name, for the records
    created_by: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utc_now)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)  # also ends the session it opened


# --- page sessions -------------------------------------------------------------------------------
# The pages' login cookie holds a session id, never a token or a password: 32 random bytes, stored as
# their SHA-256 like every token here, with an expiry and a revoked mark. A session was opened by exactly
# one of: an API token (the office's fallback), an office user's password, or a login link. Logging out
# revokes the row, so a copied cookie stops working at once; revoking the token, disabling the user or
# revoking the link ends it too.

PAGE_SESSION_SECONDS = 12 * 3600  # a working day: the office logs in each morning
PAGE_SESSION_BYTES = 32


class PageSession(Base):
    """A logged-in page session: the token, office user or login link it was opened with, when it ends, and whether it was ended early (logout)."""

    __tablename__ = "page_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    api_token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("office_users.id", ondelete="CASCADE"), index=True)
    login_link_id: Mapped[int | None] = mapped_column(ForeignKey("login_links.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utc_now)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


def open_page_session(
    session: Session, api_token_id: int | None = None, *, user_id: int | None = None, login_link_id: int | None = None, seconds: int = PAGE_SESSION_SECONDS
) -> str:
    """Start a page session for one API token, office user or login link; return the session id (shown once: it goes into the cookie)."""
    if sum(value is not None for value in (api_token_id, user_id, login_link_id)) != 1:
        raise ValueError("a page session is opened by exactly one of a token, a user or a login link")
    now = utc_now()
    # Sessions that ended long ago are of no use to anyone: drop this opener's, so the table stays small.
    opener = (
        PageSession.api_token_id == api_token_id if api_token_id is not None
        else PageSession.user_id == user_id if user_id is not None
        else PageSession.login_link_id == login_link_id
    )
    for stale in session.scalars(select(PageSession).where(opener, PageSession.expires_at < now - dt.timedelta(days=1))).all():
        session.delete(stale)
    raw = secrets.token_urlsafe(PAGE_SESSION_BYTES)
    session.add(PageSession(
        session_sha256=token_digest(raw), api_token_id=api_token_id, user_id=user_id, login_link_id=login_link_id,
        created_at=now, expires_at=now + dt.timedelta(seconds=seconds),
    ))
    session.flush()
    return raw


def _community_code(session: Session, community_id: int | None) -> str | None:
    return session.scalar(select(Community.code).where(Community.id == community_id)) if community_id is not None else None


def _opener_caller(session: Session, row: PageSession) -> Caller | None:
    """The caller a live session's opener stands for, or None when the token is revoked, the user disabled or the link revoked."""
    if row.api_token_id is not None:
        token = session.get(ApiToken, row.api_token_id)
        if token is None or token.revoked_at is not None or (token.role != BUREAU_ROLE and token.community_id is None):
            return None
        return Caller(token.id, token.role, token.township, token.expert, token.community_id, _community_code(session, token.community_id))
    if row.user_id is not None:
        user = session.get(OfficeUser, row.user_id)
        if user is None or user.disabled_at is not None:
            return None
        return Caller(None, "office", community_id=user.community_id, community=_community_code(session, user.community_id), user_id=user.id, name=user.name)
    link = session.get(LoginLink, row.login_link_id) if row.login_link_id is not None else None
    if link is None or link.revoked_at is not None:
        return None
    return Caller(None, link.role, link.township, link.expert, link.community_id, _community_code(session, link.community_id), login_link_id=link.id, name=link.name)


def page_session_caller(session: Session, raw: str) -> Caller | None:
    """The caller a page session id stands for, or None (unknown, expired, logged out, or its opener revoked or disabled)."""
    row = session.scalar(select(PageSession).where(PageSession.session_sha256 == token_digest(raw)))
    if row is None or row.revoked_at is not None or row.expires_at <= utc_now():
        return None
    return _opener_caller(session, row)


def end_page_session(session: Session, raw: str) -> bool:
    """Revoke a page session (logout): its id opens nothing from now on. False if there was no live one."""
    row = session.scalar(select(PageSession).where(PageSession.session_sha256 == token_digest(raw)))
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = utc_now()
    session.flush()
    return True
