"""Who did what: one audit entry per write of a community (roster versions, events, standing-data edits, the office's levers).

An entry names the actor (`scheduler.actors`), the time, what kind of write it was, its month and
township where it has one, a one-line subject, and for edits the values before and after. Entries
are written in the transaction of the write they describe, so a write and its trace commit together.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, select
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.orm import Mapped, Session, mapped_column

from scheduler.actors import Actor, current_actor
from scheduler.db import Base
from scheduler.notify.models import UtcDateTime, utc_now
from scheduler.store import CommunityRef, community_id_of

AUDIT_PAGE = 500  # the most entries one listing returns


class AuditEntry(Base):
    """One write of a community: who, when, what (and the values before and after, for edits)."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utc_now, index=True)
    actor: Mapped[str] = mapped_column(Text)
    actor_role: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(32), index=True)  # version | event | pin | unpin | revert | force | standing
    month: Mapped[str | None] = mapped_column(String(7))
    township: Mapped[str | None] = mapped_column(String)
    subject: Mapped[str] = mapped_column(Text, default="")
    before: Mapped[Any] = mapped_column(JSON, nullable=True)
    after: Mapped[Any] = mapped_column(JSON, nullable=True)
    version: Mapped[int | None] = mapped_column(Integer)  # the roster version the write made, if any
    event_id: Mapped[int | None] = mapped_column(Integer)  # the event the write recorded, if any


@dataclass(frozen=True)
class AuditView:
    """One audit entry as listings show it."""

    id: int
    at: dt.datetime
    actor: str
    actor_role: str
    kind: str
    month: str | None
    township: str | None
    subject: str
    before: Any
    after: Any
    version: int | None
    event_id: int | None

    def as_json(self) -> dict[str, Any]:
        return {**self.__dict__, "at": self.at.isoformat()}


def record_audit(
    session: Session, community: CommunityRef, kind: str, subject: str = "", *, month: str | None = None, township: str | None = None,
    before: Any = None, after: Any = None, version: int | None = None, event_id: int | None = None, actor: Actor | None = None,
) -> AuditEntry:
    """Add an audit entry in the caller's transaction (the actor defaults to the current one)."""
    who = actor or current_actor()
    entry = AuditEntry(
        community_id=community_id_of(session, community), at=utc_now(), actor=who.name, actor_role=who.role, kind=kind, month=month,
        township=township, subject=subject, before=before, after=after, version=version, event_id=event_id,
    )
    session.add(entry)
    session.flush()
    return entry


def list_audit(
    session: Session, community: CommunityRef, *, actor: str | None = None, township: str | None = None, month: str | None = None,
    kind: str | None = None, limit: int = AUDIT_PAGE,
) -> list[AuditView]:
    """A community's audit entries, newest first, filtered by actor (name or role), township, month and kind."""
    query = select(AuditEntry).where(AuditEntry.community_id == community_id_of(session, community))
    if actor:
        query = query.where((AuditEntry.actor == actor) | (AuditEntry.actor_role == actor))
    if township:
        query = query.where(AuditEntry.township == township)
    if month:
        query = query.where(AuditEntry.month == month)
    if kind:
        query = query.where(AuditEntry.kind == kind)
    rows = session.scalars(query.order_by(AuditEntry.id.desc()).limit(max(1, min(limit, AUDIT_PAGE))))
    return [
        AuditView(r.id, r.at, r.actor, r.actor_role, r.kind, r.month, r.township, r.subject, r.before, r.after, r.version, r.event_id)
        for r in rows
    ]


EVENTS_TABLE = "events"
VERSIONS_TABLE = "roster_versions"


def _trace_event(_mapper, connection, target) -> None:
    """Every roster version saved and every event recorded, by any path (edit, re-plan, leave, standing-data edit, lever), leaves its actor in the audit list."""
    table = getattr(target, "__tablename__", None)
    who = current_actor()
    if table == VERSIONS_TABLE:
        connection.execute(
            AuditEntry.__table__.insert().values(
                community_id=target.community_id, at=utc_now(), actor=who.name, actor_role=who.role, kind="version", month=target.month,
                township=None, subject=target.cause or "", before=None, after={"status": target.status}, version=target.version, event_id=None,
            )
        )
        return
    if table != EVENTS_TABLE:
        return
    connection.execute(
        AuditEntry.__table__.insert().values(
            community_id=target.community_id, at=utc_now(), actor=who.name, actor_role=who.role, kind="event", month=target.month,
            township=target.township, subject=target.kind, before=None, after=target.payload, version=None, event_id=target.id,
        )
    )


sqlalchemy_event.listen(Base, "after_insert", _trace_event, propagate=True)


def event_actors(session: Session, community: CommunityRef, event_ids: list[int]) -> dict[int, tuple[str, str]]:
    """Who recorded each of a community's events: event id -> (actor, role), from the audit entries."""
    if not event_ids:
        return {}
    query = select(AuditEntry.event_id, AuditEntry.actor, AuditEntry.actor_role).where(
        AuditEntry.community_id == community_id_of(session, community), AuditEntry.kind == "event", AuditEntry.event_id.in_(event_ids)
    )
    return {event_id: (actor, role) for event_id, actor, role in session.execute(query)}
