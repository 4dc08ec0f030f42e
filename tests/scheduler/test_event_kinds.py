"""Every event kind on SQLite and PostgreSQL: the change in, a valid new version out, notices to exactly the people whose sessions changed, the actor recorded.

The month is two months ahead of today, so no day of it is history and a re-plan may move sessions
(October 2026 of the other event tests is past, where a re-plan can only drop). Each change is made
the way the office or a person makes it (scheduler.standing, scheduler.closures, flows, swaps, the
levers), as that person (`acting_as`); the worker then checks the published month against the new data
and re-plans. The new version is judged by the independent checker (tests/solver/checker.py) against
the CHANGED month's problem; the people told are compared with the people whose sessions differ
between the two versions, worked out here from the versions themselves; the event is traced to the
person who made the change and a version the worker made to "system".

Every registered kind has its test here (`@kind_test`; `test_every_registered_kind_has_its_test`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from event_harness import COMMUNITY, EXPERTS, MINIMAL, TOWNSHIPS, expert_address
from sqlalchemy import select

from config.settings import Settings
from scheduler import audit, closures, events, flows, forced, pins, revert, standing, store, swaps
from scheduler.actors import SYSTEM, Actor, acting_as
from scheduler.db import transaction
from scheduler.errors import NotFound, ScenarioError
from scheduler.events import Event, process_pending
from scheduler.notify.contacts import set_contact
from scheduler.notify.models import Notice
from scheduler.requests import get_request
from scheduler.roster_rules import RuleBroken
from scheduler.scenario import load_scenario
from scheduler.scenario.load import validate_document
from solver.solution import Assignment, Solution, SolveReport
from tests.solved import fresh_solves_reused
from tests.solver.checker import violations

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
T0 = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(hours=6)  # later than every event the tests record
OFFICE = Actor("医务科王五", "office", 7)
HEAD = Actor("陂头院长", "township", 8)


def future_month(today: dt.date | None = None) -> str:
    """The month two months after today's (no day of it is frozen as history)."""
    today = today or dt.datetime.now(SHANGHAI).date()
    first = (today.replace(day=1) + dt.timedelta(days=64)).replace(day=1)
    return f"{first.year:04d}-{first.month:02d}"


MONTH = future_month()
KIND_TESTS: dict[str, Callable] = {}


def kind_test(kind: str) -> Callable[[Callable], Callable]:
    """Register a test as the one of an event kind (the meta-test checks every registered kind has one)."""

    def mark(test: Callable) -> Callable:
        assert kind not in KIND_TESTS, f"two tests claim the kind {kind}"
        KIND_TESTS[kind] = test
        return test

    return mark


def settings_for(**changes) -> Settings:
    return Settings(**{"event_max_attempts": 2, "webhook_url": "", **changes})


@pytest.fixture
def published(session_factory, robot) -> Solution:
    """The minimal county with contacts for everyone and MONTH generated and published; returns the published roster.

    Generated through flows.generate, its solve done once per test process (tests/solved.py): every test of the
    file starts from the same month, and its re-plans are solved for real."""
    with transaction(session_factory) as session:
        community_id = store.import_scenario(session, COMMUNITY, load_scenario(MINIMAL))
        for expert in EXPERTS:
            set_contact(session, community_id, "expert", expert, email=expert_address(expert))
        for township in TOWNSHIPS:
            set_contact(session, community_id, "township", township, webhook_url=robot.url)
    with fresh_solves_reused():
        version = flows.generate(session_factory, COMMUNITY, MONTH, time_limit=3)
    flows.publish(session_factory, COMMUNITY, MONTH, version)
    return latest(session_factory)[0]


def latest(factory, status: str | None = None) -> tuple[Solution, int, str]:
    with factory() as session:
        solution, version, found, _ = store.load_roster_version(session, COMMUNITY, MONTH, status=status)
    return solution, version, found


def notices(factory, after_id: int = 0) -> list[Notice]:
    with factory() as session:
        return list(session.scalars(select(Notice).where(Notice.id > after_id).order_by(Notice.id)))


def last_notice_id(factory) -> int:
    return max((n.id for n in notices(factory)), default=0)


def event_rows(factory) -> list[Event]:
    with factory() as session:
        return list(session.scalars(select(Event).order_by(Event.id)))


