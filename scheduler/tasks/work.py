"""What a job does, the same in a Celery worker and in the API's own threads: `run_job(factory, job_id, worker)`."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from scheduler import flows
from scheduler.actors import as_system
from scheduler.db import transaction
from scheduler.job_rows import claim_job, fail_job, finish_job
from scheduler.models import JobRow
from scheduler.requests import get_request
from scheduler.tasks.failures import failure_of

log = logging.getLogger(__name__)
Factory = sessionmaker[Session]
MAX_ATTEMPTS = 2  # the first run and one retry after a lost worker


class _AlreadyDone(Exception):
    """Another run of the same job saved its version first: roll this one's back."""


def _finish_in(session: Session, job_id: str, version: int | None) -> None:
    """Mark the job done in the transaction that saved `version`; _AlreadyDone (rolling it back) if it already is."""
    job = session.get(JobRow, job_id, with_for_update=True, populate_existing=True)
    if job is None or job.state == "done":
        raise _AlreadyDone(job_id)
    finish_job(session, job, version)


def _finish(factory: Factory, job_id: str, version: int | None) -> None:
    try:
        with transaction(factory) as session:
            _finish_in(session, job_id, version)
    except _AlreadyDone:
        pass


def _generate(factory: Factory, job_id: str, community_id: int, month: str, args: dict[str, Any]) -> int:
    return flows.generate(
        factory, community_id, month, time_limit=args.get("time_limit"), cause=str(args.get("cause") or "generate"),
        on_saved=lambda session, version: _finish_in(session, job_id, version),
    )


def _replan(factory: Factory, job_id: str, community_id: int, month: str | None, args: dict[str, Any]) -> int | None:
    if args.get("expert"):
        versions = flows.apply_leave(factory, community_id, str(args["expert"]), list(args.get("months") or [month]), time_limit=args.get("time_limit"))
        saved = [v for v in versions.values() if v is not None]
        version = saved[-1] if saved else None
    else:
        result = flows.replan(
            factory, community_id, str(month), cause=str(args.get("cause") or "replan"), time_limit=args.get("time_limit"),
            status=args.get("status"), on_saved=lambda session, version: _finish_in(session, job_id, version),
        )
        if result is not None:
            return result[0]  # marked done in the transaction that saved it
        version = None
    _finish(factory, job_id, version)
    return version


def _settle(factory: Factory, job_id: str, community_id: int, args: dict[str, Any]) -> int | None:
    request_id = int(args["request_id"])
    state = flows.settle_request(factory, community_id, request_id)
    version = None
    if state == "scheduled":
        with factory() as session:
            version = get_request(session, community_id, request_id).roster_version
    _finish(factory, job_id, version)
    return version


@as_system
def run_job(factory: Factory, job_id: str, worker: str) -> int | None:
    """Run a queued job once: claim it, do its work, record done (with the version saved) or failed (with the reason).

    Returns the version saved, or None (nothing saved, the job was already finished, or it failed).
    Never raises for the job's own failure: that is the job's state, read through the API.
    """
    with transaction(factory) as session:
        job = claim_job(session, job_id, worker, max_attempts=MAX_ATTEMPTS)
        if job is None:
            log.info("job %s: nothing to do (unknown, finished, or out of attempts)", job_id)
            return None
        kind, community_id, month, args, attempt = job.kind, job.community_id, job.month, dict(job.args or {}), job.attempts
    log.info("job %s: %s of community %s %s, attempt %s on %s", job_id, kind, community_id, month or "", attempt, worker)
    try:
        if kind == "generate":
            return _generate(factory, job_id, community_id, str(month), args)
        if kind == "replan":
            return _replan(factory, job_id, community_id, month, args)
        if kind == "settle":
            return _settle(factory, job_id, community_id, args)
        raise ValueError(f"unknown job kind {kind!r}")
    except _AlreadyDone:
        log.info("job %s: another run finished it first; this run's version was rolled back", job_id)
        return None
    except Exception as error:  # noqa: BLE001 - a job's failure is its state, never lost
        failure = failure_of(error)
        if failure is None:
            log.exception("job %s (%s) failed", job_id, kind)
        else:  # the month's data refuses the solve (a pin it cannot keep): the waiting caller reads why from the row
            log.warning("job %s (%s) refused: %s", job_id, kind, error)
        with transaction(factory) as session:
            fail_job(session, job_id, str(error) or type(error).__name__, failure)
        return None
