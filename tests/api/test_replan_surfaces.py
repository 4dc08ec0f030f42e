"""Re-plans through the service's surfaces never lose what a fresh solve keeps (issue 16).

A published month of a small generated county (9 townships, 40 experts, demand at 95% of capacity); the
busiest township is cut to one room (`PUT /townships/{id}`, `rota replan`), closed for a whole week
(`POST /closures`, `rota close`) or has its largest demand row halved (`PUT /demand/{index}`, `rota
replan`). The event worker's (or the command's) re-plan is held to a fresh solve of the changed month
with the same time limit (tests/solver/replan_checks.py): no more unmet demand, every link visit the
fresh solve makes, and assignments at other townships changed only where the forced sessions need it.
Each API test has a community of its own, so the changes do not add up; they run on SQLite and
PostgreSQL (the `service` fixture), `rota replan` (files only) once.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from collections import Counter
from pathlib import Path

import pytest
import yaml

from bench.generate import generate_scenario
from scheduler import flows, store
from scheduler.db import transaction
from scheduler.problem_builder import build_problem
from scheduler.roster_file import parse_roster, roster_json
from scheduler.scenario import Scenario
from solver.engine import solve
from solver.problem import Problem
from solver.solution import Solution
from tests.api.conftest import LiveService, wait_for
from tests.console import run_rota
from tests.solver.replan_checks import assert_as_good_as_fresh, beyond_rooms

MONTH = "2027-03"
# The service's solver limit (tests/api/conftest.py sets ROTA_SOLVER_TIME_LIMIT=3 and 2 workers): the
# re-plans of the event worker get it, and so do the fresh solves they are held to and the CLI's.
SECONDS = 3.0
WORKERS = 2


@pytest.fixture(scope="module")
def county() -> Scenario:
    # At 95% the published month leaves nothing unmet, so every session a change forces off must find a place
    # again or be proven placeless. (At 100% a halved row frees experts for rows left short before: under a
    # heavily loaded machine a 3 s re-plan does not always find the chains a fresh solve finds: bench/RESULTS.md.)
    return generate_scenario(9, 40, 0.95, seed=3, month=MONTH)


@pytest.fixture(scope="module")
def month_roster(county) -> Solution:
    """The county's month solved once (as the service's generate does, with its limit), published by each test's community."""
    return solve(build_problem(county, MONTH), time_limit=SECONDS, workers=WORKERS)


def busiest_township(scenario: Scenario, published: Solution) -> str:
    rooms = {t.id: t.rooms for t in scenario.townships}
    sessions = Counter(a.township for a in published.assignments if a.type != "supervision")
    return max(sorted(t for t in sessions if rooms[t] >= 2), key=lambda t: sessions[t])


def largest_row(published: Solution, township: str) -> tuple[str, str, int]:
    """The (type, specialty) the published roster serves most at the township, and how many sessions."""
    served = Counter((a.type, a.specialty) for a in published.assignments if a.township == township and a.type != "supervision")
    (kind, specialty), sessions = served.most_common(1)[0]
    return kind, specialty, sessions


