"""The event worker: pending events are processed in order, each turned into a checked roster and notices.

`process_pending` takes the due events, asks each event's kind (scheduler.events.registry) what to do:
a kind that is not absorbed by a re-plan settles itself (a request is placed by insertion); the others
have already stored their change, so the worker checks each month they touch against the current
standing data (`recheck.check_month`) and, where the latest roster now breaks a hard rule or the change
can let coverage rise, makes one minimal-change re-plan (`flows.replan`). The new version is published
at once, or held as a draft when `ROTA_REPLAN_PUBLISH=draft`; the re-plan is checked again, and an
event whose month still breaks a rule fails visibly instead of being marked done. The people whose
sessions changed are told, and nobody else.

Order and isolation. Every event belongs to one community (tenant); one worker serves them all. Events
run in id order within a lane, a lane being (community, month, township). An event that fails is
retried with backoff and, after `event_max_attempts`, marked failed with its error; while it waits,
events in other lanes (another community, another township, another month) go ahead. An event whose
change the month's pins cannot survive (the pinned expert now on leave) fails at once, no retry: its
error and outcome name each pinned session and the rule it breaks, for the office to unpin, then retry;
so does one whose re-plan finds the clash itself (a pin that cannot stay beside today's and earlier
sessions), whether the re-plan ran here or on a `rota worker`.

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
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from config.settings import Settings, get_settings
from scheduler import metrics
from scheduler.actors import as_system
from scheduler.db import transaction
from scheduler.events.notices import cause_of, community_labels, enqueue_change_notices, latest_version, roster_change
from scheduler.events.outbox import Event
from scheduler.events.recheck import SHOWN_BREAKS, check_month, lost_pins, pin_clashes
from scheduler.events.registry import KINDS, EventKind, Payload
from scheduler.labels import CommunityLabels
from scheduler.models import RosterVersion
from scheduler.notify.channels import Channel, channels_from_settings
from scheduler.notify.models import utc_now
from scheduler.notify.outbox import deliver_due
from scheduler.pins import PinClash
from scheduler.roster_rules import PIN_RULE, RuleBroken
from scheduler.store import get_community
from scheduler.zone import SERVICE_ZONE
import scheduler.events.solves as solves

log = logging.getLogger(__name__)

BACKOFF_BASE = dt.timedelta(seconds=5)
BACKOFF_CAP = dt.timedelta(minutes=10)
# A claim older than this belongs to a worker that died or lost leadership; a re-plan takes seconds.
PROCESSING_LEASE = dt.timedelta(minutes=10)

RosterListener = Callable[[str, str], None]  # (community code, month) whose published roster changed


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
    kind = KINDS.get(event.kind)
    return kind is not None and kind.replans and event.attempts == 0


# --- processing --------------------------------------------------------------------------------


def _kind(event: Event) -> EventKind:
    kind = KINDS.get(event.kind)
    if kind is None:
        raise _PermanentError(f"unknown event kind {event.kind!r}")
    return kind


def _payload(event: Event) -> Payload:
    try:
        return _kind(event).read(event.payload or {})
    except ValueError as error:
        raise _PermanentError(str(error)) from None


def _months_of(session: Session, event: Event, now: dt.datetime) -> list[str]:
    """The months an event touches: those its kind names, else every month of its community with a roster from the current one on."""
    named = None
    if event.kind in KINDS:
        try:
            named = KINDS[event.kind].months(KINDS[event.kind].read(event.payload or {}))
        except ValueError:
            named = None  # the handler reports the bad payload
    if named:
        return sorted({*named, *([event.month] if event.month else [])})
    if event.month:
        return [event.month]
    current = now.astimezone(SERVICE_ZONE).strftime("%Y-%m")  # "this month" for events without one
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
                base.setdefault(month, latest_version(session, event.community_id, month))  # kept from a crashed attempt
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


def _merge(outcome: dict[str, Any], part: dict[str, Any]) -> None:
    for key, value in part.items():
        if isinstance(value, dict):
            outcome.setdefault(key, {}).update(value)
        else:
            outcome[key] = value


class StillBroken(Exception):
    """A month's roster still breaks a hard rule after its re-plan: the event fails visibly instead of being marked done."""


