"""The notice outbox: record each notice once under its dedup key, then deliver it with retries.

How "exactly once" is kept, and where it is only "at least once":

* A notice is written (`enqueue_notice`) in the same transaction as the change it announces,
  under a `dedup_key` (recipient, session, kind, roster version, channel) unique within its
  community. Enqueuing the same key again, from a retried job or a restarted process, is a no-op.
* `deliver_due` claims one due notice at a time: it flips it to `sending` and COMMITS before
  talking to the receiver, so no other worker picks it up (PostgreSQL: `FOR UPDATE SKIP
  LOCKED`; SQLite: the claim is a conditional UPDATE on (status, attempts), which SQLite's
  single writer makes safe; run one delivering process per SQLite file anyway). After the
  send it records `sent`, or `queued` with an exponential backoff (30 s, 60 s, ... capped at
  1 h), or `failed` once `event_max_attempts` attempts are used or the receiver refused
  for good (SMTP refused the recipient; HTTP 4xx other than 429).
* Crash rule: a worker killed between the claim and the outcome leaves the notice in
  `sending`. We cannot know whether the receiver got it. After `SENDING_LEASE` (5 min, far
  longer than one send's timeouts) the notice is re-sent ONCE; if that claim is lost too it
  becomes `failed` with an explanation, for the office to check and re-queue by hand
  (`retry_notice`).
* The duplicate window is from the receiver's acceptance to the commit of `sent`: a crash
  inside it re-sends a notice the receiver already has. The outbox commits `sent` the moment
  the channel reports the acceptance (`Channel.send(..., accepted)`): for email the server's
  250 to DATA, before QUIT, so the window is one UPDATE and its durable COMMIT, whatever the
  server does afterwards: milliseconds on a quiet machine, tens of milliseconds (single sends
  up to ~0.25 s) on a busy one (`python -m bench.notice_window`; figures in bench/RESULTS.md).
  The same re-send is recognisable: emails carry a Message-ID fixed by the dedup key (a mail
  system or client that dedupes on it drops the second copy) and webhooks an
  `Idempotency-Key` header fixed by it, which a receiver that honours it delivers once; the
  WeCom/DingTalk group robots themselves do not dedupe, so such a group can, rarely, see a message twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from config.settings import get_settings
from scheduler.db import transaction
from scheduler.errors import Conflict, FieldError, NotFound, ScenarioError
from scheduler.notify.channels import Channel, DeliveryError, OutgoingNotice
from scheduler.notify.contacts import get_contact
from scheduler.notify.messages import NoticeText
from scheduler.notify.models import CHANNELS, NOTICE_STATUSES, RECIPIENT_KINDS, Notice, utc_now

log = logging.getLogger(__name__)

BACKOFF_BASE = dt.timedelta(seconds=30)
BACKOFF_CAP = dt.timedelta(hours=1)
SENDING_LEASE = dt.timedelta(minutes=5)
MAX_KEY_LENGTH = 255


def notice_key(kind: str, recipient_kind: str, recipient_id: str, about: str, version: int | str, channel: str) -> str:
    """The dedup key of a notice: one per (kind, recipient, session or subject, roster version, channel)."""
    key = f"{kind}:{recipient_kind}:{recipient_id}:{about}:v{version}:{channel}"
    if len(key) > MAX_KEY_LENGTH:  # keep it unique and within the column, readable prefix first
        key = key[: MAX_KEY_LENGTH - 33] + "#" + hashlib.sha256(key.encode()).hexdigest()[:32]
    return key


def backoff_delay(attempts: int) -> dt.timedelta:
    """How long to wait after the given number of failed attempts: 30 s doubling, at most 1 h."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_CAP)


def _insert_ignoring_duplicate(session: Session, values: dict) -> bool:
    table = Notice.__table__
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # another engine: let the unique constraint decide, inside a savepoint
        try:
            with session.begin_nested():
                session.execute(table.insert().values(**values))
            return True
        except IntegrityError:
            return False
    # RETURNING tells whether a row went in (rowcount is -1 on PostgreSQL once SQLAlchemy adds RETURNING itself).
    statement = insert(table).values(**values).on_conflict_do_nothing(index_elements=["community_id", "dedup_key"]).returning(table.c.id)
    return session.execute(statement).first() is not None


