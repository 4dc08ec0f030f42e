"""Timed jobs on SQLite and PostgreSQL: reminders at the right times (injected clock, real SMTP server), moved by a
re-plan, replaced by a cancellation; reminder jobs persisted in the job store and repaired from the roster;
the standing jobs' times; the township digest; a worker SIGKILLed while reminders are due sends each once.
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
    seed_published_roster,
    set_clock,
    wait_for,
)
from sqlalchemy import select

from config.settings import Settings
from scheduler import events, flows, jobs
from scheduler.db import transaction
from scheduler.errors import ScenarioError
from scheduler.jobs import PublishedRoster, due_reminders, parse_offsets, reminder_schedule
from scheduler.labels import CommunityLabels
from scheduler.notify.channels import WebhookChannel
from scheduler.notify.models import Notice
from scheduler.notify.outbox import SENDING_LEASE
from solver.solution import Assignment

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
OFFSETS = parse_offsets("P1D,PT2H")


def at(day: int, hour: int, minute: int = 0, month: int = 10) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def published(session_factory, robot):
    return seed_published_roster(session_factory, robot.url)


def settings_for(**changes) -> Settings:
    return Settings(**{"reminder_offsets": "P1D,PT2H", "webhook_url": "", **changes})


def remind_and_deliver(factory, smtp, now: dt.datetime, settings: Settings | None = None) -> int:
    """What the reminder jobs and the sweep do at `now`: enqueue the due reminders, then deliver."""
    jobs.send_due_reminders(factory, COMMUNITY, now, settings or settings_for(), [MONTH])
    return events.deliver_notices(factory, channels_for(smtp), now=now)


def published_roster(factory) -> PublishedRoster:
    with factory() as session:
        return jobs.load_published(session, COMMUNITY, MONTH)


# --- pure reminder logic ---------------------------------------------------------------------------


def test_offsets_are_iso_8601_durations_and_a_bad_one_names_the_setting():
    assert parse_offsets("P1D, PT2H") == [("P1D", dt.timedelta(days=1)), ("PT2H", dt.timedelta(hours=2))]
    assert parse_offsets("PT30M,P1DT12H") == [("P1DT12H", dt.timedelta(days=1, hours=12)), ("PT30M", dt.timedelta(minutes=30))]
    for bad in ("P1M", "1D", "PT", "P1DT"):
        with pytest.raises(ScenarioError) as caught:
            parse_offsets(bad)
        assert caught.value.problems[0].path == "reminder_offsets"


def roster_of(*assignments: Assignment) -> PublishedRoster:
    return PublishedRoster("quannan", 1, "2027-01", 3, assignments, CommunityLabels(community="全南县总医院"))


def test_due_reminders_follow_the_clock():
    clinic = Assignment(dt.date(2027, 1, 5), "am", "t01", "clinic", "cardio", "E07", id="a1")  # starts 08:30 Beijing
    roster = roster_of(clinic)

    def due(moment: dt.datetime) -> list[str]:
        return [r.offset for r in due_reminders(roster, OFFSETS, moment)]

    beijing = lambda day, hour, minute=0: dt.datetime(2027, 1, day, hour, minute, tzinfo=SHANGHAI)  # noqa: E731
    assert due(beijing(4, 8, 29)) == []
    assert due(beijing(4, 8, 30)) == ["P1D"]
    assert due(beijing(5, 6, 29)) == ["P1D"]
    assert due(beijing(5, 6, 30)) == ["PT2H"]  # the later reminder supersedes the earlier one
    assert due(beijing(5, 8, 30)) == []  # the session has begun
    assert due(dt.datetime(2027, 1, 4, 0, 30, tzinfo=dt.UTC)) == ["P1D"]  # any zone: 08:30 Beijing is 00:30 UTC
    schedule = reminder_schedule(roster, OFFSETS)
    assert [r.remind_at for r in schedule] == [beijing(4, 8, 30), beijing(5, 6, 30)]


def test_a_moved_session_gets_a_new_revision_and_an_untouched_one_keeps_it():
    clinic = Assignment(dt.date(2027, 1, 5), "am", "t01", "clinic", "cardio", "E07", id="a1")
    moved = Assignment(dt.date(2027, 1, 6), "am", "t01", "clinic", "cardio", "E07", id="a1")
    assert jobs.session_revision(clinic) == jobs.session_revision(Assignment(**{**clinic.__dict__}))
    assert jobs.session_revision(clinic) != jobs.session_revision(moved)
    first = reminder_schedule(roster_of(clinic), OFFSETS)[0]
    assert first.job_id.startswith("reminder:quannan:2027-01:a1:P1D:")


# --- reminders through the database and a real SMTP server -----------------------------------------


def test_each_session_is_reminded_at_each_offset_at_the_right_time(session_factory, published, smtp):
    roster = published_roster(session_factory)
    schedule = sorted(reminder_schedule(roster, OFFSETS), key=lambda r: (r.remind_at, r.assignment.id))
    arrived: dict[str, dt.datetime] = {}
    for moment in sorted({r.remind_at for r in schedule}):
        before = set(smtp.inbox.keys())
        remind_and_deliver(session_factory, smtp, moment - dt.timedelta(minutes=1))
        assert set(smtp.inbox.keys()) == before, f"a reminder came early, before {moment}"
        remind_and_deliver(session_factory, smtp, moment)
        for key in set(smtp.inbox.keys()) - before:
            arrived[key] = moment
    assert not smtp.inbox.duplicates()
    expected = {
        f"reminder:expert:{r.assignment.expert}:{r.about}:v{r.revision}:email": r.remind_at.astimezone(SHANGHAI) for r in schedule
    }
    assert {key: when.astimezone(SHANGHAI) for key, when in arrived.items()} == expected
    first = smtp.inbox.by_kind("reminder")[0]
    assert first["Subject"].startswith("【下沉提醒】") and "提醒：您即将下沉" in first.get_content()
    assert first["To"] in {expert_address(e) for e in ("E01", "E02", "E03")}
    # After the last session nothing more is due, and re-running sends nothing twice.
    assert remind_and_deliver(session_factory, smtp, at(31, 23)) == 0


def test_a_replan_moves_the_reminders_and_a_cancelled_session_gets_a_cancellation_not_a_reminder(session_factory, published, smtp):
    roster = published_roster(session_factory)
    # E01, the only cardiologist, is away all October: the cardio clinics cannot move, they are cancelled.
    now = at(1, 9)
    with transaction(session_factory) as session:
        flows.file_leave(session, COMMUNITY, "E01", dt.date(2026, 10, 1), dt.date(2026, 10, 31), reason="进修")
    assert events.process_pending(session_factory, now=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1), settings=settings_for()) == 1
    events.deliver_notices(session_factory, channels_for(smtp), now=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2))
    after = published_roster(session_factory)
    assert after.version == roster.version + 1
    cancelled = [a for a in roster.assignments if a.id not in {b.id for b in after.assignments}]
    assert any(a.expert == "E01" and a.type == "clinic" for a in cancelled)

    # Walk the clock through every reminder time of the ORIGINAL roster and of the new one.
    moments = sorted({r.remind_at for r in reminder_schedule(roster, OFFSETS) + reminder_schedule(after, OFFSETS) if r.remind_at >= now})
    for moment in moments:
        remind_and_deliver(session_factory, smtp, moment)
    to_e01 = [m for m in smtp.inbox.messages if m["To"] == expert_address("E01")]
    cancelled_ids = {a.id for a in cancelled}
    reminders_to_cancelled = [m for m in smtp.inbox.by_kind("reminder") if any(i in smtp.inbox.key_of(m) for i in cancelled_ids)]
    assert reminders_to_cancelled == []
    assert any(m["Subject"].startswith("【排班取消】") for m in to_e01), [(n.dedup_key, n.status, n.last_error) for n in _all_notices(session_factory) if n.kind != "reminder"]
    # Sessions kept or moved are reminded at their (new) times, once each.
    wanted = {f"reminder:expert:{r.assignment.expert}:{r.about}:v{r.revision}:email"
              for r in reminder_schedule(after, OFFSETS) if r.remind_at >= now}
    assert {smtp.inbox.key_of(m) for m in smtp.inbox.by_kind("reminder")} == wanted
    assert not smtp.inbox.duplicates()


def test_a_session_moved_by_a_replan_is_reminded_at_its_new_time_only(session_factory, published, smtp):
    roster = published_roster(session_factory)
    target = next(a for a in roster.assignments if a.expert == "E01" and a.type == "clinic")
    with transaction(session_factory) as session:
        flows.file_leave(session, COMMUNITY, "E01", target.date, reason="病假")
    events.process_pending(session_factory, now=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1), settings=settings_for())
    after = published_roster(session_factory)
    old = [r for r in reminder_schedule(roster, OFFSETS) if r.assignment.id == target.id]
    new = [r for r in reminder_schedule(after, OFFSETS) if r.assignment.id == target.id]
    for reminder in old:  # at the old times: nothing for the old session
        remind_and_deliver(session_factory, smtp, reminder.remind_at)
    old_keys = {f"reminder:expert:E01:{r.about}:v{r.revision}:email" for r in old}
    assert not old_keys & set(smtp.inbox.keys())
    for reminder in new:
        remind_and_deliver(session_factory, smtp, reminder.remind_at)
        assert f"reminder:expert:{reminder.assignment.expert}:{reminder.about}:v{reminder.revision}:email" in smtp.inbox.keys()


# --- the job store ---------------------------------------------------------------------------------


def test_reminder_jobs_live_in_the_database_and_follow_the_roster(session_factory, published, database_url):
    settings = settings_for(database_url=database_url)
    scheduler = jobs.build_scheduler(settings, session_factory.kw["bind"])
    scheduler.start(paused=True)  # a stopped scheduler would keep the jobs in memory only
    try:
        now = at(1, 0)
        added, removed = jobs.sync_reminder_jobs(scheduler, session_factory, COMMUNITY, MONTH, settings, now)
        roster = published_roster(session_factory)
        schedule = {r.job_id: r for r in reminder_schedule(roster, OFFSETS)}
        assert (added, removed) == (len(schedule), 0)
        assert jobs.sync_reminder_jobs(scheduler, session_factory, COMMUNITY, MONTH, settings, now) == (0, 0)  # idempotent
    finally:
        jobs.close_job_store(scheduler)

    reopened = jobs.open_job_store(settings)  # another process, the same database
    try:
        stored = {job.id: job for job in reopened.get_jobs() if job.id.startswith("reminder:")}
        assert stored.keys() == schedule.keys()
        for job_id, job in stored.items():
            assert job.trigger.run_date == schedule[job_id].remind_at
        # A lost job is repaired by the sweep's sync; a re-plan's moved session gets jobs at its new time.
        lost = sorted(stored)[0]
        reopened.remove_job(lost)
        target = next(a for a in roster.assignments if a.expert == "E01" and a.type == "clinic")
        with transaction(session_factory) as session:
            flows.file_leave(session, COMMUNITY, "E01", target.date)
        events.process_pending(
            session_factory, now=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1), settings=settings,
            on_roster_change=lambda community, month: jobs.sync_reminder_jobs(reopened, session_factory, COMMUNITY, month, settings, now),
        )
        after = published_roster(session_factory)
        wanted = {r.job_id: r.remind_at for r in reminder_schedule(after, OFFSETS)}
        now_stored = {job.id: job.trigger.run_date for job in reopened.get_jobs() if job.id.startswith("reminder:")}
        assert now_stored == wanted
    finally:
        jobs.close_job_store(reopened)


def test_standing_jobs_run_at_the_configured_times(session_factory, database_url):
    settings = settings_for(database_url=database_url, publish_time="+2 10:30")
    scheduler = jobs.build_scheduler(settings, session_factory.kw["bind"])
    scheduler.start(paused=True)
    try:
        jobs.install_standing_jobs(scheduler, settings, [COMMUNITY], sweep_seconds=300)
        beijing = dt.timezone(dt.timedelta(hours=8))
        start = dt.datetime(2027, 3, 21, 0, 0, tzinfo=beijing)
        draft = scheduler.get_job(f"draft:{COMMUNITY}").trigger.get_next_fire_time(None, start)
        assert draft == dt.datetime(2027, 4, 20, 9, 0, tzinfo=beijing)
        publish = scheduler.get_job(f"publish:{COMMUNITY}").trigger.get_next_fire_time(None, start)
        assert publish == dt.datetime(2027, 3, 22, 10, 30, tzinfo=beijing)  # the draft day + 2
        digest = scheduler.get_job(f"digest:{COMMUNITY}").trigger.get_next_fire_time(None, start)
        assert digest == dt.datetime(2027, 3, 21, 17, 0, tzinfo=beijing)
        assert scheduler.get_job(f"sweep:{COMMUNITY}").trigger.interval == dt.timedelta(seconds=300)
        assert scheduler.get_job(f"sweep:{COMMUNITY}").args == (COMMUNITY,)
        jobs.install_standing_jobs(scheduler, settings_for(database_url=database_url), [COMMUNITY], sweep_seconds=300)
        assert scheduler.get_job(f"publish:{COMMUNITY}") is None  # publication on approval only
    finally:
        jobs.close_job_store(scheduler)
    with pytest.raises(ScenarioError) as caught:
        jobs.install_standing_jobs(scheduler, settings_for(draft_time="9am"), [COMMUNITY])
    assert caught.value.problems[0].path == "draft_time"


def test_the_evening_digest_tells_each_township_head_tomorrows_visitors_once(session_factory, published, robot):
    roster = published_roster(session_factory)
    day = min(a.date for a in roster.assignments)
    expected = {a.township for a in roster.assignments if a.date == day}
    evening = dt.datetime.combine(day - dt.timedelta(days=1), dt.time(17, 0), SHANGHAI)
    created = jobs.enqueue_visitor_digests(session_factory, COMMUNITY, evening, settings_for())
    assert created == len(expected)
    assert jobs.enqueue_visitor_digests(session_factory, COMMUNITY, evening + dt.timedelta(minutes=5), settings_for()) == 0
    events.deliver_notices(session_factory, {"webhook": WebhookChannel()}, now=evening)
    assert len(robot.posts) == len(expected)
    assert all(text.startswith("【明日下沉专家】") and f"{day.year}年{day.month}月{day.day}日" in text for text in robot.texts())
    for township in expected:
        visitors = [a for a in roster.assignments if a.date == day and a.township == township]
        assert any(f"共{len(visitors)}人次" in text for text in robot.texts())
    # The evening before a day without sessions, nobody is disturbed.
    quiet = next(d for d in (day + dt.timedelta(days=n) for n in range(1, 20)) if d not in {a.date for a in roster.assignments})
    assert jobs.enqueue_visitor_digests(session_factory, COMMUNITY, dt.datetime.combine(quiet - dt.timedelta(days=1), dt.time(17), SHANGHAI), settings_for()) == 0


# --- a crash while reminders are due ---------------------------------------------------------------


def test_a_worker_killed_while_reminders_are_due_sends_each_once_after_restart(database_url, session_factory, published, smtp, tmp_path):
    clock_file = tmp_path / "clock"
    now = at(30, 12, month=9)
    set_clock(clock_file, now)
    # Offsets that make every October session due at once, so the kill lands in the middle of the sending.
    env = {"ROTA_REMINDER_OFFSETS": "P40D,PT2H"}
    roster = published_roster(session_factory)
    due = due_reminders(roster, parse_offsets("P40D,PT2H"), now)
    assert len(due) >= 5
    smtp.inbox.delay = 0.1
    smtp.inbox.hold_at = 3  # the third mail is held unanswered while the worker is killed

    first = WorkerProcess(database_url, clock_file, smtp.port, tmp_path / "first.log", env=env)
    try:
        assert smtp.inbox.holding.wait(90), "the worker never got to the third reminder"
        first.kill()
    finally:
        first.stop()
    smtp.inbox.release.set()
    assert len(smtp.inbox.messages) == 2
    with session_factory() as session:
        statuses = Counter(session.scalars(select(Notice.status).where(Notice.kind == "reminder")))
    assert statuses["sending"] == 1 and statuses["sent"] == 2  # one send in flight when the process died

    # Restart later than the sending lease: the interrupted send is retried once, the rest go out once.
    set_clock(clock_file, now + SENDING_LEASE + dt.timedelta(minutes=1))
    second = WorkerProcess(database_url, clock_file, smtp.port, tmp_path / "second.log", env=env)
    try:
        wait_for(lambda: len(smtp.inbox.messages) >= len(due), 90, "every due reminder to arrive")
        wait_for(lambda: all(n.status == "sent" for n in _reminders(session_factory)), 30, "the outbox to record every send")
    finally:
        second.stop()
    expected = {f"reminder:expert:{r.assignment.expert}:{r.about}:v{r.revision}:email" for r in due}
    assert Counter(smtp.inbox.keys()) == Counter(expected)  # each exactly once


def _reminders(factory) -> list[Notice]:
    with factory() as session:
        return list(session.scalars(select(Notice).where(Notice.kind == "reminder")))


def _all_notices(factory) -> list[Notice]:
    with factory() as session:
        return list(session.scalars(select(Notice)))