def people_whose_sessions_changed(before: Solution, after: Solution) -> set[tuple[str, str]]:
    """Worked out from the two versions alone: for every assignment id in either whose session is not the same in
    both (added, removed, or moved in time, place, kind or person), its expert and township on each side."""
    def what(a: Assignment) -> tuple:
        return (a.date, a.half_day, a.township, a.type, a.specialty, a.expert, a.link_visit)

    old = {a.id: a for a in before.assignments}
    new = {a.id: a for a in after.assignments}
    people: set[tuple[str, str]] = set()
    for assignment_id in old.keys() | new.keys():
        sides = [side[assignment_id] for side in (old, new) if assignment_id in side]
        if len(sides) == 2 and what(sides[0]) == what(sides[1]):
            continue
        for a in sides:
            people |= {("expert", a.expert), ("township", a.township)}
    return people


def told(rows: list[Notice]) -> set[tuple[str, str]]:
    return {(n.recipient_kind, n.recipient_id) for n in rows}


def changed_problem(factory):
    with factory() as session:
        return flows.month_problem(session, COMMUNITY, MONTH)[0]


def versions_after(factory, base: int) -> list:
    with factory() as session:
        return [v for v in store.list_versions(session, COMMUNITY, MONTH) if v.version > base]


def apply_change(
    factory, before: Solution, change: Callable, kind: str, settings: Settings | None = None, *, actor: Actor = OFFICE, in_transaction: bool = True,
) -> tuple[Solution, list[Notice]]:
    """Make the change as `actor` (in one transaction, or given the factory for a lever), check it recorded a `kind` event traced
    to `actor`, let the worker run; returns the new roster (valid by the checker) and the notices the change caused.

    The versions the change itself saved (a lever's) are the actor's; those the worker saved are "system"'s.
    """
    _, base, _ = latest(factory)
    already = {e.id for e in event_rows(factory)}
    first_notice = last_notice_id(factory)
    with acting_as(actor):
        if in_transaction:
            with transaction(factory) as session:
                change(session)
        else:
            change(factory)
    by_the_change = {v.version for v in versions_after(factory, base)}
    recorded = [e for e in event_rows(factory) if e.id not in already]
    assert kind in {e.kind for e in recorded}, f"the change recorded {[e.kind for e in recorded]}, not a {kind} event"
    with factory() as session:
        traced = audit.event_actors(session, COMMUNITY, [e.id for e in recorded])
    assert {traced.get(e.id) for e in recorded} == {(actor.name, actor.role)}, "every event the change recorded names who made it"
    process_pending(factory, now=T0, settings=settings or settings_for())
    rows = {e.id: e for e in event_rows(factory)}
    assert all(rows[e.id].status == "done" for e in recorded), [(e.kind, rows[e.id].status, rows[e.id].last_error) for e in recorded]
    after, version, _ = latest(factory)
    assert version > base, "the change broke the published roster, so a new version must follow"
    assert violations(changed_problem(factory), after) == []
    made = versions_after(factory, base)
    assert [(v.actor, v.actor_role) for v in made] == [
        (actor.name, actor.role) if v.version in by_the_change else (SYSTEM.name, SYSTEM.role) for v in made
    ]
    return after, notices(factory, first_notice)


def assert_told_exactly_the_people_whose_sessions_changed(before: Solution, after: Solution, fresh: list[Notice]) -> None:
    changed = people_whose_sessions_changed(before, after)
    assert changed, "the change moved nobody's session"
    assert told(fresh) == changed


def a_session(roster: Solution, **fields) -> object:
    found = [a for a in roster.assignments if all(getattr(a, name) == value for name, value in fields.items())]
    assert found, f"the published roster has no session with {fields}"
    return found[0]


def month_days() -> tuple[dt.date, dt.date]:
    first = dt.date.fromisoformat(MONTH + "-01")
    return first, (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)


def publish_by_hand(factory, assignments: tuple[Assignment, ...]) -> Solution:
    """A hand-made published version, so a test knows exactly what the roster holds (a solve may leave other room)."""
    with transaction(factory) as session:
        number = store.save_roster_version(session, COMMUNITY, Solution(MONTH, assignments, (), SolveReport("FEASIBLE")), cause="hand-made")
    flows.publish(factory, COMMUNITY, MONTH, number)
    return latest(factory)[0]


