"""rota commands for a whole deployment: `province generate --month M` fans out every community's draft and follows it.

With a broker (ROTA_BROKER_URL) the drafts are solved by `rota worker` processes; without one, by this
process, a few at a time (as many as the cores allow CP-SAT's workers). Either way each community gets
one job (with a broker none is queued twice: a pending generation is left to finish), a live progress
bar and, at the end, a table of every community's new version, its unmet sessions and the proven floor.
"""

from __future__ import annotations

import os
import time

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select

from api.commands.base import InputError, app, fail_on_bad_input
from config.settings import get_settings
from scheduler import store
from scheduler.db import session_factory
from scheduler.migrate import migrate
from scheduler.models import JobRow, RosterVersion
from scheduler.scenario.fields import parse_month
from scheduler.tasks.queue import JobQueue, default_concurrency, queue_generation

province_app = typer.Typer(no_args_is_help=True, help="Every community of the deployment at once.")
app.add_typer(province_app, name="province")
out = Console(highlight=False)


@province_app.command("generate")
def province_generate(
    month: str = typer.Option(..., "--month", help="The month to draft, YYYY-MM."),
    only: str = typer.Option("", "--communities", help="Comma-separated community codes (default: all)."),
    wait: bool = typer.Option(True, "--wait/--no-wait", help="Follow the jobs to the end (default), or queue them and return."),
) -> None:
    """Queue a draft of MONTH for every community and follow them to the end with a progress bar."""
    try:
        parse_month(month)
    except ValueError as exc:
        fail_on_bad_input(InputError(f"--month: {exc}"))
        return
    settings = get_settings()
    engine = migrate(settings.database_url)
    factory = session_factory(engine)
    with factory() as session:
        communities = store.list_communities(session)
    wanted = {code.strip() for code in only.split(",") if code.strip()}
    unknown = sorted(wanted - {c.code for c in communities})
    if unknown:
        fail_on_bad_input(InputError(f"--communities: no community {', '.join(unknown)}"))
        return
    chosen = [c for c in communities if not wanted or c.code in wanted]
    if not chosen:
        fail_on_bad_input(InputError("the database holds no community: rota import a scenario first"))
        return
    threads = default_concurrency(settings.solver_workers, os.cpu_count())
    queue = JobQueue(factory, settings, threads=threads)
    where = "rota worker processes" if settings.broker_url else f"this process, {threads} at a time"
    out.print(f"drafting {month} for {len(chosen)} communities on {where}", markup=False)
    jobs: dict[str, str | None] = {}
    for community in chosen:
        job = queue_generation(factory, settings, community.id, month, cause="province generate") if settings.broker_url else None
        if not settings.broker_url:
            job = queue.submit(community.id, "generate", month, {"cause": "province generate"})
        jobs[community.code] = job
    if not wait:
        for code, job in jobs.items():
            out.print(f"{code}: job {job or 'already pending'}", markup=False)
        queue.shutdown()
        return
    started = time.monotonic()
    rows: dict[str, JobRow] = {}
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=out) as progress:
        task = progress.add_task(month, total=len(chosen))
        while True:
            with factory() as session:
                found = session.scalars(select(JobRow).where(JobRow.id.in_([j for j in jobs.values() if j]))).all()
                for row in found:
                    session.expunge(row)
            rows = {row.id: row for row in found}
            finished = sum(1 for row in found if row.state in ("done", "failed")) + sum(1 for j in jobs.values() if j is None)
            progress.update(task, completed=finished)
            if finished >= len(chosen):
                break
            time.sleep(0.5)
    table = Table(title=f"{month}: {len(chosen)} communities in {time.monotonic() - started:.0f} s")
    for column in ("community", "job", "version", "unmet", "floor"):
        table.add_column(column)
    failed = 0
    with factory() as session:
        for community in chosen:
            job = jobs[community.code]
            row = rows.get(job) if job else None
            if row is None:
                table.add_row(community.code, "already pending", "", "", "")
                continue
            unmet = floor = ""
            if row.state == "done" and row.result_version is not None:
                report = store.report_from_document(session.scalar(select(RosterVersion.solver_report).where(
                    RosterVersion.community_id == community.id, RosterVersion.month == month, RosterVersion.version == row.result_version)))
                unmet, floor = str(report.unmet_sessions), "" if report.unmet_bound is None else str(report.unmet_bound)
            failed += row.state == "failed"
            table.add_row(community.code, row.state if row.state != "failed" else f"failed: {row.error or ''}"[:80],
                          str(row.result_version or ""), unmet, floor)
    out.print(table)
    queue.shutdown()
    engine.dispose()
    if failed:
        raise typer.Exit(1)
