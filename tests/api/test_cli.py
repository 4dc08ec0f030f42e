"""The service's commands through the real console entry: `rota token create` and `rota serve --demo`."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from scheduler import auth, store
from scheduler.db import make_engine, session_factory, transaction
from scheduler.migrate import migrate
from scheduler.scenario.load import load_scenario
from tests.api.conftest import COMMUNITY, COUNTY, free_port, wait_for
from tests.console import run_rota


ROTA = str(Path(sys.executable).with_name("rota"))  # the console script pip installed with the project


def rota(*arguments: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return run_rota(*arguments, env=env, cwd=cwd)


def county_database(folder: Path) -> tuple[Engine, sessionmaker[Session], dict[str, str]]:
    """An SQLite file in `folder` holding the test county, its engine and factory, and the environment naming it."""
    url = f"sqlite:///{folder / 'rota.sqlite3'}"
    engine = make_engine(url)
    migrate(engine)
    factory = session_factory(engine)
    with transaction(factory) as session:
        store.import_scenario(session, COMMUNITY, load_scenario(COUNTY))
    return engine, factory, {**os.environ, "ROTA_DATABASE_URL": url}


def test_token_create_prints_the_token_once_and_stores_its_hash(tmp_path: Path):
    engine, factory, env = county_database(tmp_path)

    made = rota("token", "create", "--role", "township", "--township", "nanjing", env=env, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("rota_") and len(token) > 40 and "\n" not in token
    with factory() as session:
        caller = auth.authenticate(session, token)
        assert caller is not None and caller.role == "township" and caller.township == "nanjing" and caller.community == COMMUNITY
        assert all(row.token_sha256 != token for row in auth.list_api_tokens(session))

    refused = rota("token", "create", "--role", "township", "--township", "nowhere", env=env, cwd=tmp_path)
    assert refused.returncode == 2 and refused.stderr.strip() == "error: township: unknown township 'nowhere'"
    refused = rota("token", "create", "--role", "boss", env=env, cwd=tmp_path)
    assert refused.returncode == 2 and "error: role: must be one of office, township, expert" in refused.stderr

    # With two communities the command must be told which one; the bureau belongs to none.
    with transaction(factory) as session:
        store.import_scenario(session, "second", load_scenario(COUNTY))
    ambiguous = rota("token", "create", "--role", "office", env=env, cwd=tmp_path)
    assert ambiguous.returncode == 2
    assert ambiguous.stderr.strip() == f"error: the database holds 2 communities ({COMMUNITY}, second): give --community CODE"
    chosen = rota("token", "create", "--role", "expert", "--expert", "E01", "--community", "second", env=env, cwd=tmp_path)
    assert chosen.returncode == 0, chosen.stderr
    unknown = rota("token", "create", "--role", "office", "--community", "third", env=env, cwd=tmp_path)
    assert unknown.returncode == 2 and unknown.stderr.strip() == "error: no community 'third'"
    bureau = rota("token", "create", "--role", "bureau", env=env, cwd=tmp_path)
    assert bureau.returncode == 0, bureau.stderr
    misplaced = rota("token", "create", "--role", "bureau", "--community", "second", env=env, cwd=tmp_path)
    assert misplaced.returncode == 2 and "belongs to none" in misplaced.stderr
    with factory() as session:
        assert auth.authenticate(session, chosen.stdout.strip()).community == "second"
        made = auth.authenticate(session, bureau.stdout.strip())
        assert made.role == "bureau" and made.community is None
    engine.dispose()


@pytest.mark.slow  # a real `rota serve --demo` generating two months (~11 s)
def test_serve_demo_answers_at_once_and_generates_in_the_background(tmp_path: Path):
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("ROTA_")}
    env.update({"ROTA_SOLVER_TIME_LIMIT": "2", "PYTHONUNBUFFERED": "1"})
    log = (tmp_path / "serve.log").open("w+")
    process = subprocess.Popen([ROTA, "serve", "--demo", "--port", str(port)], env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        def healthy():
            try:
                return httpx2.get(f"{base}/healthz", timeout=2).status_code == 200
            except httpx2.HTTPError:
                assert process.poll() is None, (tmp_path / "serve.log").read_text()
                return False

        wait_for(healthy, timeout=90, what="rota serve --demo to answer /healthz")
        assert (tmp_path / "var" / "rota.sqlite3").exists()  # the embedded default database
        assert httpx2.get(f"{base}/docs", timeout=10).status_code == 200
        printed = (tmp_path / "serve.log").read_text()
        token = next(line.split()[-1] for line in printed.splitlines() if line.startswith("demo office token of quannan"))
        assert f"{base}/c/quannan/office" in printed  # where the office logs in and works
        office = httpx2.Client(base_url=f"{base}/c/quannan", headers={"Authorization": f"Bearer {token}"}, timeout=30)
        today = dt.date.today()
        month = f"{today.year:04d}-{today.month:02d}"
        assert office.get("/townships").status_code == 200 and len(office.get("/townships").json()) == 9  # the sample county

        def generated():
            versions = office.get(f"/rosters/{month}/versions").json()
            return versions if versions else None

        versions = wait_for(generated, timeout=150, interval=1, what=f"the demo roster of {month}")
        assert versions[0]["status"] == "draft" and versions[0]["assignments"] > 0
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