def working_days(factory) -> list[dt.date]:
    """The month's open Monday-to-Thursday days (nobody avoids them; Friday is E01's day to avoid)."""
    return sorted({slot.day for slot in changed_problem(factory).slots if slot.day.weekday() < 4})


# --- one test per kind -------------------------------------------------------------------------------


@kind_test("leave")
def test_leave(session_factory, published):
    target = a_session(published, expert="E01")
    after, fresh = apply_change(session_factory, published, lambda s: flows.file_leave(s, COMMUNITY, "E01", target.date, reason="病假"), "leave")
    assert not any(a.expert == "E01" and a.date == target.date for a in after.assignments)
    assert_told_exactly_the_people_whose_sessions_changed(published, after, fresh)


@kind_test("closure")
def test_closure(session_factory, published):
    target = a_session(published, township="nanjing")
    after, fresh = apply_change(
        session_factory, published, lambda s: closures.close_township(s, COMMUNITY, "nanjing", target.date, reason="洪水"), "closure"
    )
    assert not any(a.township == "nanjing" and a.date == target.date for a in after.assignments)
    assert_told_exactly_the_people_whose_sessions_changed(published, after, fresh)
    (event,) = [e for e in event_rows(session_factory) if e.kind == "closure"]
    assert event.outcome["months"][MONTH]["action"] == "replanned" and event.outcome["months"][MONTH]["broken"] >= 1


@kind_test("reopen")
def test_reopen(session_factory, published):
    first, last = month_days()
    closed, _ = apply_change(session_factory, published, lambda s: closures.close_township(s, COMMUNITY, "pitou", first, last, "疫情"), "closure")
    assert not any(a.township == "pitou" for a in closed.assignments)

    reopened, fresh = apply_change(session_factory, closed, lambda s: closures.reopen_township(s, COMMUNITY, "pitou", first, last), "reopen")
    assert any(a.township == "pitou" and a.type == "teaching" for a in reopened.assignments), "reopening lets the teaching back"
    assert_told_exactly_the_people_whose_sessions_changed(closed, reopened, fresh)


@kind_test("request")
def test_request(session_factory, published):
    first, last = month_days()
    # The worker places the request by insertion; nobody else's session moves.
    after, fresh = apply_change(
        session_factory, published, lambda s: flows.request_extra_session(s, COMMUNITY, "pitou", "clinic", "internal_med", 1, first, last),
        "request", actor=HEAD,
    )
    with session_factory() as session:
        (request,) = [e for e in event_rows(session_factory) if e.kind == "request"]
        row = get_request(session, COMMUNITY, request.payload["request_id"])
    assert row.state == "scheduled", row.reason
    added = {a.id for a in after.assignments} - {a.id for a in published.assignments}
    assert added == set(row.assignment_ids)
    assert {a.id: a for a in published.assignments}.items() <= {a.id: a for a in after.assignments}.items(), "insertion moves nobody"
    assert_told_exactly_the_people_whose_sessions_changed(published, after, fresh)


@kind_test("swap")
def test_swap(session_factory, published):
    working = working_days(session_factory)[5:]
    given = Assignment(working[0], "am", "nanjing", "ward_round", "internal_med", "E02", id="ward-round")
    before = publish_by_hand(session_factory, (Assignment(working[1], "am", "nanjing", "clinic", "cardio", "E01", id="cardio"), given))
    with transaction(session_factory) as session, acting_as(Actor("王芳", "expert", 3)):
        swap_id = swaps.propose_swap(session, COMMUNITY, MONTH, given.id, "E02", "E01")
    after, fresh = apply_change(
        session_factory, before, lambda s: swaps.answer_swap(s, COMMUNITY, swap_id, "E01", accept=True), "swap", actor=Actor("李海林", "expert", 2)
    )
    assert next(a for a in after.assignments if a.id == given.id).expert == "E01"
    with session_factory() as session:
        assert swaps.get_swap(session, COMMUNITY, swap_id).state == "applied"
    assert_told_exactly_the_people_whose_sessions_changed(before, after, fresh)
    assert told(fresh) == {("expert", "E01"), ("expert", "E02"), ("township", "nanjing")}


