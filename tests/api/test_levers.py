"""The office's levers on SQLite and PostgreSQL: revert, pins and forced requests, each through the one roster write,
each new version judged by the independent checker, the notices to exactly the people whose sessions changed, the actor recorded.

The flows are called as the routes call them (scheduler.revert, scheduler.pins, scheduler.forced); the API's answers
(409 with the clash list, 422 for bad input) are in test_lever_routes_through_the_service at the end.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from config.settings import Settings
from api.pages.event_views import event_rows
from scheduler import audit, events, flows, forced, pins, revert, store
from scheduler.actors import Actor, acting_as
from scheduler.db import transaction
from scheduler.errors import Conflict
from scheduler.events import process_pending
from scheduler.notify.contacts import set_contact
from scheduler.notify.models import Notice
from scheduler.roster_rules import PIN_RULE, RuleBroken
from scheduler.scenario.load import parse_scenario
from solver.solution import Assignment, Solution, SolveReport, diff_rosters
from tests.console import run_rota
from tests.solver.checker import violations

CODE = "levers"
OFFICE = Actor("科室张三", "office", 1)
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def _month_after_next() -> tuple[str, dt.date]:
    today = dt.datetime.now(SHANGHAI).date()
    first = (today.replace(day=1) + dt.timedelta(days=64)).replace(day=1)
    return f"{first.year:04d}-{first.month:02d}", first


MONTH, FIRST = _month_after_next()


def _working_days(count: int) -> list[dt.date]:
    """The month's first working days (weekdays; the test scenario has no holidays)."""
    days, day = [], FIRST
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


D1, D2, D3 = _working_days(3)
LAST = (FIRST + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)

# Two cardiologists who can come only on the month's first two working days; C2 can do one session.
SCENARIO = f"""
format: rota.scenario/1
community: {{name: 杠杆测试县, timezone: Asia/Shanghai}}
calendar: {{holidays: none}}
specialties: [{{code: cardio, name: 心血管内科}}]
departments: [{{code: internal, name: 内科, min_on_site: 0}}]
townships:
  - {{id: big, name: 大镇卫生院, travel_minutes: 30, rooms: 2}}
  - {{id: small, name: 小镇卫生院, travel_minutes: 20, rooms: 1}}
experts:
  - {{id: C1, name: 专家一, department: internal, title: chief, specialties: [cardio], max_sessions: 3, unavailable: [{{from: {D3.isoformat()}, to: {LAST.isoformat()}}}]}}
  - {{id: C2, name: 专家二, department: internal, title: chief, specialties: [cardio], max_sessions: 1, unavailable: [{{from: {D3.isoformat()}, to: {LAST.isoformat()}}}]}}
demand:
  - {{township: big, type: clinic, specialty: cardio, sessions: 1}}
  - {{township: small, type: clinic, specialty: cardio, sessions: 2}}
rules: {{link_visits_per_month: 0, link_team_min: 0}}
"""


def session_at(day: dt.date, half_day: str, township: str, expert: str) -> Assignment:
    return Assignment(day, half_day, township, "clinic", "cardio", expert)


# v1 by hand: C1 at small all D1, C2 at big D1 am. A request for one more big session on D1 cannot be inserted
# (C2 is at its limit, C1 is at small that day) but can be placed by moving C1's small sessions to D2.
HAND_ROSTER = [session_at(D1, "am", "small", "C1"), session_at(D1, "pm", "small", "C1"), session_at(D1, "am", "big", "C2")]


def settings() -> Settings:
    return Settings(event_max_attempts=2, webhook_url="")


@pytest.fixture
def county(session_factory):
    """The county with contacts for everyone and the hand-made v1 published."""
    with transaction(session_factory) as session:
        owner = store.import_scenario(session, CODE, parse_scenario(SCENARIO, source="levers"))
        for person in ("C1", "C2"):
            set_contact(session, owner, "expert", person, email=f"{person.lower()}@example.org")
        for township in ("big", "small"):
            set_contact(session, owner, "township", township, email=f"{township}@example.org")
        with acting_as(OFFICE):
            store.save_roster_version(session, CODE, Solution(MONTH, tuple(HAND_ROSTER), (), SolveReport("FEASIBLE", None, None, 0.0, 1)), status="published", cause="hand")
    return session_factory


def latest(factory, version: int | None = None) -> tuple[Solution, int, str]:
    with factory() as session:
        solution, number, status, _ = store.load_roster_version(session, CODE, MONTH, version)
    return solution, number, status


