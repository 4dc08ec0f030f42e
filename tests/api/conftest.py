"""A real service for the API tests: uvicorn in a subprocess on a random port, on SQLite and on PostgreSQL.

One server per engine for the whole test process (starting one costs seconds): tests use their own months,
townships and experts where they change things, so they do not step on each other. The test process reaches the same
database directly for what a person would do at the console (import the county, create the first
office token) and to look at what the service stored.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from scheduler import auth, store
from scheduler.db import make_engine, session_factory, transaction
from scheduler.migrate import migrate
from scheduler.scenario.load import load_scenario
from tests.conftest import fresh_postgres_database

COUNTY = Path(__file__).parent / "county.yaml"
COMMUNITY = "county"  # the code the test county is imported under
MONTH = "2027-03"
REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class LiveService:
    """A running service and handles on its database; `client()` talks to one community's addresses (`/c/county/...`)."""

    root_url: str
    database_url: str
    engine: Engine
    factory: sessionmaker[Session]
    process: subprocess.Popen
    log_path: Path
    tokens: dict[str, str] = field(default_factory=dict)
    community: str = COMMUNITY

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/c/{self.community}"

    def client(self, token: str | None = None, *, community: str | None = None) -> httpx2.Client:
        """A client whose relative paths are the community's (`/rosters/...` is `/c/county/rosters/...`)."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx2.Client(base_url=f"{self.root_url}/c/{community or self.community}", headers=headers, timeout=60)

    def root_client(self, token: str | None = None) -> httpx2.Client:
        """A client of the global addresses (`/healthz`, `/province/...`)."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx2.Client(base_url=self.root_url, headers=headers, timeout=60)

    def token(self, role: str, *, township: str | None = None, expert: str | None = None, community: str | None = None) -> str:
        """A bearer token made at the console (as `rota token create` does); the bureau's belongs to no community."""
        owner = None if role == "bureau" else (community or self.community)
        with transaction(self.factory) as session:
            _, token = auth.create_api_token(session, owner, role, township=township, expert=expert)
        return token

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_service(database_url: str, workdir: Path, **environment: str) -> LiveService:
    """Migrate, import the test county, then start `uvicorn` on a random port and wait for /healthz."""
    engine = make_engine(database_url)
    migrate(engine)
    factory = session_factory(engine)
    with transaction(factory) as session:
        store.import_scenario(session, COMMUNITY, load_scenario(COUNTY))
    port = free_port()
    env = {
        **os.environ,
        "ROTA_DATABASE_URL": database_url,
        "ROTA_SOLVER_TIME_LIMIT": "3",
        "ROTA_SOLVER_WORKERS": os.environ.get("ROTA_SOLVER_WORKERS", "2"),
        "ROTA_HOST": "127.0.0.1",
        "ROTA_PORT": str(port),
        "ROTA_RUN_SCHEDULER": "true",  # this process leads: it runs the event worker and the timed jobs
        **environment,
    }
    log_path = workdir / f"uvicorn-{port}.log"
    command = [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    process = subprocess.Popen(command, cwd=workdir, env=env, stdout=log_path.open("wb"), stderr=subprocess.STDOUT)
    service = LiveService(f"http://127.0.0.1:{port}", database_url, engine, factory, process, log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"uvicorn exited with {process.returncode}:\n{service.log()}")
        try:
            if httpx2.get(f"{service.root_url}/healthz", timeout=2).status_code == 200:
                return service
        except httpx2.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise AssertionError(f"uvicorn did not answer /healthz within 60 s:\n{service.log()}")


def stop_service(service: LiveService) -> None:
    service.process.terminate()
    try:
        service.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        service.process.kill()
        service.process.wait(timeout=10)
    service.engine.dispose()


@pytest.fixture(scope="session")
def running_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], LiveService]]:
    """The package's service on an engine ("sqlite" or "postgresql"), started on first use and kept until the test process ends.

    Kept for the process, not the package: under `--dist loadfile` a process runs the package's files one after
    another, each file's sqlite tests and then its postgresql ones, so a package-scoped service was stopped and
    started again twice per file (migrate, import, uvicorn: ~6 s each on a quiet machine). Each service has a
    database of its own, the PostgreSQL one apart from the session's `postgres_server_url`, so the tests of the
    other packages, which empty and drop that one, never meet this service's leader, locks or sweeps.
    """
    started: dict[str, LiveService] = {}
    with contextlib.ExitStack() as stack:

        def running(kind: str) -> LiveService:
            if kind not in started:
                workdir = tmp_path_factory.mktemp(f"service-{kind}")
                url = f"sqlite:///{workdir / 'rota.sqlite3'}" if kind == "sqlite" else stack.enter_context(fresh_postgres_database("api"))
                service = start_service(url, workdir)
                stack.callback(stop_service, service)  # stopped before its database is dropped
                service.tokens["office"] = service.token("office")
                started[kind] = service
            return started[kind]

        yield running


@pytest.fixture(scope="package", params=["sqlite", "postgresql"])
def service(request: pytest.FixtureRequest, running_services: Callable[[str], LiveService]) -> LiveService:
    """The service on each engine, with the test county imported and an office token in `tokens['office']`."""
    return running_services(request.param)


def wait_for(predicate, timeout: float = 90.0, interval: float = 0.3, what: str = "the condition"):
    """Poll until predicate() returns something truthy; fail naming what was awaited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