@kind_test("demand")
def test_demand_cut(session_factory, published):
    def cut(session):
        rows = standing.list_demand(session, COMMUNITY)
        index = next(i for i, row in enumerate(rows) if row["township"] == "nanjing" and row["specialty"] == "cardio" and row["sessions"] == 2)
        standing.delete_demand(session, COMMUNITY, index)

    after, fresh = apply_change(session_factory, published, cut, "demand")
    assert sum(1 for a in after.assignments if a.township == "nanjing" and a.specialty == "cardio" and a.type == "clinic") <= 1
    assert_told_exactly_the_people_whose_sessions_changed(published, after, fresh)


@kind_test("township")
def test_township_ward_removed(session_factory, published):
    a_session(published, township="nanjing", type="ward_round")

    def no_ward(session):
        nanjing = standing.get_item(session, COMMUNITY, "townships", "nanjing")
        standing.put_item(session, COMMUNITY, "townships", {**nanjing, "inpatient_ward": False})

    after, fresh = apply_change(session_factory, published, no_ward, "township")
    assert not any(a.type == "ward_round" for a in after.assignments)
    assert_told_exactly_the_people_whose_sessions_changed(published, after, fresh)
    (event,) = [e for e in event_rows(session_factory) if e.kind == "township"]
    assert event.payload["changes"] == {"inpatient_ward": {"before": True, "after": False}}
    assert event.township == "nanjing"
    assert events.event_summary(event.kind, event.payload, "zh-CN") == "nanjing：住院病房 有→无"
    assert events.event_summary(event.kind, event.payload, "en") == "nanjing: inpatient ward yes→no"


def test_township_rooms_cut(session_factory, published):
    """The other township edit: rooms. A hand-made roster fills nanjing's 2 rooms one morning; a cut to 1 breaks it."""
    day = working_days(session_factory)[6]
    before = publish_by_hand(session_factory, (
        Assignment(day, "am", "nanjing", "clinic", "cardio", "E01", id="room-1"),
        Assignment(day, "am", "nanjing", "ward_round", "internal_med", "E02", id="room-2"),
    ))

    def one_room(session):
        nanjing = standing.get_item(session, COMMUNITY, "townships", "nanjing")
        standing.put_item(session, COMMUNITY, "townships", {**nanjing, "rooms": 1})

    after, fresh = apply_change(session_factory, before, one_room, "township")
    mornings: dict[tuple, int] = {}
    for a in after.assignments:
        if a.township == "nanjing" and a.type != "supervision":  # a link visit takes no room
            mornings[a.slot] = mornings.get(a.slot, 0) + 1
    assert max(mornings.values(), default=0) <= 1
    assert_told_exactly_the_people_whose_sessions_changed(before, after, fresh)


@kind_test("expert")
def test_expert_limit_cut(session_factory, published):
    load = sum(1 for a in published.assignments if a.expert == "E01")
    assert load >= 2

    def cut(session):
        e01 = standing.get_item(session, COMMUNITY, "experts", "E01")
        standing.put_item(session, COMMUNITY, "experts", {**e01, "max_sessions": load - 1})

    after, fresh = apply_change(session_factory, published, cut, "expert")
    assert sum(1 for a in after.assignments if a.expert == "E01") <= load - 1
    assert_told_exactly_the_people_whose_sessions_changed(published, after, fresh)


@pytest.mark.parametrize("field", ["specialties", "department", "title"])
def test_expert_field_that_unqualifies(session_factory, published, field):
    """Each other expert field the issue names: E01 loses cardio, moves to a department that must keep everyone, or drops below teaching's title."""
    target = {"specialties": ("E01", "clinic"), "department": ("E02", None), "title": ("E03", "teaching")}[field]
    expert, kind = target
    sessions = [a for a in published.assignments if a.expert == expert and (kind is None or a.type == kind)]
    if not sessions:  # the solve gave the expert nothing this edit could break: a hand-made roster that it breaks
        day = working_days(session_factory)[6]
        hand = {
            "specialties": Assignment(day, "am", "nanjing", "clinic", "cardio", "E01", id="cardio-e01"),
            "department": Assignment(day, "am", "nanjing", "ward_round", "internal_med", "E02", id="ward-e02"),
            "title": Assignment(day, "am", "pitou", "teaching", "internal_med", "E03", id="teach-e03"),
        }[field]
        published = publish_by_hand(session_factory, (hand,))

    def edit(session):
        if field == "department":
            standing.put_item(session, COMMUNITY, "departments", {"code": "surgery", "name": "外科", "min_on_site": 1})
        row = standing.get_item(session, COMMUNITY, "experts", expert)
        changed = {"specialties": {"specialties": ["internal_med"]}, "department": {"department": "surgery"}, "title": {"title": "attending"}}[field]
        standing.put_item(session, COMMUNITY, "experts", {**row, **changed})

    after, fresh = apply_change(session_factory, published, edit, "expert")
    assert not [a for a in after.assignments if a.expert == expert and (
        (field == "specialties" and a.specialty == "cardio") or field == "department" or (field == "title" and a.type == "teaching")
    )]
    assert_told_exactly_the_people_whose_sessions_changed(published, after, fresh)
    (event,) = [e for e in event_rows(session_factory) if e.kind == "expert"]
    assert field in event.payload["changes"]


