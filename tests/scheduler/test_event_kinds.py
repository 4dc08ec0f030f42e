"""Every event kind on SQLite and PostgreSQL: the change in, a valid new version out, notices to exactly the people whose sessions changed.

The month is two months ahead of today, so no day of it is history and a re-plan may move sessions
(October 2026 of the other event tests is past, where a re-plan can only drop). Each change is made
the way the office or a person makes it (scheduler.standing, scheduler.closures, flows, swaps); the
worker then checks the published month against the new data and re-plans. The new version is judged
by the independent checker (tests/solver/checker.py) against the CHANGED month's problem.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from event_harness import COMMUNITY, EXPERTS, MINIMAL, TOWNSHIPS, expert_address
from sqlalchemy import select

from config.settings import Settings
from scheduler import closures, events, flows, standing, store, swaps
from scheduler.db import transaction
from scheduler.errors import NotFound, ScenarioError
from scheduler.events import Event, process_pending
from scheduler.notify.contacts import set_contact
from scheduler.notify.models import Notice
from scheduler.requests import get_request
from scheduler.scenario import load_scenario
from scheduler.scenario.load import validate_document
from solver.solution import Assignment, RosterDiff, Solution, SolveReport, diff_rosters
from tests.solver.checker import violations

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
T0 = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(hours=6)  # later than every event the tests record


def future_month(today: dt.date | None = None) -> str:
    """The month two months after today's (no day of it is frozen as history)."""
    today = today or dt.datetime.now(SHANGHAI).date()
    first = (today.replace(day=1) + dt.timedelta(days=64)).replace(day=1)
    return f"{first.year:04d}-{first.month:02d}"


MONTH = future_month()


def settings_for(**changes) -> Settings:
    return Settings(**{"event_max_attempts": 2, "webhook_url": "", **changes})


@pytest.fixture
def published(session_factory, robot) -> Solution:
    """The minimal county with contacts for everyone and MONTH generated and published; returns the published roster."""
    with transaction(session_factory) as session:
        community_id = store.import_scenario(session, COMMUNITY, load_scenario(MINIMAL))
        for expert in EXPERTS:
            set_contact(session, community_id, "expert", expert, email=expert_address(expert))
        for township in TOWNSHIPS:
            set_contact(session, community_id, "township", township, webhook_url=robot.url)
    flows.publish(session_factory, COMMUNITY, MONTH, flows.generate(session_factory, COMMUNITY, MONTH, time_limit=3))
    return latest(session_factory)[0]


def latest(factory, status: str | None = None) -> tuple[Solution, int, str]:
    with factory() as session:
        solution, version, found, _ = store.load_roster_version(session, COMMUNITY, MONTH, status=status)
    return solution, version, found


def notices(factory) -> list[Notice]:
    with factory() as session:
        return list(session.scalars(select(Notice).order_by(Notice.id)))


def event_rows(factory) -> list[Event]:
    with factory() as session:
        return list(session.scalars(select(Event).order_by(Event.id)))


def people_in(diff: RosterDiff) -> set[tuple[str, str]]:
    touched: set[tuple[str, str]] = set()
    for assignment in [*diff.added, *diff.removed, *(a for pair in diff.moved for a in pair)]:
        touched |= {("expert", assignment.expert), ("township", assignment.township)}
    return touched


def changed_problem(factory):
    with factory() as session:
        return flows.month_problem(session, COMMUNITY, MONTH)[0]


def apply_change(factory, before: Solution, change: Callable, kind: str, settings: Settings | None = None) -> tuple[Solution, RosterDiff]:
    """Make the change in one transaction, check it recorded a `kind` event, let the worker run; the new roster (valid) and its diff."""
    _, base, _ = latest(factory)
    already = {e.id for e in event_rows(factory)}
    with transaction(factory) as session:
        change(session)
    recorded = [e for e in event_rows(factory) if e.id not in already]
    assert kind in {e.kind for e in recorded}, f"the change recorded {[e.kind for e in recorded]}, not a {kind} event"
    process_pending(factory, now=T0, settings=settings or settings_for())
    rows = {e.id: e for e in event_rows(factory)}
    assert all(rows[e.id].status == "done" for e in recorded), [(e.kind, rows[e.id].status, rows[e.id].last_error) for e in recorded]
    after, version, _ = latest(factory)
    assert version > base, "the change broke the published roster, so a new version must follow"
    assert violations(changed_problem(factory), after) == []
    return after, diff_rosters(before.assignments, after.assignments)


