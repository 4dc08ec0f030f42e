"""The event path through the service, on SQLite and PostgreSQL: a rooms cut and a closure on a published month
end in a new published version that keeps the new data's rules; closures through the API and `rota close`
/ `rota reopen`; bad input named by field.

A community of its own (`roomcut`) in the package's service: one township with 3 rooms and 3 cardiologists
free only on the month's first day, so the published roster holds 3 sessions in each half-day of that day,
exactly what a cut to 1 room breaks.
"""

from __future__ import annotations

import subprocess
from collections import Counter

import pytest

from scheduler import flows, store
from scheduler.db import transaction
from scheduler.scenario.load import parse_scenario
from tests.api.conftest import LiveService, wait_for
from tests.console import run_rota
from tests.api.test_end_to_end import run_job
from tests.solver.checker import violations

CODE = "roomcut"
MONTH = "2027-06"  # 1 June 2027 is a Tuesday and no holiday
FIRST = "2027-06-01"

SCENARIO = """
format: rota.scenario/1
community: {name: 诊室测试县, timezone: Asia/Shanghai}
calendar: {holidays: CN}
specialties: [{code: cardio, name: 心血管内科}]
departments: [{code: internal, name: 内科, min_on_site: 0}]
townships:
  - {id: big, name: 大镇卫生院, travel_minutes: 30, rooms: 3}
experts:
""" + "".join(
    f"  - {{id: C{n}, name: 专家{n}, department: internal, title: chief, specialties: [cardio], max_sessions: 4,"
    f" unavailable: [{{from: 2027-06-02, to: 2027-06-30}}]}}\n"
    for n in (1, 2, 3)
) + """
demand:
  - {township: big, type: clinic, specialty: cardio, sessions: 6}
rules: {link_visits_per_month: 0, link_team_min: 0}
"""


@pytest.fixture(scope="module")
def office(service: LiveService):
    """The `roomcut` community in the service's database and an office client of it; June generated and published."""
    with transaction(service.factory) as session:
        store.import_scenario(session, CODE, parse_scenario(SCENARIO, source="roomcut"))
    token = service.token("office", community=CODE)
    client = service.client(token, community=CODE)
    run_job(client, f"/rosters/{MONTH}/generate")
    published = client.post(f"/rosters/{MONTH}/publish")
    assert published.status_code == 200, published.text
    return client


def roster(client) -> dict:
    answer = client.get(f"/rosters/{MONTH}")
    assert answer.status_code == 200, answer.text
    return answer.json()


def per_half_day(document: dict) -> Counter:
    return Counter((a["date"], a["half_day"]) for a in document["assignments"] if a["township"] == "big")


def checked(service: LiveService, number: int) -> list[str]:
    """The independent checker's verdict on a stored version under the community's current data."""
    with service.factory() as session:
        problem, _ = flows.month_problem(session, CODE, MONTH)
        solution, _, _, _ = store.load_roster_version(session, CODE, MONTH, number)
    return violations(problem, solution)


def settled(client, kind: str) -> dict:
    def done():
        found = [e for e in client.get("/events", params={"month": MONTH}).json() if e["kind"] == kind]
        return found[0] if found and found[0]["status"] in ("done", "failed") else None

    event = wait_for(done, what=f"the {kind} event to be processed")
    assert event["status"] == "done", event
    return event


def test_a_rooms_cut_through_the_api_ends_in_a_published_version_that_respects_the_rooms(service: LiveService, office):
    before = roster(office)
    assert max(per_half_day(before).values()) == 3, "the published roster uses all 3 rooms at once"
    big = office.get("/townships/big").json()
    cut = office.put("/townships/big", json={**big, "rooms": 1})
    assert cut.status_code == 200, cut.text

    event = settled(office, "township")
    assert event["label"] == "卫生院变更" and event["summary"] == "big：诊室 3→1"
    entry = event["outcome"]["months"][MONTH]
    assert entry["action"] == "replanned" and entry["broken"] >= 1
    after = roster(office)
    assert after["version"] == entry["version"] == before["version"] + 1 and after["status"] == "published"
    assert max(per_half_day(after).values()) == 1
    assert len(after["assignments"]) == 2  # one room, two half-days: what a fresh solve of the changed month makes too
    assert checked(service, after["version"]) == []
    assert (entry["added"], entry["removed"], entry["moved"]) == (0, 4, 0)
    english = office.get(f"/events/{event['id']}", params={"lang": "en"}).json()
    assert (english["label"], english["summary"]) == ("township change", "big: rooms 3→1")


def test_closures_through_the_api(service: LiveService, office):
    closed = office.post("/closures", json={"township": "big", "from": FIRST, "reason": "洪水"})
    assert closed.status_code == 202, closed.text
    assert closed.json()["dates"] == [FIRST] and closed.json()["months"] == [MONTH]
    event = settled(office, "closure")
    assert event["summary"] == f"big 停诊 {FIRST}（洪水）"
    after = roster(office)
    assert after["assignments"] == [] and after["status"] == "published"
    assert checked(service, after["version"]) == []
    listed = office.get("/closures", params={"month": MONTH}).json()
    assert [(c["township"], c["date"], c["reason"]) for c in listed] == [("big", FIRST, "洪水")]

    reopened = office.delete(f"/closures/{listed[0]['id']}")
    assert reopened.status_code == 202, reopened.text
    event = settled(office, "reopen")
    assert event["outcome"]["months"][MONTH]["action"] == "replanned"
    again = roster(office)
    assert len(again["assignments"]) == 2 and checked(service, again["version"]) == []
    assert office.get("/closures", params={"month": MONTH}).json() == []


