"""The events table and its plain functions: record an event in the caller's transaction, read, list and re-queue.

`record_event` is the outbox pattern: the change and its event commit together or not at all. The
payload is checked against its kind's typed payload (scheduler.events.kinds) before it is stored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, func, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from scheduler.db import Base
from scheduler.errors import Conflict, NotFound
from scheduler.events.registry import KINDS, Payload, event_summary, kind_label, kind_of
from scheduler.i18n import DEFAULT_LANG, with_article
from scheduler.notify.models import UtcDateTime, utc_now
from scheduler.store import CommunityRef, community_id_of

EVENT_STATUSES = ("pending", "processing", "done", "failed")


class Event(Base):
    """One change waiting to be (or already) turned into a roster version and notices."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_status_next", "status", "next_attempt_at"),
        Index("ix_events_lane", "community_id", "month", "township"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # a registered kind (scheduler/events/kinds/)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    month: Mapped[str | None] = mapped_column(String(7), nullable=True)  # YYYY-MM; None = every month from now on (or the payload's months)
    township: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    processed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    claim_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # {month: latest version number when first claimed} (null for a month without a roster then).
    base_versions: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # What processing did: {month: new version or null} under "replanned", per month the check and the diff under
    # "months", the request's state, how many notices.
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


@dataclass(frozen=True)
class EventView:
    """One event as the office sees it."""

    id: int
    kind: str
    payload: dict[str, Any]
    month: str | None
    township: str | None
    status: str
    attempts: int
    last_error: str | None
    created_at: dt.datetime
    processed_at: dt.datetime | None
    outcome: dict[str, Any] | None
    community_id: int | None = None

    def label(self, lang: str = DEFAULT_LANG) -> str:
        """The kind's name in the language."""
        return kind_label(self.kind, lang)

    def summary(self, lang: str = DEFAULT_LANG) -> str:
        """What the change was, in the language."""
        return event_summary(self.kind, self.payload, lang)


def _view(event: Event) -> EventView:
    return EventView(
        event.id, event.kind, dict(event.payload or {}), event.month, event.township, event.status, event.attempts,
        event.last_error, event.created_at, event.processed_at, event.outcome, event.community_id,
    )


def record_event(
    session: Session, community_id: int, kind: str, payload: Mapping[str, Any] | Payload, *, month: str | None = None, township: str | None = None
) -> int:
    """Add a community's event to the outbox in the caller's transaction (flushed, not committed) and return its id.

    ValueError for a kind nobody registered or a payload that does not fit its kind.
    """
    registered = kind_of(kind)
    typed = payload if isinstance(payload, Payload) else registered.read(payload)
    if not isinstance(typed, registered.payload_type):
        raise ValueError(f"{with_article(kind)} event needs {with_article(registered.payload_type.__name__)} payload (got {type(typed).__name__})")
    now = utc_now()
    event = Event(
        community_id=community_id, kind=kind, payload=typed.model_dump(mode="json"), month=month, township=township if township is not None else registered.township(typed),
        status="pending", attempts=0, created_at=now, next_attempt_at=now,
    )
    session.add(event)
    session.flush()
    return event.id


def record(session: Session, community_id: int, payload: Payload, *, township: str | None = None) -> int:
    """Record an event from its typed payload alone: the kind, month and lane come from the registry."""
    kind = next(k for k in KINDS.values() if isinstance(payload, k.payload_type))
    months = kind.months(payload)
    return record_event(session, community_id, kind.name, payload, month=months[0] if months and len(months) == 1 else None, township=township)


def _community_event(session: Session, community: CommunityRef, event_id: int) -> Event:
    event = session.get(Event, event_id)
    if event is None or event.community_id != community_id_of(session, community):
        raise NotFound(f"event {event_id} does not exist")
    return event


def get_event(session: Session, community: CommunityRef, event_id: int) -> EventView:
    """One event of a community; NotFound if it has none with that id."""
    return _view(_community_event(session, community, event_id))


def list_events(session: Session, community: CommunityRef, status: str | None = None, month: str | None = None, limit: int = 100) -> list[EventView]:
    """A community's events, newest first, filtered by status and month when given."""
    query = select(Event).where(Event.community_id == community_id_of(session, community)).order_by(Event.id.desc()).limit(limit)
    if status is not None:
        query = query.where(Event.status == status)
    if month is not None:
        query = query.where(Event.month == month)
    return [_view(event) for event in session.scalars(query)]


def month_events(session: Session, community: CommunityRef, month: str, limit: int = 50) -> list[EventView]:
    """The events that bear on a community's month, newest first: its own, and those of no single month that touched it or wait."""
    query = (
        select(Event)
        .where(Event.community_id == community_id_of(session, community), or_(Event.month == month, Event.month.is_(None)))
        .order_by(Event.id.desc())
        .limit(limit * 4)
    )
    found = []
    for event in session.scalars(query):
        if event.month is None and not _touches(event, month):
            continue
        found.append(_view(event))
        if len(found) >= limit:
            break
    return found


def _touches(event: Event, month: str) -> bool:
    """Whether an event of no single month bears on the month: it was checked there, or it has not run yet."""
    if event.status in ("pending", "processing") or not event.outcome:
        return True
    return month in (event.outcome.get("months") or {}) or month in (event.outcome.get("replanned") or {})


def retry_event(session: Session, community: CommunityRef, event_id: int, now: dt.datetime | None = None) -> EventView:
    """Put a community's failed event back in the queue with a fresh attempt budget (the office's manual retry)."""
    event = _community_event(session, community, event_id)
    if event.status != "failed":
        raise Conflict(f"event {event_id} is {event.status}; only a failed event can be re-queued")
    event.status, event.attempts, event.next_attempt_at = "pending", 0, now or utc_now()
    session.flush()
    return _view(event)


def pending_count(session: Session, community: CommunityRef | None = None) -> int:
    """How many events (of one community, or of all) wait to be processed."""
    query = select(func.count()).where(Event.status.in_(("pending", "processing")))
    if community is not None:
        query = query.where(Event.community_id == community_id_of(session, community))
    return session.scalar(query) or 0