def middle_week(published: Solution, township: str) -> tuple[dt.date, dt.date]:
    days = sorted({a.date for a in published.assignments if a.township == township})
    monday = days[len(days) // 2] - dt.timedelta(days=days[len(days) // 2].weekday())
    return monday, monday + dt.timedelta(days=4)


# --- through the service: a published month, a change, the event worker's re-plan ---------------


def published_month(service: LiveService, code: str, scenario: Scenario, roster: Solution):
    """Community `code` holding the county and `roster` as its month's version 1, published through the API; an
    office client and the published roster as stored."""
    with transaction(service.factory) as session:
        store.import_scenario(session, code, scenario)
        store.save_roster_version(session, code, roster, status="draft", cause="generate")
    client = service.client(service.token("office", community=code), community=code)
    answer = client.post(f"/rosters/{MONTH}/publish")
    assert answer.status_code == 200, answer.text
    with service.factory() as session:
        published, _, _, _ = store.load_roster_version(session, code, MONTH, status="published")
    return client, published


def replanned_by_the_worker(service: LiveService, client, code: str, kind: str, base: int) -> tuple[Problem, Solution]:
    """Wait for the `kind` event's re-plan; the community's current month problem and the new published roster."""

    def settled():
        found = [e for e in client.get("/events", params={"month": MONTH}).json() if e["kind"] == kind]
        return found[0] if found and found[0]["status"] in ("done", "failed") else None

    event = wait_for(settled, what=f"the {kind} event to be processed")
    assert event["status"] == "done", event
    entry = event["outcome"]["months"][MONTH]
    assert entry["action"] == "replanned" and entry["broken"] >= 1, entry
    with service.factory() as session:
        changed, _ = flows.month_problem(session, code, MONTH)
        new, version, status, _ = store.load_roster_version(session, code, MONTH)
    assert (version, status) == (base + 1, "published")
    return changed, new


def fresh(changed: Problem) -> Solution:
    return solve(changed, time_limit=SECONDS, workers=WORKERS)


def test_a_rooms_cut_through_the_api_replans_as_well_as_a_fresh_solve(service: LiveService, county, month_roster):
    code = "rp-rooms"
    client, published = published_month(service, code, county, month_roster)
    township = busiest_township(county, published)
    entry = client.get(f"/townships/{township}").json()
    answer = client.put(f"/townships/{township}", json={**entry, "rooms": 1})
    assert answer.status_code == 200, answer.text

    changed, new = replanned_by_the_worker(service, client, code, "township", base=1)

    assert changed.township(township).rooms == 1
    assert_as_good_as_fresh(published, changed, new, fresh(changed), township, beyond_rooms(published, township, 1))


def test_a_week_closed_through_the_api_replans_as_well_as_a_fresh_solve(service: LiveService, county, month_roster):
    code = "rp-close"
    client, published = published_month(service, code, county, month_roster)
    township = busiest_township(county, published)
    monday, friday = middle_week(published, township)
    answer = client.post("/closures", json={"township": township, "from": monday.isoformat(), "to": friday.isoformat(), "reason": "洪水"})
    assert answer.status_code == 202, answer.text

    changed, new = replanned_by_the_worker(service, client, code, "closure", base=1)

    forced = sum(1 for a in published.assignments if a.township == township and monday <= a.date <= friday)
    assert not [a for a in new.assignments if a.township == township and monday <= a.date <= friday]
    assert_as_good_as_fresh(published, changed, new, fresh(changed), township, forced)


def test_a_demand_row_halved_through_the_api_replans_as_well_as_a_fresh_solve(service: LiveService, county, month_roster):
    code = "rp-demand"
    client, published = published_month(service, code, county, month_roster)
    township = busiest_township(county, published)
    kind, specialty, sessions = largest_row(published, township)
    (row,) = [r for r in client.get("/demand").json() if (r["township"], r["type"], r["specialty"]) == (township, kind, specialty)]
    body = {"township": township, "type": kind, "specialty": specialty, "sessions": row["sessions"] // 2}
    answer = client.put(f"/demand/{row['index']}", json=body)
    assert answer.status_code == 200, answer.text

    changed, new = replanned_by_the_worker(service, client, code, "demand", base=1)

    assert sum(1 for a in new.assignments if (a.township, a.type, a.specialty) == (township, kind, specialty)) <= row["sessions"] // 2
    assert_as_good_as_fresh(published, changed, new, fresh(changed), township, sessions - row["sessions"] // 2)


def rota(*arguments: str, database_url: str | None = None) -> subprocess.CompletedProcess:
    return run_rota(*arguments, env={"ROTA_DATABASE_URL": database_url} if database_url else None)


@pytest.mark.slow  # a week's closure re-planned on both engines (~14 s); the API's rooms cut and halved row stay in the default run
def test_a_week_closed_by_rota_close_replans_as_well_as_a_fresh_solve(service: LiveService, county, month_roster):
    code = "rp-cli-close"
    client, published = published_month(service, code, county, month_roster)
    township = busiest_township(county, published)
    monday, friday = middle_week(published, township)
    closed = rota("close", township, "--from", monday.isoformat(), "--to", friday.isoformat(), "--reason", "停电", "--community", code,
                  database_url=service.database_url)
    assert closed.returncode == 0, closed.stderr

    changed, new = replanned_by_the_worker(service, client, code, "closure", base=1)

    forced = sum(1 for a in published.assignments if a.township == township and monday <= a.date <= friday)
    assert_as_good_as_fresh(published, changed, new, fresh(changed), township, forced)


# --- through `rota replan`: files in, files out ----------------------------------------------------


def write_scenario(path: Path, document: dict) -> Path:
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def solved_file(county, month_roster, tmp_path_factory) -> tuple[Path, dict, Solution]:
    """The county as a scenario document, and its month's roster as the `rota.roster/1` file `rota solve` writes."""
    folder = tmp_path_factory.mktemp("replan-cli")
    document = county.model_dump(by_alias=True, mode="json", exclude_none=True)
    roster = folder / "v1.json"
    roster.write_text(json.dumps(roster_json(county.community.name, month_roster, version=1, status="published"), ensure_ascii=False), encoding="utf-8")
    published, _, _ = parse_roster(json.loads(roster.read_text(encoding="utf-8")))
    return roster, document, published


def replanned_file(tmp_path: Path, document: dict, previous: Path) -> tuple[Problem, Solution]:
    changed = write_scenario(tmp_path / "changed.yaml", document)
    out = tmp_path / "v2.json"
    replanned = rota("replan", str(changed), "--month", MONTH, "--previous", str(previous), "--out", str(out),
                     "--time-limit", str(SECONDS), "--workers", str(WORKERS))
    assert replanned.returncode == 0, replanned.stderr
    assert "changes:" in replanned.stdout
    new, version, _ = parse_roster(json.loads(out.read_text(encoding="utf-8")))
    assert version == 2
    return build_problem(Scenario.model_validate(document), MONTH), new


def test_a_rooms_cut_by_rota_replan_replans_as_well_as_a_fresh_solve(county, solved_file, tmp_path):
    roster, document, published = solved_file
    township = busiest_township(county, published)
    changed_document = json.loads(json.dumps(document))
    (entry,) = [t for t in changed_document["townships"] if t["id"] == township]
    entry["rooms"] = 1

    changed, new = replanned_file(tmp_path, changed_document, roster)

    assert_as_good_as_fresh(published, changed, new, fresh(changed), township, beyond_rooms(published, township, 1))


def test_a_demand_row_halved_by_rota_replan_replans_as_well_as_a_fresh_solve(county, solved_file, tmp_path):
    roster, document, published = solved_file
    township = busiest_township(county, published)
    kind, specialty, sessions = largest_row(published, township)
    changed_document = json.loads(json.dumps(document))
    (row,) = [r for r in changed_document["demand"] if (r["township"], r["type"], r["specialty"]) == (township, kind, specialty)]
    row["sessions"] //= 2

    changed, new = replanned_file(tmp_path, changed_document, roster)

    assert_as_good_as_fresh(published, changed, new, fresh(changed), township, sessions - row["sessions"])
