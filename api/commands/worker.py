"""`rota worker`: a Celery worker that runs the service's solves (generation, re-plans, request settlement)."""

from __future__ import annotations

import os
import socket

import typer
from rich.console import Console

from api.commands.base import InputError, app, fail_on_bad_input, shown_url
from config.settings import get_settings

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


@app.command()
def worker(
    concurrency: int = typer.Option(
        None, "--concurrency", "-c", min=1, max=256,
        help="Worker processes (default: the cores divided by ROTA_SOLVER_WORKERS, so CP-SAT's workers times these fill the cores).",
    ),
    loglevel: str = typer.Option("INFO", "--loglevel", help="DEBUG, INFO, WARNING or ERROR."),
) -> None:
    """Take solves from the queue ROTA_TASK_QUEUE on ROTA_BROKER_URL and run them on ROTA_DATABASE_URL."""
    from scheduler.tasks import default_concurrency

    settings = get_settings()
    if not settings.broker_url:
        fail_on_bad_input(InputError("ROTA_BROKER_URL is not set (e.g. amqp://guest:guest@127.0.0.1:5672//): without a broker the service runs its solves itself"))
    if loglevel.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        fail_on_bad_input(InputError(f"--loglevel must be DEBUG, INFO, WARNING or ERROR (got {loglevel!r})"))
    cores = os.cpu_count() or 1
    processes = concurrency or default_concurrency(settings.solver_workers, cores)
    if processes * settings.solver_workers > cores:
        err.print(f"warning: {processes} processes × {settings.solver_workers} CP-SAT workers is more than the {cores} cores", markup=False)

    from kombu.exceptions import OperationalError

    from scheduler.tasks.celery_app import configure

    celery = configure(settings)
    try:
        with celery.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=5)
    except (OperationalError, OSError) as error:
        fail_on_bad_input(InputError(f"cannot reach the broker {shown_url(settings.broker_url)}: {str(error).splitlines()[0] if str(error) else type(error).__name__}"))
    name = f"rota-{os.getpid()}@{socket.gethostname()}"
    out.print(
        f"rota worker {name}: {processes} processes × {settings.solver_workers} CP-SAT workers on {cores} cores, "
        f"queue {settings.task_queue} on {shown_url(settings.broker_url)}, database {shown_url(settings.database_url)}",
        markup=False, soft_wrap=True,
    )
    celery.worker_main([
        "worker", f"--concurrency={processes}", f"--queues={settings.task_queue}", f"--loglevel={loglevel.upper()}",
        f"--hostname={name}", "--without-gossip", "--without-mingle", "--pool=prefork",
    ])