def checked(factory, number: int) -> list[str]:
    with factory() as session:
        problem, _ = flows.month_problem(session, CODE, MONTH)
        solution, _, _, _ = store.load_roster_version(session, CODE, MONTH, number)
    return violations(problem, solution)


def told(factory) -> set[tuple[str, str]]:
    with factory() as session:
        return {(n.recipient_kind, n.recipient_id) for n in session.scalars(select(Notice))}


def people_in(before: Solution, after: Solution) -> set[tuple[str, str]]:
    diff = diff_rosters(before.assignments, after.assignments)
    touched: set[tuple[str, str]] = set()
    for a in [*diff.added, *diff.removed, *(a for pair in diff.moved for a in pair)]:
        touched |= {("expert", a.expert), ("township", a.township)}
    return touched


def test_revert_saves_an_earlier_version_as_a_new_published_one_and_tells_whom_it_moved(county):
    v1, _, _ = latest(county)
    moved = next(a for a in v1.assignments if a.township == "small" and a.half_day == "pm")
    with acting_as(OFFICE):
        v2 = flows.move_session(county, CODE, MONTH, moved.id, date=D2)[0]
    flows.publish(county, CODE, MONTH, v2)
    assert process_pending(county, settings=settings()) == 0  # an edit is no event: nothing told yet

    with acting_as(OFFICE):
        number, changes = revert.revert_to(county, CODE, MONTH, 1)
    assert (number, changes) == (3, 1)
    v3, _, status = latest(county)
    assert status == "published"
    assert sorted(a.content for a in v3.assignments) == sorted(a.content for a in v1.assignments)
    assert {a.id for a in v3.assignments} == {a.id for a in v1.assignments}  # same ids: calendars update, not duplicate
    assert checked(county, 3) == []

    before_v3, _, _ = latest(county, 2)
    assert process_pending(county, settings=settings()) == 1
    assert told(county) == people_in(before_v3, v3) == {("expert", "C1"), ("township", "small")}

    with county() as session:
        versions = store.list_versions(session, CODE, MONTH)
        trail = audit.list_audit(session, CODE, kind="revert")
        events = audit.list_audit(session, CODE, kind="event")
    assert [(v.actor, v.actor_role) for v in versions] == [(OFFICE.name, "office")] * 3
    assert trail[0].actor == OFFICE.name and trail[0].version == 3 and trail[0].after["restored"] == 1
    assert [e.subject for e in events] == ["revert"] and events[0].actor_role == "office"


def test_publishing_an_older_draft_points_at_revert(county):
    v1, _, _ = latest(county)
    with transaction(county) as session:
        store.save_roster_version(session, CODE, v1, status="draft", cause="copy")
        store.save_roster_version(session, CODE, v1, status="published", cause="copy")
    with pytest.raises(Conflict) as refused:
        flows.publish(county, CODE, MONTH, 2)
    assert f"POST /c/{CODE}/rosters/{MONTH}/revert" in str(refused.value)  # the 409 names the endpoint that does it
    assert f"rota revert --month {MONTH} --version 2" in str(refused.value)


def test_a_revert_that_breaks_todays_rules_is_refused_with_the_clash(county):
    v1, _, _ = latest(county)
    moved = next(a for a in v1.assignments if a.expert == "C2")
    flows.move_session(county, CODE, MONTH, moved.id, date=D2)
    with transaction(county) as session:
        flows.file_leave(session, CODE, "C2", D1, reason="会议")  # v1 has C2 at big on D1
    with pytest.raises(RuleBroken) as refused:
        revert.revert_to(county, CODE, MONTH, 1)
    assert refused.value.breaks and all("C2" in b.message for b in refused.value.breaks), refused.value.breaks
    assert latest(county)[1] == 2  # nothing saved


