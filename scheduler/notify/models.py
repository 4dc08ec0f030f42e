"""Tables owned by notices: the outbox (`notices`) and who can be reached where (`contacts`), each row of one community."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, TypeDecorator, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.db import Base

RECIPIENT_KINDS = ("expert", "township", "office")
CHANNELS = ("email", "webhook")
NOTICE_KINDS = ("assignment", "reminder", "change", "cancellation", "digest", "request_update")
NOTICE_STATUSES = ("queued", "sending", "sent", "failed")
LANGUAGES = ("zh-CN", "en")


def utc_now() -> dt.datetime:
    """The current time as an aware UTC datetime (the only kind the outbox stores)."""
    return dt.datetime.now(dt.UTC)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes on every engine: SQLite keeps no zone, so store naive UTC and re-attach it on read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("notice timestamps must be timezone-aware")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Notice(Base):
    """One message to one address on one channel; its `dedup_key` makes it exist (and be sent) at most once in its community."""

    __tablename__ = "notices"
    __table_args__ = (
        UniqueConstraint("community_id", "dedup_key", name="uq_notices_dedup_key"),
        Index("ix_notices_due", "status", "next_attempt_at"),
        Index("ix_notices_recipient", "community_id", "recipient_kind", "recipient_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    dedup_key: Mapped[str] = mapped_column(String(255))
    recipient_kind: Mapped[str] = mapped_column(String(16))  # expert | township | office
    recipient_id: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))  # email | webhook
    address: Mapped[str] = mapped_column(String(1000))  # an email address or a robot URL
    kind: Mapped[str] = mapped_column(String(32))  # assignment | reminder | change | cancellation | digest | ...
    language: Mapped[str] = mapped_column(String(8), default="zh-CN")
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Set when a worker claims the notice; a stale claim means the worker died mid-send (see outbox.py).
    claim_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    interrupted: Mapped[int] = mapped_column(Integer, default=0)  # claims lost to a dead worker
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class Contact(Base):
    """Where an expert or a township head is reached, and in which language they read notices."""

    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("community_id", "recipient_kind", "ref_id", name="uq_contacts_recipient"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    recipient_kind: Mapped[str] = mapped_column(String(16))  # expert | township | office
    ref_id: Mapped[str] = mapped_column(String(64))  # the expert or township id of the scenario
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    webhook_url: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    language: Mapped[str] = mapped_column(String(8), default="zh-CN")
