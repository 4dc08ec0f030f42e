"""Background jobs of the API (a month's generation, a re-plan): run in worker threads, never on the event loop.

Each job belongs to one community (its code): a client polls `GET /c/{community}/jobs/{id}` and a
job of another community is not found. Jobs live in the memory of the process that started them;
a restart forgets them (the roster versions they saved stay in the database).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)
JOB_STATES = ("queued", "running", "done", "failed")


@dataclass
class Job:
    """One background job and where it stands."""

    id: str
    kind: str
    month: str | None
    community: str | None = None  # the community's code
    state: str = "queued"
    result: Any = None
    error: str | None = None
    created_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    finished_at: dt.datetime | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "community": self.community,
            "month": self.month,
            "state": self.state,
            "result": self.result,
            "error": self.error,
            "created_at": self.created_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }


class JobRunner:
    """A small pool of worker threads (CP-SAT releases the GIL while it searches) and the jobs it ran."""

    def __init__(self, workers: int = 2, keep: int = 500) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="rota-job")
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._keep = keep

    def submit(self, kind: str, month: str | None, work: Callable[[], Any], *, community: str | None = None) -> Job:
        """Run `work` in a worker thread as a job of a community (by code); returns the job at once."""
        job = Job(id=uuid.uuid4().hex, kind=kind, month=month, community=community)
        with self._lock:
            self._jobs[job.id] = job
            if len(self._jobs) > self._keep:
                finished = [j for j in self._jobs.values() if j.state in ("done", "failed")]
                for old in finished[: len(self._jobs) - self._keep]:
                    self._jobs.pop(old.id, None)
        # The job runs in the caller's context: what it saves records the caller as its actor (scheduler.actors).
        self._pool.submit(contextvars.copy_context().run, self._run, job, work)
        return job

    def _run(self, job: Job, work: Callable[[], Any]) -> None:
        job.state = "running"
        try:
            job.result = work()
            job.state = "done"
        except Exception as error:  # noqa: BLE001 - a job's failure is reported on the job, never lost
            log.exception("job %s (%s %s %s) failed", job.id, job.kind, job.community, job.month)
            job.error = str(error) or type(error).__name__
            job.state = "failed"
        finally:
            job.finished_at = dt.datetime.now(dt.timezone.utc)

    def get(self, job_id: str, community: str | None = None) -> Job | None:
        """A job by id (only if it belongs to `community`, when one is given)."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or (community is not None and job.community != community):
            return None
        return job

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