def test_pins_hold_through_edits_generation_and_replans(county):
    v1, _, _ = latest(county)
    pinned = next(a for a in v1.assignments if a.expert == "C2")
    with transaction(county) as session, acting_as(OFFICE):
        pins.pin_assignment(session, CODE, MONTH, pinned.id, note="院长要求")
    with county() as session:
        assert [p.assignment_id for p in pins.list_pins(session, CODE, MONTH)] == [pinned.id]
        assert [e.kind for e in audit.list_audit(session, CODE, kind="pin")] == ["pin"]

    with pytest.raises(RuleBroken) as moved:
        flows.move_session(county, CODE, MONTH, pinned.id, date=D2)
    assert [b.rule for b in moved.value.breaks] == [PIN_RULE]
    with pytest.raises(RuleBroken):
        flows.remove_session(county, CODE, MONTH, pinned.id)

    for _ in range(2):  # a fresh generation (a re-plan of the published version) keeps the pin, every rule kept
        number = flows.generate(county, CODE, MONTH, time_limit=3)
        solution, _, _ = latest(county, number)
        assert pinned.content in {a.content for a in solution.assignments}
        assert checked(county, number) == []

    # The world moves under the pin: C2 on leave that day. The re-plan reports the clash and saves nothing.
    before = latest(county)[1]
    with transaction(county) as session:
        flows.file_leave(session, CODE, "C2", D1)
    with pytest.raises(RuleBroken) as clash:
        flows.replan(county, CODE, MONTH, cause="leave C2", time_limit=3)
    assert [b.rule for b in clash.value.breaks] == [PIN_RULE]
    assert latest(county)[1] == before

    # Through the event path the same clash fails the event at once (no retry can help), its reason naming the pin
    # and the rule; the office's month page words it; nobody is told of a change.
    assert process_pending(county, settings=settings()) == 1
    with county() as session:
        (leave,) = [e for e in events.list_events(session, CODE) if e.kind == "leave"]
    assert (leave.status, leave.attempts) == ("failed", 1), leave
    reason = leave.last_error.splitlines()[0]
    assert f"C2 at big on {D1.isoformat()} am (clinic cardio): expert available" in reason and "unpin" in reason, reason
    assert "Traceback" not in reason and "Error:" not in reason
    assert leave.outcome["pin_clash"] == [{
        "assignment_id": pinned.id, "date": D1.isoformat(), "half_day": "am", "township": "big", "type": "clinic", "specialty": "cardio",
        "expert": "C2", "rule": "expert available",
    }]
    (row,) = [r for r in event_rows([leave], MONTH, "zh-CN") if r["kind"] == "leave"]
    assert row["error"].startswith("此变更与锁定的排班冲突") and f"C2 {D1.isoformat()} 上午 在 big（专家可出诊）" in row["error"], row
    assert "C2 at big" in event_rows([leave], MONTH, "en")[0]["error"]
    assert latest(county)[1] == before and told(county) == set()

    # The office unpins and retries the event: the re-plan moves C2's session, every rule kept.
    with transaction(county) as session:
        pins.unpin_assignment(session, CODE, MONTH, pinned.id)
        events.retry_event(session, CODE, leave.id)
    assert process_pending(county, settings=settings()) == 1
    with county() as session:
        (leave,) = [e for e in events.list_events(session, CODE) if e.kind == "leave"]
    assert leave.status == "done" and latest(county)[1] > before
    assert checked(county, latest(county)[1]) == []


def test_a_request_insertion_cannot_place_is_forced_by_moving_others(county):
    with transaction(county) as session:
        request_id = flows.request_extra_session(session, CODE, "big", "clinic", "cardio", 1, D1, D1, note="义诊")
    assert flows.settle_request(county, CODE, request_id, approve=True) == "pending"  # insertion alone cannot
    v1, _, _ = latest(county)
    process_pending(county, settings=settings())  # the request event: still pending, the township told so

    with acting_as(OFFICE):
        done = forced.force_request(county, CODE, request_id, D1, time_limit=3)
    v2, number, status = latest(county)
    assert number == done.version and status == "published"
    assert sum(1 for a in v2.assignments if a.township == "big" and a.date == D1) == 2
    assert checked(county, number) == []
    with county() as session:
        from scheduler.requests import get_request

        row = get_request(session, CODE, request_id)
        assert (row.state, row.roster_version, row.assignment_ids) == ("scheduled", number, done.placed)
        assert set(done.placed) <= pins.pinned_ids(session, CODE, MONTH)  # later re-plans keep it where the office put it
        assert [e.actor for e in audit.list_audit(session, CODE, kind="force")] == [OFFICE.name]

    assert process_pending(county, settings=settings()) == 1
    with county() as session:
        about_sessions = {(n.recipient_kind, n.recipient_id) for n in session.scalars(select(Notice).where(Notice.kind.in_(("assignment", "change", "cancellation"))))}
    assert about_sessions == people_in(v1, v2) and ("expert", "C1") in about_sessions


