"""The events outbox: standing-data changes recorded with the change, then processed in order by one worker.

`record_event` writes an `events` row in the caller's transaction (the outbox pattern: the change and
the event commit together or not at all). `process_pending` turns pending events into roster versions
(`flows.replan`, `flows.settle_request`) and tells the people whose sessions changed, and nobody else.

Order and isolation. Every event belongs to one community (tenant); one worker serves them all. Events
run in id order within a lane, a lane being (community, month, township). An event that fails is
retried with backoff and, after `event_max_attempts`, marked failed with its error; while it waits,
events in other lanes (another community, another township, another month) go ahead.

Several re-plan events of one community's month that are due together are handled by ONE re-plan: every event has
already stored its change, so one minimal-change re-plan reflects them all (200 queued leaves do not
need 200 solves). An event that failed once is retried on its own, so one bad event cannot keep
failing a batch.

Crash safety. Claiming an event records the month's latest roster version (`base_versions`) and
commits before any work. If the process dies during the re-plan, the event is claimed again
(`recover_interrupted` at worker start, or after a lease) with the SAME base, so the notices come from
the diff base -> latest, even when the crashed attempt already saved the new version and the retry
finds nothing left to change. Notices are enqueued under dedup keys (person, assignment id, kind,
version) in the same transaction that marks the event done: an event is done exactly when its notices
exist, and a retry cannot enqueue a notice twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from zoneinfo import ZoneInfo
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from config.settings import Settings, get_settings
from scheduler import metrics
from scheduler.db import Base, transaction
from scheduler.errors import Conflict, NotFound
from scheduler.labels import CommunityLabels
from scheduler.models import RosterVersion
from scheduler.notify.channels import Channel, channels_from_settings
from scheduler.notify.messages import assignment_text, cancellation_text, change_text, request_update_text
from scheduler.notify.models import UtcDateTime, utc_now
from scheduler.notify.outbox import deliver_due, notify_recipient
from scheduler.store import CommunityRef, community_id_of, export_scenario, get_community, load_roster_version
from solver.solution import Assignment, RosterDiff, Solution, diff_rosters

log = logging.getLogger(__name__)

EVENT_STATUSES = ("pending", "processing", "done", "failed")
# Kinds whose stored change is absorbed by a minimal-change re-plan of the month.
REPLAN_KINDS = ("leave", "closure", "demand", "swap")
REQUEST_KIND = "request"
EVENT_KINDS = (*REPLAN_KINDS, REQUEST_KIND)
BACKOFF_BASE = dt.timedelta(seconds=5)
BACKOFF_CAP = dt.timedelta(minutes=10)
# A claim older than this belongs to a worker that died or lost leadership; a re-plan takes seconds.
PROCESSING_LEASE = dt.timedelta(minutes=10)
SERVICE_TIMEZONE = "Asia/Shanghai"  # "this month" for events without one: every county keeps Beijing time

# Why a session was cancelled, as the notice says it (by event kind and language).
CANCELLATION_REASONS = {
    "zh-CN": {"leave": "专家请假", "closure": "卫生院停诊", "demand": "需求调整", "swap": "专家调换", "request": "加诊安排调整"},
    "en": {"leave": "expert on leave", "closure": "township centre closed", "demand": "demand changed",
           "swap": "session swapped", "request": "extra session rearranged"},
}
REQUEST_OUTCOMES = {"scheduled": "approved", "pending": "queued", "declined": "rejected"}

RosterListener = Callable[[str, str], None]  # (community code, month) whose published roster changed


class Event(Base):
    """One standing-data change waiting to be (or already) turned into a roster version and notices."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_status_next", "status", "next_attempt_at"),
        Index("ix_events_lane", "community_id", "month", "township"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # leave | request | closure | demand | swap
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    month: Mapped[str | None] = mapped_column(String(7), nullable=True)  # YYYY-MM; None = every month from now on
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
    # What processing did: {month: new version or null}, the request's state, how many notices.
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


def _view(event: Event) -> EventView:
    return EventView(
        event.id, event.kind, dict(event.payload or {}), event.month, event.township, event.status, event.attempts,
        event.last_error, event.created_at, event.processed_at, event.outcome, event.community_id,
    )


def record_event(
    session: Session, community_id: int, kind: str, payload: Mapping[str, Any], *, month: str | None = None, township: str | None = None
) -> int:
    """Add a community's event to the outbox in the caller's transaction (flushed, not committed) and return its id."""
    if kind not in EVENT_KINDS:
        raise ValueError(f"event kind must be one of {', '.join(EVENT_KINDS)} (got {kind!r})")
    now = utc_now()
    event = Event(
        community_id=community_id, kind=kind, payload=dict(payload), month=month, township=township, status="pending", attempts=0,
        created_at=now, next_attempt_at=now,
    )
    session.add(event)
    session.flush()
    return event.id


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


def retry_event(session: Session, community: CommunityRef, event_id: int, now: dt.datetime | None = None) -> EventView:
    """Put a community's failed event back in the queue with a fresh attempt budget (the office's manual retry)."""
    event = _community_event(session, community, event_id)
    if event.status != "failed":
        raise Conflict(f"event {event_id} is {event.status}; only a failed event can be re-queued")
    event.status, event.attempts, event.next_attempt_at = "pending", 0, now or utc_now()
    session.flush()
    return _view(event)


def backoff_delay(attempts: int) -> dt.timedelta:
    """How long a failed event waits before its next try: 5 s doubling, at most 10 min."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_CAP)


# --- choosing what to process ------------------------------------------------------------------


def _lane(event: Event) -> tuple[int, str | None, str | None]:
    return (event.community_id, event.month, event.township)


def _is_due(event: Event, now: dt.datetime) -> bool:
    if event.status == "pending":
        return event.next_attempt_at <= now
    return event.claimed_at is not None and event.claimed_at <= now - PROCESSING_LEASE  # a dead worker's claim


def next_batch(unfinished: list[Event], now: dt.datetime) -> list[Event]:
    """The events to process next: the first due head of a lane, plus the due re-plan events of its community's month it can share a re-plan with."""
    chosen: list[Event] = []
    blocked: set[tuple[int, str | None, str | None]] = set()
    for event in unfinished:  # id order
        lane = _lane(event)
        if lane in blocked:
            continue
        if not chosen:
            if _is_due(event, now):
                chosen.append(event)
                if not _batchable(event):
                    return chosen
            else:
                blocked.add(lane)  # a waiting retry holds back its own lane only
            continue
        if _is_due(event, now) and _batchable(event) and (event.community_id, event.month) == (chosen[0].community_id, chosen[0].month):
            chosen.append(event)
        else:
            blocked.add(lane)
    return chosen


def _batchable(event: Event) -> bool:
    # A retried event runs alone, so a bad one is isolated from the rest of its month.
    return event.kind in REPLAN_KINDS and event.attempts == 0 and event.month is not None


# --- processing --------------------------------------------------------------------------------


def _flows():
    from scheduler import flows  # late: flows records events through this module

    return flows


def _latest_version(session: Session, community_id: int, month: str) -> int | None:
    return session.scalar(select(func.max(RosterVersion.version)).where(RosterVersion.community_id == community_id, RosterVersion.month == month))


def _months_of(session: Session, event: Event, now: dt.datetime) -> list[str]:
    if event.month:
        # A leave or closure across a month end names every month it touches.
        return sorted({event.month, *((event.payload or {}).get("months") or [])})
    # A change without a month (a demand row, say) touches every month of its community from the current one on.
    current = now.astimezone(ZoneInfo(SERVICE_TIMEZONE)).strftime("%Y-%m")
    return list(session.scalars(
        select(RosterVersion.month)
        .where(RosterVersion.community_id == event.community_id, RosterVersion.month >= current)
        .distinct().order_by(RosterVersion.month)
    ))


def _claim(factory: sessionmaker[Session], batch: list[Event], now: dt.datetime) -> tuple[str, dict[int, dict[str, int | None]]] | None:
    """Mark the batch processing and remember each month's base version; None if another worker got there first."""
    token = uuid.uuid4().hex
    bases: dict[int, dict[str, int | None]] = {}
    with transaction(factory) as session:
        for seen in batch:
            event = session.get(Event, seen.id)
            if event is None or event.status != seen.status or event.attempts != seen.attempts:
                return None
            base = dict(event.base_versions or {})
            for month in _months_of(session, event, now):
                base.setdefault(month, _latest_version(session, event.community_id, month))  # kept from a crashed attempt
            result = session.execute(
                update(Event)
                .where(Event.id == event.id, Event.status == seen.status, Event.attempts == seen.attempts)
                .values(status="processing", claim_token=token, claimed_at=now, attempts=seen.attempts + 1, base_versions=base)
            )
            if result.rowcount != 1:
                raise _LostClaim()
            bases[event.id] = base
    return token, bases


class _LostClaim(Exception):
    """Another worker claimed an event of the batch between our read and our update."""


def _cause(batch: list[Event]) -> str:
    ids = ", ".join(f"#{event.id}" for event in batch[:10]) + (" ..." if len(batch) > 10 else "")
    kinds = sorted({event.kind for event in batch})
    return f"events {ids} ({', '.join(kinds)})"


def _run_handlers(factory: sessionmaker[Session], batch: list[Event], months: list[str]) -> dict[str, Any]:
    """Apply the batch to the roster: settle the request, or re-plan each month; returns what happened."""
    flows = _flows()
    community = batch[0].community_id
    outcome: dict[str, Any] = {}
    started = time.monotonic()
    if batch[0].kind == REQUEST_KIND:
        request_id = batch[0].payload.get("request_id", batch[0].payload.get("id"))
        if request_id is None:
            raise _PermanentError("a request event needs payload.request_id")
        outcome["request_state"] = flows.settle_request(factory, community, int(request_id))
        metrics.observe_solve("request", time.monotonic() - started)
        return outcome
    for event in batch:
        if event.kind == "swap":  # the exchange itself, before the month's re-plan
            swap_id = event.payload.get("swap_id")
            if swap_id is None:
                raise _PermanentError("a swap event needs payload.swap_id")
            outcome.setdefault("swaps", {})[int(swap_id)] = flows.apply_swap(factory, community, int(swap_id))
    for month in months:
        began = time.monotonic()
        try:
            result = flows.replan(factory, community, month, cause=_cause(batch))
        except NotFound:
            result = None  # no roster for the month yet: the change waits for its first generation
        metrics.observe_solve("replan", time.monotonic() - began)
        outcome.setdefault("replanned", {})[month] = result[0] if result else None
    return outcome


class _PermanentError(Exception):
    """An event that no retry can fix (an unknown kind, a payload without what it needs)."""


def _load(session: Session, community_id: int, month: str, version: int) -> tuple[Solution, str]:
    solution, _number, status, _created = load_roster_version(session, community_id, month, version)
    return solution, status


def roster_changes(session: Session, community_id: int, month: str, base_version: int | None) -> tuple[int, RosterDiff] | None:
    """The diff from a base version to the community's latest of the month, and the latest number; None if nothing to tell (no base, same version, or a draft)."""
    latest = _latest_version(session, community_id, month)
    if base_version is None or latest is None or latest == base_version:
        return None
    after, status = _load(session, community_id, month, latest)
    if status != "published":
        return None  # a draft is nobody's business but the office's
    before, _ = _load(session, community_id, month, base_version)
    return latest, diff_rosters(before.assignments, after.assignments)


@dataclass(frozen=True)
class PlannedNotice:
    """Who is told what about one changed session."""

    recipient_kind: str  # expert | township
    recipient_id: str
    kind: str  # assignment | change | cancellation
    about: str  # the assignment id
    old: Assignment | None
    new: Assignment | None


def _place(assignment: Assignment) -> tuple:
    return (assignment.date, assignment.half_day, assignment.township, assignment.type, assignment.specialty)


def notices_for_diff(diff: RosterDiff) -> list[PlannedNotice]:
    """The notices a roster diff calls for: only the experts and township heads whose sessions changed.

    A township whose session keeps its day and kind but gets another expert (a removed and an added
    assignment in the same place) hears one "change", not a cancellation and a new booking.
    """
    planned: list[PlannedNotice] = []
    substitutes: dict[tuple, list[Assignment]] = {}
    for added in diff.added:
        substitutes.setdefault(_place(added), []).append(added)
    replaced: dict[str, Assignment] = {}  # added id -> the removed session it stands in for
    for removed in diff.removed:
        planned.append(PlannedNotice("expert", removed.expert, "cancellation", removed.id, removed, None))
        candidates = substitutes.get(_place(removed))
        if candidates:
            substitute = candidates.pop(0)
            replaced[substitute.id] = removed
            planned.append(PlannedNotice("township", removed.township, "change", substitute.id, removed, substitute))
        else:
            planned.append(PlannedNotice("township", removed.township, "cancellation", removed.id, removed, None))
    for added in diff.added:
        planned.append(PlannedNotice("expert", added.expert, "assignment", added.id, None, added))
        if added.id not in replaced:
            planned.append(PlannedNotice("township", added.township, "assignment", added.id, None, added))
    for before, after in diff.moved:
        if before.expert == after.expert:
            planned.append(PlannedNotice("expert", after.expert, "change", after.id, before, after))
        else:  # the old expert is free, the new one is booked: each hears only their part
            planned.append(PlannedNotice("expert", before.expert, "cancellation", before.id, before, None))
            planned.append(PlannedNotice("expert", after.expert, "assignment", after.id, None, after))
        if before.township == after.township:
            planned.append(PlannedNotice("township", after.township, "change", after.id, before, after))
        else:
            planned.append(PlannedNotice("township", before.township, "cancellation", before.id, before, None))
            planned.append(PlannedNotice("township", after.township, "assignment", after.id, None, after))
    return planned


def cause_of(assignment: Assignment, batch_events: list[Event]) -> str:
    """Which event of a batch cancelled a session: a closure of its township that day, else a leave of its expert, else the first."""
    for event in batch_events:
        payload = event.payload or {}
        if event.kind == "closure" and payload.get("township") == assignment.township and assignment.date.isoformat() in payload.get("dates", []):
            return "closure"
    for event in batch_events:
        payload = event.payload or {}
        if event.kind == "leave" and payload.get("expert") == assignment.expert:
            first, last = payload.get("first_day", ""), payload.get("last_day") or payload.get("first_day", "")
            if first <= assignment.date.isoformat() <= last:
                return "leave"
    return batch_events[0].kind


def _text_for(planned: PlannedNotice, labels: CommunityLabels, reason_for: Callable[[Assignment], str]) -> Callable[[str], Any]:
    def text_for(language: str):
        if planned.kind == "assignment":
            return assignment_text(planned.new, labels, language, planned.recipient_kind)
        if planned.kind == "change":
            return change_text(planned.old, planned.new, labels, language, planned.recipient_kind)
        reason = CANCELLATION_REASONS.get(language, CANCELLATION_REASONS["zh-CN"]).get(reason_for(planned.old))
        return cancellation_text(planned.old, labels, language, planned.recipient_kind, reason)

    return text_for


def _labels(session: Session, community_id: int) -> CommunityLabels:
    return CommunityLabels.from_scenario(export_scenario(session, community_id))


def enqueue_change_notices(
    session: Session, community_id: int, month: str, version: int, diff: RosterDiff, reason: str | Callable[[Assignment], str],
    settings: Settings, now: dt.datetime, labels: CommunityLabels | None = None,
) -> int:
    """Enqueue the notices of one published roster change of a community (deduplicated by person, session, kind, version); returns how many are new.

    `reason` is the event kind that caused the change, or a function giving it per cancelled session.
    """
    if not diff.changes:
        return 0
    reason_for = reason if callable(reason) else (lambda _assignment, kind=reason: kind)
    labels = labels or _labels(session, community_id)
    created = 0
    for planned in notices_for_diff(diff):
        created += len(
            notify_recipient(
                session, community_id=community_id, recipient_kind=planned.recipient_kind, recipient_id=planned.recipient_id, kind=planned.kind,
                about=planned.about, version=version, text_for=_text_for(planned, labels, reason_for),
                default_webhook_url=settings.webhook_url, now=now,
            )
        )
    return created


def _request_notice(session: Session, event: Event, state: str, settings: Settings, now: dt.datetime, labels: CommunityLabels) -> int:
    """Tell the township head how their extra-session request stands (once per request and state)."""
    from scheduler.i18n import session_type_name
    from scheduler.requests import get_request

    outcome = REQUEST_OUTCOMES.get(state)
    request_id = event.payload.get("request_id", event.payload.get("id"))
    if outcome is None or request_id is None:
        return 0
    request = get_request(session, event.community_id, int(request_id))

    def text_for(language: str):
        what = f"{labels.specialty(request.specialty)}{session_type_name(request.type, language)} ×{request.sessions}"
        return request_update_text(request.township, what, outcome, labels, language, reason=(request.reason or None) if outcome != "approved" else None)

    return len(
        notify_recipient(
            session, community_id=event.community_id, recipient_kind="township", recipient_id=request.township, kind="request_update",
            about=f"request-{request.id}", version=state, text_for=text_for, default_webhook_url=settings.webhook_url, now=now,
        )
    )


def _finish(
    factory: sessionmaker[Session], batch: list[Event], token: str, bases: dict[int, dict[str, int | None]],
    outcome: dict[str, Any], settings: Settings, now: dt.datetime,
) -> list[str]:
    """Enqueue the notices and mark the batch done, in one transaction; returns the months whose roster changed."""
    changed_months: list[str] = []
    community_id = batch[0].community_id
    with transaction(factory) as session:
        # Every event of a batch shares the month; the earliest base covers what the whole batch did.
        months: dict[str, int | None] = {}
        for event in batch:
            for month, base in bases[event.id].items():
                if month not in months or (base is not None and (months[month] is None or base < months[month])):
                    months[month] = base
        labels: CommunityLabels | None = None
        notices = 0
        for month, base in sorted(months.items()):
            changes = roster_changes(session, community_id, month, base)
            if changes is None:
                continue
            version, diff = changes
            if diff.changes:
                changed_months.append(month)
            labels = labels or _labels(session, community_id)
            notices += enqueue_change_notices(
                session, community_id, month, version, diff, lambda assignment: cause_of(assignment, batch), settings, now, labels
            )
        if "request_state" in outcome:
            labels = labels or _labels(session, community_id)
            notices += _request_notice(session, batch[0], outcome["request_state"], settings, now, labels)
        for event in batch:
            done = session.execute(
                update(Event)
                .where(Event.id == event.id, Event.status == "processing", Event.claim_token == token)
                .values(status="done", processed_at=now, last_error=None, claim_token=None, outcome={**outcome, "notices": notices})
            )
            if done.rowcount != 1:
                raise _LostClaim()  # rolls back the notices too: the worker that holds the claim will tell them
    return changed_months


def _fail(factory: sessionmaker[Session], batch: list[Event], token: str, error: BaseException, settings: Settings, now: dt.datetime) -> None:
    permanent = isinstance(error, _PermanentError)
    message = "".join(traceback.format_exception_only(type(error), error)).strip()
    detail = traceback.format_exc(limit=6)
    with transaction(factory) as session:
        for seen in batch:
            event = session.get(Event, seen.id)
            if event is None or event.claim_token != token:
                continue
            give_up = permanent or event.attempts >= settings.event_max_attempts
            event.status = "failed" if give_up else "pending"
            event.last_error = f"attempt {event.attempts}: {message}\n{detail}"[:4000]
            event.claim_token = None
            if not give_up:
                event.next_attempt_at = now + backoff_delay(event.attempts)
            metrics.EVENTS_FAILED.labels(kind=event.kind, outcome="failed" if give_up else "retry").inc()
            log.warning(
                "event %s (%s) attempt %s %s: %s", event.id, event.kind, event.attempts, "failed for good" if give_up else "will retry", message,
                extra={"event_id": event.id, "event_kind": event.kind, "attempts": event.attempts, "failed": give_up},
            )


def _unfinished(factory: sessionmaker[Session]) -> list[Event]:
    with factory() as session:
        return list(session.scalars(select(Event).where(Event.status.in_(("pending", "processing"))).order_by(Event.id)))


def process_pending(
    factory: sessionmaker[Session],
    *,
    now: dt.datetime | None = None,
    limit: int = 100,
    settings: Settings | None = None,
    on_roster_change: RosterListener | None = None,
) -> int:
    """Process due events in order (re-plan or settle, then notices to the people affected); returns how many events were handled."""
    settings = settings or get_settings()
    handled = 0
    while handled < limit:
        moment = now or utc_now()
        batch = next_batch(_unfinished(factory), moment)
        if not batch:
            break
        batch = batch[: limit - handled]
        try:
            claimed = _claim(factory, batch, moment)
        except _LostClaim:
            claimed = None
        if claimed is None:
            continue  # another worker took it; look again
        token, bases = claimed
        months = sorted({month for base in bases.values() for month in base})
        try:
            if batch[0].kind not in EVENT_KINDS:
                raise _PermanentError(f"unknown event kind {batch[0].kind!r}")
            outcome = _run_handlers(factory, batch, months)
            changed = _finish(factory, batch, token, bases, outcome, settings, now or utc_now())
        except _LostClaim:
            log.warning("events %s were claimed by another worker; leaving them to it", [e.id for e in batch])
            continue
        except Exception as error:  # noqa: BLE001 - an event's failure is recorded, never raised to the loop
            _fail(factory, batch, token, error, settings, now or utc_now())
            handled += len(batch)
            continue
        for event in batch:
            metrics.EVENTS_PROCESSED.labels(kind=event.kind).inc()
        log.info("events %s processed: %s", [e.id for e in batch], outcome, extra={"event_ids": ",".join(str(e.id) for e in batch), "outcome": str(outcome)})
        handled += len(batch)
        if on_roster_change is not None and changed:
            with factory() as session:
                code = get_community(session, batch[0].community_id).code
            for month in changed:
                try:
                    on_roster_change(code, month)
                except Exception:  # noqa: BLE001 - the sweep repairs reminder jobs later
                    log.exception("moving reminder jobs for %s %s failed; the sweep will repair them", code, month)
    return handled


def recover_interrupted(factory: sessionmaker[Session]) -> int:
    """Release the claims of a worker that died (call when this process becomes the only worker); returns how many."""
    with transaction(factory) as session:
        result = session.execute(
            update(Event).where(Event.status == "processing").values(status="pending", claim_token=None, next_attempt_at=utc_now())
        )
        return result.rowcount or 0


def deliver_notices(factory: sessionmaker[Session], channels: Mapping[str, Channel], now: dt.datetime | None = None) -> int:
    """Send what the notice outbox has due, counting sends and failures in the metrics; returns how many were sent."""
    report = deliver_due(factory, channels, now=now)
    if report.sent:
        metrics.NOTICES_SENT.inc(report.sent)
    if report.retrying or report.failed:
        metrics.NOTICES_FAILED.inc(report.retrying + report.failed)
        for line in report.errors:
            log.warning("notice delivery: %s", line)
    return report.sent


class BackgroundWorker:
    """A daemon thread that processes events and delivers notices every `poll_seconds` until stopped."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        *,
        settings: Settings | None = None,
        channels: Mapping[str, Channel] | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        poll_seconds: float = 0.5,
        on_roster_change: RosterListener | None = None,
    ) -> None:
        self.factory = factory
        self.settings = settings or get_settings()
        self.channels = channels if channels is not None else channels_from_settings(self.settings)
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.on_roster_change = on_roster_change
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rota-events", daemon=True)

    def start(self) -> BackgroundWorker:
        recover_interrupted(self.factory)
        self._thread.start()
        return self

    def run_once(self) -> None:
        """One pass: due events, then due notices."""
        now = self.clock() if self.clock else None
        process_pending(self.factory, now=now, settings=self.settings, on_roster_change=self.on_roster_change)
        deliver_notices(self.factory, self.channels, now=self.clock() if self.clock else None)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # noqa: BLE001 - the database may be away for a moment; try again next poll
                log.exception("event worker pass failed")
                self._stop.wait(min(self.poll_seconds * 10, 5.0))
            self._stop.wait(self.poll_seconds)

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the thread to stop after its current pass and wait for it."""
        self._stop.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)


def start_background_worker(factory: sessionmaker[Session], **options: Any) -> Callable[[], None]:
    """Start the event-and-notice worker thread (options: settings, channels, clock, poll_seconds, on_roster_change); returns its stop."""
    worker = BackgroundWorker(factory, **options).start()
    return worker.stop


def pending_count(session: Session, community: CommunityRef | None = None) -> int:
    """How many events (of one community, or of all) wait to be processed."""
    query = select(func.count()).where(Event.status.in_(("pending", "processing")))
    if community is not None:
        query = query.where(Event.community_id == community_id_of(session, community))
    return session.scalar(query) or 0