def enqueue_notice(
    session: Session,
    key: str,
    *,
    community_id: int,
    recipient_kind: str,
    recipient_id: str,
    channel: str,
    address: str,
    kind: str,
    subject: str,
    body: str,
    language: str = "zh-CN",
    now: dt.datetime | None = None,
    not_before: dt.datetime | None = None,
) -> bool:
    """Record a community's notice to send unless one with the same key exists there; True if this call created it."""
    problems = []
    if not key or len(key) > MAX_KEY_LENGTH:
        problems.append(FieldError("key", f"must be 1-{MAX_KEY_LENGTH} characters (use notice_key)"))
    if recipient_kind not in RECIPIENT_KINDS:
        problems.append(FieldError("recipient_kind", f"must be one of {', '.join(RECIPIENT_KINDS)}"))
    if channel not in CHANNELS:
        problems.append(FieldError("channel", f"must be one of {', '.join(CHANNELS)} (got {channel!r})"))
    if channel == "email" and not address:
        problems.append(FieldError("address", "an email notice needs an address"))
    if problems:
        raise ScenarioError(problems)
    now = now or utc_now()
    return _insert_ignoring_duplicate(
        session,
        {
            "community_id": community_id,
            "dedup_key": key,
            "recipient_kind": recipient_kind,
            "recipient_id": recipient_id,
            "channel": channel,
            "address": address,
            "kind": kind,
            "language": language,
            "subject": subject[:300],
            "body": body,
            "status": "queued",
            "attempts": 0,
            "interrupted": 0,
            "next_attempt_at": not_before or now,
            "created_at": now,
        },
    )


def notify_recipient(
    session: Session,
    *,
    community_id: int,
    recipient_kind: str,
    recipient_id: str,
    kind: str,
    about: str,
    version: int | str,
    text_for: Callable[[str], NoticeText],
    default_webhook_url: str = "",
    now: dt.datetime | None = None,
    not_before: dt.datetime | None = None,
) -> list[str]:
    """Enqueue a notice on every channel the community recipient's contact has, in their language; returns the new keys.

    A recipient with no contact gets nothing except on the default webhook (a group robot), if one is given.
    """
    contact = get_contact(session, community_id, recipient_kind, recipient_id)
    language = contact.language if contact else get_settings().language
    text = text_for(language)
    routes: list[tuple[str, str]] = []
    if contact and contact.email:
        routes.append(("email", contact.email))
    webhook_url = (contact.webhook_url if contact else None) or default_webhook_url
    if webhook_url:
        routes.append(("webhook", webhook_url))
    created = []
    for channel, address in routes:
        key = notice_key(kind, recipient_kind, recipient_id, about, version, channel)
        if enqueue_notice(
            session, key, community_id=community_id, recipient_kind=recipient_kind, recipient_id=recipient_id, channel=channel, address=address,
            kind=kind, subject=text.subject, body=text.body, language=language, now=now, not_before=not_before,
        ):
            created.append(key)
    return created


@dataclass(frozen=True)
class _Claim:
    notice_id: int
    token: str
    channel: str
    outgoing: OutgoingNotice
    attempts: int


