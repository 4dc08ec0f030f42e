"""Shared fixtures: a migrated, empty database on BOTH engines (an SQLite file and a fresh PostgreSQL database).

`database_url` is parametrized over "sqlite" and "postgresql", so every test that uses it (or
`engine`, `session_factory`, `session`) runs twice. PostgreSQL is real: the session creates a
uniquely named database on the server (ROTA_TEST_POSTGRES_URL, default
postgresql://postgres@127.0.0.1:5432/test names the server and the database to connect to for
CREATE DATABASE), empties it before each test, and drops it at the end. If the server is down
the fixture tries to start it; if it still cannot connect the test FAILS, it is never skipped.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from config.settings import SAMPLE_SCENARIO
from scheduler.db import make_engine
from scheduler.db import session_factory as make_session_factory
from scheduler.migrate import current_revision, head_revision, migrate

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"

# Threads the service starts (event worker, leader, job pool, APScheduler). One left running after its test goes on
# polling the PostgreSQL database that the next test of the process reuses, and takes that test's events from it.
SERVICE_THREAD_PREFIXES = ("rota-", "APScheduler")
_THREADS_BEFORE = pytest.StashKey[set[threading.Thread]]()


def _service_threads() -> set[threading.Thread]:
    return {thread for thread in threading.enumerate() if thread.name.startswith(SERVICE_THREAD_PREFIXES) and thread.is_alive()}


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    item.stash[_THREADS_BEFORE] = _service_threads()
    return (yield)


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Fail the test that leaves a service thread running once its fixtures are torn down."""
    result = yield
    deadline = time.monotonic() + 3.0
    left = _service_threads() - item.stash.get(_THREADS_BEFORE, set())
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = {thread for thread in left if thread.is_alive()}
    if left:
        raise AssertionError(f"{item.nodeid} left service threads running: {sorted(thread.name for thread in left)}")
    return result


# The heaviest end-to-end tests run once per engine, language or screen in `scripts/test --slow` (everything), and in
# the default run on the combinations below left out of it: each engine, language and screen size still runs at
# least once per test, on the engine where what the test proves matters most. Node id (or its start: every
# parameter of it) -> why the other one stays.
_PAIRWISE = (
    ("sqlite-en", "sqlite-zh-CN and postgresql-en stay: each engine and each language once"),
    ("postgresql-zh-CN", "sqlite-zh-CN and postgresql-en stay: each engine and each language once"),
    ("375-en", "375-zh-CN and 1280-en stay: each screen and each language once"),
    ("1280-zh-CN", "375-zh-CN and 1280-en stay: each screen and each language once"),
)
SECOND_RUNS: dict[str, str] = {
    "tests/scheduler/test_celery.py::test_two_deliveries_at_once_save_one_version[sqlite]":
        "Celery's redeliveries are a several-process setting: the PostgreSQL run stays",
    "tests/scheduler/test_celery.py::test_in_process_generation_is_a_job_row_any_app_reads[postgresql]":
        "in-process jobs are the SQLite demo's way: the SQLite run stays",
    "tests/scheduler/test_celery.py::test_a_restarted_service_runs_the_jobs_its_stopped_process_left[postgresql]":
        "a restarted demo service is the SQLite case: the SQLite run stays",
    "tests/scheduler/test_events.py::test_a_worker_killed_during_an_event_loses_no_event_and_sends_each_notice_once[sqlite-after]":
        "sqlite-before and postgresql-after stay: each engine and each moment of the kill once",
    "tests/scheduler/test_jobs.py::test_a_worker_killed_while_reminders_are_due_sends_each_once_after_restart[sqlite]":
        "a killed leader handing over is a several-process setting: the PostgreSQL run stays",
    "tests/scheduler/test_notice_idempotency.py::test_a_sender_killed_after_the_webhook_accepted_leads_to_one_delivery[sqlite]":
        "a killed sender handing over is a several-process setting: the PostgreSQL run stays",
    "tests/api/test_replan_surfaces.py::test_a_rooms_cut_through_the_api_replans_as_well_as_a_fresh_solve[postgresql]":
        "rooms cut on SQLite, week closed on SQLite, row halved on PostgreSQL stay (`rota replan` covers the rooms cut too)",
    "tests/api/test_replan_surfaces.py::test_a_week_closed_through_the_api_replans_as_well_as_a_fresh_solve[postgresql]":
        "rooms cut on SQLite, week closed on SQLite, row halved on PostgreSQL stay",
    "tests/api/test_replan_surfaces.py::test_a_demand_row_halved_through_the_api_replans_as_well_as_a_fresh_solve[sqlite]":
        "rooms cut on SQLite, week closed on SQLite, row halved on PostgreSQL stay (`rota replan` halves a row too)",
    "tests/api/test_scenario_body.py::test_a_hostile_scenario_body_is_refused_quickly_and_healthz_answers_throughout[postgresql-":
        "a hostile body is refused while it is parsed, before any storage: the SQLite runs stay",
    "tests/scheduler/test_event_registry.py::test_a_new_kind_is_one_module[sqlite]":
        "the registry is the same on both engines: the PostgreSQL run stays",
}
_PAIRWISE_FILES = ("tests/pages/test_logins.py", "tests/pages/test_user_pages.py", "tests/pages/test_browser_office_tools.py")
# The HTTP surfaces (routes and pages) read and write through the store, which runs on both engines in tests/scheduler
# and tests/tenancy; a surface test that runs on SQLite too leaves its PostgreSQL run to `--slow`. The whole service
# story (test_end_to_end), the concurrent writes (test_race) and the migrations keep both in the default run: there
# the engine is what is tested. (In the files above, a test of engine and language is left out by _PAIRWISE.)
_SURFACES = ("tests/api/", "tests/pages/")
_SURFACES_ON_BOTH = ("tests/api/test_end_to_end.py", "tests/api/test_race.py")
_SURFACE_ON_POSTGRESQL = "a route or page over the store, which runs on both engines in tests/scheduler: the SQLite run stays"


