"""The whole service story against a real uvicorn, on SQLite and PostgreSQL.

The office generates March 2027 and publishes it; the cardiologist subscribes to their feed;
their leave moves one session to another day (same UID, higher SEQUENCE, the old slot gone);
a township's extra-session request is scheduled and appears in the township's and the expert's feeds.
The story reads whole feeds and request lists, so it runs in a community of its own (the test county
imported again beside the one the other API tests share).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

from icalendar import Calendar

from scheduler import store
from scheduler.db import transaction
from scheduler.scenario.load import load_scenario
from tests.api.conftest import COUNTY, MONTH, LiveService, wait_for

OWN = "e2e"  # this story's community

JS_PARSER = Path(__file__).resolve().parents[1] / "js" / "parse_ics.js"


def events_of(body: bytes) -> dict[str, dict]:
    """UID -> (status, sequence, start date, half-day hour, summary) of each VEVENT, read with icalendar."""
    calendar = Calendar.from_ical(body)
    found = {}
    for event in calendar.walk("VEVENT"):
        start = event.decoded("DTSTART")
        found[str(event["UID"])] = {
            "status": str(event["STATUS"]),
            "sequence": int(event["SEQUENCE"]),
            "date": start.date(),
            "hour": start.hour,
            "summary": str(event["SUMMARY"]),
            "location": str(event["LOCATION"]),
        }
    return found


def uid(assignment_id: str) -> str:
    return f"{assignment_id}@township-rota"


def run_job(office, path: str) -> dict:
    accepted = office.post(path)
    assert accepted.status_code == 202, accepted.text
    job_id = accepted.json()["job"]

    def finished():
        job = office.get(f"/jobs/{job_id}").json()
        return job if job["state"] in ("done", "failed") else None

    job = wait_for(finished, what=f"job {job_id}")
    assert job["state"] == "done", job
    return job


def feed_url(client, scope: str, key: str) -> str:
    created = client.post("/feed-tokens", json={"scope": scope, "key": key})
    assert created.status_code == 201, created.text
    body = created.json()
    assert len(body["token"]) >= 22  # at least 128 bits in URL-safe base64
    return body["url"]


def fetch_feed(service: LiveService, url: str, **headers: str):
    with service.client() as anonymous:  # calendar apps send no Authorization header
        return anonymous.get(url.removeprefix(service.base_url), headers=headers)


def own_community(service: LiveService, code: str) -> LiveService:
    """The service seen from a community of the test's own: the test county imported as `code`, with its office token."""
    with transaction(service.factory) as session:
        store.import_scenario(session, code, load_scenario(COUNTY))
    own = dataclasses.replace(service, community=code, tokens={})
    own.tokens["office"] = own.token("office")
    return own