@kind_test("links")
def test_links_cut(session_factory, published):
    visit = a_session(published, expert="E03", type="supervision")
    kept = [t for t in ("nanjing", "pitou") if t != visit.township]
    after, fresh = apply_change(session_factory, published, lambda s: standing.set_links(s, COMMUNITY, "E03", kept), "links")
    assert not any(a.expert == "E03" and a.township == visit.township for a in after.assignments)
    assert_told_exactly_the_people_whose_sessions_changed(published, after, fresh)


@kind_test("department")
def test_department_minimum_raised(session_factory, published):
    def everyone_at_the_hospital(session):
        internal = standing.get_item(session, COMMUNITY, "departments", "internal")
        standing.put_item(session, COMMUNITY, "departments", {**internal, "min_on_site": len(EXPERTS)})

    after, fresh = apply_change(session_factory, published, everyone_at_the_hospital, "department")
    assert after.assignments == ()  # nobody of the only department may be away
    assert_told_exactly_the_people_whose_sessions_changed(published, after, fresh)


@kind_test("calendar")
def test_calendar_closed_day(session_factory, published):
    target = a_session(published, type="clinic")

    def close_the_day(session):
        calendar = standing.get_calendar(session, COMMUNITY)
        standing.set_calendar(session, COMMUNITY, {**calendar, "closed": [*calendar["closed"], target.date]})

    after, fresh = apply_change(session_factory, published, close_the_day, "calendar")
    assert not any(a.date == target.date for a in after.assignments)
    assert_told_exactly_the_people_whose_sessions_changed(published, after, fresh)


def test_calendar_make_up_day_withdrawn(session_factory, published):
    """The other calendar edit: a make-up working day (a Saturday worked) taken back, with a session on it."""
    saturday = next(d for d in (dt.date.fromisoformat(MONTH + "-01") + dt.timedelta(days=n) for n in range(28)) if d.weekday() == 5)
    with transaction(session_factory) as session:
        calendar = standing.get_calendar(session, COMMUNITY)
        standing.set_calendar(session, COMMUNITY, {**calendar, "extra_workdays": [*calendar["extra_workdays"], saturday]})
    process_pending(session_factory, now=T0, settings=settings_for())
    before = publish_by_hand(session_factory, (Assignment(saturday, "am", "pitou", "teaching", "internal_med", "E01", id="saturday"),))

    def withdraw(session):
        calendar = standing.get_calendar(session, COMMUNITY)
        standing.set_calendar(session, COMMUNITY, {**calendar, "extra_workdays": [d for d in calendar["extra_workdays"] if str(d) != saturday.isoformat()]})

    after, fresh = apply_change(session_factory, before, withdraw, "calendar")
    assert not any(a.date == saturday for a in after.assignments)
    assert_told_exactly_the_people_whose_sessions_changed(before, after, fresh)


@kind_test("rules")
def test_rules_no_link_visits(session_factory, published):
    a_session(published, type="supervision")

    def no_visits(session):
        document = standing.scenario_document(session, COMMUNITY)
        document["rules"]["link_visits_per_month"] = 0
        standing.import_whole(session, COMMUNITY, load_scenario_document(document))

    after, fresh = apply_change(session_factory, published, no_visits, "rules")
    assert not any(a.type == "supervision" for a in after.assignments)
    assert_told_exactly_the_people_whose_sessions_changed(published, after, fresh)