def second_run_reason(nodeid: str, collected: frozenset[str] = frozenset()) -> str | None:
    """Why a test is left to `scripts/test --slow` as a second run of one the default run keeps, or None.

    `collected` holds the node ids of the run, so a surface test's PostgreSQL run is left out only beside its SQLite one."""
    name, bracket, rest = nodeid.partition("[")
    combination = rest[:-1] if bracket else ""  # the parameters' id, "postgresql-en" in "...::test[postgresql-en]"
    if (
        nodeid.startswith(_SURFACES)
        and not nodeid.startswith(_SURFACES_ON_BOTH)
        and "migration" not in nodeid
        and "postgresql" in combination.split("-")
        and (combination == "postgresql" or not nodeid.startswith(_PAIRWISE_FILES))
        and f"{name}[{combination.replace('postgresql', 'sqlite', 1)}]" in collected
    ):
        return _SURFACE_ON_POSTGRESQL
    listed = next((start for start in SECOND_RUNS if nodeid.startswith(start)), None)
    if listed is not None:
        return SECOND_RUNS[listed]
    if nodeid.startswith(_PAIRWISE_FILES):
        return next((why for left_out, why in _PAIRWISE if combination == left_out), None)
    return None


# The files that take longest (seconds of test time in a full default run, 2026-12-08), first: test processes take
# whole files in collection order (`--dist loadfile`), and one of these started last ran alone for a minute or two
# at the end of the run. Each process collects the same order, as xdist needs.
HEAVIEST_FILES = (
    "tests/api/test_schemathesis.py",  # 105 s
    "tests/pages/test_browser_office_tools.py",  # 92 s
    "tests/tenancy/test_tenancy.py",  # 81 s
    "tests/scheduler/test_event_kinds.py",  # 71 s
    "tests/scheduler/test_events.py",  # 65 s
    "tests/pages/test_browser.py",  # 53 s
    "tests/scheduler/test_jobs.py",  # 52 s
    "tests/pages/test_csrf.py",  # 50 s
    "tests/pages/test_browser_office_users.py",  # 48 s
    "tests/scheduler/test_scenario_cli.py",  # 46 s
    "tests/pages/test_browser_office_levers.py",  # 46 s
    "tests/pages/test_browser_logins.py",  # 41 s
)


def _heaviest_first(item: pytest.Item) -> int:
    path = item.nodeid.partition("::")[0]
    return HEAVIEST_FILES.index(path) if path in HEAVIEST_FILES else len(HEAVIEST_FILES)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items.sort(key=_heaviest_first)  # stable: a file's tests keep their order
    collected = frozenset(item.nodeid for item in items)
    for item in items:
        if second_run_reason(item.nodeid, collected) is not None:
            item.add_marker(pytest.mark.slow)


def _psycopg_url(url: str) -> str:
    return "postgresql+psycopg://" + url.removeprefix("postgresql://") if url.startswith("postgresql://") else url