def test_a_request_no_roster_can_hold_is_answered_with_the_reason(county):
    with transaction(county) as session:
        request_id = flows.request_extra_session(session, CODE, "small", "clinic", "cardio", 1, D3, D3)
    with pytest.raises(Conflict) as refused:
        forced.force_request(county, CODE, request_id, D3, time_limit=3)
    assert "no cardio expert can serve" in str(refused.value)
    with county() as session:
        from scheduler.requests import get_request

        row = get_request(session, CODE, request_id)
        assert row.state == "pending" and "no cardio expert" in row.reason and row.reason_code == "FORCE_NO_CANDIDATE"
    assert latest(county)[1] == 1


# --- through the running service: the answers, the roles, the actor, the command line ----------------------------

API_CODE = "levers-api"


@pytest.fixture(scope="module")
def api_office(service):
    """The levers county as community `levers-api` in the service, v1 published by hand, and an office client named 张主任."""
    from scheduler import auth

    with transaction(service.factory) as session:
        store.import_scenario(session, API_CODE, parse_scenario(SCENARIO, source="levers"))
        store.save_roster_version(session, API_CODE, Solution(MONTH, tuple(HAND_ROSTER), (), SolveReport("FEASIBLE", None, None, 0.0, 1)), status="published", cause="hand")
        _, token = auth.create_api_token(session, API_CODE, "office", label="张主任")
        _, township = auth.create_api_token(session, API_CODE, "township", township="big")
    return service.client(token, community=API_CODE), service.client(township, community=API_CODE)


def test_lever_routes_through_the_service(service, api_office):
    office, township = api_office
    roster = office.get(f"/rosters/{MONTH}").json()
    c2 = next(a for a in roster["assignments"] if a["expert"] == "C2")
    c1_pm = next(a for a in roster["assignments"] if a["expert"] == "C1" and a["half_day"] == "pm")

    # Bad input is 4xx naming it; only the office pulls levers.
    assert office.post(f"/rosters/{MONTH}/revert", json={"version": "one"}).status_code == 422
    assert office.post(f"/rosters/{MONTH}/revert", json={"version": 1, "extra": 1}).status_code == 422
    assert office.post(f"/rosters/{MONTH}/revert", json={"version": 99}).status_code == 404
    assert office.post(f"/rosters/{MONTH}/revert", json={"version": 1}).status_code == 409  # already the latest
    assert township.post(f"/rosters/{MONTH}/revert", json={"version": 1}).status_code == 403
    assert township.put(f"/rosters/{MONTH}/pins/{c2['id']}").status_code == 403
    assert office.put(f"/rosters/{MONTH}/pins/nope").status_code == 404
    assert office.delete(f"/rosters/{MONTH}/pins/{c2['id']}").status_code == 404  # not pinned
    assert office.post("/requests/999999/force", json={}).status_code == 404
    assert office.post("/requests/1/force", json={"date": "2027-13-01"}).status_code == 422
    assert township.get("/audit").status_code == 403
    other = service.client(service.token("office"), community=API_CODE)  # another community's office
    for answer in (other.get(f"/rosters/{MONTH}/pins"), other.put(f"/rosters/{MONTH}/pins/{c2['id']}"), other.get("/audit"),
                   other.post(f"/rosters/{MONTH}/revert", json={"version": 1}), other.post("/requests/1/force", json={})):
        assert answer.status_code == 403, answer.text

    # A pin holds: moving the pinned session is a 409 naming the pin.
    pinned = office.put(f"/rosters/{MONTH}/pins/{c2['id']}", json={"note": "院长要求"})
    assert pinned.status_code == 200, pinned.text
    assert pinned.json()["pinned_by"] == "张主任"
    assert [p["assignment_id"] for p in office.get(f"/rosters/{MONTH}/pins").json()] == [c2["id"]]
    refused = office.patch(f"/rosters/{MONTH}/assignments/{c2['id']}", json={"date": D2.isoformat()})
    assert refused.status_code == 409 and [r["rule"] for r in refused.json()["rules"]] == [PIN_RULE], refused.text
    assert office.delete(f"/rosters/{MONTH}/pins/{c2['id']}").status_code == 204

    # Revert: v2 moves C1's pm session, v3 is v1 again, published, made by 张主任.
    assert office.patch(f"/rosters/{MONTH}/assignments/{c1_pm['id']}", json={"date": D2.isoformat()}).status_code == 200
    reverted = office.post(f"/rosters/{MONTH}/revert", json={"version": 1})
    assert reverted.status_code == 200, reverted.text
    assert reverted.json() == {"month": MONTH, "version": 3, "restored": 1, "status": "published", "changes": 1}
    assert sorted(map(str, office.get(f"/rosters/{MONTH}").json()["assignments"])) == sorted(map(str, roster["assignments"]))
    versions = office.get(f"/rosters/{MONTH}/versions").json()
    assert [(v["actor"], v["actor_role"]) for v in versions] == [("system", "system"), ("张主任", "office"), ("张主任", "office")]
    assert checked_in(service, 3) == []
    trail = office.get("/audit", params={"month": MONTH, "kind": "revert"}).json()
    assert [(e["actor"], e["version"]) for e in trail] == [("张主任", 3)]

    # A request insertion cannot place: the township files it, the office approves, the approve moves others.
    filed = township.post("/requests", json={"type": "clinic", "specialty": "cardio", "sessions": 1, "first_day": D1.isoformat(), "note": "义诊"})
    assert filed.status_code == 201, filed.text
    approved = office.post(f"/requests/{filed.json()['id']}/approve")
    assert approved.status_code == 200 and approved.json()["state"] == "scheduled", approved.text
    latest_roster = office.get(f"/rosters/{MONTH}").json()
    assert sum(1 for a in latest_roster["assignments"] if a["township"] == "big" and a["date"] == D1.isoformat()) == 2
    assert checked_in(service, latest_roster["version"]) == []
    assert [e["kind"] for e in office.get("/audit", params={"kind": "force"}).json()] == ["force"]


