"""The state of background jobs as rows of `jobs`: create, claim, finish, read.

A job moves queued -> running -> done | failed. `claim` is what a worker (Celery or the in-process
thread) calls before it works: it counts the attempt and returns None for a job already done or
failed, so a task delivered twice (a worker killed after the work was saved) does nothing again.
`finish` must run in the same transaction as the roster version the job saved.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from scheduler.errors import FieldError, ScenarioError
from scheduler.models import Community, JobRow, utc_now

JOB_KINDS = ("generate", "replan", "settle")
FINAL_STATES = ("done", "failed")


def create_job(session: Session, community: Community, kind: str, month: str | None, args: dict[str, Any] | None = None) -> JobRow:
    """A new queued job of a community; ScenarioError names `kind` when it is not one of JOB_KINDS."""
    if kind not in JOB_KINDS:
        raise ScenarioError([FieldError("kind", f"{kind!r} is not one of {', '.join(JOB_KINDS)}")])
    job = JobRow(id=uuid.uuid4().hex, community_id=community.id, kind=kind, month=month, args=dict(args or {}), state="queued", attempts=0)
    session.add(job)
    session.flush()
    return job


def claim_job(session: Session, job_id: str, worker: str, max_attempts: int | None = None) -> JobRow | None:
    """Mark a job running on `worker` (one more attempt); None if it is unknown or already finished.

    With `max_attempts`, a job that already started that many times (each lost with its worker) is
    marked failed instead, and None is returned: a job that kills its worker is not retried forever.
    """
    # One UPDATE counts the attempt: atomic on both engines (PostgreSQL locks the row; SQLite's reads take no lock).
    claimed = session.execute(
        update(JobRow)
        .where(JobRow.id == job_id, JobRow.state.not_in(FINAL_STATES))
        .values(state="running", attempts=JobRow.attempts + 1, worker=worker[:255], started_at=utc_now())
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount == 0:
        return None
    job = session.get(JobRow, job_id, populate_existing=True)
    if max_attempts is not None and job.attempts > max_attempts:
        job.attempts = max_attempts
        job.state = "failed"
        job.error = f"the job was started {max_attempts} times and each time its worker was lost"
        job.finished_at = utc_now()
        session.flush()
        return None
    return job


def finish_job(session: Session, job: JobRow, result_version: int | None) -> None:
    """Mark a job done with the version it saved (in the transaction that saved it)."""
    job.state = "done"
    job.result_version = result_version
    job.error = None
    job.failure = None
    job.finished_at = utc_now()
    session.flush()


def fail_job(session: Session, job_id: str, error: str, failure: dict[str, Any] | None = None) -> None:
    """Mark a job failed with a readable reason and, for a caller that acts on its type, the failure as data (a job already done stays done)."""
    job = session.get(JobRow, job_id, with_for_update=True)
    if job is None or job.state == "done":
        return
    job.state = "failed"
    job.error = error
    job.failure = failure
    job.finished_at = utc_now()
    session.flush()


def get_job(session: Session, job_id: str, community: Community | None = None) -> JobRow | None:
    """A job by id, only if it belongs to `community` when one is given."""
    job = session.get(JobRow, job_id)
    if job is None or (community is not None and job.community_id != community.id):
        return None
    return job


def job_json(job: JobRow, community_code: str) -> dict[str, Any]:
    """What `GET /c/{c}/jobs/{id}` answers for a job row."""
    return {
        "id": job.id,
        "kind": job.kind,
        "community": community_code,
        "month": job.month,
        "state": job.state,
        "result_version": job.result_version,
        "error": job.error,
        "attempts": job.attempts,
        "worker": job.worker,
        "created_at": job.created_at.isoformat() if job.created_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }
