"""The Celery app of the service: one task, `rota.run_job(job_id)`, on the queue ROTA_TASK_QUEUE of ROTA_BROKER_URL.

A delivery is acknowledged only when the task returns (acks_late), and one whose worker process died
is handed back to the broker (reject_on_worker_lost); a worker killed whole closes its connection and
RabbitMQ re-queues what it held. The prefetch is one message per process: a solve is seconds long and
another worker should take the next community, not wait behind it. `run_job` makes a second delivery safe.

Each worker process opens its own engine on first use (after the fork of the pool), on ROTA_DATABASE_URL.
"""

from __future__ import annotations

import os
import threading

from celery import Celery
from sqlalchemy.orm import Session, sessionmaker

from config.settings import Settings, get_settings
from scheduler.db import make_engine, process_tag, session_factory
from scheduler.tasks.work import run_job

TASK_NAME = "rota.run_job"
COMMON_CONF = dict(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_serializer="json",
    accept_content=["json"],
    result_serializer="json",
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    worker_send_task_events=False,
    task_send_sent_event=False,
)
_apps: dict[tuple[str, str, str], Celery] = {}
_apps_lock = threading.Lock()

_factory: sessionmaker[Session] | None = None
_factory_lock = threading.Lock()


def _forget_factory() -> None:
    global _factory
    _factory = None


os.register_at_fork(after_in_child=_forget_factory)  # a pool process opens its own connections, never its parent's


def configure(settings: Settings | None = None) -> Celery:
    """The Celery app of the settings' broker, result backend and queue (one per combination, so its connection pool is its own)."""
    settings = settings or get_settings()
    key = (settings.broker_url, settings.result_backend, settings.task_queue)
    with _apps_lock:
        app = _apps.get(key)
        if app is None:
            app = Celery("rota", set_as_current=False)
            app.conf.update(
                COMMON_CONF, broker_url=settings.broker_url, result_backend=settings.result_backend or None,
                task_ignore_result=not settings.result_backend, task_default_queue=settings.task_queue,
            )
            app.task(name=TASK_NAME, bind=True, acks_late=True, reject_on_worker_lost=True)(run_job_task)
            _apps[key] = app
        return app


def worker_factory() -> sessionmaker[Session]:
    """This worker process's session factory on ROTA_DATABASE_URL (opened once per process)."""
    global _factory
    with _factory_lock:
        if _factory is None:
            _factory = session_factory(make_engine(get_settings().database_url))
        return _factory


def run_job_task(self, job_id: str) -> int | None:
    """Run one job (by its row's id) in this worker."""
    worker = f"{self.request.hostname or 'celery'}:{process_tag()}"[:255]
    return run_job(worker_factory(), job_id, worker)


def send_job(job_id: str, settings: Settings) -> None:
    """Put a job on the queue; kombu's OperationalError when the broker cannot be reached within a few seconds."""
    configure(settings).send_task(
        TASK_NAME, args=[job_id], task_id=job_id, queue=settings.task_queue, retry=True,  # the task's id is the job's
        retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1},
    )
