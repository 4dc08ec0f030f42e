"""One-time login links: how a township head or an expert logs in to their page without a password.

The office makes a link for one person (a township centre's head or an expert of its community); it is
sent to that person's contact (the notices' outbox: email or group robot) or shown to the office as a QR
code. The link holds 32 random bytes; the table keeps their SHA-256 only. It works once — it is spent
by one conditional UPDATE, so two clicks racing on two replicas open one session between them — and
only until it expires (`ROTA_LOGIN_LINK_HOURS`, 72 h by default). Spending it opens a page session with
that person's role and scope; revoking the link ends that session too.

Opening the link's address (GET) spends nothing: it shows a button that posts (with the CSRF token) to
spend it, so a mail scanner or a link preview that fetches the URL does not use the person's link up.
A sent link sits in its notice's body in the outbox until sent — as long as any notice text is kept;
it is single-use and expires, so a copy of the table opens at most links nobody has used yet.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from scheduler.auth import Caller, LoginLink, PageSession, token_digest
from scheduler.errors import FieldError, NotFound, ScenarioError
from scheduler.i18n import date_text
from scheduler.labels import CommunityLabels
from scheduler.models import Community, Expert, Township
from scheduler.notify.messages import login_link_text
from scheduler.notify.models import utc_now
from scheduler.notify.outbox import notify_recipient
from scheduler.store import CommunityRef, community_id_of

LINK_ROLES = ("township", "expert")
LINK_BYTES = 32
LINK_PATH = "/login/link/"  # under /c/{community}
DEFAULT_LINK_HOURS = 72


@dataclass(frozen=True)
class LinkFor:
    """Whom a login link is for: the role, the township or expert code, and the name shown."""

    role: str
    ref_id: str
    name: str


def person(session: Session, community: CommunityRef, role: str, ref_id: str) -> LinkFor:
    """A township centre or an expert of the community a link may be made for (ScenarioError naming the field otherwise)."""
    if role not in LINK_ROLES:
        raise ScenarioError([FieldError("role", f"a login link is for a township head or an expert: one of {', '.join(LINK_ROLES)} (got {role!r})")])
    model = Township if role == "township" else Expert
    owner = community_id_of(session, community)
    name = session.scalar(select(model.name).where(model.community_id == owner, model.code == (ref_id or "")))
    if name is None:
        raise ScenarioError([FieldError(role, f"unknown {role} '{ref_id}'")])
    return LinkFor(role, ref_id, name)


def create_login_link(session: Session, community: CommunityRef, role: str, ref_id: str, *, hours: float = DEFAULT_LINK_HOURS, created_by: str = "") -> tuple[LoginLink, str]:
    """A new one-time login link for a township head or an expert of the community; return (its row, the token — shown only now)."""
    target = person(session, community, role, ref_id)
    now = utc_now()
    raw = secrets.token_urlsafe(LINK_BYTES)
    row = LoginLink(
        community_id=community_id_of(session, community), token_sha256=token_digest(raw), role=role,
        township=ref_id if role == "township" else None, expert=ref_id if role == "expert" else None,
        name=target.name, created_by=created_by, created_at=now, expires_at=now + dt.timedelta(hours=hours),
    )
    session.add(row)
    session.flush()
    return row, raw


def link_path(community_code: str, raw: str) -> str:
    """The path a login link opens: `/c/{community}/login/link/{token}`."""
    return f"/c/{community_code}{LINK_PATH}{raw}"


def _live(row: LoginLink | None, owner: int, now: dt.datetime) -> bool:
    return row is not None and row.community_id == owner and row.used_at is None and row.revoked_at is None and row.expires_at > now


def live_link(session: Session, community: CommunityRef, raw: str) -> LoginLink | None:
    """The link a token names in a community if it can still be used (unused, unexpired, not revoked), else None; spends nothing."""
    try:
        owner = community_id_of(session, community)
    except NotFound:
        return None
    row = session.scalar(select(LoginLink).where(LoginLink.token_sha256 == token_digest(raw or "")))
    return row if _live(row, owner, utc_now()) else None


def redeem_login_link(session: Session, community: CommunityRef, raw: str) -> Caller | None:
    """Spend a live login link of the community and return the caller it logs in, or None (unknown, used, expired, revoked, another community's)."""
    row = live_link(session, community, raw)
    if row is None:
        return None
    now = utc_now()
    # The condition is checked again in the UPDATE itself: of two requests racing, one changes the row.
    spent = session.execute(
        update(LoginLink)
        .where(LoginLink.id == row.id, LoginLink.used_at.is_(None), LoginLink.revoked_at.is_(None), LoginLink.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:
        return None
    code = session.scalar(select(Community.code).where(Community.id == row.community_id))
    return Caller(None, row.role, row.township, row.expert, row.community_id, code, login_link_id=row.id, name=row.name)


@dataclass(frozen=True)
class OpenLink:
    """A link the office may still want to revoke: unused and unexpired, or used with the session it opened still live."""

    row: LoginLink
    in_use: bool


def open_links(session: Session, community: CommunityRef) -> list[OpenLink]:
    """A community's links that can still be used or whose session is still live, newest first (the office's list, each revocable)."""
    owner = community_id_of(session, community)
    now = utc_now()
    live_sessions = set(session.scalars(
        select(PageSession.login_link_id).where(PageSession.login_link_id.is_not(None), PageSession.revoked_at.is_(None), PageSession.expires_at > now)
    ))
    rows = session.scalars(select(LoginLink).where(LoginLink.community_id == owner, LoginLink.revoked_at.is_(None)).order_by(LoginLink.id.desc()))
    found = []
    for row in rows:
        if _live(row, owner, now):
            found.append(OpenLink(row, in_use=False))
        elif row.used_at is not None and row.id in live_sessions:
            found.append(OpenLink(row, in_use=True))
    return found


def revoke_login_link(session: Session, community: CommunityRef, link_id: int) -> None:
    """Revoke a community's login link: unused, it opens nothing; used, the session it opened ends (NotFound for another's)."""
    row = session.get(LoginLink, link_id)
    if row is None or row.community_id != community_id_of(session, community):
        raise NotFound(f"no login link with id {link_id}")
    if row.revoked_at is None:
        row.revoked_at = utc_now()
        session.flush()


def send_login_link(session: Session, community: CommunityRef, row: LoginLink, url: str, labels: CommunityLabels, zone: dt.tzinfo) -> list[str]:
    """Queue the link to the person's contact (every channel they have, in their language); the notice keys, empty if they have none."""
    ref_id = row.township if row.role == "township" else row.expert
    expires = row.expires_at.astimezone(zone)

    def text_for(lang: str):
        return login_link_text(row.role, row.name, url, f"{date_text(expires.date(), lang)} {expires:%H:%M}", labels, lang)

    return notify_recipient(
        session, community_id=community_id_of(session, community), recipient_kind=row.role, recipient_id=ref_id or "",
        kind="login_link", about=f"link{row.id}", version=1, text_for=text_for,
    )