def move_somewhere(factory, roster: Solution) -> int:
    """Move a clinic or teaching session to the first other day the office's edit accepts (every hard rule kept: a session
    that is a link visit's team cannot leave its day); the version saved."""
    for moved in (a for a in roster.assignments if a.type in ("clinic", "teaching")):
        for day in working_days(factory):
            if day != moved.date:
                try:
                    return flows.move_session(factory, COMMUNITY, MONTH, moved.id, date=day)[0]
                except RuleBroken:
                    continue
    pytest.fail("no session of the roster can move to another day")


@kind_test("revert")
def test_revert(session_factory, published):
    with acting_as(OFFICE):
        edited = move_somewhere(session_factory, published)
    flows.publish(session_factory, COMMUNITY, MONTH, edited)
    process_pending(session_factory, now=T0, settings=settings_for())
    before, original, _ = latest(session_factory)
    original -= 1  # the version the office goes back to

    after, fresh = apply_change(session_factory, before, lambda f: revert.revert_to(f, COMMUNITY, MONTH, original), "revert", in_transaction=False)
    assert sorted(a.content for a in after.assignments) == sorted(a.content for a in published.assignments)
    assert_told_exactly_the_people_whose_sessions_changed(before, after, fresh)


@kind_test("forced")
def test_forced(session_factory, published):
    # E01 at nanjing all day D, E02 on leave that day: a pitou clinic on D cannot be inserted, but moving one of E01's sessions makes room.
    days = working_days(session_factory)
    day, other = days[6], days[8]
    before = publish_by_hand(session_factory, (
        Assignment(day, "am", "nanjing", "clinic", "cardio", "E01", id="d-am"),
        Assignment(day, "pm", "nanjing", "clinic", "cardio", "E01", id="d-pm"),
        Assignment(other, "am", "nanjing", "ward_round", "internal_med", "E02", id="other"),
    ))
    with transaction(session_factory) as session:
        flows.file_leave(session, COMMUNITY, "E02", day, reason="会议")
        request_id = flows.request_extra_session(session, COMMUNITY, "pitou", "clinic", "internal_med", 1, day, day)
    process_pending(session_factory, now=T0, settings=settings_for())
    with session_factory() as session:
        assert get_request(session, COMMUNITY, request_id).state == "pending"  # insertion alone cannot place it
    before, _, _ = latest(session_factory)

    after, fresh = apply_change(
        session_factory, before, lambda f: forced.force_request(f, COMMUNITY, request_id, day, time_limit=3), "forced", in_transaction=False
    )
    assert any(a.township == "pitou" and a.date == day and a.type == "clinic" for a in after.assignments)
    about_sessions = [n for n in fresh if n.kind in ("assignment", "change", "cancellation")]
    assert_told_exactly_the_people_whose_sessions_changed(before, after, about_sessions)
    assert told(fresh) == told(about_sessions), "nobody else is told"


def test_leave_withdrawn(session_factory, published):
    """Taking leave back is an expert edit (its unavailability), worth a re-plan: E01 is free again."""
    target = a_session(published, expert="E01")
    moved, _ = apply_change(session_factory, published, lambda s: flows.file_leave(s, COMMUNITY, "E01", target.date), "leave")
    with session_factory() as session:
        (leave,) = [p for p in standing.expert_unavailability(session, COMMUNITY, "E01") if p.source == "leave"]
    already = {e.id for e in event_rows(session_factory)}
    first_notice = last_notice_id(session_factory)
    with transaction(session_factory) as session:
        standing.delete_unavailability(session, COMMUNITY, "E01", leave.id)
    (event,) = [e for e in event_rows(session_factory) if e.id not in already]
    assert event.kind == "expert" and event.payload["changes"]["unavailable"]["after"] == []
    process_pending(session_factory, now=T0, settings=settings_for())
    (event,) = [e for e in event_rows(session_factory) if e.id not in already]
    assert event.status == "done" and event.outcome["months"][MONTH]["action"] in ("replanned", "unchanged")
    after, _, _ = latest(session_factory)
    assert violations(changed_problem(session_factory), after) == []
    assert told(notices(session_factory, first_notice)) == people_whose_sessions_changed(moved, after)


def load_scenario_document(document):
    return validate_document(document, source="the test")


def test_every_registered_kind_has_its_test():
    missing = sorted(set(events.KINDS) - set(KIND_TESTS))
    assert not missing, f"event kinds without a test of their own here: {missing}"
    strays = sorted(set(KIND_TESTS) - set(events.KINDS))
    assert not strays, f"tests of kinds the registry does not know: {strays}"


