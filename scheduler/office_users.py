"""Office users: people of a community's medical affairs office who log in to the pages with a name and a password.

Passwords are hashed with argon2id (`argon2-cffi`'s `PasswordHasher`, its recommended parameters) and never
stored or logged as typed; a hash made with older parameters is upgraded at the next good login. A name is
unique within its community. A disabled user logs in no more and every page session they had ends at once.
Checking a password costs the same whether or not the name exists (a dummy hash is verified), so the answer
time tells nobody which names are real.

A disabled user can be enabled again: they log in with the password they had (no session comes back), and
enabling a user who is not disabled changes nothing and records nothing, as disabling a disabled one does (an
idempotent switch rather than a 409, so a repeated click or retried request is harmless).

Every change (a user added, disabled, enabled, given a new password) is an audit entry of kind `user` with the actor
and the values before and after: the name and whether disabled, never a password or a hash. A bad name or
password is a `UserProblem` (a FieldError whose English message is what the CLI prints, and which carries a
code so the pages say it in Chinese); a name already taken is `NameTaken`.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler.audit import record_audit
from scheduler.auth import Caller, OfficeUser, PageSession, token_digest
from scheduler.models import Community
from scheduler.errors import Conflict, FieldError, NotFound, ScenarioError
from scheduler.notify.models import utc_now
from scheduler.store import CommunityRef, community_id_of

NAME_MAX = 64
PASSWORD_MIN = 8
PASSWORD_MAX = 1024  # argon2 takes any length; this only bounds the work one request can ask for

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a password anyone has")


AUDIT_KIND = "user"

# code -> (English, Chinese): what is wrong with a name or a password. The English is what `rota user create` prints.
PROBLEMS: dict[str, tuple[str, str]] = {
    "name_missing": ("a user needs a name", "请填写用户名。"),
    "name_too_long": ("at most {limit} characters (got {length})", "用户名最多 {limit} 个字符（现为 {length} 个）。"),
    "name_control": ("a name holds no control characters", "用户名不能含控制字符。"),
    "password_too_short": ("at least {limit} characters", "密码至少 {limit} 个字符。"),
    "password_too_long": ("at most {limit} characters", "密码最多 {limit} 个字符。"),
    "password_not_text": ("a password is text (it holds an unpaired surrogate)", "密码含有无法识别的字符。"),
}


@dataclass(frozen=True)
class UserProblem(FieldError):
    """A bad user name or password: the English message, and its code and fields to say it in another language."""

    code: str = ""
    fields: tuple[tuple[str, object], ...] = ()

    def message_in(self, lang: str) -> str:
        english, chinese = PROBLEMS[self.code]
        return (chinese if lang == "zh-CN" else english).format(**dict(self.fields))


def _problem(path: str, code: str, **fields: object) -> ScenarioError:
    return ScenarioError([UserProblem(path, PROBLEMS[code][0].format(**fields), code, tuple(fields.items()))])


class NameTaken(Conflict):
    """The community already has a user of that name."""

    def __init__(self, name: str) -> None:
        super().__init__(f"the community already has a user named '{name}'")
        self.name = name


class DisablingOneself(Conflict):
    """An office user asked to disable their own account (they would lock themselves out mid-task)."""

    def __init__(self) -> None:
        super().__init__("an office user cannot disable their own account: ask another office user")


@dataclass(frozen=True)
class OfficeUserView:
    """An office user as listed: id, name, when created, whether disabled, when they last logged in (never the hash)."""

    id: int
    name: str
    created_at: str
    disabled: bool
    disabled_at: str | None = None
    last_login_at: str | None = None


def checked_name(name: str) -> str:
    """A user name as stored: trimmed, 1-64 printable characters (ScenarioError naming the field otherwise)."""
    name = unicodedata.normalize("NFC", (name or "").strip())
    if not name:
        raise _problem("name", "name_missing")
    if len(name) > NAME_MAX:
        raise _problem("name", "name_too_long", limit=NAME_MAX, length=len(name))
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise _problem("name", "name_control")
    return name


def checked_password(password: str) -> str:
    """A new password: 8-1024 characters of text (ScenarioError naming the field otherwise)."""
    if len(password or "") < PASSWORD_MIN:
        raise _problem("password", "password_too_short", limit=PASSWORD_MIN)
    if len(password) > PASSWORD_MAX:
        raise _problem("password", "password_too_long", limit=PASSWORD_MAX)
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        raise _problem("password", "password_not_text") from None
    return password


def _audit_state(row: OfficeUser) -> dict[str, object]:
    """What the audit trail keeps of a user: the name and whether disabled (never the hash)."""
    return {"name": row.name, "disabled": row.disabled_at is not None}


def create_user(session: Session, community: CommunityRef, name: str, password: str) -> int:
    """Add an office user to a community with an argon2 hash of the password; NameTaken if the name is taken there."""
    owner = community_id_of(session, community)
    name = checked_name(name)
    checked_password(password)
    if session.scalar(select(OfficeUser.id).where(OfficeUser.community_id == owner, OfficeUser.name == name)) is not None:
        raise NameTaken(name)
    row = OfficeUser(community_id=owner, name=name, password_hash=_hasher.hash(password), created_at=utc_now())
    session.add(row)
    session.flush()
    record_audit(session, owner, AUDIT_KIND, f"add office user {name}", after=_audit_state(row))
    return row.id


def _view(row: OfficeUser, last_login: dt.datetime | None) -> OfficeUserView:
    return OfficeUserView(
        row.id, row.name, row.created_at.isoformat(), row.disabled_at is not None,
        row.disabled_at.isoformat() if row.disabled_at else None, last_login.isoformat() if last_login else None,
    )


def _last_logins(session: Session, user_ids: list[int]) -> dict[int, dt.datetime]:
    """When each user last logged in: the start of their newest page session (one is opened at every login)."""
    if not user_ids:
        return {}
    query = select(PageSession.user_id, func.max(PageSession.created_at)).where(PageSession.user_id.in_(user_ids)).group_by(PageSession.user_id)
    return dict(session.execute(query).all())  # max() keeps the column's type: aware UTC datetimes


def list_users(session: Session, community: CommunityRef) -> list[OfficeUserView]:
    """A community's office users, oldest first, each with their last login (None: never logged in)."""
    rows = list(session.scalars(select(OfficeUser).where(OfficeUser.community_id == community_id_of(session, community)).order_by(OfficeUser.id)))
    logins = _last_logins(session, [row.id for row in rows])
    return [_view(row, logins.get(row.id)) for row in rows]


