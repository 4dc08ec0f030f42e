"""Lost updates (issue 17 item 1): 20 office edits of one month at the same moment, through a real service.

On SQLite and on PostgreSQL, 20 threads send their edit (14 deletions and 6 moves of distinct
sessions, each valid on its own and together) at once, released by one barrier: to one service
(its writes of a community queue up in the process), and split between two replicas on one
database (where only the database's write lock and the base check keep them apart). What must hold:

- no 5xx; every answer is a 2xx, or a 409 that carries the month's current version;
- every 2xx edit is in the latest version (a deleted session is gone, a moved one is where it was moved);
- the versions form one chain: numbers without gaps, each version the previous one plus exactly one
  edit (so no edit was built on a stale base and undid another), and each success is one of them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx2
import pytest

from scheduler import store
from scheduler.db import transaction
from scheduler.scenario import parse_scenario
from tests.api.conftest import LiveService, free_port
from tests.api.test_end_to_end import run_job

RACE_COMMUNITY = "race"  # a community of its own, so no other test's edits land in this month
EDITS = 20
DELETIONS = 14

# Six townships, each asking for five internal-medicine clinics; eight internists: about 30 sessions in October.
RACE_COUNTY = "\n".join(
    [
        "format: rota.scenario/1",
        "community: {name: 并发测试县, timezone: Asia/Shanghai}",
        "calendar: {holidays: CN}",
        "specialties:",
        "  - {code: internal_med, name: 普通内科}",
        "departments:",
        "  - {code: internal, name: 内科, min_on_site: 0}",
        "townships:",
        *[f"  - {{id: t{n}, name: 第{n}镇卫生院, travel_minutes: 30, rooms: 1}}" for n in range(1, 7)],
        "experts:",
        *[
            f"  - {{id: E{n:02d}, name: 专家{n}, department: internal, title: chief, specialties: [internal_med], max_sessions: 6}}"
            for n in range(1, 9)
        ],
        "demand:",
        *[f"  - {{township: t{n}, type: clinic, specialty: internal_med, sessions: 5}}" for n in range(1, 7)],
        "",
    ]
)


@pytest.fixture
def race_office(service: LiveService) -> str:
    """The race community imported into the running service's database, and an office token of it."""
    with transaction(service.factory) as session:
        store.import_scenario(session, RACE_COMMUNITY, parse_scenario(RACE_COUNTY))
    return service.token("office", community=RACE_COMMUNITY)


@pytest.fixture
def replica(service: LiveService, tmp_path) -> Iterator[str]:
    """A second service process on the same database (no timed jobs): its root URL."""
    port = free_port()
    env = {**os.environ, "ROTA_DATABASE_URL": service.database_url, "ROTA_SOLVER_TIME_LIMIT": "3", "ROTA_RUN_SCHEDULER": "false"}
    command = [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    log_path = tmp_path / "replica.log"
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=log_path.open("wb"), stderr=subprocess.STDOUT)
    root = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log_path.read_text(errors="replace")
            try:
                if httpx2.get(f"{root}/healthz", timeout=2).status_code == 200:
                    break
            except httpx2.HTTPError:
                pass
            assert time.monotonic() < deadline, "the replica did not answer /healthz within 60 s"
            time.sleep(0.2)
        yield root
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _moves(assignments: list[dict], count: int) -> dict[str, dict]:
    """`count` moves of sessions to the other half of their own day, that cannot clash with each other or the roster.

    A move is chosen only where its expert and its township have nothing in the other half of that day, and
    no two moves share an expert's or a township's day, so the moves fit the hard rules in any order and
    whatever is left of the roster (one place per half-day, one township per day, one room): a refusal
    would be a wrong answer, not a rule.
    """
    taken = {(a["expert"], a["date"], a["half_day"]) for a in assignments} | {(a["township"], a["date"], a["half_day"]) for a in assignments}
    moves: dict[str, dict] = {}
    days_used: set[tuple[str, str]] = set()
    for a in sorted(assignments, key=lambda a: (a["date"], a["id"])):
        other = "pm" if a["half_day"] == "am" else "am"
        days = {(a["expert"], a["date"]), (a["township"], a["date"])}
        if a["type"] != "clinic" or days & days_used:
            continue
        if (a["expert"], a["date"], other) in taken or (a["township"], a["date"], other) in taken:
            continue
        moves[a["id"]] = {"half_day": other}
        days_used |= days
        if len(moves) == count:
            break
    return moves


@pytest.mark.slow  # 20 concurrent edits and their re-checks (~10 s per engine)
def test_twenty_concurrent_edits_of_one_month_are_all_kept_in_one_chain(service: LiveService, race_office: str):
    statuses = _race(service, race_office, [service.root_url], "2027-10")
    assert statuses == {200: EDITS}, statuses  # one process: the edits queue up, none is refused


