"""The event worker's solves, on the workers when a broker is set: a month's re-plan, a request's settlement.

The event worker keeps its order, lanes, claims and notices (scheduler.events.worker); only the solve
moves: it becomes a job of `jobs`, run by a `rota worker`, and the event worker waits for its row. A
worker killed mid-solve is replaced as for any job (one retry, no duplicate version); a job that fails
or does not finish in time fails the event's attempt, which the event worker retries with backoff; a re-plan
the month's hard rules refuse (a pin it cannot keep) raises here what it raised there (`RuleBroken`, carried
by the job's row, scheduler.tasks.failures), so the event fails as it would in process.
Without a broker both run here, as before.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from config.settings import Settings, get_settings
from scheduler import flows
from scheduler.requests import get_request
from scheduler.tasks.failures import error_of
from scheduler.tasks.queue import JobFailed, on_workers, run_on_workers


def replan_month(
    factory: sessionmaker[Session], community_id: int, month: str, *, cause: str, status: str | None = None, settings: Settings | None = None
) -> int | None:
    """A minimal-change re-plan of a community's month (flows.replan): the new version, or None when nothing changed."""
    settings = settings or get_settings()
    if not on_workers(settings):
        result = flows.replan(factory, community_id, month, cause=cause, status=status)
        return result[0] if result else None
    try:
        job = run_on_workers(factory, settings, community_id, "replan", month, {"cause": cause, "status": status})
    except JobFailed as failed:
        refused = error_of(failed.failure)
        if refused is not None:
            raise refused from None  # as flows.replan raised it on the worker: a pin the month cannot keep, say
        raise
    return job.result_version


def settle_request(factory: sessionmaker[Session], community_id: int, request_id: int, *, settings: Settings | None = None) -> str:
    """Place a pending extra-session request by insertion (flows.settle_request): its state afterwards."""
    settings = settings or get_settings()
    if not on_workers(settings):
        return flows.settle_request(factory, community_id, request_id)
    run_on_workers(factory, settings, community_id, "settle", None, {"request_id": request_id})
    with factory() as session:
        return get_request(session, community_id, request_id).state
