"""`rota province generate`: every community of the database gets one new draft of the month, valid by the checker."""

from __future__ import annotations

import os

from config.settings import SAMPLE_SCENARIO
from scheduler import store
from scheduler.db import make_engine, session_factory, transaction
from scheduler.migrate import migrate
from scheduler.problem_builder import build_problem
from scheduler.scenario.load import load_scenario
from tests.console import run_rota
from tests.solver.checker import violations

MONTH = "2027-01"


def test_every_community_gets_one_valid_draft(tmp_path):
    url = f"sqlite:///{tmp_path / 'province.sqlite3'}"
    engine = make_engine(url)
    migrate(engine)
    factory = session_factory(engine)
    with transaction(factory) as session:
        for code in ("alpha", "beta", "gamma"):
            store.import_scenario(session, code, load_scenario(SAMPLE_SCENARIO))
    env = {**os.environ, "ROTA_DATABASE_URL": url, "ROTA_SOLVER_TIME_LIMIT": "3"}
    done = run_rota("province", "generate", "--month", MONTH, "--communities", "alpha,gamma", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "alpha" in done.stdout and "gamma" in done.stdout and "beta" not in done.stdout.split("communities on")[1]
    with factory() as session:
        for code in ("alpha", "gamma"):
            versions = store.list_versions(session, code, MONTH)
            assert [(v.version, v.status) for v in versions] == [(1, "draft")]
            solution, _, _, _ = store.load_roster_version(session, code, MONTH, 1)
            assert violations(build_problem(store.export_scenario(session, code), MONTH), solution) == []
        assert store.list_versions(session, "beta", MONTH) == []
    engine.dispose()

    for wrong, says in ((["--month", "2027-13"], "--month"), (["--month", MONTH, "--communities", "nowhere"], "no community nowhere")):
        refused = run_rota("province", "generate", *wrong, env=env, cwd=tmp_path)
        assert refused.returncode == 2 and says in refused.stderr and "Traceback" not in refused.stderr
