"""`rota serve --workers 2` on PostgreSQL: two server processes built by the app factory, answering the same feed bytes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import make_url, text

from scheduler import auth, store
from scheduler.db import make_engine, session_factory, transaction
from scheduler.migrate import migrate
from scheduler.scenario.load import load_scenario
from tests.api.conftest import COMMUNITY, COUNTY, free_port
from tests.conftest import DEFAULT_POSTGRES_URL, _connect_admin, _psycopg_url

REPO = Path(__file__).resolve().parents[2]


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


@pytest.mark.slow
def test_two_server_processes_serve_the_same_feed(tmp_path):
    admin_url = os.environ.get("ROTA_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    admin = _connect_admin(admin_url)
    name = f"rota_workers_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(_psycopg_url(admin_url)).set(database=name).render_as_string(hide_password=False)
    server = None
    try:
        engine = make_engine(url)
        migrate(engine)
        with transaction(session_factory(engine)) as session:
            store.import_scenario(session, COMMUNITY, load_scenario(COUNTY))
            _, feed = auth.create_feed_token(session, COMMUNITY, "community")
        engine.dispose()
        port = free_port()
        env = {**os.environ, "ROTA_DATABASE_URL": url, "ROTA_SOLVER_TIME_LIMIT": "3", "PYTHONPATH": str(REPO)}
        server = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--workers", "2", "--port", str(port)], cwd=tmp_path, env=env,
                                  stdout=(tmp_path / "serve.log").open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx2.get(f"{base}/healthz", timeout=2).status_code == 200 and len(_children(server.pid)) >= 2:
                    break
            except httpx2.HTTPError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.3)
        with httpx2.Client(base_url=base, timeout=10) as client:
            answers = [client.get(f"/c/{COMMUNITY}/feeds/{feed}.ics") for _ in range(30)]
        assert {a.status_code for a in answers} == {200} and len({a.headers["etag"] for a in answers}) == 1
        assert len([pid for pid in _children(server.pid) if Path(f"/proc/{pid}/cmdline").read_bytes().count(b"multiprocessing")]) >= 2
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