def assert_told_exactly_the_people_whose_sessions_changed(factory, diff: RosterDiff) -> None:
    assert diff.changes > 0
    told = {(n.recipient_kind, n.recipient_id) for n in notices(factory)}
    assert told == people_in(diff)


def a_session(roster: Solution, **fields) -> object:
    found = [a for a in roster.assignments if all(getattr(a, name) == value for name, value in fields.items())]
    assert found, f"the published roster has no session with {fields}"
    return found[0]


# --- one test per kind -------------------------------------------------------------------------------


def test_leave(session_factory, published):
    target = a_session(published, expert="E01")
    after, diff = apply_change(session_factory, published, lambda s: flows.file_leave(s, COMMUNITY, "E01", target.date, reason="病假"), "leave")
    assert not any(a.expert == "E01" and a.date == target.date for a in after.assignments)
    assert_told_exactly_the_people_whose_sessions_changed(session_factory, diff)


def test_closure(session_factory, published):
    target = a_session(published, township="nanjing")
    after, diff = apply_change(
        session_factory, published, lambda s: closures.close_township(s, COMMUNITY, "nanjing", target.date, reason="洪水"), "closure"
    )
    assert not any(a.township == "nanjing" and a.date == target.date for a in after.assignments)
    assert_told_exactly_the_people_whose_sessions_changed(session_factory, diff)
    (event,) = [e for e in event_rows(session_factory) if e.kind == "closure"]
    assert event.outcome["months"][MONTH]["action"] == "replanned" and event.outcome["months"][MONTH]["broken"] >= 1


def test_reopen(session_factory, published):
    first = dt.date.fromisoformat(MONTH + "-01")
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    closed, _ = apply_change(session_factory, published, lambda s: closures.close_township(s, COMMUNITY, "pitou", first, last, "疫情"), "closure")
    assert not any(a.township == "pitou" for a in closed.assignments)
    told_before = len(notices(session_factory))

    reopened, diff = apply_change(session_factory, closed, lambda s: closures.reopen_township(s, COMMUNITY, "pitou", first, last), "reopen")
    assert any(a.township == "pitou" and a.type == "teaching" for a in reopened.assignments), "reopening lets the teaching back"
    fresh = notices(session_factory)[told_before:]
    assert {(n.recipient_kind, n.recipient_id) for n in fresh} == people_in(diff)


def test_request(session_factory, published):
    with transaction(session_factory) as session:
        first = dt.date.fromisoformat(MONTH + "-01")
        last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        request_id = flows.request_extra_session(session, COMMUNITY, "pitou", "clinic", "internal_med", 1, first, last)
    # The worker places the request by insertion; nobody else's session moves.
    process_pending(session_factory, now=T0, settings=settings_for())
    after, _, _ = latest(session_factory)
    with session_factory() as session:
        request = get_request(session, COMMUNITY, request_id)
    if request.state != "scheduled":
        pytest.fail(f"the request stayed {request.state}: {request.reason}")
    assert violations(changed_problem(session_factory), after) == []
    diff = diff_rosters(published.assignments, after.assignments)
    assert [a.id for a in diff.added] == request.assignment_ids and not diff.removed and not diff.moved
    assert_told_exactly_the_people_whose_sessions_changed(session_factory, diff)


