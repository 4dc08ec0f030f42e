"""Solves as jobs: rows of `jobs` run by Celery workers on the real RabbitMQ, or by the API's threads without a broker.

- Without a broker (both engines): a generation through the API is a job row any app instance reads; a
  second delivery of a finished job, and two deliveries at once, save exactly one version; a job lost
  with its worker twice is failed, not run a third time.
- With the broker (PostgreSQL, RabbitMQ at ROTA_TEST_BROKER_URL, default the local one): the event worker's
  re-plan and settlement run as `rota worker` jobs, their versions the system's; 6 communities
  generated through the API, one `rota worker` process SIGKILLed (its whole process group) while it
  solves, a second `rota worker` finishes: every community ends with exactly one new draft, valid by the
  independent checker, and the killed job says it took two attempts; a re-plan on a worker that cannot keep a
  pin fails its event at once as a pin clash naming the pin, carried back by the job's row. Each run uses a queue of its own,
  deleted at the end, so leftovers of other runs never reach it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from config.settings import SAMPLE_SCENARIO, Settings
from scheduler import auth, flows, job_rows, store
from scheduler.db import make_engine, session_factory, transaction
from scheduler.migrate import migrate
from scheduler.models import Community, JobRow
from scheduler.scenario import load_scenario
from scheduler.tasks import MAX_ATTEMPTS, default_concurrency, run_job
from tests.conftest import REPO_ROOT, _empty_postgres
from tests.solver.checker import violations

MONTH = "2027-01"
BROKER_URL = os.environ.get("ROTA_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
COMMUNITIES = [f"k{number}" for number in range(1, 7)]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def import_communities(factory, codes: list[str]) -> dict[str, str]:
    """The sample county imported under each code; code -> an office token."""
    scenario = load_scenario(SAMPLE_SCENARIO)
    tokens = {}
    with transaction(factory) as session:
        for code in codes:
            store.import_scenario(session, code, scenario)
            tokens[code] = auth.create_api_token(session, code, "office", label="celery test")[1]
    return tokens


def versions_of(factory, code: str) -> list:
    with factory() as session:
        return store.list_versions(session, code, MONTH)


def checked(factory, code: str, version: int) -> list[str]:
    with factory() as session:
        problem, _ = flows.month_problem(session, code, MONTH)
        solution, _, _, _ = store.load_roster_version(session, code, MONTH, version)
    return violations(problem, solution)


def wait_for(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")


# --- pure --------------------------------------------------------------------------------------


def test_default_concurrency_fills_the_cores_and_no_more() -> None:
    assert default_concurrency(2, cores=2) == 1
    assert default_concurrency(1, cores=2) == 2
    assert default_concurrency(2, cores=16) == 8
    assert default_concurrency(8, cores=64) == 8
    assert default_concurrency(4, cores=2) == 1  # at least one process
    assert default_concurrency(0, cores=4) == 4


@pytest.mark.slow  # waits out the broker connection timeout (~8 s)
def test_rota_worker_without_a_broker_is_bad_input(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "ROTA_BROKER_URL": "", "ROTA_DATABASE_URL": f"sqlite:///{tmp_path / 'r.sqlite3'}"}
    done = subprocess.run([sys.executable, "-m", "api.cli", "worker"], env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 2, done
    assert done.stderr.strip().splitlines() == [done.stderr.strip()] and "ROTA_BROKER_URL" in done.stderr and "Traceback" not in done.stderr
    env["ROTA_BROKER_URL"] = "amqp://guest:guest@127.0.0.1:1//"  # nothing listens there
    done = subprocess.run([sys.executable, "-m", "api.cli", "worker", "--concurrency", "1"], env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 2, done
    assert "cannot reach the broker" in done.stderr and "guest:guest" not in done.stderr and "Traceback" not in done.stderr
    done = subprocess.run([sys.executable, "-m", "api.cli", "worker", "--concurrency", "0"], env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr


# --- in process, both engines --------------------------------------------------------------------


def test_in_process_generation_is_a_job_row_any_app_reads(database_url: str) -> None:
    settings = Settings(database_url=database_url, run_scheduler=False, broker_url="")
    factory = session_factory(migrate(database_url))
    tokens = import_communities(factory, ["one", "two"])
    with TestClient(create_app(settings)) as client:
        accepted = client.post(f"/c/one/rosters/{MONTH}/generate", headers=bearer(tokens["one"]))
        assert accepted.status_code == 202, accepted.text
        job_id = accepted.json()["job"]

        def finished():
            body = client.get(f"/c/one/jobs/{job_id}", headers=bearer(tokens["one"])).json()
            return body if body["state"] in ("done", "failed") else None

        job = wait_for(finished, 120, "the generation job")
        assert job["state"] == "done" and job["attempts"] == 1 and job["worker"].startswith("in-process:"), job
        assert job["result"] == {"version": job["result_version"]} and job["result_version"] == 1
        assert client.get(f"/c/two/jobs/{job_id}", headers=bearer(tokens["two"])).status_code == 404
    # another app on the same database (a restart, or another replica) answers for the job
    with TestClient(create_app(settings)) as again:
        body = again.get(f"/c/one/jobs/{job_id}", headers=bearer(tokens["one"])).json()
        assert body["state"] == "done" and body["result_version"] == 1
        missing = again.get(f"/c/one/jobs/{uuid.uuid4().hex}", headers=bearer(tokens["one"]))
        assert missing.status_code == 404 and "Traceback" not in missing.text
    # a second delivery of the finished job does nothing
    assert run_job(factory, job_id, "late-delivery") is None
    assert [v.version for v in versions_of(factory, "one")] == [1]
    factory.kw["bind"].dispose()


def test_two_deliveries_at_once_save_one_version(session_factory, monkeypatch: pytest.MonkeyPatch) -> None:
    import_communities(session_factory, ["twice"])
    both_solving = threading.Barrier(2, timeout=60)
    real_solve = flows.solve

    def solve_together(*args, **options):
        both_solving.wait()  # each delivery claimed the job and is solving: they overlap for sure
        return real_solve(*args, **options)

    monkeypatch.setattr(flows, "solve", solve_together)
    with transaction(session_factory) as session:
        community = store.get_community(session, "twice")
        job_id = job_rows.create_job(session, session.get(Community, community.id), "generate", MONTH, {"time_limit": 2}).id
    results: list[int | None] = []
    threads = [threading.Thread(target=lambda name=name: results.append(run_job(session_factory, job_id, name))) for name in ("w1", "w2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    saved = versions_of(session_factory, "twice")
    assert len(saved) == 1, saved
    assert sorted(results, key=lambda r: r is None) == [saved[0].version, None]
    with session_factory() as session:
        job = session.get(JobRow, job_id)
        assert job.state == "done" and job.result_version == saved[0].version and job.attempts == 2


def test_a_job_lost_with_its_worker_twice_is_failed_not_run_again(session_factory) -> None:
    import_communities(session_factory, ["lost"])
    with transaction(session_factory) as session:
        community = session.get(Community, store.get_community(session, "lost").id)
        job_id = job_rows.create_job(session, community, "generate", MONTH).id
    for worker in ("killed-1", "killed-2")[:MAX_ATTEMPTS]:
        with transaction(session_factory) as session:  # a worker takes the job and dies before it saves anything
            assert job_rows.claim_job(session, job_id, worker, max_attempts=MAX_ATTEMPTS) is not None
    assert run_job(session_factory, job_id, "third") is None
    with session_factory() as session:
        job = session.get(JobRow, job_id)
        assert job.state == "failed" and "worker was lost" in job.error and job.attempts == MAX_ATTEMPTS
    assert versions_of(session_factory, "lost") == []


def test_a_generation_that_fails_says_why(session_factory) -> None:
    import_communities(session_factory, ["bad"])
    with transaction(session_factory) as session:
        community = session.get(Community, store.get_community(session, "bad").id)
        job_id = job_rows.create_job(session, community, "generate", "2101-01").id  # outside the date range
    assert run_job(session_factory, job_id, "w") is None
    with session_factory() as session:
        job = session.get(JobRow, job_id)
        assert job.state == "failed" and job.error and "2101" in job.error


def test_an_unreachable_broker_is_503_and_a_failed_job(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rota.sqlite3'}"
    factory = session_factory(migrate(url))
    tokens = import_communities(factory, ["nobroker"])
    settings = Settings(database_url=url, run_scheduler=False, broker_url="amqp://guest:guest@127.0.0.1:1//", task_queue="nowhere")
    with TestClient(create_app(settings)) as client:
        answer = client.post(f"/c/nobroker/rosters/{MONTH}/generate", headers=bearer(tokens["nobroker"]))
    assert answer.status_code == 503 and "ROTA_BROKER_URL" in answer.json()["detail"], answer.text
    with factory() as session:
        jobs = session.query(JobRow).all()
        assert [(j.state, "task queue" in (j.error or "")) for j in jobs] == [("failed", True)]
    factory.kw["bind"].dispose()


def test_a_restarted_service_runs_the_jobs_its_stopped_process_left(database_url: str) -> None:
    import socket

    factory = session_factory(migrate(database_url))
    tokens = import_communities(factory, ["left", "alive"])
    ended = subprocess.Popen(["true"])
    ended.wait()
    host = socket.gethostname().split(".")[0][:24]
    with transaction(factory) as session:
        left = job_rows.create_job(session, session.get(Community, store.get_community(session, "left").id), "generate", MONTH)
        left.state, left.attempts, left.worker = "running", 1, f"in-process:rota:{host}:{ended.pid}:deadbeef"
        alive = job_rows.create_job(session, session.get(Community, store.get_community(session, "alive").id), "generate", MONTH)
        alive.worker = f"in-process:rota:{host}:{os.getppid()}:cafe0000"  # a live process's queued job: not ours to take
        left_id, alive_id = left.id, alive.id
    with TestClient(create_app(Settings(database_url=database_url, run_scheduler=False, broker_url=""))) as client:
        def finished():
            body = client.get(f"/c/left/jobs/{left_id}", headers=bearer(tokens["left"])).json()
            return body if body["state"] in ("done", "failed") else None

        job = wait_for(finished, 120, "the left-behind job")
        assert job["state"] == "done" and job["attempts"] == 2 and job["result_version"] == 1, job
        assert client.get(f"/c/alive/jobs/{alive_id}", headers=bearer(tokens["alive"])).json()["state"] == "queued"
    assert versions_of(factory, "alive") == []
    factory.kw["bind"].dispose()


# --- Celery on RabbitMQ, PostgreSQL, a worker killed mid-task --------------------------------------


def _broker_connection():
    from kombu import Connection

    return Connection(BROKER_URL, connect_timeout=5)


@pytest.fixture
def queue_name() -> Iterator[str]:
    """A queue of this run only (RabbitMQ must be up: started once if it is not), deleted at the end."""
    from kombu import Queue

    try:
        with _broker_connection() as connection:
            connection.ensure_connection(max_retries=1)
    except Exception:  # noqa: BLE001 - any failure means "try to start it"
        subprocess.run(["rabbitmq-server", "-detached"], capture_output=True, timeout=60, check=False)
        with _broker_connection() as connection:
            connection.ensure_connection(max_retries=30, interval_start=1, interval_step=1, interval_max=2)
    name = f"rota-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    yield name
    with _broker_connection() as connection:
        bound = Queue(name, exchange=None, routing_key=name)(connection.default_channel)
        try:
            bound.purge()
            bound.delete()
        except Exception:  # noqa: BLE001 - the queue was never declared
            pass


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest) -> str:
    url = request.getfixturevalue("postgres_server_url")
    _empty_postgres(url)
    return url


def start_worker(env: dict[str, str], log: Path, *options: str, command: tuple[str, ...] = ("-m", "api.cli", "worker")) -> subprocess.Popen:
    """`rota worker` (or `command`, taking its options) in a process group of its own (so the pool's processes die with it)."""
    handle = log.open("w")
    return subprocess.Popen(
        [sys.executable, *command, "--loglevel", "INFO", *options], env=env, cwd=REPO_ROOT,
        stdout=handle, stderr=subprocess.STDOUT, start_new_session=True,
    )


def stop_worker(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def job_rows_now(factory, ids: list[str]) -> list[JobRow]:
    with factory() as session:
        rows = [session.get(JobRow, job_id) for job_id in ids]
        for row in rows:
            session.expunge(row)
        return rows


@pytest.mark.slow
def test_a_worker_killed_mid_task_loses_no_community_and_duplicates_none(postgres_url: str, queue_name: str, tmp_path: Path) -> None:
    engine = migrate(postgres_url)
    factory = session_factory(engine)
    tokens = import_communities(factory, COMMUNITIES)
    settings = Settings(database_url=postgres_url, run_scheduler=False, broker_url=BROKER_URL, task_queue=queue_name)
    with TestClient(create_app(settings)) as client:
        jobs = {}
        for code in COMMUNITIES:
            accepted = client.post(f"/c/{code}/rosters/{MONTH}/generate", headers=bearer(tokens[code]))
            assert accepted.status_code == 202, accepted.text
            jobs[code] = accepted.json()["job"]
            assert client.get(f"/c/{code}/jobs/{jobs[code]}", headers=bearer(tokens[code])).json()["state"] == "queued"
    env = {
        **os.environ, "PYTHONPATH": str(REPO_ROOT), "ROTA_DATABASE_URL": postgres_url, "ROTA_BROKER_URL": BROKER_URL,
        "ROTA_TASK_QUEUE": queue_name, "ROTA_SOLVER_TIME_LIMIT": "4", "ROTA_SOLVER_WORKERS": "1", "ROTA_RESULT_BACKEND": "",
    }
    first = start_worker(env, tmp_path / "first.log", "--concurrency", "1")
    second = None
    try:
        marker = f"rota-{first.pid}@"

        def solving_on_first():
            rows = [row for row in job_rows_now(factory, list(jobs.values())) if row.state == "running" and (row.worker or "").startswith(marker)]
            return rows[0] if rows and (time.time() - rows[0].started_at.timestamp()) > 1.0 else None

        victim = wait_for(solving_on_first, 120, "the first worker to be a second into a solve")
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
        assert versions_of(factory, next(c for c, j in jobs.items() if j == victim.id)) == [], "the victim had not saved yet"
        second = start_worker(env, tmp_path / "second.log")  # default concurrency: cores / ROTA_SOLVER_WORKERS

        def all_finished():
            rows = job_rows_now(factory, list(jobs.values()))
            return rows if all(row.state in ("done", "failed") for row in rows) else None

        rows = {row.id: row for row in wait_for(all_finished, 240, "every job to finish")}
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(10)
        if second is not None:
            stop_worker(second)
    logs = (tmp_path / "first.log").read_text() + (tmp_path / "second.log").read_text()
    assert all(row.state == "done" for row in rows.values()), ([(r.id, r.state, r.error) for r in rows.values()], logs[-3000:])
    killed = rows[victim.id]
    assert killed.attempts == 2 and killed.worker.startswith(f"rota-{second.pid}@"), (killed.attempts, killed.worker)
    assert "Traceback" not in logs, logs[-3000:]
    # any process answers for the jobs: a fresh app on the same database
    with TestClient(create_app(settings)) as client:
        for code, job_id in jobs.items():
            body = client.get(f"/c/{code}/jobs/{job_id}", headers=bearer(tokens[code])).json()
            assert body["state"] == "done" and body["result"] == {"version": 1}, body
    for code, job_id in jobs.items():
        saved = versions_of(factory, code)
        assert [(v.version, v.status) for v in saved] == [(1, "draft")], (code, saved)
        assert rows[job_id].result_version == 1
        assert checked(factory, code, 1) == [], code
        assert saved[0].assignments > 0
    engine.dispose()


@pytest.mark.slow
def test_the_event_workers_replans_and_settlements_run_on_a_worker(postgres_url: str, queue_name: str, tmp_path: Path) -> None:
    """With a broker the event worker keeps its order and notices, and its solves are jobs a `rota worker` runs."""
    import datetime as dt
    from functools import partial

    from event_harness import COMMUNITY as SMALL, MINIMAL
    from sqlalchemy import select

    from scheduler.actors import Actor, acting_as
    from scheduler.audit import event_actors
    from scheduler.events import Event, process_pending
    from scheduler.events import solves as event_solves
    from scheduler.requests import get_request
    from scheduler.tasks import solves as worker_solves

    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
    first = (today.replace(day=1) + dt.timedelta(days=64)).replace(day=1)  # two months ahead: no day is history
    month = f"{first.year:04d}-{first.month:02d}"
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    engine = migrate(postgres_url)
    factory = session_factory(engine)
    with transaction(factory) as session:
        store.import_scenario(session, SMALL, load_scenario(MINIMAL))
    base = flows.publish(factory, SMALL, month, flows.generate(factory, SMALL, month, time_limit=3))
    with factory() as session:
        published, _, _, _ = store.load_roster_version(session, SMALL, month)
    target = next(a for a in published.assignments if a.expert == "E01")
    office = Actor("医务科", "office", 1)
    settings = Settings(database_url=postgres_url, broker_url=BROKER_URL, task_queue=queue_name, event_max_attempts=2, webhook_url="")
    backend = "redis://127.0.0.1:6379/0"  # this worker also records each task's result in Redis (the job row stays the truth)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "ROTA_DATABASE_URL": postgres_url, "ROTA_BROKER_URL": BROKER_URL, "ROTA_TASK_QUEUE": queue_name,
           "ROTA_SOLVER_TIME_LIMIT": "3", "ROTA_SOLVER_WORKERS": "1", "ROTA_RESULT_BACKEND": backend}
    worker = start_worker(env, tmp_path / "worker.log", "--concurrency", "1")
    event_solves.use(partial(worker_solves.replan_month, settings=settings), partial(worker_solves.settle_request, settings=settings))
    try:
        with transaction(factory) as session, acting_as(office):
            flows.file_leave(session, SMALL, "E01", target.date, reason="病假")
            request_id = flows.request_extra_session(session, SMALL, "pitou", "clinic", "internal_med", 1, first, last)
        with acting_as(office):  # whoever runs the event worker, the worker's versions are the system's
            process_pending(factory, now=dt.datetime.now(dt.UTC) + dt.timedelta(hours=6), settings=settings)
    finally:
        event_solves.use()
        stop_worker(worker)
    with factory() as session:
        events = list(session.scalars(select(Event).order_by(Event.id)))
        jobs = list(session.scalars(select(JobRow).order_by(JobRow.created_at)))
        request = get_request(session, SMALL, request_id)
        after, version, status, _ = store.load_roster_version(session, SMALL, month)
        problem, _ = flows.month_problem(session, SMALL, month)
        made = [(v.actor, v.actor_role) for v in store.list_versions(session, SMALL, month) if v.version > base]
        traced = event_actors(session, SMALL, [e.id for e in events])
    assert made and set(made) == {("system", "system")}, made  # saved by the Celery worker's jobs
    assert set(traced.values()) == {(office.name, "office")}, traced
    assert [(e.kind, e.status) for e in events] == [("leave", "done"), ("request", "done")], [(e.kind, e.status, e.last_error) for e in events]
    assert [(j.kind, j.state) for j in jobs] == [("replan", "done"), ("settle", "done")], [(j.kind, j.state, j.error) for j in jobs]
    assert all(j.worker.startswith(f"rota-{worker.pid}@") for j in jobs), [j.worker for j in jobs]
    assert request.state == "scheduled", request.reason
    assert version > base and status == "published" and jobs[0].result_version is not None
    assert not any(a.expert == "E01" and a.date == target.date for a in after.assignments)
    assert violations(problem, after) == []
    import json

    import redis

    results = redis.Redis.from_url(backend)
    for job in jobs:  # the task's id is the job's id
        stored = json.loads(results.get(f"celery-task-meta-{job.id}"))
        assert stored["status"] == "SUCCESS" and stored["result"] == job.result_version, stored
        results.delete(f"celery-task-meta-{job.id}")
    engine.dispose()


@pytest.mark.slow  # a real `rota worker` on RabbitMQ and PostgreSQL: its start and one re-plan (~20 s on 2 busy cores)
def test_a_pin_clash_found_in_a_workers_replan_fails_its_event_at_once(postgres_url: str, queue_name: str, tmp_path: Path, monkeypatch) -> None:
    """A pin that is fine alone but cannot stay beside the frozen past is found only by the re-plan; on a `rota worker` the
    job's row carries the refusal back, so the event fails at once as a pin clash naming the pin, as it does in process."""
    import datetime as dt
    from functools import partial

    from event_harness import COMMUNITY as SMALL, MINIMAL
    from sqlalchemy import select

    from scheduler import pins, standing
    from scheduler.events import Event, process_pending
    from scheduler.events import solves as event_solves
    from scheduler.tasks import solves as worker_solves
    from solver.solution import Assignment, Solution, SolveReport

    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
    first = (today.replace(day=1) + dt.timedelta(days=64)).replace(day=1)  # two months ahead: its days are history only as the test says
    month = f"{first.year:04d}-{first.month:02d}"
    engine = migrate(postgres_url)
    factory = session_factory(engine)
    with transaction(factory) as session:
        store.import_scenario(session, SMALL, load_scenario(MINIMAL))
    with factory() as session:
        days = sorted({slot.day for slot in flows.month_problem(session, SMALL, month)[0].slots})
    past, later = days[0], days[5]
    # E01 served on the month's first day (now history) and is pinned on a later one; then the office cuts E01 to one session.
    # The pin alone keeps every rule (the worker's check before solving finds no clash); beside the frozen first day it cannot.
    roster = (
        Assignment(past, "am", "nanjing", "clinic", "cardio", "E01", id="served"),
        Assignment(later, "am", "nanjing", "clinic", "cardio", "E01", id="pinned"),
    )
    with transaction(factory) as session:
        number = store.save_roster_version(session, SMALL, Solution(month, roster, (), SolveReport("FEASIBLE")), cause="hand-made")
    flows.publish(factory, SMALL, month, number)
    with transaction(factory) as session:
        pins.pin_assignment(session, SMALL, month, "pinned")
        e01 = standing.get_item(session, SMALL, "experts", "E01")
        standing.put_item(session, SMALL, "experts", {**e01, "max_sessions": 1})
    monkeypatch.setattr(flows, "_today", lambda factory, community: past)  # the worker's today, for naming the clash here too
    settings = Settings(database_url=postgres_url, broker_url=BROKER_URL, task_queue=queue_name, event_max_attempts=5, webhook_url="")
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "ROTA_DATABASE_URL": postgres_url, "ROTA_BROKER_URL": BROKER_URL, "ROTA_TASK_QUEUE": queue_name,
           "ROTA_SOLVER_TIME_LIMIT": "3", "ROTA_SOLVER_WORKERS": "1", "ROTA_RESULT_BACKEND": "", "ROTA_TEST_TODAY": past.isoformat()}
    worker = start_worker(env, tmp_path / "worker.log", "--concurrency", "1", command=(str(Path(__file__).with_name("rota_celery_worker.py")),))
    event_solves.use(partial(worker_solves.replan_month, settings=settings))
    try:
        assert process_pending(factory, now=dt.datetime.now(dt.UTC) + dt.timedelta(hours=6), settings=settings) == 1
    finally:
        event_solves.use()
        stop_worker(worker)
    with factory() as session:
        (event,) = session.scalars(select(Event).where(Event.kind == "expert"))
        jobs = list(session.scalars(select(JobRow)))
        versions = [v.version for v in store.list_versions(session, SMALL, month)]
    log = (tmp_path / "worker.log").read_text()
    assert [(j.kind, j.state, (j.failure or {}).get("type")) for j in jobs] == [("replan", "failed", "rule_broken")], ([(j.state, j.error) for j in jobs], log[-3000:])
    assert jobs[0].worker.startswith(f"rota-{worker.pid}@")  # the re-plan ran on the worker, not here
    assert (event.status, event.attempts) == ("failed", 1), event.last_error  # no retry: the office must unpin first
    assert event.outcome["pin_clash"] == [{
        "assignment_id": "pinned", "date": later.isoformat(), "half_day": "am", "township": "nanjing", "type": "clinic", "specialty": "cardio",
        "expert": "E01", "rule": "monthly session limit",
    }], event.outcome
    assert "E01 at nanjing" in event.last_error and "unpin" in event.last_error, event.last_error
    assert versions == [number]  # nothing saved
    engine.dispose()