def checked_in(service, number: int) -> list[str]:
    with service.factory() as session:
        problem, _ = flows.month_problem(session, API_CODE, MONTH)
        solution, _, _, _ = store.load_roster_version(session, API_CODE, MONTH, number)
    return violations(problem, solution)


def test_rota_revert(service, api_office, tmp_path):
    def run(*arguments: str):
        return run_rota(*arguments, env={"ROTA_DATABASE_URL": service.database_url}, cwd=tmp_path)

    bad = run("revert", "--month", "2027-13", "--version", "1", "--community", API_CODE)
    assert bad.returncode == 2 and "--month" in bad.stderr and "Traceback" not in bad.stderr
    missing = run("revert", "--month", MONTH, "--version", "99", "--community", API_CODE)
    assert missing.returncode == 2 and "no version 99" in missing.stderr
    # The forced request's session is pinned (test_lever_routes_through_the_service): going back to v1 would lose it.
    clash = run("revert", "--month", MONTH, "--version", "1", "--community", API_CODE, "--lang", "en")
    assert clash.returncode == 3 and "pinned assignment" in clash.stderr and "Traceback" not in clash.stderr
    chinese = run("revert", "--month", MONTH, "--version", "1", "--community", API_CODE, "--lang", "zh-CN")
    assert chinese.returncode == 3 and "锁定的排班会被挪走" in chinese.stderr and "pinned" not in chinese.stderr
    with transaction(service.factory) as session:
        for held in pins.list_pins(session, API_CODE, MONTH):
            pins.unpin_assignment(session, API_CODE, MONTH, held.assignment_id)
    with service.factory() as session:
        before = store.load_roster_version(session, API_CODE, MONTH)[1]
    done = run("revert", "--month", MONTH, "--version", "1", "--community", API_CODE)
    assert done.returncode == 0, done.stderr
    with service.factory() as session:
        solution, number, status, _ = store.load_roster_version(session, API_CODE, MONTH)
        first = store.load_roster_version(session, API_CODE, MONTH, 1)[0]
        versions = store.list_versions(session, API_CODE, MONTH)
    assert (number, status) == (before + 1, "published")
    assert sorted(a.content for a in solution.assignments) == sorted(a.content for a in first.assignments)
    assert versions[-1].actor == "cli"


def test_standing_data_edits_leave_a_trace_with_the_values_before_and_after(service, api_office):
    import json

    office, _ = api_office
    township = office.get("/townships/small").json()
    edited = office.put("/townships/small", json={**township, "rooms": 2})
    assert edited.status_code == 200, edited.text
    trail = office.get("/audit", params={"kind": "event", "township": "small"}).json()
    assert trail and trail[0]["subject"] == "township" and (trail[0]["actor"], trail[0]["actor_role"]) == ("张主任", "office")
    assert trail[0]["event_id"] is not None
    payload = json.dumps(trail[0]["after"])
    assert '"rooms"' in payload and '"before": 1' in payload and '"after": 2' in payload, payload
    shown = office.get(f"/events/{trail[0]['event_id']}").json()
    assert (shown["kind"], shown["actor"], shown["actor_role"]) == ("township", "张主任", "office")
    assert office.get("/audit", params={"actor": "张主任", "month": "2001-01"}).json() == []
    assert office.get("/audit", params={"month": "2027-1"}).status_code == 422
