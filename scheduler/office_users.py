"""Office users: people of a community's medical affairs office who log in to the pages with a name and a password.

Passwords are hashed with argon2id (`argon2-cffi`'s `PasswordHasher`, its recommended parameters) and never
stored or logged as typed; a hash made with older parameters is upgraded at the next good login. A name is
unique within its community. A disabled user logs in no more and every page session they had ends at once.
Checking a password costs the same whether or not the name exists (a dummy hash is verified), so the answer
time tells nobody which names are real.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.auth import Caller, OfficeUser
from scheduler.models import Community
from scheduler.errors import Conflict, FieldError, NotFound, ScenarioError
from scheduler.notify.models import utc_now
from scheduler.store import CommunityRef, community_id_of

NAME_MAX = 64
PASSWORD_MIN = 8
PASSWORD_MAX = 1024  # argon2 takes any length; this only bounds the work one request can ask for

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a password anyone has")


@dataclass(frozen=True)
class OfficeUserView:
    """An office user as listed: id, name, when created, whether disabled (never the hash)."""

    id: int
    name: str
    created_at: str
    disabled: bool


def checked_name(name: str) -> str:
    """A user name as stored: trimmed, 1-64 printable characters (ScenarioError naming the field otherwise)."""
    name = unicodedata.normalize("NFC", (name or "").strip())
    if not name:
        raise ScenarioError([FieldError("name", "a user needs a name")])
    if len(name) > NAME_MAX:
        raise ScenarioError([FieldError("name", f"at most {NAME_MAX} characters (got {len(name)})")])
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise ScenarioError([FieldError("name", "a name holds no control characters")])
    return name


def checked_password(password: str) -> str:
    """A new password: 8-1024 characters (ScenarioError naming the field otherwise)."""
    if len(password or "") < PASSWORD_MIN:
        raise ScenarioError([FieldError("password", f"at least {PASSWORD_MIN} characters")])
    if len(password) > PASSWORD_MAX:
        raise ScenarioError([FieldError("password", f"at most {PASSWORD_MAX} characters")])
    return password


def create_user(session: Session, community: CommunityRef, name: str, password: str) -> int:
    """Add an office user to a community with an argon2 hash of the password; Conflict if the name is taken there."""
    owner = community_id_of(session, community)
    name = checked_name(name)
    checked_password(password)
    if session.scalar(select(OfficeUser.id).where(OfficeUser.community_id == owner, OfficeUser.name == name)) is not None:
        raise Conflict(f"the community already has a user named '{name}'")
    row = OfficeUser(community_id=owner, name=name, password_hash=_hasher.hash(password), created_at=utc_now())
    session.add(row)
    session.flush()
    return row.id


def list_users(session: Session, community: CommunityRef) -> list[OfficeUserView]:
    """A community's office users, oldest first."""
    rows = session.scalars(select(OfficeUser).where(OfficeUser.community_id == community_id_of(session, community)).order_by(OfficeUser.id))
    return [OfficeUserView(row.id, row.name, row.created_at.isoformat(), row.disabled_at is not None) for row in rows]


def disable_user(session: Session, community: CommunityRef, name: str) -> None:
    """Disable a community's office user by name: no more logins, and their open page sessions end (NotFound for an unknown name)."""
    row = session.scalar(select(OfficeUser).where(OfficeUser.community_id == community_id_of(session, community), OfficeUser.name == checked_name(name)))
    if row is None:
        raise NotFound(f"no user named '{name.strip()}'")
    if row.disabled_at is None:
        row.disabled_at = utc_now()
        session.flush()


def log_in_user(session: Session, community: CommunityRef, name: str, password: str) -> Caller | None:
    """The office caller a name and password stand for in a community, or None (unknown name, wrong password, disabled user)."""
    try:
        owner = community_id_of(session, community)
        name = checked_name(name)
    except (NotFound, ScenarioError):
        owner, name = None, ""
    password = password or ""
    row = session.scalar(select(OfficeUser).where(OfficeUser.community_id == owner, OfficeUser.name == name)) if owner is not None and name else None
    too_long = len(password) > PASSWORD_MAX  # no stored password is this long: refused, after the same work as any other
    try:
        _hasher.verify(row.password_hash if row is not None and not too_long else _DUMMY_HASH, password[:PASSWORD_MAX])
    except (VerificationError, InvalidHashError):
        return None
    if row is None or too_long or row.disabled_at is not None:
        return None
    if _hasher.check_needs_rehash(row.password_hash):
        row.password_hash = _hasher.hash(password)
        session.flush()
    code = session.scalar(select(Community.code).where(Community.id == row.community_id))
    return Caller(None, "office", community_id=row.community_id, community=code, user_id=row.id, name=row.name)