def test_the_independent_diff_sees_every_way_a_session_changes():
    day = dt.date(2030, 1, 7)
    kept = Assignment(day, "am", "nanjing", "clinic", "cardio", "E01", id="kept")
    moved = Assignment(day, "pm", "pitou", "teaching", "internal_med", "E03", id="moved")
    gone = Assignment(day, "am", "pitou", "clinic", "internal_med", "E02", id="gone")
    before = Solution(MONTH, (kept, moved, gone), (), SolveReport("FEASIBLE"))
    after = Solution(MONTH, (kept, Assignment(day, "pm", "nanjing", "teaching", "internal_med", "E01", id="moved")), (), SolveReport("FEASIBLE"))
    assert people_whose_sessions_changed(before, after) == {("expert", "E03"), ("township", "pitou"), ("expert", "E01"), ("township", "nanjing"), ("expert", "E02")}
    assert people_whose_sessions_changed(before, before) == set()


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


def test_a_change_two_pins_cannot_survive_together_fails_its_event_naming_both(session_factory, published):
    """Each pin alone fits one room; together they need two: the rooms cut fails at once, both pins named, nothing saved."""
    day = working_days(session_factory)[6]
    before = publish_by_hand(session_factory, (
        Assignment(day, "am", "nanjing", "clinic", "cardio", "E01", id="room-1"),
        Assignment(day, "am", "nanjing", "ward_round", "internal_med", "E02", id="room-2"),
    ))
    _, base, _ = latest(session_factory)
    with transaction(session_factory) as session:
        for assignment in before.assignments:
            pins.pin_assignment(session, COMMUNITY, MONTH, assignment.id)
        nanjing = standing.get_item(session, COMMUNITY, "townships", "nanjing")
        standing.put_item(session, COMMUNITY, "townships", {**nanjing, "rooms": 1})
    process_pending(session_factory, now=T0, settings=settings_for(event_max_attempts=5))
    (event,) = [e for e in event_rows(session_factory) if e.kind == "township"]
    assert (event.status, event.attempts) == ("failed", 1), event.last_error  # no retry can help
    assert sorted((c["assignment_id"], c["rule"]) for c in event.outcome["pin_clash"]) == [("room-1", "township rooms"), ("room-2", "township rooms")]
    assert "E01 at nanjing" in event.last_error and "E02 at nanjing" in event.last_error
    assert latest(session_factory)[1] == base and notices(session_factory) == []


def test_a_pin_the_frozen_past_forbids_is_found_by_the_replan_and_named(session_factory, published, monkeypatch):
    """E01 served on the first day (history by now) and is pinned on a later one; cut to one session, the pin alone keeps
    every rule, so only the re-plan finds that it cannot stay: the event fails at once, the pin named with the rule."""
    days = working_days(session_factory)
    past, later = days[0], days[5]
    before = publish_by_hand(session_factory, (
        Assignment(past, "am", "nanjing", "clinic", "cardio", "E01", id="served"),
        Assignment(later, "am", "nanjing", "clinic", "cardio", "E01", id="pinned"),
    ))
    _, base, _ = latest(session_factory)
    with transaction(session_factory) as session:
        pins.pin_assignment(session, COMMUNITY, MONTH, "pinned")
        e01 = standing.get_item(session, COMMUNITY, "experts", "E01")
        standing.put_item(session, COMMUNITY, "experts", {**e01, "max_sessions": 1})
    monkeypatch.setattr(flows, "_today", lambda factory, community: past)  # the first day is history: a re-plan keeps it as it was
    process_pending(session_factory, now=T0, settings=settings_for(event_max_attempts=5))
    (event,) = [e for e in event_rows(session_factory) if e.kind == "expert"]
    assert (event.status, event.attempts) == ("failed", 1), event.last_error
    assert event.outcome["pin_clash"] == [{
        "assignment_id": "pinned", "date": later.isoformat(), "half_day": "am", "township": "nanjing", "type": "clinic", "specialty": "cardio",
        "expert": "E01", "rule": "monthly session limit",
    }], event.outcome
    assert "E01 at nanjing" in event.last_error and len(before.assignments) == 2
    assert latest(session_factory)[1] == base and notices(session_factory) == []
