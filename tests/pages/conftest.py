"""Fixtures of the page tests: a solved sample month (solved once per session) and a service app on an SQLite file."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import make_url

from config.settings import SAMPLE_SCENARIO, Settings
from scheduler import auth, store
from scheduler.db import make_engine, session_factory, transaction
from scheduler.migrate import migrate
from scheduler.roster_file import roster_json
from scheduler.scenario.load import load_scenario
from scheduler.scenario.schema import Scenario
from solver.solution import Solution
from tests.solved import solved_once

MONTH = "2027-01"  # the sample scenario's month: New Year's Day, a weekend and a closed day (the 4th) open it
COMMUNITY = "quannan"  # the code the sample county is imported under
BASE = f"/c/{COMMUNITY}"  # where its pages live


@dataclass(frozen=True)
class SolvedMonth:
    scenario: Scenario
    solution: Solution
    document: dict


@pytest.fixture(scope="session")
def solved_month() -> SolvedMonth:
    """The sample county's January 2027, solved once per test process (tests/solved.py) for all page tests."""
    scenario = load_scenario(SAMPLE_SCENARIO)
    solution = solved_once(scenario, MONTH)
    return SolvedMonth(scenario, solution, roster_json(scenario.community.name, solution, version=1, status="published"))


@dataclass(frozen=True)
class ServiceDatabase:
    url: str
    office_token: str
    township_token: str
    expert_token: str
    township: str
    expert: str


def seed_database(url: str, solved: SolvedMonth | None, township: str, expert: str, *, migrated: Path | None = None) -> ServiceDatabase:
    """Migrate, import the sample county, store the solved month as published version 1 (if given), issue tokens.

    `migrated`: an SQLite file at the head revision (the `_migrated_sqlite` fixture) that an SQLite `url` starts
    as, instead of migrating: the same schema, without a second of migrations per test."""
    if migrated is not None:
        shutil.copyfile(migrated, make_url(url).database)
    engine = make_engine(url)
    if migrated is None:
        migrate(engine)
    factory = session_factory(engine)
    with transaction(factory) as session:
        store.import_scenario(session, COMMUNITY, load_scenario(SAMPLE_SCENARIO))
        if solved is not None:
            number = store.save_roster_version(session, COMMUNITY, solved.solution, status="draft", cause="test")
            store.publish(session, COMMUNITY, MONTH, number)
        _, office = auth.create_api_token(session, COMMUNITY, "office", label="office")
        _, township_token = auth.create_api_token(session, COMMUNITY, "township", township=township, label="township head")
        _, expert_token = auth.create_api_token(session, COMMUNITY, "expert", expert=expert, label="expert")
    engine.dispose()
    return ServiceDatabase(url, office, township_token, expert_token, township, expert)


def busiest_expert(solution: Solution) -> str:
    counts: dict[str, int] = {}
    for a in solution.assignments:
        if a.type != "supervision":
            counts[a.expert] = counts.get(a.expert, 0) + 1
    return max(sorted(counts), key=lambda expert: counts[expert])


@pytest.fixture
def seeded(tmp_path: Path, solved_month: SolvedMonth, _migrated_sqlite: Path) -> ServiceDatabase:
    return seed_database(f"sqlite:///{tmp_path / 'pages.sqlite3'}", solved_month, "t01", busiest_expert(solved_month.solution), migrated=_migrated_sqlite)


@pytest.fixture
def client(seeded: ServiceDatabase) -> Iterator:
    """A TestClient on the real app (lifespan run: migrations, workers) over the seeded database, posting forms as a browser does."""
    from api.app import create_app
    from tests.pages.forms import PageClient

    # run_scheduler: this process leads, so the event worker settles requests and re-plans after leave.
    app = create_app(Settings(database_url=seeded.url, solver_time_limit=2, run_scheduler=True))
    # PageClient posts forms with the CSRF token of the last page it was shown, as a browser does.
    with PageClient(app, base_url=f"http://testserver{BASE}") as test_client:  # relative paths are the community's
        yield test_client