def test_generate_publish_leave_request_and_feeds(service: LiveService):
    service = own_community(service, OWN)
    office = service.client(service.tokens["office"])

    job = run_job(office, f"/rosters/{MONTH}/generate")
    first_version = job["result"]["version"]
    draft = office.get(f"/rosters/{MONTH}").json()
    assert draft["format"] == "rota.roster/1" and draft["status"] == "draft" and draft["version"] == first_version
    assert {(a["township"], a["specialty"]) for a in draft["assignments"]} == {("nanjing", "cardio"), ("pitou", "internal_med")}
    assert len(draft["assignments"]) == 4 and draft["unmet"] == []

    # Drafts never reach a feed.
    cardiologist = service.client(service.token("expert", expert="E01"))
    expert_feed = feed_url(cardiologist, "expert", "E01")
    assert events_of(fetch_feed(service, expert_feed).content) == {}

    published = office.post(f"/rosters/{MONTH}/publish")
    assert published.status_code == 200 and published.json()["status"] == "published", published.text

    response = fetch_feed(service, expert_feed)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/calendar")
    mine = [a for a in draft["assignments"] if a["expert"] == "E01"]
    events = events_of(response.content)
    assert set(events) == {uid(a["id"]) for a in mine}
    assert all(e["status"] == "CONFIRMED" and e["sequence"] == 0 and e["summary"] == "南迳镇卫生院 · 心血管内科 坐诊" for e in events.values())

    # Conditional GET: unchanged feed -> 304, by ETag and by date.
    assert fetch_feed(service, expert_feed, **{"If-None-Match": response.headers["ETag"]}).status_code == 304
    assert fetch_feed(service, expert_feed, **{"If-Modified-Since": response.headers["Last-Modified"]}).status_code == 304

    # A second, independent parser: Mozilla's ical.js (the parser inside Thunderbird) under node.
    if shutil.which("node") and (JS_PARSER.parent / "node_modules" / "ical.js").exists():
        parsed = subprocess.run(["node", str(JS_PARSER)], input=response.content, capture_output=True, timeout=60, check=True)
        read = json.loads(parsed.stdout)
        assert {e["uid"] for e in read["events"]} == set(events)
        assert read["name"] == "李海林 · 专家下沉排班"
    else:
        raise AssertionError("node with tests/js/node_modules/ical.js is needed (npm ci --prefix tests/js)")

    # Leave: the cardiologist is away on the day of one session; it moves to another day, same UID.
    moved = mine[0]
    leave_day = dt.date.fromisoformat(moved["date"])
    filed = cardiologist.post("/experts/E01/unavailability", json={"first_day": moved["date"], "reason": "会议"})
    assert filed.status_code == 202, filed.text
    assert filed.json()["months"] == [MONTH]

    def replanned():
        roster = office.get(f"/rosters/{MONTH}").json()
        return roster if roster["version"] > first_version else None

    after_leave = wait_for(replanned, what="the re-plan after the leave")
    assert after_leave["status"] == "published"  # a re-plan of a published month is published at once
    again = next(a for a in after_leave["assignments"] if a["id"] == moved["id"])
    assert again["expert"] == "E01" and again["date"] != moved["date"]
    untouched = {a["id"]: a for a in draft["assignments"] if a["id"] != moved["id"]}
    assert all(untouched[i] == a for a in after_leave["assignments"] if (i := a["id"]) in untouched)

    feed_after_leave = fetch_feed(service, expert_feed, **{"If-None-Match": response.headers["ETag"]})
    assert feed_after_leave.status_code == 200  # changed, so no 304
    events = events_of(feed_after_leave.content)
    assert events[uid(moved["id"])]["sequence"] == 1 and events[uid(moved["id"])]["status"] == "CONFIRMED"
    assert events[uid(moved["id"])]["date"] == dt.date.fromisoformat(again["date"])
    assert not [e for e in events.values() if e["date"] == leave_day and e["status"] == "CONFIRMED"]

    diff = office.get(f"/rosters/{MONTH}/diff", params={"from": first_version, "to": after_leave["version"]}).json()
    assert [m["before"]["id"] for m in diff["moved"]] == [moved["id"]] and diff["added"] == [] and diff["removed"] == []

    # An extra-session request from pitou: placed without moving anyone, in its window.
    township = service.client(service.token("township", township="pitou"))
    township_feed = feed_url(township, "township", "pitou")
    window = ("2027-03-22", "2027-03-26")
    posted = township.post(
        "/requests", json={"type": "clinic", "specialty": "internal_med", "sessions": 1, "first_day": window[0], "last_day": window[1], "note": "慢病复诊积压"}
    )
    assert posted.status_code == 201, posted.text
    request_id = posted.json()["id"]

    def settled():
        state = township.get(f"/requests/{request_id}").json()
        return state if state["state"] != "pending" or state["reason"] else None

    request = wait_for(settled, what="the request to be settled")
    assert request["state"] == "scheduled", request
    [added_id] = request["assignment_ids"]
    latest = office.get(f"/rosters/{MONTH}").json()
    added = next(a for a in latest["assignments"] if a["id"] == added_id)
    assert added["township"] == "pitou" and window[0] <= added["date"] <= window[1]
    assert latest["status"] == "published" and len(latest["assignments"]) == 5

    township_events = events_of(fetch_feed(service, township_feed).content)
    assert township_events[uid(added_id)]["status"] == "CONFIRMED"
    assert township_events[uid(added_id)]["location"] == "陂头镇卫生院"
    expert_of_added = feed_url(office, "expert", added["expert"])
    assert events_of(fetch_feed(service, expert_of_added).content)[uid(added_id)]["status"] == "CONFIRMED"

    # A township and an expert read the roster too, but only their own sessions.
    seen_by_township = township.get(f"/rosters/{MONTH}").json()
    assert {a["township"] for a in seen_by_township["assignments"]} == {"pitou"} and len(seen_by_township["assignments"]) == 3
    seen_by_expert = cardiologist.get(f"/rosters/{MONTH}").json()
    assert {a["expert"] for a in seen_by_expert["assignments"]} == {"E01"}

    # The township sees its own request and its state.
    listed = township.get("/requests").json()
    assert [r["id"] for r in listed] == [request_id] and listed[0]["state"] == "scheduled"

    # The Excel grid of the latest version.
    workbook = office.get(f"/rosters/{MONTH}.xlsx")
    assert workbook.status_code == 200 and workbook.content[:2] == b"PK"
