"""Background jobs of a community (generate, re-plan, settle a request) as rows of `jobs`, run by Celery or in process.

The API creates the job's row (queued) and commits, then hands the job id to a runner: Celery on the
broker when ROTA_BROKER_URL is set (`rota worker` processes take it from the queue ROTA_TASK_QUEUE),
else a thread pool of the API process (the SQLite demo needs nothing else). Either way the state lives
in the database, so any process answers `GET /c/{code}/jobs/{id}`, across restarts.

A task whose worker is killed mid-solve is delivered again (acks_late + reject_on_worker_lost, and
RabbitMQ re-queues what a vanished consumer had not acknowledged): `run_job` claims the row first (a
job already done does nothing again), and the version a generation saves is written in the same
transaction that marks the job done, so a second delivery cannot save a second version. A job is
started at most MAX_ATTEMPTS times (the first run and one retry).
"""

from __future__ import annotations

from scheduler.tasks.queue import JobFailed, JobQueue, TasksUnavailable, default_concurrency, on_workers, queue_generation, run_on_workers
from scheduler.tasks.work import MAX_ATTEMPTS, run_job

__all__ = ["MAX_ATTEMPTS", "JobFailed", "JobQueue", "TasksUnavailable", "default_concurrency", "on_workers", "queue_generation", "run_job", "run_on_workers"]