def test_swap(session_factory, published):
    # A hand-made published version, so the test knows a session the colleague can take (a solve may leave none).
    working = sorted({slot.day for slot in changed_problem(session_factory).slots if slot.day.weekday() < 4})[5:]
    given = Assignment(working[0], "am", "nanjing", "ward_round", "internal_med", "E02", id="ward-round")
    roster = (Assignment(working[1], "am", "nanjing", "clinic", "cardio", "E01", id="cardio"), given)
    with transaction(session_factory) as session:
        number = store.save_roster_version(session, COMMUNITY, Solution(MONTH, roster, (), SolveReport("FEASIBLE")), cause="hand-made")
    flows.publish(session_factory, COMMUNITY, MONTH, number)
    before, _, _ = latest(session_factory)
    with transaction(session_factory) as session:
        swap_id = swaps.propose_swap(session, COMMUNITY, MONTH, given.id, "E02", "E01")
    after, diff = apply_change(session_factory, before, lambda s: swaps.answer_swap(s, COMMUNITY, swap_id, "E01", accept=True), "swap")
    assert next(a for a in after.assignments if a.id == given.id).expert == "E01"
    with session_factory() as session:
        assert swaps.get_swap(session, COMMUNITY, swap_id).state == "applied"
    assert_told_exactly_the_people_whose_sessions_changed(session_factory, diff)
    assert {(n.recipient_kind, n.recipient_id) for n in notices(session_factory)} == {("expert", "E01"), ("expert", "E02"), ("township", "nanjing")}


def test_demand_cut(session_factory, published):
    def cut(session):
        rows = standing.list_demand(session, COMMUNITY)
        index = next(i for i, row in enumerate(rows) if row["township"] == "nanjing" and row["specialty"] == "cardio" and row["sessions"] == 2)
        standing.delete_demand(session, COMMUNITY, index)

    after, diff = apply_change(session_factory, published, cut, "demand")
    assert sum(1 for a in after.assignments if a.township == "nanjing" and a.specialty == "cardio" and a.type == "clinic") <= 1
    assert_told_exactly_the_people_whose_sessions_changed(session_factory, diff)


def test_township_ward_removed(session_factory, published):
    a_session(published, township="nanjing", type="ward_round")

    def no_ward(session):
        nanjing = standing.get_item(session, COMMUNITY, "townships", "nanjing")
        standing.put_item(session, COMMUNITY, "townships", {**nanjing, "inpatient_ward": False})

    after, diff = apply_change(session_factory, published, no_ward, "township")
    assert not any(a.type == "ward_round" for a in after.assignments)
    assert_told_exactly_the_people_whose_sessions_changed(session_factory, diff)
    (event,) = [e for e in event_rows(session_factory) if e.kind == "township"]
    assert event.payload["changes"] == {"inpatient_ward": {"before": True, "after": False}}
    assert event.township == "nanjing"
    assert events.event_summary(event.kind, event.payload, "zh-CN") == "nanjing：住院病房 有→无"
    assert events.event_summary(event.kind, event.payload, "en") == "nanjing: inpatient ward yes→no"


def test_expert_limit_cut(session_factory, published):
    load = sum(1 for a in published.assignments if a.expert == "E01")
    assert load >= 2

    def cut(session):
        e01 = standing.get_item(session, COMMUNITY, "experts", "E01")
        standing.put_item(session, COMMUNITY, "experts", {**e01, "max_sessions": load - 1})

    after, diff = apply_change(session_factory, published, cut, "expert")
    assert sum(1 for a in after.assignments if a.expert == "E01") <= load - 1
    assert_told_exactly_the_people_whose_sessions_changed(session_factory, diff)


def test_links_cut(session_factory, published):
    visit = a_session(published, expert="E03", type="supervision")
    kept = [t for t in ("nanjing", "pitou") if t != visit.township]
    after, diff = apply_change(session_factory, published, lambda s: standing.set_links(s, COMMUNITY, "E03", kept), "links")
    assert not any(a.expert == "E03" and a.township == visit.township for a in after.assignments)
    assert_told_exactly_the_people_whose_sessions_changed(session_factory, diff)


