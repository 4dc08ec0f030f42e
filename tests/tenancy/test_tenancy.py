"""Communities as tenants, on SQLite and PostgreSQL: two communities with the same expert and township codes
(the sample county imported twice, as `a` and as `b`, b edited) in one database and one app.

Each office, township and expert token sees only its own community (rosters, standing data, requests, swaps,
events, feeds, pages, jobs, notices); a token of `a` on `/c/b/...` gets 403 or 404 for every route of the API
(walked from the OpenAPI schema) and every page, and never a byte of b's data; the bureau reads both.

A package of its own, apart from tests/api and its live services (each with a leader, on a database of its own).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from api.app import create_app
from config.settings import SAMPLE_SCENARIO, Settings
from scheduler import auth, events, flows, jobs, office_users, store, swaps
from scheduler.db import session_factory, transaction
from scheduler.errors import NotFound
from scheduler.notify.contacts import set_contact
from scheduler.notify.models import Notice
from scheduler.scenario import load_scenario
from scheduler.scenario.schema import Scenario
from solver.solution import Solution
from tests.pages.conftest import busiest_expert
from tests.pages.forms import form_token, log_in
from tests.solved import solved_once

MONTH = "2027-01"
TOWNSHIP = "t01"
B_NAME, B_TOWNSHIP_NAME, B_NOTE, B_USER = "乙县总医院", "乙县城厢镇卫生院", "乙县流感", "乙县医务员"  # what only b holds
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


@dataclass(frozen=True)
class Community:
    code: str
    id: int
    office: str
    township: str
    expert: str
    feed: str
    feed_id: int
    token_id: int
    request_id: int
    swap_id: int | None
    assignments: int
    user_id: int  # an office user


@dataclass(frozen=True)
class World:
    url: str
    factory: object
    client: TestClient
    a: Community
    b: Community
    bureau: str
    expert: str  # the same code in both communities: a has sessions for them, b none


@pytest.fixture(scope="module")
def january() -> Solution:
    """The sample county's January, solved once per test process (both communities store it; b without one expert's sessions)."""
    return solved_once(load_scenario(SAMPLE_SCENARIO), MONTH)


def _b_scenario() -> Scenario:
    document = load_scenario(SAMPLE_SCENARIO).to_document()
    document["community"]["name"] = B_NAME
    document["townships"][0]["name"] = B_TOWNSHIP_NAME
    return Scenario.model_validate(document)


def _community(factory, code: str, scenario: Scenario, roster: Solution, expert: str, note: str) -> Community:
    with transaction(factory) as session:
        community_id = store.import_scenario(session, code, scenario)
        store.publish(session, code, MONTH, store.save_roster_version(session, code, roster, cause="test"))
        token_id, office = auth.create_api_token(session, code, "office", label=f"office {code}")
        _, township = auth.create_api_token(session, code, "township", township=TOWNSHIP)
        _, expert_token = auth.create_api_token(session, code, "expert", expert=expert)
        feed_id, feed = auth.create_feed_token(session, code, "community")
        request_id = flows.request_extra_session(session, code, TOWNSHIP, "clinic", "internal_med", 1, dt.date(2027, 1, 18), dt.date(2027, 1, 22), note)
        for a in roster.assignments[:3]:
            set_contact(session, community_id, "expert", a.expert, email=f"{a.expert.lower()}@{code}.example")
        set_contact(session, community_id, "township", TOWNSHIP, webhook_url=f"https://robot.example/{code}")
        user_id = office_users.create_user(session, code, B_USER if code == "b" else "甲县医务员", "a long passphrase")
    swap_id = None
    mine = [a for a in roster.assignments if a.type == "clinic"]
    if code == "b":
        with transaction(factory) as session:
            swap_id = swaps.propose_swap(session, code, MONTH, mine[0].id, mine[0].expert, next(a.expert for a in mine if a.expert != mine[0].expert))
    return Community(code, community_id, office, township, expert_token, feed, feed_id, token_id, request_id, swap_id, len(roster.assignments), user_id)


@pytest.fixture
def world(database_url: str, engine: Engine, january: Solution) -> Iterator[World]:  # `engine`: the database migrated and empty
    factory = session_factory(engine)
    expert = busiest_expert(january)
    a = _community(factory, "a", load_scenario(SAMPLE_SCENARIO), january, expert, "甲县加诊")
    trimmed = dataclasses.replace(january, assignments=tuple(x for x in january.assignments if x.expert != expert))
    b = _community(factory, "b", _b_scenario(), trimmed, expert, B_NOTE)
    with transaction(factory) as session:
        _, bureau = auth.create_api_token(session, None, "bureau", label="卫健委")
    app = create_app(Settings(database_url=database_url, solver_time_limit=2, run_scheduler=False))
    with TestClient(app) as client:
        yield World(database_url, factory, client, a, b, bureau, expert)
    engine.dispose()


def browse(client: TestClient, token: str, path: str, method: str = "GET", **options):
    """A page request as someone logged in with `token`: a page session of it, and for a POST the CSRF token its pages carry.

    The cookies are those of a browser logged in with the token (the session and the CSRF secret, nothing else),
    and a form carries the token its pages show: so a 403 here is the community check's, never the CSRF check's.
    """
    client.cookies.clear()
    with transaction(client.app.state.session_factory) as session:
        caller = auth.authenticate(session, token)
        session_id = auth.open_page_session(session, caller.token_id) if caller is not None else "no-such-session"
    client.cookies.set("rota_session", session_id)
    try:
        if method != "GET":
            login_page = client.get("/login")  # any page: each form of it carries the session's token
            options["data"] = {**options.get("data", {}), "csrf_token": form_token(login_page.text)}
        return client.request(method, path, **options)
    finally:
        client.cookies.clear()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def leaks_b(text: str) -> bool:
    return any(marker in text for marker in (B_NAME, B_TOWNSHIP_NAME, B_NOTE, B_USER))


# --- the API, every route --------------------------------------------------------------------------


def _values(world: World, community: Community) -> dict[str, str]:
    """A value for every path parameter of the API: what exists in `community`, so a leak would answer 200."""
    return {
        "month": MONTH, "key": TOWNSHIP, "member": "E040", "index": "0", "expert": world.expert, "unavailability_id": "1",
        "assignment_id": "x", "request_id": str(community.request_id), "swap_id": str(community.swap_id or 1), "token_id": str(community.token_id),
        "feed_token_id": str(community.feed_id), "job_id": "0" * 32, "token": world.a.feed,  # a's feed link at b's address
        "closure_id": "1", "event_id": "1", "year": "2027", "kind": "expert", "recipient": world.expert, "notice_id": "1",
        "user_id": str(community.user_id),
    }


def _community_operations(client: TestClient) -> list[tuple[str, str]]:
    schema = client.get("/openapi.json").json()
    return [(method.upper(), path) for path, item in schema["paths"].items() if path.startswith("/c/{community}/") for method in item]


def test_a_token_of_one_community_reaches_nothing_of_another_on_any_route(world):
    operations = _community_operations(world.client)
    assert len(operations) >= 40  # every route family: tokens, feeds, standing data, rosters, jobs, requests, swaps
    values = _values(world, world.b)
    for token in (world.a.office, world.a.township, world.a.expert):
        for method, template in operations:
            path = template.format(community="b", **{name: values[name] for name in re.findall(r"{(\w+)}", template) if name != "community"})
            response = world.client.request(method, path, headers=bearer(token), json={})
            assert response.status_code in (403, 404), (token == world.a.office, method, path, response.status_code, response.text[:200])
            assert not leaks_b(response.text), (method, path)
    # The same routes answer b's own office (so the refusals above are the scoping, not broken routes).
    for method, template in operations:
        if method == "GET" and "{" not in template.removeprefix("/c/{community}"):
            response = world.client.get(template.format(community="b"), headers=bearer(world.b.office))
            assert response.status_code == 200, (template, response.text[:200])


def test_each_token_sees_only_its_own_community(world):
    client, a, b = world.client, world.a, world.b
    for community, name in ((a, "全南县总医院"), (b, B_NAME)):
        roster = client.get(f"/c/{community.code}/rosters/{MONTH}", headers=bearer(community.office)).json()
        assert roster["community"] == name and len(roster["assignments"]) == community.assignments
        township = client.get(f"/c/{community.code}/townships/{TOWNSHIP}", headers=bearer(community.township)).json()
        assert township["name"] == ("城厢镇卫生院" if community is a else B_TOWNSHIP_NAME)
    # The same expert code: a's expert has sessions, b's (trimmed out of b's roster) has none.
    mine_a = client.get(f"/c/a/rosters/{MONTH}", headers=bearer(a.expert)).json()["assignments"]
    mine_b = client.get(f"/c/b/rosters/{MONTH}", headers=bearer(b.expert)).json()["assignments"]
    assert mine_a and all(x["expert"] == world.expert for x in mine_a) and mine_b == []
    # Requests, swaps, tokens, feed tokens: each office lists its own.
    assert [r["id"] for r in client.get("/c/a/requests", headers=bearer(a.office)).json()] == [a.request_id]
    assert [r["id"] for r in client.get("/c/b/requests", headers=bearer(b.township)).json()] == [b.request_id]
    assert client.get("/c/a/swaps", headers=bearer(a.office)).json() == []
    assert [s["id"] for s in client.get("/c/b/swaps", headers=bearer(b.office)).json()] == [b.swap_id]
    listed = {t["id"] for t in client.get("/c/a/tokens", headers=bearer(a.office)).json()}
    assert a.token_id in listed and b.token_id not in listed
    assert [f["id"] for f in client.get("/c/a/feed-tokens", headers=bearer(a.office)).json()] == [a.feed_id]
    # An id of the other community is not found at this one's address, even for its office.
    assert client.get(f"/c/a/requests/{b.request_id}", headers=bearer(a.office)).status_code == 404
    assert client.post(f"/c/a/swaps/{b.swap_id}/approve", headers=bearer(a.office)).status_code == 404
    assert client.delete(f"/c/a/tokens/{b.token_id}", headers=bearer(a.office)).status_code == 404
    assert client.get("/c/b/requests", headers=bearer(b.office)).status_code == 200  # b's token was not revoked by a
    # Unknown community; no token at all.
    assert client.get(f"/c/zzz/rosters/{MONTH}", headers=bearer(a.office)).status_code == 404
    assert client.get(f"/c/b/rosters/{MONTH}").status_code == 401


def test_feeds_open_only_at_their_own_community(world):
    client, a, b = world.client, world.a, world.b
    own = client.get(f"/c/a/feeds/{a.feed}.ics")
    assert own.status_code == 200 and "全南县总医院" in own.text and B_NAME not in own.text
    assert "BEGIN:VEVENT" in own.text
    assert client.get(f"/c/b/feeds/{a.feed}.ics").status_code == 404
    theirs = client.get(f"/c/b/feeds/{b.feed}.ics")
    assert theirs.status_code == 200 and B_NAME in theirs.text
    assert theirs.text.count("BEGIN:VEVENT") == b.assignments
    # A link handed out before communities existed finds its community.
    moved = client.get(f"/feeds/{a.feed}.ics?lang=en", follow_redirects=False)
    assert moved.status_code == 308 and moved.headers["location"] == f"/c/a/feeds/{a.feed}.ics?lang=en"
    assert client.get("/feeds/" + "A" * 43 + ".ics", follow_redirects=False).status_code == 404
    created = client.post("/c/b/feed-tokens", json={"scope": "township", "key": TOWNSHIP}, headers=bearer(b.township)).json()
    assert created["url"].endswith(f"/c/b/feeds/{created['token']}.ics")


@pytest.mark.slow  # two communities' events, jobs and notices run (~8 s per engine)
def test_events_jobs_and_notices_stay_in_their_community(world):
    factory, a, b = world.factory, world.a, world.b
    client = world.client
    # Jobs of the API belong to their community.
    accepted = client.post("/c/a/rosters/2027-02/generate", headers=bearer(a.office))
    assert accepted.status_code == 202 and accepted.json()["status_url"].startswith("/c/a/jobs/")
    job_id = accepted.json()["job"]
    assert client.get(f"/c/b/jobs/{job_id}", headers=bearer(b.office)).status_code == 404
    job = client.get(f"/c/a/jobs/{job_id}", headers=bearer(a.office)).json()
    assert job["community"] == "a"
    deadline = time.monotonic() + 120
    while job["state"] in ("queued", "running") and time.monotonic() < deadline:  # done before the app (and the database) go
        time.sleep(0.3)
        job = client.get(f"/c/a/jobs/{job_id}", headers=bearer(a.office)).json()
    assert job["state"] == "done", job
    with factory() as session:
        assert [v.version for v in store.list_versions(session, "a", "2027-02")] == [1] and store.list_versions(session, "b", "2027-02") == []

    # A failing event of a's township lane holds back nothing of b's, in the same township and month.
    closed = next(x for x in store_roster(factory, "b").assignments if x.type == "clinic")
    with transaction(factory) as session:
        broken = events.record_event(session, a.id, "request", {"request_id": 999_999}, month=MONTH, township=closed.township)
        closure = flows.close_township(session, "b", closed.township, [closed.date], reason="停电")
    events.process_pending(factory, now=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1), settings=Settings(webhook_url="", event_max_attempts=1))
    with factory() as session:
        assert events.get_event(session, "a", broken).status == "failed"
        assert events.get_event(session, "b", closure).status == "done"
        # b's roster moved off the closed day; a's versions come from a's own events only (its request was placed).
        assert any(f"#{closure} (closure)" in v.cause for v in store.list_versions(session, "b", MONTH))
        assert [v.cause for v in store.list_versions(session, "a", MONTH)] == ["test", f"request {a.request_id} ({TOWNSHIP})"]
        assert closure not in {e.id for e in events.list_events(session, "a")}
        assert broken not in {e.id for e in events.list_events(session, "b")}
        with pytest.raises(NotFound):
            events.get_event(session, "a", closure)
        b_notices = session.scalars(select(Notice).where(Notice.community_id == b.id)).all()
        a_notices = session.scalars(select(Notice).where(Notice.community_id == a.id)).all()
    assert b_notices and all(n.address.endswith(("@b.example", "/b")) for n in b_notices)
    assert all(n.address.endswith(("@a.example", "/a")) for n in a_notices)
    # Each office's inbox lists its own failed events only.
    assert f'data-event="{broken}"' in browse(client, a.office, "/c/a/office/inbox").text
    assert f'data-event="{broken}"' not in browse(client, b.office, "/c/b/office/inbox").text

    # Reminders and digests (what the timed jobs do) go to each community's own people.
    offsets = "P40D"
    now = dt.datetime(2026, 12, 31, 9, 0, tzinfo=SHANGHAI)
    settings = Settings(reminder_offsets=offsets, webhook_url="")
    made_a = jobs.send_due_reminders(factory, "a", now, settings, [MONTH])
    with factory() as session:
        reminders = session.scalars(select(Notice).where(Notice.kind == "reminder")).all()
    assert made_a == len(reminders) > 0 and {n.community_id for n in reminders} == {a.id}
    assert all(n.address.endswith("@a.example") for n in reminders)
    visit = min(x.date for x in store_roster(factory, "b").assignments if x.township == TOWNSHIP)
    evening = dt.datetime.combine(visit - dt.timedelta(days=1), dt.time(17), SHANGHAI)
    assert jobs.enqueue_visitor_digests(factory, "b", evening, settings) == 1  # t01's head, the one township with a contact
    with factory() as session:
        digests = session.scalars(select(Notice).where(Notice.kind == "digest")).all()
    assert [(n.community_id, n.address) for n in digests] == [(b.id, "https://robot.example/b")]


def store_roster(factory, community: str) -> Solution:
    with factory() as session:
        return store.load_roster_version(session, community, MONTH)[0]


def test_standing_jobs_are_one_set_per_community(world):
    scheduler = jobs.build_scheduler(Settings(database_url=world.url), world.factory.kw["bind"])
    scheduler.start(paused=True)
    try:
        jobs.install_standing_jobs(scheduler, Settings(publish_time="10:00"), jobs.community_codes(world.factory), sweep_seconds=300)
        ids = {job.id for job in scheduler.get_jobs()}
        assert ids == {f"{kind}:{code}" for kind in jobs.STANDING_JOBS for code in ("a", "b")} | {jobs.COMMUNITIES_JOB}
        assert scheduler.get_job("draft:b").args == ("b",)
        jobs.sync_reminder_jobs(scheduler, world.factory, "a", MONTH, Settings(), dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
        reminders = [job for job in scheduler.get_jobs() if job.id.startswith("reminder:")]
        assert reminders and all(job.id.startswith(f"reminder:a:{MONTH}:") and job.args[0] == "a" for job in reminders)
        # A community gone from the list loses its jobs, reminders included; the other keeps its own.
        jobs.install_standing_jobs(scheduler, Settings(), ["b"], sweep_seconds=300)
        ids = {job.id for job in scheduler.get_jobs()}
        assert ids == {"draft:b", "digest:b", "sweep:b", jobs.COMMUNITIES_JOB}
    finally:
        jobs.close_job_store(scheduler)


# --- pages -----------------------------------------------------------------------------------------

PAGES = [
    ("GET", "/"), ("GET", "/office"), ("GET", "/office/inbox"), ("GET", f"/office/{MONTH}"), ("GET", f"/office/{MONTH}/versions"),
    ("GET", f"/office/{MONTH}/report"), ("GET", f"/office/{MONTH}/report/print"), ("GET", f"/office/{MONTH}/roster.xlsx"),
    ("POST", f"/office/{MONTH}/generate"), ("POST", f"/office/{MONTH}/publish"), ("POST", "/office/requests/{request}/approve"),
    ("POST", "/office/requests/{request}/decline"), ("POST", "/office/events/1/retry"), ("GET", "/township"),
    ("POST", "/township/requests"), ("POST", "/township/requests/{request}/cancel"), ("GET", "/expert"), ("POST", "/expert/leave"),
    ("POST", "/expert/feed"), ("GET", "/office/users"), ("POST", "/office/users"), ("POST", "/office/users/{user}/disable"),
    ("POST", "/office/users/{user}/enable"), ("POST", "/office/users/{user}/password"),
]


def test_a_login_of_one_community_opens_no_page_of_another(world):
    client, a, b = world.client, world.a, world.b
    for token in (a.office, a.township, a.expert):
        for method, page in PAGES:
            path = "/c/b" + page.format(request=b.request_id, user=b.user_id)
            response = browse(client, token, path, method, follow_redirects=False)
            assert response.status_code == 403, (method, path, response.status_code)
            assert not leaks_b(response.text)
    # b's own login reaches its pages; a's token is refused at b's login page.
    assert browse(client, b.office, f"/c/b/office/{MONTH}").status_code == 200
    assert B_TOWNSHIP_NAME in browse(client, b.township, "/c/b/township").text
    refused = log_in(client, a.office, "/c/b/login")
    assert refused.status_code == 401 and "rota_session" not in refused.headers.get("set-cookie", "")
    home = client.get("/", follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"] == "/login"  # the root lists nothing
    welcomed = log_in(client, a.office)
    assert welcomed.status_code == 303 and welcomed.headers["location"] == "/c/a/office"
    client.cookies.clear()
    assert browse(client, a.office, f"/c/zzz/office/{MONTH}").status_code == 404


# --- the health bureau -----------------------------------------------------------------------------


def test_the_bureau_reads_every_community_and_writes_nothing(world):
    client, a, b, bureau = world.client, world.a, world.b, world.bureau
    province = client.get(f"/province/months/{MONTH}", headers=bearer(bureau))
    assert province.status_code == 200, province.text
    body = province.json()
    by_code = {c["community"]: c for c in body["communities"]}
    assert set(by_code) == {"a", "b"} and by_code["b"]["name"] == B_NAME
    for community in (a, b):
        row = by_code[community.code]
        assert row["publication"]["status"] == "published" and row["publication"]["published_version"] == 1
        assert row["coverage"]["assigned"] <= row["coverage"]["demanded"]
        assert row["load"]["sessions"] == community.assignments
        assert row["link_visits"]["links"] == sum(len(m["townships"]) for m in row["link_visits"]["members"])
    assert by_code["a"]["coverage"]["assigned"] > by_code["b"]["coverage"]["assigned"]  # b lost one expert's sessions
    assert body["totals"]["published"] == 2
    nothing = client.get("/province/months/2031-05", headers=bearer(bureau)).json()
    assert {c["publication"]["status"] for c in nothing["communities"]} == {"none"} and nothing["communities"][0]["coverage"] is None

    # Reading a community: its published roster and report, nothing else, and never a write.
    assert client.get(f"/c/b/rosters/{MONTH}", headers=bearer(bureau)).json()["community"] == B_NAME
    with transaction(world.factory) as session:
        store.save_roster_version(session, "b", store_roster(world.factory, "b"), cause="draft")
    assert client.get(f"/c/b/rosters/{MONTH}", headers=bearer(bureau)).json()["version"] == 1  # the published one, not the draft
    assert client.get(f"/c/b/rosters/{MONTH}?version=2", headers=bearer(bureau)).status_code == 404
    for method, path in (("POST", f"/c/b/rosters/{MONTH}/publish"), ("POST", f"/c/b/rosters/{MONTH}/generate"), ("GET", "/c/b/experts"),
                         ("GET", "/c/b/requests"), ("POST", "/c/b/tokens"), ("GET", f"/c/b/rosters/{MONTH}/versions"), ("PUT", "/c/b/scenario")):
        assert client.request(method, path, headers=bearer(bureau), json={}).status_code == 403, (method, path)
    # Community tokens do not reach the province.
    assert client.get(f"/province/months/{MONTH}", headers=bearer(a.office)).status_code == 403

    # The province page, with the office report's charts for each community (Chinese, and English on request).
    page = browse(client, bureau, f"/province/{MONTH}")
    assert page.status_code == 200 and "全南县总医院" in page.text and B_NAME in page.text
    assert page.text.count("<svg") == 8 and '<html lang="zh-CN">' in page.text
    english = browse(client, bureau, f"/province/{MONTH}?lang=en")
    assert '<html lang="en">' in english.text and "All communities" in english.text
    assert browse(client, a.office, f"/province/{MONTH}").status_code == 403
    assert log_in(client, bureau).headers["location"] == "/province"
    report = browse(client, bureau, f"/c/b/office/{MONTH}/report")
    assert report.status_code == 200 and B_NAME in report.text
    assert browse(client, bureau, f"/c/b/office/{MONTH}").status_code == 403