@pytest.mark.slow
def test_twenty_concurrent_edits_split_between_two_replicas_are_all_kept_in_one_chain(service: LiveService, race_office: str, replica: str):
    statuses = _race(service, race_office, [service.root_url, replica], "2027-11")
    assert statuses.get(200, 0) >= EDITS // 2, statuses


def _race(service: LiveService, race_office: str, roots: list[str], month: str) -> Counter:
    """Generate `month`, send the 20 edits at once (in turn to each of `roots`), check what must hold; the answers' statuses."""
    with service.client(race_office, community=RACE_COMMUNITY) as office:
        base = run_job(office, f"/rosters/{month}/generate")["result"]["version"]
        roster = office.get(f"/rosters/{month}").json()
    assignments = roster["assignments"]
    assert len(assignments) >= EDITS + 4, f"the race county should give enough sessions, got {len(assignments)}"
    moves = _moves(assignments, EDITS - DELETIONS)
    deleted = set(sorted(a["id"] for a in assignments if a["id"] not in moves)[:DELETIONS])
    assert len(deleted) == DELETIONS and len(moves) == EDITS - DELETIONS, (len(deleted), len(moves))
    edits = [("DELETE", assignment_id, None) for assignment_id in sorted(deleted)] + [
        ("PATCH", assignment_id, change) for assignment_id, change in sorted(moves.items())
    ]
    # Interleave the kinds, so deletions and moves meet in the same instants.
    edits = edits[::2] + edits[1::2]

    barrier = threading.Barrier(EDITS)
    urls = [f"{root}/c/{RACE_COMMUNITY}/rosters/{month}/assignments" for root in roots]

    def send(numbered) -> tuple[tuple, int, dict]:
        number, edit = numbered
        method, assignment_id, change = edit
        url = urls[number % len(urls)]
        with httpx2.Client(headers={"Authorization": f"Bearer {race_office}"}, timeout=120) as client:
            client.get(url.split("/c/")[0] + "/healthz")  # connect before the barrier: the edits leave together
            barrier.wait(timeout=60)
            response = client.request(method, f"{url}/{assignment_id}", json=change)
        try:
            body = response.json()
        except ValueError:
            body = {"text": response.text[:300]}
        return edit, response.status_code, body

    with ThreadPoolExecutor(max_workers=EDITS) as pool:
        answers = list(pool.map(send, enumerate(edits)))

    statuses = Counter(status for _, status, _ in answers)
    print(f"answers: {dict(statuses)}")
    assert not [a for a in answers if a[1] >= 500], f"5xx answers: {[a for a in answers if a[1] >= 500]}\n{service.log()[-3000:]}"
    assert set(statuses) <= {200, 409}, statuses
    for edit, status, body in answers:
        if status == 409:
            assert isinstance(body.get("current_version"), int) and body["current_version"] > base, (edit, body)
    succeeded = {edit[1]: (edit, body["version"]) for edit, status, body in answers if status == 200}
    assert len(succeeded) >= EDITS // 2, f"most edits should land after a rebase: {statuses}"

    with service.client(race_office, community=RACE_COMMUNITY) as office:
        latest = office.get(f"/rosters/{month}").json()
        summaries = office.get(f"/rosters/{month}/versions").json()
        chain = [office.get(f"/rosters/{month}", params={"version": n}).json() for n in range(base, latest["version"] + 1)]

    # Every success is in the latest version.
    latest_by_id = {a["id"]: a for a in latest["assignments"]}
    original_by_id = {a["id"]: a for a in assignments}
    for assignment_id, ((method, _, change), _) in succeeded.items():
        if method == "DELETE":
            assert assignment_id not in latest_by_id, f"deletion of {assignment_id} was lost"
        else:
            assert latest_by_id[assignment_id] == {**original_by_id[assignment_id], **change}, f"move of {assignment_id} was lost"
    # ... and nothing else changed: the refused (409) edits left no trace.
    untouched = {i: a for i, a in original_by_id.items() if i not in succeeded}
    assert {i: latest_by_id.get(i) for i in untouched} == untouched

    # One chain: versions base..latest without gaps, one per success, each the previous plus exactly one edit.
    numbers = [s["version"] for s in summaries]
    assert numbers == list(range(1, latest["version"] + 1)), numbers
    assert latest["version"] == base + len(succeeded), (base, latest["version"], len(succeeded))
    assert sorted(v for _, v in succeeded.values()) == list(range(base + 1, latest["version"] + 1))
    by_version = {v: assignment_id for assignment_id, (_, v) in succeeded.items()}
    for before, after in zip(chain, chain[1:]):
        assignment_id = by_version[after["version"]]
        method, _, change = succeeded[assignment_id][0]
        before_by_id = {a["id"]: a for a in before["assignments"]}
        after_by_id = {a["id"]: a for a in after["assignments"]}
        expected = dict(before_by_id)
        if method == "DELETE":
            del expected[assignment_id]
        else:
            expected[assignment_id] = {**before_by_id[assignment_id], **change}
        assert after_by_id == expected, f"version {after['version']} is not version {before['version']} plus {method} {assignment_id}"
    return statuses
