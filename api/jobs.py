"""Background jobs of the API (a month's generation, a re-plan, a request's settlement) as the API shows them.

Each job is a row of `jobs` (scheduler.job_rows) belonging to one community; it runs as a Celery task
when ROTA_BROKER_URL is set (`rota worker`), else in a thread of this process (scheduler.tasks). A
client polls `GET /c/{community}/jobs/{id}` on any replica, before or after a restart; a job of another
community is not found.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from config.settings import Settings
from scheduler.models import JobRow
from scheduler.tasks import JobQueue


@dataclass(frozen=True)
class Job:
    """One background job and where it stands (`result` is {"version": N} once a version was saved)."""

    id: str
    kind: str
    month: str | None
    community: str | None
    state: str
    result_version: int | None
    error: str | None
    attempts: int
    worker: str | None
    created_at: str | None
    started_at: str | None
    finished_at: str | None

    @property
    def result(self) -> dict[str, Any] | None:
        return {"version": self.result_version} if self.result_version is not None else None

    @classmethod
    def of(cls, row: JobRow, community: str | None) -> Job:
        def moment(value) -> str | None:
            return value.isoformat() if value else None

        return cls(
            id=row.id, kind=row.kind, month=row.month, community=community, state=row.state, result_version=row.result_version,
            error=row.error, attempts=row.attempts, worker=row.worker, created_at=moment(row.created_at),
            started_at=moment(row.started_at), finished_at=moment(row.finished_at),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "community": self.community, "month": self.month, "state": self.state,
            "result": self.result, "result_version": self.result_version, "error": self.error, "attempts": self.attempts,
            "worker": self.worker, "created_at": self.created_at, "started_at": self.started_at, "finished_at": self.finished_at,
        }


class JobRunner:
    """The API's door to the job queue: submit a community's job, read one back."""

    def __init__(self, factory: sessionmaker[Session], settings: Settings, threads: int = 2) -> None:
        self.queue = JobQueue(factory, settings, threads)

    def submit(self, kind: str, month: str | None, *, community_id: int, community: str, args: dict[str, Any] | None = None) -> Job:
        """Queue a job of the community (id and code); returns it at once (TasksUnavailable when the broker is down)."""
        job_id = self.queue.submit(community_id, kind, month, args)
        found = self.get(job_id, community_id=community_id, community=community)
        assert found is not None
        return found

    def get(self, job_id: str, *, community_id: int, community: str) -> Job | None:
        """A job of this community by id, or None (unknown, or another community's)."""
        row = self.queue.get(job_id, community_id)
        return Job.of(row, community) if row is not None else None

    def shutdown(self) -> None:
        self.queue.shutdown()