def _run_handlers(factory: sessionmaker[Session], batch: list[Event], months: list[str], settings: Settings) -> dict[str, Any]:
    """Apply the batch: a kind of its own settles itself; otherwise check each month and re-plan where needed; returns what happened."""
    community = batch[0].community_id
    outcome: dict[str, Any] = {}
    head = _kind(batch[0])
    if not head.replans:
        started = time.monotonic()
        outcome = head.settle(factory, community, _payload(batch[0]))
        metrics.observe_solve(head.name, time.monotonic() - started)
        return outcome
    payloads = [(_kind(event), _payload(event)) for event in batch]
    for kind, payload in payloads:
        _merge(outcome, kind.apply(factory, community, payload))  # a step of its own (a swap's exchange) before the month's check
    may_rise = any(kind.may_raise_coverage(payload) for kind, payload in payloads)
    for month in months:
        outcome.setdefault("replanned", {})[month] = None
        outcome.setdefault("months", {})[month] = _settle_month(factory, community, month, may_rise, _cause(batch), settings)
        outcome["replanned"][month] = outcome["months"][month].get("version")
    return outcome


def _settle_month(factory: sessionmaker[Session], community: int, month: str, may_rise: bool, cause: str, settings: Settings) -> dict[str, Any]:
    """Check one month against the current data and re-plan it when it breaks a rule or coverage could rise; what happened, for the outcome."""
    check = check_month(factory, community, month)
    entry: dict[str, Any] = {"broken": len(check.breaks), "breaks": [b.as_json() for b in check.breaks[:SHOWN_BREAKS]], "base": check.version}
    if check.version is None:
        entry["action"] = "no roster"  # the change waits for the month's first generation
        return entry
    status = "draft" if check.status == "published" and settings.replan_publish == "draft" else None
    if check.broken:
        clashes = pin_clashes(factory, community, month)
        if clashes:
            raise PinClash(month, clashes)  # no re-plan may move a pin: the office unpins or undoes the change, then retries
    if check.broken or may_rise:
        began = time.monotonic()
        try:
            version = solves.replan_month(factory, community, month, cause=cause, status=status, settings=settings)  # on a `rota worker` with a broker
        except RuleBroken as clash:  # in process, or carried back by the job of a `rota worker` (scheduler.tasks.failures)
            if clash.breaks and all(b.rule == PIN_RULE for b in clash.breaks):
                raise PinClash(month, lost_pins(factory, community, month, clash.breaks), "; ".join(b.message for b in clash.breaks)) from None
            raise
        finally:
            metrics.observe_solve("replan", time.monotonic() - began)
        entry["action"] = "replanned" if version else "unchanged"
        entry["version"] = version
        if check.broken:
            again = check_month(factory, community, month)
            if again.broken:
                raise StillBroken(f"the roster of {month} (version {again.version}) still breaks {again.breaks[0].rule}: {again.breaks[0].message}")
    else:
        entry["action"] = "valid"
    if check.status == "draft" or (entry.get("version") and status == "draft"):
        # A draft is the latest: the published version is checked too, and its breaks are shown until a fixed one is published.
        published = check_month(factory, community, month, status="published")
        if published.broken:
            entry["published_broken"] = len(published.breaks)
    return entry


class _PermanentError(Exception):
    """An event that no retry can fix (an unknown kind, a payload without what it needs)."""


def _finish(
    factory: sessionmaker[Session], batch: list[Event], token: str, bases: dict[int, dict[str, int | None]],
    outcome: dict[str, Any], settings: Settings, now: dt.datetime,
) -> list[str]:
    """Enqueue the notices and mark the batch done, in one transaction; returns the months whose published roster changed."""
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
            change = roster_change(session, community_id, month, base)
            if change is None:
                continue
            entry = outcome.setdefault("months", {}).setdefault(month, {})
            entry.update(
                version=change.version, status=change.status,
                added=len(change.diff.added), removed=len(change.diff.removed), moved=len(change.diff.moved),
            )
            outcome.setdefault("replanned", {})[month] = change.version
            if change.status != "published":
                continue  # a draft is nobody's business but the office's
            if change.diff.changes:
                changed_months.append(month)
            labels = labels or community_labels(session, community_id)
            notices += enqueue_change_notices(
                session, community_id, month, change.version, change.diff, lambda assignment: cause_of(assignment, batch), settings, now, labels
            )
        for event in batch:
            kind = KINDS.get(event.kind)
            if kind is not None and not kind.replans:
                labels = labels or community_labels(session, community_id)
                notices += kind.extra_notices(session, community_id, kind.read(event.payload or {}), outcome, settings, now, labels)
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
    permanent = isinstance(error, (_PermanentError, PinClash))  # no retry helps: the office must act first
    message = str(error) if isinstance(error, PinClash) else "".join(traceback.format_exception_only(type(error), error)).strip()
    outcome = {"pin_clash": error.clashes, "months": {error.month: {"action": "pin clash"}}} if isinstance(error, PinClash) else None
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
            if outcome is not None:
                event.outcome = outcome  # what the office's pages word: which pinned sessions clash, and with which rule
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


@as_system
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
            outcome = _run_handlers(factory, batch, months, settings)
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