def test_department_minimum_raised(session_factory, published):
    def everyone_at_the_hospital(session):
        internal = standing.get_item(session, COMMUNITY, "departments", "internal")
        standing.put_item(session, COMMUNITY, "departments", {**internal, "min_on_site": len(EXPERTS)})

    after, diff = apply_change(session_factory, published, everyone_at_the_hospital, "department")
    assert after.assignments == ()  # nobody of the only department may be away
    assert_told_exactly_the_people_whose_sessions_changed(session_factory, diff)


def test_calendar_closed_day(session_factory, published):
    target = a_session(published, type="clinic")

    def close_the_day(session):
        calendar = standing.get_calendar(session, COMMUNITY)
        standing.set_calendar(session, COMMUNITY, {**calendar, "closed": [*calendar["closed"], target.date]})

    after, diff = apply_change(session_factory, published, close_the_day, "calendar")
    assert not any(a.date == target.date for a in after.assignments)
    assert_told_exactly_the_people_whose_sessions_changed(session_factory, diff)


def test_rules_no_link_visits(session_factory, published):
    a_session(published, type="supervision")

    def no_visits(session):
        document = standing.scenario_document(session, COMMUNITY)
        document["rules"]["link_visits_per_month"] = 0
        standing.import_whole(session, COMMUNITY, load_scenario_document(document))

    after, diff = apply_change(session_factory, published, no_visits, "rules")
    assert not any(a.type == "supervision" for a in after.assignments)
    assert_told_exactly_the_people_whose_sessions_changed(session_factory, diff)


def test_leave_withdrawn(session_factory, published):
    target = a_session(published, expert="E01")
    moved, _ = apply_change(session_factory, published, lambda s: flows.file_leave(s, COMMUNITY, "E01", target.date), "leave")
    with session_factory() as session:
        (leave,) = [p for p in standing.expert_unavailability(session, COMMUNITY, "E01") if p.source == "leave"]
    already = {e.id for e in event_rows(session_factory)}
    with transaction(session_factory) as session:
        standing.delete_unavailability(session, COMMUNITY, "E01", leave.id)
    (event,) = [e for e in event_rows(session_factory) if e.id not in already]
    assert event.kind == "expert" and event.payload["changes"]["unavailable"]["after"] == []
    process_pending(session_factory, now=T0, settings=settings_for())
    (event,) = [e for e in event_rows(session_factory) if e.id not in already]
    assert event.status == "done" and event.outcome["months"][MONTH]["action"] in ("replanned", "unchanged")  # worth a try: E01 is free again
    after, _, _ = latest(session_factory)
    assert violations(changed_problem(session_factory), after) == []
    told = {(n.recipient_kind, n.recipient_id) for n in notices(session_factory)}
    assert told == people_in(diff_rosters(published.assignments, moved.assignments)) | people_in(diff_rosters(moved.assignments, after.assignments))


def load_scenario_document(document):
    return validate_document(document, source="the test")


# --- the check, the setting and the outbox -----------------------------------------------------------


def test_an_edit_that_breaks_nothing_is_checked_and_leaves_the_roster_alone(session_factory, published):
    _, base, _ = latest(session_factory)
    with transaction(session_factory) as session:
        pitou = standing.get_item(session, COMMUNITY, "townships", "pitou")
        standing.put_item(session, COMMUNITY, "townships", {**pitou, "rooms": 1, "travel_minutes": 30})  # rooms unchanged: no event
        e02 = standing.get_item(session, COMMUNITY, "experts", "E02")
        standing.put_item(session, COMMUNITY, "experts", {**e02, "title": "chief"})  # a promotion: may raise coverage
    (event,) = event_rows(session_factory)
    assert event.kind == "expert" and event.payload["changes"] == {"title": {"before": "attending", "after": "chief"}}
    process_pending(session_factory, now=T0, settings=settings_for())
    (event,) = event_rows(session_factory)
    assert event.status == "done"
    assert event.outcome["months"][MONTH]["broken"] == 0
    assert event.outcome["months"][MONTH]["action"] in ("replanned", "unchanged")  # worth a try, not a must
    after, version, _ = latest(session_factory)
    assert violations(changed_problem(session_factory), after) == []
    if version == base:
        assert notices(session_factory) == []