def get_user(session: Session, community: CommunityRef, user_id: int) -> OfficeUserView:
    """One office user of a community by id; NotFound otherwise (another community's user too)."""
    row = session.get(OfficeUser, user_id) if 0 < user_id < 2**31 else None  # the column is a 32-bit integer
    if row is None or row.community_id != community_id_of(session, community):
        raise NotFound(f"no user with id {user_id}")
    return _view(row, _last_logins(session, [row.id]).get(row.id))


def _row_named(session: Session, community: CommunityRef, name: str) -> OfficeUser:
    row = session.scalar(select(OfficeUser).where(OfficeUser.community_id == community_id_of(session, community), OfficeUser.name == checked_name(name)))
    if row is None:
        raise NotFound(f"no user named '{name.strip()}'")
    return row


def disable_user(session: Session, community: CommunityRef, name: str, *, acting_user_id: int | None = None) -> None:
    """Disable a community's office user by name: no more logins, and their open page sessions end (NotFound for an unknown name).

    `acting_user_id` is the office user asking, if one is: disabling oneself is refused (DisablingOneself).
    Disabling a disabled user changes nothing and records nothing.
    """
    row = _row_named(session, community, name)
    if acting_user_id is not None and row.id == acting_user_id:
        raise DisablingOneself()
    if row.disabled_at is None:
        before = _audit_state(row)
        row.disabled_at = utc_now()
        _end_sessions(session, row.id)
        session.flush()
        record_audit(session, row.community_id, AUDIT_KIND, f"disable office user {row.name}", before=before, after=_audit_state(row))


def enable_user(session: Session, community: CommunityRef, name: str) -> None:
    """Enable a disabled office user by name: they can log in again with their password (NotFound for an unknown name).

    Their sessions ended at the disabling stay ended. Enabling a user who is not disabled changes nothing and
    records nothing (the same no-op as disabling a disabled user).
    """
    row = _row_named(session, community, name)
    if row.disabled_at is not None:
        before = _audit_state(row)
        row.disabled_at = None
        session.flush()
        record_audit(session, row.community_id, AUDIT_KIND, f"enable office user {row.name}", before=before, after=_audit_state(row))


def set_password(session: Session, community: CommunityRef, name: str, password: str, *, keep_session: str | None = None) -> None:
    """Give a community's office user a new password (argon2-hashed) and end their open page sessions but `keep_session`.

    `keep_session` is the raw id of the asking browser's session, when a user sets their own password: they
    stay logged in there, every other browser of theirs is logged out. The audit entry says a new password
    was set, never which.
    """
    row = _row_named(session, community, name)
    checked_password(password)
    row.password_hash = _hasher.hash(password)
    _end_sessions(session, row.id, keep=token_digest(keep_session) if keep_session else None)
    session.flush()
    state = _audit_state(row)
    record_audit(session, row.community_id, AUDIT_KIND, f"new password for office user {row.name}", before=state, after={**state, "password": "changed"})


def _end_sessions(session: Session, user_id: int, keep: str | None = None) -> None:
    """Revoke a user's live page sessions (but the one whose hash is `keep`)."""
    now = utc_now()
    for live in session.scalars(select(PageSession).where(PageSession.user_id == user_id, PageSession.revoked_at.is_(None))):
        if live.session_sha256 != keep:
            live.revoked_at = now


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
