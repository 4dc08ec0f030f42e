"""The service's own work acts as "system", on SQLite and PostgreSQL: a solve job, the event worker's re-plan, the timed draft.

Each is run from a context that names a person (`acting_as`, as a request's context does) and in a thread
that copies it (`asyncio.to_thread`, as starlette's `run_in_threadpool` does): the versions it saves must
still name "system", while the change a person made names that person. A Celery worker's versions are
checked in tests/scheduler/test_celery.py (the broker test, marked slow).
"""

from __future__ import annotations

import asyncio
import datetime as dt

from event_harness import COMMUNITY, MINIMAL, SHANGHAI
from sqlalchemy import select

from config.settings import Settings
from scheduler import audit, flows, job_rows, jobs, store
from scheduler.actors import SYSTEM, Actor, acting_as
from scheduler.db import transaction
from scheduler.events import Event, process_pending
from scheduler.models import Community
from scheduler.scenario import load_scenario
from scheduler.tasks import run_job
from tests.solved import fresh_solves_reused

OFFICE = Actor("医务科赵六", "office", 4)


def month_ahead(months: int) -> str:
    today = dt.datetime.now(SHANGHAI).date().replace(day=1)
    for _ in range(months):
        today = (today + dt.timedelta(days=32)).replace(day=1)
    return f"{today.year:04d}-{today.month:02d}"


def versions(factory, month: str) -> list[tuple[int, str, str]]:
    with factory() as session:
        return [(v.version, v.actor, v.actor_role) for v in store.list_versions(session, COMMUNITY, month)]


def imported(factory) -> int:
    with transaction(factory) as session:
        return store.import_scenario(session, COMMUNITY, load_scenario(MINIMAL))


def in_a_thread_as_office(work, *args):
    """Run `work` in a worker thread that copies this context, the context naming the office."""
    async def go():
        return await asyncio.to_thread(work, *args)

    with acting_as(OFFICE):
        return asyncio.run(go())


def test_a_solve_job_saves_its_version_as_system_whoever_queued_it(session_factory):
    community_id = imported(session_factory)
    month = month_ahead(2)
    with transaction(session_factory) as session, acting_as(OFFICE):
        job_id = job_rows.create_job(session, session.get(Community, community_id), "generate", month, {"cause": "generate", "time_limit": 2}).id
    version = in_a_thread_as_office(run_job, session_factory, job_id, "test-thread")
    assert version == 1
    assert versions(session_factory, month) == [(1, SYSTEM.name, SYSTEM.role)]
    with session_factory() as session:
        (entry,) = audit.list_audit(session, COMMUNITY, kind="version")
    assert (entry.actor, entry.actor_role, entry.version) == ("system", "system", 1)


def test_the_event_worker_replans_as_system_and_the_leave_stays_the_office_s(session_factory):
    imported(session_factory)
    month = month_ahead(2)
    with fresh_solves_reused():  # the month to re-plan (its solve once per process); the re-plan solves for real
        version = flows.generate(session_factory, COMMUNITY, month, time_limit=2)
    flows.publish(session_factory, COMMUNITY, month, version)
    with session_factory() as session:
        published, base, _, _ = store.load_roster_version(session, COMMUNITY, month)
    target = next(a for a in published.assignments if a.expert == "E01")
    with transaction(session_factory) as session, acting_as(OFFICE):
        flows.file_leave(session, COMMUNITY, "E01", target.date, reason="病假")
    settings = Settings(event_max_attempts=1, webhook_url="")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=6)
    assert in_a_thread_as_office(lambda: process_pending(session_factory, now=later, settings=settings)) == 1
    made = [v for v in versions(session_factory, month) if v[0] > base]
    assert made and all((actor, role) == ("system", "system") for _, actor, role in made), made
    with session_factory() as session:
        (leave,) = session.scalars(select(Event).where(Event.kind == "leave"))
        assert leave.status == "done", leave.last_error
        assert audit.event_actors(session, COMMUNITY, [leave.id]) == {leave.id: (OFFICE.name, OFFICE.role)}


def test_the_timed_draft_is_the_system_s(session_factory):
    imported(session_factory)
    now = dt.datetime.now(SHANGHAI)
    settings = Settings(webhook_url="", broker_url="", solver_time_limit=2)
    jobs.set_runtime(jobs.JobRuntime(session_factory, settings, {}, lambda: now))
    try:
        version = in_a_thread_as_office(jobs.run_draft_job, COMMUNITY)
    finally:
        jobs.set_runtime(None)
    assert version == 1
    assert versions(session_factory, jobs.local_month(now, 1)) == [(1, "system", "system")]