def test_with_replan_publish_draft_the_fix_waits_for_the_office(session_factory, published):
    _, base, _ = latest(session_factory)
    target = a_session(published, township="nanjing")
    with transaction(session_factory) as session:
        closures.close_township(session, COMMUNITY, "nanjing", target.date, reason="停电")
    process_pending(session_factory, now=T0, settings=settings_for(replan_publish="draft"))
    draft, version, status = latest(session_factory)
    assert (version, status) == (base + 1, "draft")
    assert latest(session_factory, status="published")[1] == base
    assert violations(changed_problem(session_factory), draft) == []
    assert notices(session_factory) == []  # a draft is the office's business
    (event,) = event_rows(session_factory)
    entry = event.outcome["months"][MONTH]
    assert (entry["action"], entry["version"], entry["status"]) == ("replanned", base + 1, "draft")
    assert entry["published_broken"] >= 1  # the page says the published version still breaks a rule


def test_a_standing_edit_and_its_event_commit_together_or_not_at_all(session_factory, published):
    with pytest.raises(RuntimeError):
        with transaction(session_factory) as session:
            nanjing = standing.get_item(session, COMMUNITY, "townships", "nanjing")
            standing.put_item(session, COMMUNITY, "townships", {**nanjing, "rooms": 1})
            assert [e.kind for e in session.scalars(select(Event))] == ["township"]
            raise RuntimeError("the request failed after the edit")
    assert event_rows(session_factory) == []
    with session_factory() as session:
        assert standing.get_item(session, COMMUNITY, "townships", "nanjing")["rooms"] == 2


def test_a_whole_scenario_import_records_one_event_per_change(session_factory, published):
    with transaction(session_factory) as session:
        document = standing.scenario_document(session, COMMUNITY)
        document["townships"][0]["rooms"] = 1
        document["experts"][1]["max_sessions"] = 2
        document["demand"].append({"township": "pitou", "type": "clinic", "specialty": "internal_med", "sessions": 2})
        document["calendar"]["extra_workdays"] = []
        standing.import_community(session, COMMUNITY, load_scenario_document(document))
    kinds = sorted((e.kind, e.township or "") for e in event_rows(session_factory))
    assert kinds == [("calendar", ""), ("demand", "pitou"), ("expert", ""), ("township", "nanjing")]
    demand = next(e for e in event_rows(session_factory) if e.kind == "demand")
    assert demand.payload["changes"] == [{"type": "clinic", "specialty": "internal_med", "before": 0, "after": 2}]
    process_pending(session_factory, now=T0, settings=settings_for())
    assert {e.status for e in event_rows(session_factory)} == {"done"}
    after, _, _ = latest(session_factory)
    assert violations(changed_problem(session_factory), after) == []


def test_bad_closures_name_the_field(session_factory, published):
    day = dt.date.fromisoformat(MONTH + "-10")
    cases = [
        (lambda s: closures.close_township(s, COMMUNITY, "nowhere", day), "township"),
        (lambda s: closures.close_township(s, COMMUNITY, "pitou", day, day - dt.timedelta(days=1)), "to"),
        (lambda s: closures.close_township(s, COMMUNITY, "pitou", day, day + dt.timedelta(days=400)), "to"),
        (lambda s: closures.close_township(s, COMMUNITY, "pitou", day, reason="x" * 501), "reason"),
    ]
    for change, field in cases:
        with pytest.raises(ScenarioError) as raised:
            with transaction(session_factory) as session:
                change(session)
        assert raised.value.problems[0].path == field
    with pytest.raises(NotFound):
        with transaction(session_factory) as session:
            closures.reopen_township(session, COMMUNITY, "pitou", day)
    assert event_rows(session_factory) == []