def test_bad_closures_are_422_naming_the_field(office):
    def problem(answer, status=422):
        assert answer.status_code == status, answer.text
        detail = answer.json()["detail"]
        return detail[0]["path"] if isinstance(detail, list) else detail

    assert problem(office.post("/closures", json={"township": "big", "from": "2027-06-05", "to": "2027-06-01"})) == "to"
    assert problem(office.post("/closures", json={"township": "big", "from": "0001-01-01"})) == "from"
    assert problem(office.post("/closures", json={"township": "big", "from": "2027-02-30"})) == "from"
    assert problem(office.post("/closures", json={"township": "nowhere", "from": FIRST})) == "township"
    assert problem(office.post("/closures", json={"township": "big", "from": FIRST, "to": "2028-06-05"})) == "to"
    assert problem(office.post("/closures", json={"township": "big"})) == "from"
    assert problem(office.post("/closures", json={"township": "big", "from": FIRST, "when": "now"})) == "when"
    assert "not closed" in problem(office.post("/closures/reopen", json={"township": "big", "from": "2027-06-20"}), 404)
    assert office.delete("/closures/999999").status_code == 404
    assert office.get("/closures", params={"month": "2027-13"}).status_code == 422


def rota(service: LiveService, *arguments: str) -> subprocess.CompletedProcess:
    return run_rota(*arguments, env={"ROTA_DATABASE_URL": service.database_url})


def test_rota_close_and_reopen(service: LiveService, office):
    closed = rota(service, "close", "big", "--from", "2027-06-14", "--to", "2027-06-18", "--reason", "停电", "--community", CODE)
    assert closed.returncode == 0, closed.stderr
    assert "big 2027-06-14..2027-06-18 (5 days)" in closed.stdout and "event #" in closed.stdout
    with service.factory() as session:
        days = sorted(d for d in store.closures_for_month(session, CODE, MONTH).get("big", ()))
    assert [d.isoformat() for d in days] == ["2027-06-14", "2027-06-15", "2027-06-16", "2027-06-17", "2027-06-18"]

    reopened = rota(service, "reopen", "big", "--from", "2027-06-14", "--to", "2027-06-16", "--community", CODE)
    assert reopened.returncode == 0, reopened.stderr
    with service.factory() as session:
        days = sorted(d for d in store.closures_for_month(session, CODE, MONTH).get("big", ()))
    assert [d.isoformat() for d in days] == ["2027-06-17", "2027-06-18"]
    by_the_cli = [e for e in office.get("/events").json() if e["kind"] in ("closure", "reopen") and "2027-06-14" in e["payload"]["dates"]]
    assert sorted((e["kind"], e["actor"], e["actor_role"]) for e in by_the_cli) == [("closure", "cli", "cli"), ("reopen", "cli", "cli")], by_the_cli

    for arguments, words in (
        (("close", "big", "--from", "2027-06-31", "--community", CODE), "--from"),
        (("close", "big", "--from", "2027-06-14", "--to", "2027-06-01", "--community", CODE), "--to"),
        (("close", "nowhere", "--from", "2027-06-14", "--community", CODE), "township"),
        (("reopen", "big", "--from", "2027-06-01", "--community", CODE), "not closed"),
        (("close", "big", "--from", "2027-06-14", "--community", "no-such"), "no community"),
    ):
        refused = rota(service, *arguments)
        assert refused.returncode == 2, (arguments, refused.stdout, refused.stderr)
        lines = refused.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], lines
        assert "Traceback" not in refused.stderr


def test_rota_import_over_the_community_records_its_changes_as_events(service: LiveService, office, tmp_path):
    before = roster(office)
    exported = office.get("/scenario", params={"format": "yaml"}).text
    assert exported.count("rooms: 1") == 1
    changed = tmp_path / "roomcut.yaml"
    changed.write_text(exported.replace("rooms: 1", "rooms: 2"), encoding="utf-8")
    imported = rota(service, "import", str(changed), "--community", CODE)
    assert imported.returncode == 0, imported.stderr

    def rooms_event():
        found = [e for e in office.get("/events").json() if e["kind"] == "township" and e["payload"]["changes"]["rooms"]["after"] == 2]
        return found[0] if found and found[0]["status"] in ("done", "failed") else None

    event = wait_for(rooms_event, what="the import's township event")
    assert event["status"] == "done" and event["summary"] == "big：诊室 1→2", event
    assert (event["actor"], event["actor_role"]) == ("cli", "cli")  # `rota import` acts as the command line
    assert [e["kind"] for e in office.get("/events").json()].count("township") == 2  # the API's cut and the import: nothing else changed
    after = roster(office)
    assert after["version"] == before["version"] + 1 and max(per_half_day(after).values()) == 2
    assert len(after["assignments"]) == 4 and checked(service, after["version"]) == []
