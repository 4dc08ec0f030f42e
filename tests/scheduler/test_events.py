"""The events outbox on SQLite and PostgreSQL: recorded with the change, processed in order, retried, isolated,
notices only to the people affected (delivered to a real SMTP server and a real HTTP robot), and a worker
SIGKILLed in the middle of an event loses nothing and sends nothing twice.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from event_harness import (
    COMMUNITY,
    MONTH,
    channels_for,
    WorkerProcess,
    expert_address,
    latest_roster,
    seed_published_roster,
    wait_for,
)
from sqlalchemy import func, select

from config.settings import Settings
from scheduler import events, flows, store
from scheduler.db import transaction
from scheduler.events import Event, next_batch, notices_for_diff, process_pending, record_event
from scheduler.models import ExpertUnavailability, RosterVersion
from scheduler.notify.models import Notice
from solver.solution import Assignment, RosterDiff, diff_rosters
from tests.solved import fresh_solves_reused

# Later than any event the tests record (events are stamped with the real clock), so they are due at
# T0: hours ahead, because T0 is fixed at import and the whole suite runs for minutes before these tests.
T0 = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(hours=6)


@pytest.fixture
def published(session_factory, robot):
    """October of the minimal scenario, generated and published, with contacts for everyone."""
    return seed_published_roster(session_factory, robot.url)


def settings_for(**changes) -> Settings:
    return Settings(**{"event_max_attempts": 3, "webhook_url": "", **changes})


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


# --- the outbox ------------------------------------------------------------------------------------


def test_an_event_commits_with_its_change_or_not_at_all(session_factory, published):
    with pytest.raises(RuntimeError):
        with transaction(session_factory) as session:
            flows.file_leave(session, COMMUNITY, "E01", dt.date(2026, 10, 15), reason="病假")
            raise RuntimeError("the request failed after the leave was written")
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == 0
        assert session.scalar(select(func.count()).select_from(ExpertUnavailability).where(ExpertUnavailability.source == "leave")) == 0

    with transaction(session_factory) as session:
        event_id = flows.file_leave(session, COMMUNITY, "E01", dt.date(2026, 10, 15), reason="病假")
    with session_factory() as session:
        view = events.get_event(session, COMMUNITY, event_id)
    assert (view.kind, view.status, view.month, view.attempts) == ("leave", "pending", MONTH, 0)


def test_record_event_refuses_an_unknown_kind(session):
    with pytest.raises(ValueError, match="kind"):
        record_event(session, 1, "holiday", {})


def test_leave_replans_and_tells_only_the_people_whose_sessions_changed(session_factory, published, smtp, robot):
    before, base, _ = latest_roster(session_factory)
    target = next(a for a in before.assignments if a.expert == "E01" and a.type == "clinic")
    with transaction(session_factory) as session:
        flows.file_leave(session, COMMUNITY, "E01", target.date, reason="病假")

    assert process_pending(session_factory, now=T0, settings=settings_for()) == 1

    after, version, status = latest_roster(session_factory)
    assert (version, status) == (base + 1, "published")
    assert all(not (a.expert == "E01" and a.date == target.date) for a in after.assignments)
    diff = diff_rosters(before.assignments, after.assignments)
    assert diff.changes > 0
    told = {(n.recipient_kind, n.recipient_id) for n in notices(session_factory)}
    assert told == people_in(diff)  # everyone affected, nobody else
    assert ("expert", "E01") in told
    assert all(f":v{version}:" in n.dedup_key for n in notices(session_factory))
    (event,) = event_rows(session_factory)
    assert event.status == "done" and event.outcome["replanned"] == {MONTH: version}

    sent = events.deliver_notices(session_factory, channels_for(smtp), now=T0)
    assert sent == len(notices(session_factory))
    mail_to_e01 = [m for m in smtp.inbox.messages if m["To"] == expert_address("E01")]
    assert mail_to_e01, "E01 lost a session and must hear about it"
    assert all(m["Subject"].startswith(("【排班变更】", "【排班取消】")) for m in mail_to_e01)
    assert "原因：专家请假" in "".join(m.get_content() for m in mail_to_e01 if "取消" in m["Subject"]) or all(
        "变更" in m["Subject"] for m in mail_to_e01
    )
    untouched = {a.expert for a in before.assignments} - {who for kind, who in told if kind == "expert"}
    assert not [m for m in smtp.inbox.messages if m["To"] in {expert_address(e) for e in untouched}]
    assert len(robot.posts) == sum(1 for n in notices(session_factory) if n.channel == "webhook")
    assert all("卫生院负责同志" in text for text in robot.texts())

    # Processing again finds nothing; nothing is enqueued twice.
    assert process_pending(session_factory, now=T0, settings=settings_for()) == 0
    assert events.deliver_notices(session_factory, channels_for(smtp), now=T0) == 0


def test_a_substitution_tells_the_township_one_change():
    before = Assignment(dt.date(2026, 10, 8), "pm", "nanjing", "clinic", "cardio", "E01", id="a")
    after = Assignment(dt.date(2026, 10, 8), "pm", "nanjing", "clinic", "cardio", "E04", id="b")
    planned = notices_for_diff(RosterDiff(added=(after,), removed=(before,)))
    assert {(p.recipient_kind, p.recipient_id, p.kind) for p in planned} == {
        ("expert", "E01", "cancellation"), ("expert", "E04", "assignment"), ("township", "nanjing", "change"),
    }


def test_a_draft_replan_tells_nobody(session_factory, robot):
    with transaction(session_factory) as session:
        from scheduler.scenario import load_scenario
        from event_harness import MINIMAL

        store.import_scenario(session, COMMUNITY, load_scenario(MINIMAL))
    with fresh_solves_reused():  # the draft to re-plan (its solve once per process); the re-plan solves for real
        flows.generate(session_factory, COMMUNITY, MONTH, time_limit=3)
    before, _, _ = latest_roster(session_factory)
    target = next(a for a in before.assignments if a.expert == "E01")
    with transaction(session_factory) as session:
        flows.file_leave(session, COMMUNITY, "E01", target.date)
    assert process_pending(session_factory, now=T0, settings=settings_for()) == 1
    _, version, status = latest_roster(session_factory)
    assert (version, status) == (2, "draft")
    assert notices(session_factory) == []


def test_events_queued_together_share_one_replan(session_factory, published):
    published_roster, base, _ = latest_roster(session_factory)
    closed = next(a for a in published_roster.assignments if a.township == "pitou").date  # a day with sessions there
    with transaction(session_factory) as session:
        flows.file_leave(session, COMMUNITY, "E01", dt.date(2026, 10, 8))
        flows.file_leave(session, COMMUNITY, "E02", dt.date(2026, 10, 19), half_day="am")
        flows.close_township(session, COMMUNITY, "pitou", [closed], reason="洪水")
    assert process_pending(session_factory, now=T0, settings=settings_for()) == 3
    assert [e.status for e in event_rows(session_factory)] == ["done"] * 3
    after, version, _ = latest_roster(session_factory)
    assert version == base + 1
    assert not any(a.township == "pitou" and a.date == closed for a in after.assignments)
    before, _, _ = latest_roster_at(session_factory, base)
    diff = diff_rosters(before.assignments, after.assignments)
    assert {(n.recipient_kind, n.recipient_id) for n in notices(session_factory)} == people_in(diff)


def test_a_cancellation_names_the_event_that_caused_it():
    leave = Event(id=1, kind="leave", payload={"expert": "E01", "first_day": "2026-10-08", "last_day": "2026-10-09"})
    closure = Event(id=2, kind="closure", payload={"township": "pitou", "dates": ["2026-10-10"]})
    at_pitou = Assignment(dt.date(2026, 10, 10), "pm", "pitou", "clinic", "cardio", "E02", id="a")
    on_leave = Assignment(dt.date(2026, 10, 9), "am", "nanjing", "clinic", "cardio", "E01", id="b")
    assert events.cause_of(at_pitou, [leave, closure]) == "closure"
    assert events.cause_of(on_leave, [closure, leave]) == "leave"
    assert events.cause_of(Assignment(dt.date(2026, 10, 20), "am", "nanjing", "clinic", "cardio", "E02", id="c"), [leave, closure]) == "leave"


# --- retries, failure and isolation ----------------------------------------------------------------


def test_a_failing_event_retries_with_backoff_fails_visibly_and_blocks_no_other_township(session_factory, published):
    settings = settings_for()
    with transaction(session_factory) as session:
        # A request event whose request does not exist: settle_request raises every time.
        broken = record_event(session, store.community_id_of(session, COMMUNITY), "request", {"request_id": 999_999}, month=MONTH, township="pitou")
        other_township = flows.close_township(session, COMMUNITY, "nanjing", [dt.date(2026, 10, 19)], reason="停电")
        behind_broken = flows.close_township(session, COMMUNITY, "pitou", [dt.date(2026, 10, 10)], reason="洪水")

    process_pending(session_factory, now=T0, settings=settings)
    state = {e.id: e for e in event_rows(session_factory)}
    assert state[broken].status == "pending" and state[broken].attempts == 1
    assert state[broken].next_attempt_at == T0 + events.backoff_delay(1)
    assert "999999" in state[broken].last_error
    assert state[other_township].status == "done"  # another township is not held up
    assert state[behind_broken].status == "pending" and state[behind_broken].attempts == 0  # its own lane waits, in order

    assert process_pending(session_factory, now=T0 + dt.timedelta(seconds=1), settings=settings) == 0  # backing off
    moment = T0
    for _ in range(5):
        moment += dt.timedelta(minutes=30)
        process_pending(session_factory, now=moment, settings=settings)
    state = {e.id: e for e in event_rows(session_factory)}
    assert state[broken].status == "failed" and state[broken].attempts == settings.event_max_attempts
    assert "attempt 3" in state[broken].last_error and "999999" in state[broken].last_error
    assert state[behind_broken].status == "done"
    with session_factory() as session:
        failed = events.list_events(session, COMMUNITY, status="failed")
        assert [f.id for f in failed] == [broken]
        assert events.retry_event(session, COMMUNITY, broken, now=moment).status == "pending"


def test_lanes_pick_the_first_due_event_and_its_month_mates():
    def event(id_, kind, month, township, attempts=0, status="pending", due=True):
        row = Event(id=id_, community_id=1, kind=kind, payload={}, month=month, township=township, status=status, attempts=attempts,
                    created_at=T0, next_attempt_at=T0 if due else T0 + dt.timedelta(hours=1))
        return row

    queue = [
        event(1, "leave", "2026-10", None, attempts=1, due=False),  # waiting retry
        event(2, "leave", "2026-10", None),  # same lane: must wait behind 1
        event(3, "closure", "2026-10", "pitou"),
        event(4, "request", "2026-10", "nanjing"),
        event(5, "closure", "2026-10", "nanjing"),  # behind the request in its lane
        event(6, "demand", "2026-11", None),
    ]
    assert [e.id for e in next_batch(queue, T0)] == [3]  # 3 heads its lane; 4 is a request (alone); 6 another month
    assert [e.id for e in next_batch(queue[3:], T0)] == [4]
    assert [e.id for e in next_batch([queue[2], queue[4], queue[5]], T0)] == [3, 5]


def test_lanes_and_shared_replans_stay_within_a_community():
    def event(id_, community, kind, month, township, attempts=0, due=True):
        return Event(id=id_, community_id=community, kind=kind, payload={}, month=month, township=township, status="pending",
                     attempts=attempts, created_at=T0, next_attempt_at=T0 if due else T0 + dt.timedelta(hours=1))

    queue = [
        event(1, 1, "closure", "2026-10", "pitou", attempts=2, due=False),  # community 1's retry, waiting
        event(2, 2, "closure", "2026-10", "pitou"),  # community 2, the same month and township: another lane
        event(3, 1, "leave", "2026-10", None),
        event(4, 2, "leave", "2026-10", None),  # the same month, community 2: shares 2's re-plan, not 3's
        event(5, 1, "closure", "2026-10", "pitou"),  # behind 1 in its lane
    ]
    assert [e.id for e in next_batch(queue, T0)] == [2, 4]
    assert [e.id for e in next_batch([queue[0], queue[2], queue[4]], T0)] == [3]


# --- crashes ----------------------------------------------------------------------------------------


# Killed after saving the new version (the hard case: the retry finds nothing left to change) on both
# engines; killed before saving on SQLite only, to keep the run short.
@pytest.mark.parametrize(
    ("database_url", "kill_point"), [("sqlite", "after"), ("postgresql", "after"), ("sqlite", "before")], indirect=["database_url"]
)
def test_a_worker_killed_during_an_event_loses_no_event_and_sends_each_notice_once(database_url, session_factory, published, smtp, tmp_path, kill_point):
    published_roster, base, _ = latest_roster(session_factory)
    # leave and a closure that hit sessions of the published roster (which the time-limited solve decides)
    on_leave = next(a for a in published_roster.assignments if a.expert == "E01")
    closed = next(a for a in published_roster.assignments if a.township == "pitou")
    with transaction(session_factory) as session:
        recorded = [
            flows.file_leave(session, COMMUNITY, "E01", on_leave.date, reason="病假"),
            flows.close_township(session, COMMUNITY, "pitou", [closed.date], reason="洪水"),
        ]
    clock_file = tmp_path / "clock"  # empty: the real clock (October 2026 is past, so no reminders interfere)
    first = WorkerProcess(database_url, clock_file, smtp.port, tmp_path / "first.log", args=["--pause-in-replan", kill_point])
    try:
        marker = "MARK replan-started" if kill_point == "before" else "MARK replan-saved"
        wait_for(lambda: first.says(marker), 90, f"the worker to reach the re-plan ({kill_point} saving)")
        first.kill()
    finally:
        first.stop()
    with session_factory() as session:
        assert {e.status for e in session.scalars(select(Event))} == {"processing"}  # claimed, then the worker died
        versions = session.scalar(select(func.max(RosterVersion.version)))
    assert versions == (base if kill_point == "before" else base + 1)
    assert smtp.inbox.messages == []

    second = WorkerProcess(database_url, clock_file, smtp.port, tmp_path / "second.log")
    try:
        wait_for(lambda: [e.status for e in event_rows(session_factory)] == ["done", "done"], 90, "both events to be processed")
        wait_for(lambda: all(n.status == "sent" for n in notices(session_factory)), 30, "every notice to be sent")
    finally:
        second.stop()
    rows = event_rows(session_factory)
    assert [e.id for e in rows] == recorded  # no event lost, none invented
    assert all(e.attempts == 2 for e in rows)
    after, version, _ = latest_roster(session_factory)
    assert version == base + 1  # the crashed attempt's version was not repeated
    before, _, _ = latest_roster_at(session_factory, base)
    expected = {key for key in (n.dedup_key for n in notices(session_factory)) if key.endswith(":email")}
    assert expected, "the leave and the closure changed sessions; someone must be told"
    assert Counter(smtp.inbox.keys()) == Counter(expected)  # each notice exactly once
    touched = people_in(diff_rosters(before.assignments, after.assignments))
    assert {(n.recipient_kind, n.recipient_id) for n in notices(session_factory)} <= touched


def latest_roster_at(factory, version: int):
    with factory() as session:
        solution, number, status, _ = store.load_roster_version(session, COMMUNITY, MONTH, version)
    return solution, number, status