def _connect_admin(url: str) -> Engine:
    """An AUTOCOMMIT engine on the maintenance database, starting the local cluster once if it is down."""
    engine = create_engine(_psycopg_url(url), isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return engine
    except Exception as first_error:  # noqa: BLE001 - any failure means "try to start it"
        versions = [Path(p).name for p in glob.glob("/etc/postgresql/*")]
        for version in versions:
            subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"], capture_output=True, timeout=60, check=False)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with engine.connect() as connection:
                    connection.execute(text("SELECT 1"))
                return engine
            except Exception:  # noqa: BLE001
                time.sleep(0.5)
        pytest.fail(f"PostgreSQL at {make_url(url).render_as_string(hide_password=True)} cannot be reached (tried to start it): {first_error}")


@contextlib.contextmanager
def fresh_postgres_database(label: str = "") -> Iterator[str]:
    """URL of a new, empty PostgreSQL database of this test process (named after it and `label`), dropped on leaving."""
    admin_url = os.environ.get("ROTA_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    admin = _connect_admin(admin_url)
    name = f"rota_test_{os.getpid()}_{uuid.uuid4().hex[:8]}{'_' + label if label else ''}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(_psycopg_url(admin_url)).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """URL of a fresh PostgreSQL database for this test session, dropped when the session ends."""
    with fresh_postgres_database() as url:
        yield url


def _empty_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def _migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated to head once per test process; each test's `engine` starts from a copy of it."""
    path = tmp_path_factory.mktemp("migrated") / "head.sqlite3"
    built = make_engine(f"sqlite:///{path}")
    migrate(built)
    built.dispose()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty (unmigrated) database on each engine: an SQLite file in tmp_path, or the session's PostgreSQL database.

    A test that also asks for `engine` gets the database migrated and empty instead (see `engine`).
    """
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'rota.sqlite3'}"
    url = request.getfixturevalue("postgres_server_url")
    if "engine" not in request.fixturenames:
        _empty_postgres(url)
    return url


@lru_cache(maxsize=1)
def _head() -> str | None:
    return head_revision()


_EMPTY_EVERY_TABLE = """
DO $$
DECLARE
    item record;
BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        SET LOCAL session_replication_role = replica;
        FOR item IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version' LOOP
            EXECUTE 'DELETE FROM ' || quote_ident(item.tablename);
        END LOOP;
        FOR item IN SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' LOOP
            EXECUTE 'ALTER SEQUENCE ' || quote_ident(item.sequencename) || ' RESTART';
        END LOOP;
    ELSE
        FOR item IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version' LOOP
            EXECUTE 'TRUNCATE ' || quote_ident(item.tablename) || ' RESTART IDENTITY CASCADE';
        END LOOP;
    END IF;
END $$
"""


def _empty_tables(built: Engine) -> None:
    """Every row gone and every sequence restarted, the schema kept: a database fresh from `migrate`, in milliseconds.

    One statement on the server, DELETE rather than TRUNCATE: a test's tables hold a few rows, and TRUNCATE's new
    files for 26 tables cost 0.15 s a test, 56 statements one by one 0.14 s, this block a few milliseconds. With the
    replication role `replica` (the test server's superuser) the foreign keys' triggers do not fire, so the order of
    the tables does not matter; a role that may not set it truncates.
    """
    with built.begin() as connection:
        connection.execute(text(_EMPTY_EVERY_TABLE))


@pytest.fixture
def engine(request: pytest.FixtureRequest, database_url: str) -> Iterator[Engine]:
    """An engine on a database migrated to head and empty, disposed after the test.

    Migrating costs about a second per database, paid by hundreds of tests: SQLite starts from a copy of a file
    migrated once per test process; PostgreSQL, when the last test left it at the head revision, is emptied table by
    table, and otherwise dropped and migrated. Both are what `migrate` makes of an empty database.
    """
    if database_url.startswith("sqlite"):
        shutil.copyfile(request.getfixturevalue("_migrated_sqlite"), make_url(database_url).database)
        built = make_engine(database_url)
    else:
        built = make_engine(database_url)
        if current_revision(built) == _head():
            _empty_tables(built)
        else:
            _empty_postgres(database_url)
            migrate(built)
    yield built
    built.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """One open session; the test commits what it wants kept."""
    with session_factory() as opened:
        yield opened


@pytest.fixture(scope="session")
def sample_scenario_path() -> Path:
    return SAMPLE_SCENARIO
