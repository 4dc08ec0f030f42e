"""Where the API hands its jobs: Celery on the broker when ROTA_BROKER_URL is set, else this process's threads."""

from __future__ import annotations

import logging
import os
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from config.settings import Settings
from scheduler.db import process_tag, transaction
from scheduler.job_rows import create_job, fail_job, get_job
from scheduler.models import Community, JobRow
from scheduler.tasks.work import run_job

log = logging.getLogger(__name__)


IN_PROCESS = "in-process:"  # the worker column of a job run by an API process's threads: "in-process:rota:host:pid:random"


def _runner_gone(worker: str, mine: str) -> bool:
    """Whether the in-process runner a job row names is a process of this host that no longer runs."""
    if worker == mine:
        return False
    parts = worker.removeprefix(IN_PROCESS).split(":")
    if len(parts) != 4 or parts[1] != socket.gethostname().split(".")[0][:24] or not parts[2].isdigit():
        return False
    pid = int(parts[2])
    if pid == os.getpid():
        return True  # this pid, another tag: an earlier life of this process's pid
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class TasksUnavailable(Exception):
    """The broker could not be reached: the job was recorded as failed and nothing runs (HTTP 503)."""


class JobFailed(Exception):
    """A job waited for ended failed (its reason is the message), or did not end in time; `failure` is the row's failure as data, if any."""

    def __init__(self, message: str, failure: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.failure = failure


def default_concurrency(solver_workers: int, cores: int | None = None) -> int:
    """Celery processes so that CP-SAT's workers times Celery's fill the cores and no more (at least one)."""
    cores = cores or os.cpu_count() or 1
    return max(1, cores // max(1, solver_workers))


class JobQueue:
    """Creates job rows and gets them run: on the broker's queue, or in a small thread pool of this process."""

    def __init__(self, factory: sessionmaker[Session], settings: Settings, threads: int = 2) -> None:
        self.factory = factory
        self.settings = settings
        self.remote = bool(settings.broker_url)
        self._pool = None if self.remote else ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="rota-job")
        self._worker = f"{IN_PROCESS}{process_tag()}"[:255]

    def submit(self, community_id: int, kind: str, month: str | None, args: dict[str, Any] | None = None) -> str:
        """Record a queued job of a community and send it off; returns its id (TasksUnavailable when the broker is down)."""
        with transaction(self.factory) as session:
            job = create_job(session, session.get(Community, community_id), kind, month, args)
            if self._pool is not None:
                job.worker = self._worker  # whose threads will run it: a restart can tell it was left behind
            job_id = job.id
        if self._pool is not None:
            self._pool.submit(run_job, self.factory, job_id, self._worker)
            return job_id
        from kombu.exceptions import OperationalError

        from scheduler.tasks.celery_app import send_job

        try:
            send_job(job_id, self.settings)
        except (OperationalError, OSError) as error:
            log.error("job %s could not be queued: %s", job_id, error)
            with transaction(self.factory) as session:
                fail_job(session, job_id, f"the task queue could not be reached: {error}")
            raise TasksUnavailable("the task queue (ROTA_BROKER_URL) cannot be reached; try again later") from None
        return job_id

    def resume_orphans(self) -> list[str]:
        """Run again, in this process's threads, the unfinished jobs whose in-process runner is gone (a restarted service).

        A runner is gone when its process tag names this host and a pid that is not alive, or is this
        process's pid with another tag (a container restarted as pid 1). Jobs of a live process, or of
        another host, are left alone. Each run counts an attempt, so a job that keeps killing its
        process ends failed (MAX_ATTEMPTS), and a generation saves at most one version.
        """
        if self._pool is None:
            return []
        with self.factory() as session:
            rows = session.execute(
                select(JobRow.id, JobRow.worker).where(JobRow.state.in_(("queued", "running")), JobRow.worker.like(f"{IN_PROCESS}%"))
            ).all()
        resumed = []
        for job_id, worker in rows:
            if _runner_gone(worker, self._worker):
                self._pool.submit(run_job, self.factory, job_id, self._worker)
                resumed.append(job_id)
        if resumed:
            log.info("resumed %s job(s) left by a stopped process: %s", len(resumed), ", ".join(resumed))
        return resumed

    def get(self, job_id: str, community_id: int | None = None) -> JobRow | None:
        """A job's row (detached), only if it belongs to the community when one is given."""
        with self.factory() as session:
            community = session.get(Community, community_id) if community_id is not None else None
            if community_id is not None and community is None:
                return None
            job = get_job(session, job_id, community)
            if job is not None:
                session.expunge(job)
            return job

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


def on_workers(settings: Settings) -> bool:
    """Whether solves go to `rota worker` processes (a broker URL is set) rather than run where they are asked for."""
    return bool(settings.broker_url)


def run_on_workers(
    factory: sessionmaker[Session], settings: Settings, community_id: int, kind: str, month: str | None, args: dict[str, Any],
    *, timeout: float | None = None, poll_seconds: float = 0.25,
) -> JobRow:
    """Queue a job for the workers and wait until it is done: its row (detached). JobFailed when it failed or did not end in time.

    For a caller that needs the outcome before it goes on (the event worker's re-plans and request
    settlements keep their order and their crash safety; only the solve moves to the workers).
    """
    queue = JobQueue(factory, settings)
    job_id = queue.submit(community_id, kind, month, args)
    limit = timeout if timeout is not None else 4 * float(settings.solver_time_limit) + 120
    deadline = time.monotonic() + limit
    while True:
        job = queue.get(job_id)
        if job is not None and job.state == "done":
            return job
        if job is None or job.state == "failed":
            raise JobFailed(f"{kind} job {job_id} failed: {job.error if job else 'its row is gone'}", job.failure if job else None)
        if time.monotonic() > deadline:
            raise JobFailed(f"{kind} job {job_id} did not finish within {limit:.0f} s (state {job.state}); no worker may be running")
        time.sleep(poll_seconds)


def queue_generation(factory: sessionmaker[Session], settings: Settings, community_id: int, month: str, cause: str) -> str | None:
    """Queue a generation of a community's month for the workers unless one is queued or running already; its job id, or None."""
    with factory() as session:
        pending = session.scalar(
            select(JobRow.id).where(
                JobRow.community_id == community_id, JobRow.kind == "generate", JobRow.month == month, JobRow.state.in_(("queued", "running"))
            ).limit(1)
        )
    if pending is not None:
        log.info("generation of community %s %s is already job %s; not queuing another", community_id, month, pending)
        return None
    return JobQueue(factory, settings).submit(community_id, "generate", month, {"cause": cause})