@pytest.mark.slow
def test_the_timed_draft_is_queued_for_the_workers_once(postgres_url: str, queue_name: str) -> None:
    """With a broker the leader's draft job queues a generation (one per community and month at a time) instead of solving."""
    import datetime as dt

    from kombu import Queue

    from scheduler import jobs as timed

    factory = session_factory(migrate(postgres_url))
    import_communities(factory, ["drafty"])
    settings = Settings(database_url=postgres_url, broker_url=BROKER_URL, task_queue=queue_name)
    now = dt.datetime(2026, 12, 20, 1, 0, tzinfo=dt.UTC)  # 09:00 in Beijing on the draft day
    timed.set_runtime(timed.JobRuntime(factory=factory, settings=settings, channels={}, clock=lambda: now))
    try:
        assert timed.run_draft_job("drafty") is None
        assert timed.run_draft_job("drafty") is None  # fired twice (a new leader): still one job
    finally:
        timed.set_runtime(None)
    with factory() as session:
        rows = session.query(JobRow).all()
    assert [(r.kind, r.month, r.state, r.args["cause"]) for r in rows] == [("generate", "2027-01", "queued", "scheduled draft")]
    with _broker_connection() as connection:
        _, waiting, _ = Queue(queue_name, routing_key=queue_name)(connection.default_channel).queue_declare(passive=True)
    assert waiting == 1
    factory.kw["bind"].dispose()