@dataclass
class DeliveryReport:
    """What one `deliver_due` pass did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def _claim_next(factory: sessionmaker[Session], channel_names: list[str], now: dt.datetime, report: DeliveryReport) -> _Claim | None:
    """Flip the next due notice to `sending` and commit, so no other worker sends it; None if nothing is due."""
    stale_before = now - SENDING_LEASE
    due = or_(
        and_(Notice.status == "queued", Notice.next_attempt_at <= now),
        and_(Notice.status == "sending", Notice.claimed_at <= stale_before),
    )
    with transaction(factory) as session:
        while True:
            notice = session.scalars(
                select(Notice)
                .where(due, Notice.channel.in_(channel_names))
                .order_by(Notice.next_attempt_at, Notice.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if notice is None:
                return None
            # Read everything first: the UPDATEs below also refresh `notice` in the session.
            seen_status, seen_attempts = notice.status, notice.attempts
            outgoing = OutgoingNotice(notice.dedup_key, notice.address, notice.subject, notice.body, notice.language)
            interrupted = notice.interrupted + (1 if seen_status == "sending" else 0)
            # The guard on (status, attempts) makes the claim a compare-and-set: a row another worker
            # claimed since we read it is left alone (this is what keeps SQLite honest without row locks).
            guard = [Notice.id == notice.id, Notice.status == seen_status, Notice.attempts == seen_attempts]
            if interrupted > 1:
                failed = session.execute(
                    update(Notice).where(*guard).values(
                        status="failed", claim_token=None, interrupted=interrupted,
                        last_error="delivery interrupted twice by a stopped worker; the recipient may or may not "
                        "have received it, so it is not re-sent automatically (re-queue it by hand)",
                    )
                )
                report.failed += failed.rowcount
                session.expire_all()
                continue
            token = uuid.uuid4().hex
            result = session.execute(
                update(Notice).where(*guard).values(
                    status="sending", claim_token=token, claimed_at=now, attempts=seen_attempts + 1, interrupted=interrupted
                )
            )
            if result.rowcount != 1:
                session.expire_all()
                continue
            return _Claim(
                notice_id=notice.id,
                token=token,
                channel=notice.channel,
                attempts=seen_attempts + 1,
                outgoing=outgoing,
            )


def _record_outcome(factory: sessionmaker[Session], claim: _Claim, error: Exception | None, now: dt.datetime, max_attempts: int) -> str:
    """Store how the send went, only if our claim still holds; returns the new status."""
    if error is None:
        values = {"status": "sent", "sent_at": now, "last_error": None, "claim_token": None}
    else:
        permanent = isinstance(error, DeliveryError) and error.permanent
        message = str(error) if isinstance(error, DeliveryError) else f"unexpected {type(error).__name__}: {error}"
        if permanent or claim.attempts >= max_attempts:
            values = {"status": "failed", "last_error": message[:2000], "claim_token": None}
        else:
            values = {
                "status": "queued",
                "last_error": message[:2000],
                "claim_token": None,
                "next_attempt_at": now + backoff_delay(claim.attempts),
            }
    with transaction(factory) as session:
        session.execute(
            update(Notice)
            .where(Notice.id == claim.notice_id, Notice.status == "sending", Notice.claim_token == claim.token)
            .values(**values)
        )
    return values["status"]


def deliver_due(
    session_factory: sessionmaker[Session],
    channels: Mapping[str, Channel],
    now: dt.datetime | None = None,
    limit: int = 100,
    max_attempts: int | None = None,
) -> DeliveryReport:
    """Send up to `limit` due notices on the given channels; failures are recorded and retried later, never raised.

    Notices for a channel not in `channels` (SMTP not configured, say) stay queued until it is.
    """
    now = now or utc_now()
    max_attempts = max_attempts or get_settings().event_max_attempts
    report = DeliveryReport()
    channel_names = sorted(channels)
    for _ in range(limit):
        claim = _claim_next(session_factory, channel_names, now, report)
        if claim is None:
            break
        recorded: list[str] = []

        def record_acceptance(claim: _Claim = claim) -> None:
            # The receiver has it: commit `sent` now, not after the rest of the conversation (the duplicate window).
            try:
                recorded.append(_record_outcome(session_factory, claim, None, now, max_attempts))
            except Exception:  # noqa: BLE001 - recorded again below, once the channel returns
                log.warning("notice %s: recording `sent` on acceptance failed", claim.outgoing.dedup_key, exc_info=True)

        error: Exception | None = None
        try:
            channels[claim.channel].send(claim.outgoing, accepted=record_acceptance)
        except Exception as exc:  # noqa: BLE001 - a failing channel must not stop the outbox
            error = exc
        if recorded:
            status, error = recorded[0], None  # accepted: whatever came after is not the notice's failure
        else:
            status = _record_outcome(session_factory, claim, error, now, max_attempts)
        if status == "sent":
            report.sent += 1
        elif status == "failed":
            report.failed += 1
        else:
            report.retrying += 1
        if error is not None:
            report.errors.append(f"{claim.outgoing.dedup_key}: {error}")
    return report


@dataclass(frozen=True)
class NoticeView:
    """One notice as the office sees it."""

    id: int
    dedup_key: str
    recipient_kind: str
    recipient_id: str
    channel: str
    address: str
    kind: str
    subject: str
    status: str
    attempts: int
    next_attempt_at: dt.datetime
    last_error: str | None
    created_at: dt.datetime
    sent_at: dt.datetime | None
    community_id: int | None = None


def _view(notice: Notice) -> NoticeView:
    return NoticeView(
        notice.id, notice.dedup_key, notice.recipient_kind, notice.recipient_id, notice.channel, notice.address,
        notice.kind, notice.subject, notice.status, notice.attempts, notice.next_attempt_at, notice.last_error,
        notice.created_at, notice.sent_at, notice.community_id,
    )


@dataclass(frozen=True)
class NoticeStats:
    """Counts for /metrics and the office: by status, by (channel, status), retries pending and recent failures."""

    by_status: dict[str, int]
    by_channel: dict[tuple[str, str], int]
    retrying: int  # queued notices that have failed at least once
    oldest_queued_at: dt.datetime | None
    recent_failures: list[NoticeView]


def notice_stats(session: Session, failures: int = 20) -> NoticeStats:
    """How the outbox stands: counts per status and channel, notices waiting to retry, the latest failures."""
    by_status = dict.fromkeys(NOTICE_STATUSES, 0)
    by_channel: dict[tuple[str, str], int] = {}
    for channel, status, count in session.execute(
        select(Notice.channel, Notice.status, func.count()).group_by(Notice.channel, Notice.status)
    ):
        by_status[status] = by_status.get(status, 0) + count
        by_channel[(channel, status)] = count
    retrying = session.scalar(select(func.count()).where(Notice.status == "queued", Notice.attempts > 0)) or 0
    oldest = session.scalar(select(func.min(Notice.created_at)).where(Notice.status == "queued"))
    recent = session.scalars(
        select(Notice).where(Notice.status == "failed").order_by(Notice.id.desc()).limit(failures)
    ).all()
    return NoticeStats(by_status, by_channel, retrying, oldest, [_view(n) for n in recent])


def list_notices(
    session: Session, status: str | None = None, recipient_kind: str | None = None, recipient_id: str | None = None, limit: int = 100,
    *, community_id: int | None = None,
) -> list[NoticeView]:
    """Notices, newest first, filtered by community, status and recipient when given."""
    if status is not None and status not in NOTICE_STATUSES:
        raise ScenarioError([FieldError("status", f"must be one of {', '.join(NOTICE_STATUSES)} (got {status!r})")])
    query = select(Notice).order_by(Notice.id.desc()).limit(limit)
    if community_id is not None:
        query = query.where(Notice.community_id == community_id)
    if status is not None:
        query = query.where(Notice.status == status)
    if recipient_kind is not None:
        query = query.where(Notice.recipient_kind == recipient_kind)
    if recipient_id is not None:
        query = query.where(Notice.recipient_id == recipient_id)
    return [_view(n) for n in session.scalars(query)]


def retry_notice(session: Session, notice_id: int, now: dt.datetime | None = None, *, community_id: int | None = None) -> NoticeView:
    """Put a failed notice (of the given community, if one is given) back in the queue with a fresh attempt budget (the office's manual retry)."""
    notice = session.get(Notice, notice_id)
    if notice is None or (community_id is not None and notice.community_id != community_id):
        raise NotFound(f"notice {notice_id} does not exist")
    if notice.status != "failed":
        raise Conflict(f"notice {notice_id} is {notice.status}; only a failed notice can be re-queued")
    notice.status = "queued"
    notice.attempts = 0
    notice.interrupted = 0
    notice.next_attempt_at = now or utc_now()
    session.flush()
    return _view(notice)
