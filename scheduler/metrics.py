"""Prometheus metrics of the service: event lag and outcomes, timed-job runs, notices sent and failed, solve times.

One registry of our own (not the client's global one) so tests and several apps in one process do not
collide. Counters are bumped where the work happens (scheduler/events/worker.py, jobs.py); the gauges that describe the
database (backlog, lag, notices by status) are refreshed from the store when /metrics is scraped, so every
replica reports the same truth, not only the one that runs the worker.
"""

from __future__ import annotations

import datetime as dt
import logging

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.events.outbox import Event
from scheduler.notify.outbox import notice_stats

log = logging.getLogger(__name__)

REGISTRY = CollectorRegistry(auto_describe=True)

EVENTS_PROCESSED = Counter("rota_events_processed_total", "Events processed to the end, by kind.", ["kind"], registry=REGISTRY)
EVENTS_FAILED = Counter(
    "rota_events_failed_total", "Event attempts that raised, by kind and outcome (retry or failed for good).",
    ["kind", "outcome"], registry=REGISTRY,
)
EVENT_LAG = Gauge("rota_event_lag_seconds", "Age of the oldest event not yet processed (0 when none).", registry=REGISTRY)
EVENTS_BY_STATUS = Gauge("rota_events", "Events in the outbox, by status.", ["status"], registry=REGISTRY)
JOB_RUNS = Counter("rota_job_runs_total", "Timed job runs, by job and outcome.", ["job", "outcome"], registry=REGISTRY)
NOTICES_SENT = Counter("rota_notices_sent_total", "Notices handed to a receiver by this process.", registry=REGISTRY)
NOTICES_FAILED = Counter(
    "rota_notices_failed_total", "Notice send attempts that failed in this process (retried or given up).", registry=REGISTRY
)
NOTICES_BY_STATUS = Gauge("rota_notices", "Notices in the outbox, by channel and status.", ["channel", "status"], registry=REGISTRY)
SOLVE_SECONDS = Histogram(
    "rota_solve_seconds", "Wall time of solves and re-plans run by the service, by cause.", ["cause"],
    buckets=(0.1, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300), registry=REGISTRY,
)
IS_LEADER = Gauge("rota_scheduler_leader", "1 while this process holds the scheduler lock and runs the timed jobs.", registry=REGISTRY)


def observe_solve(cause: str, seconds: float) -> None:
    """Record the wall time of one solve or re-plan (cause: generate, replan, request, ...)."""
    SOLVE_SECONDS.labels(cause=cause).observe(seconds)


def refresh_from_store(factory: sessionmaker[Session], now: dt.datetime | None = None) -> None:
    """Set the database-derived gauges (event backlog and lag, notices by status) from the store."""
    now = now or dt.datetime.now(dt.UTC)
    try:
        with factory() as session:
            counts = dict(session.execute(select(Event.status, func.count()).group_by(Event.status)).all())
            oldest = session.scalar(select(func.min(Event.created_at)).where(Event.status.in_(("pending", "processing"))))
            stats = notice_stats(session, failures=0)
    except Exception:  # noqa: BLE001 - a scrape must answer even when the database is away
        log.warning("metrics: could not read the store", exc_info=True)
        return
    for status in ("pending", "processing", "done", "failed"):
        EVENTS_BY_STATUS.labels(status=status).set(counts.get(status, 0))
    EVENT_LAG.set(max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0)
    for (channel, status), count in stats.by_channel.items():
        NOTICES_BY_STATUS.labels(channel=channel, status=status).set(count)


def render_metrics() -> tuple[bytes, str]:
    """The exposition text of the registry and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
