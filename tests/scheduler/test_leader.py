"""One active scheduler per store: the locks themselves, and two replica processes where the leader is SIGKILLed,
the other takes over within seconds, and no reminder is sent twice (PostgreSQL advisory lock; SQLite lock file).
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import time
from collections import Counter

import pytest
from event_harness import COMMUNITY, SmtpServer, WorkerProcess, seed_published_roster, set_clock, wait_for
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import OperationalError

from scheduler import jobs, store
from scheduler.db import make_engine, transaction
from scheduler.db import session_factory as make_session_factory
from scheduler.events import Event, record_event
from scheduler.notify.models import Notice
from scheduler.notify.outbox import enqueue_notice
from scheduler.leader import FencedChannel, FileLock, LeaderElection, LostLeadership, PostgresLease, fenced_factory
from scheduler.notify.channels import OutgoingNotice

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def test_a_lock_file_admits_one_holder_until_it_lets_go(tmp_path):
    first, second = FileLock(tmp_path / "rota.lock"), FileLock(tmp_path / "rota.lock")
    assert first.try_acquire()
    assert not second.try_acquire()
    first.release()
    assert second.try_acquire() and second.still_held()
    second.release()


def _lease_backend_pid(lease: PostgresLease) -> int:
    """The server process of a lease's own connection, asked in a transaction that ends (an open one would make the
    lease's next renewal fail for that reason instead of the one the test causes)."""
    with lease.connection.begin():
        return lease.connection.execute(text("SELECT pg_backend_pid()")).scalar()


def test_a_dead_holders_lease_is_taken_at_once(postgres_server_url):
    holder, waiter = PostgresLease(make_engine(postgres_server_url)), PostgresLease(make_engine(postgres_server_url))
    try:
        assert holder.try_acquire() and holder.still_held()
        held_epoch = holder.epoch
        assert not waiter.try_acquire()
        # The holder's connection dies (as when its process is killed): its lease is free before it lapses.
        pid = _lease_backend_pid(holder)
        admin = create_engine(postgres_server_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        admin.dispose()
        assert not holder.still_held()
        wait_for(waiter.try_acquire, 5, "the lease to be free")
        assert waiter.still_held()
        assert waiter.epoch == held_epoch + 1  # every takeover raises the fencing token
    finally:
        holder.release()
        waiter.release()


def _end_backend(url: str, pid: int) -> None:
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()


def _scratch_table(engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS fence_probe"))
        connection.execute(text("CREATE TABLE fence_probe (what text)"))


def _probe_rows(engine) -> list[str]:
    with engine.connect() as connection:
        return sorted(connection.execute(text("SELECT what FROM fence_probe")).scalars())


class _Recorder:
    name = "webhook"

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, notice: OutgoingNotice, accepted=None) -> None:
        self.sent.append(notice.dedup_key)


def test_a_holder_whose_lease_was_taken_over_commits_and_sends_nothing(postgres_server_url):
    """The fence is the database's word, not the holder's own clock: a takeover refuses the old epoch at once."""
    engine = make_engine(postgres_server_url)
    _scratch_table(engine)
    holder, waiter = PostgresLease(engine, lease_seconds=20), PostgresLease(make_engine(postgres_server_url))
    try:
        assert holder.try_acquire()
        fenced = fenced_factory(make_session_factory(engine), holder)
        channel = FencedChannel(_Recorder(), holder)
        with transaction(fenced) as session:
            session.execute(text("INSERT INTO fence_probe VALUES ('while leading')"))
        channel.send(OutgoingNotice("k-leading", "", "s", "b"))

        # The holder's lease connection vanishes: the waiter takes over long before the holder's 20 s run out.
        _end_backend(postgres_server_url, _lease_backend_pid(holder))
        assert waiter.try_acquire() and waiter.epoch == holder.epoch + 1

        with pytest.raises(LostLeadership), transaction(fenced) as session:
            session.execute(text("INSERT INTO fence_probe VALUES ('after the takeover')"))
        with pytest.raises(LostLeadership), fenced.kw["bind"].begin() as connection:  # APScheduler's job store path
            connection.execute(text("INSERT INTO fence_probe VALUES ('job store after the takeover')"))
        with pytest.raises(LostLeadership):
            channel.send(OutgoingNotice("k-after", "", "s", "b"))
        assert _probe_rows(engine) == ["while leading"]
        assert channel.channel.sent == ["k-leading"]
        assert not holder.still_held()
    finally:
        holder.release()
        waiter.release()
        engine.dispose()


def test_a_paused_holder_loses_its_lease_when_it_lapses_and_its_open_transaction_with_it(postgres_server_url):
    engine = make_engine(postgres_server_url)
    _scratch_table(engine)
    holder, waiter = PostgresLease(engine, lease_seconds=3), PostgresLease(make_engine(postgres_server_url), lease_seconds=3)
    try:
        assert holder.try_acquire()
        session = fenced_factory(make_session_factory(engine), holder)()
        session.execute(text("INSERT INTO fence_probe VALUES ('begun before the pause')"))
        assert not waiter.try_acquire()  # the holder is alive and its lease runs
        time.sleep(3.5)  # the holder "pauses": no renewal, its transaction left open
        assert waiter.try_acquire(), "a lapsed lease is taken over"
        with pytest.raises((LostLeadership, OperationalError)):  # refused, or its connection was ended
            session.commit()
        session.close()
        assert _probe_rows(engine) == []
        assert not holder.still_held()
        assert waiter.still_held()
    finally:
        holder.release()
        waiter.release()
        engine.dispose()


def test_a_lock_file_fences_the_same_way(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'rota.sqlite3'}")
    _scratch_table(engine)
    lock = FileLock(tmp_path / "rota.lock")
    assert lock.try_acquire()
    fenced = fenced_factory(make_session_factory(engine), lock)
    with transaction(fenced) as session:
        session.execute(text("INSERT INTO fence_probe VALUES ('held')"))
    lock.release()
    with pytest.raises(LostLeadership), transaction(fenced) as session:
        session.execute(text("INSERT INTO fence_probe VALUES ('released')"))
    with pytest.raises(LostLeadership):
        FencedChannel(_Recorder(), lock).send(OutgoingNotice("k", "", "s", "b"))
    assert _probe_rows(engine) == ["held"]
    engine.dispose()


def test_an_election_stands_down_when_the_lock_is_lost(tmp_path):
    lock = FileLock(tmp_path / "rota.lock")
    calls: list[str] = []
    election = LeaderElection(lock, lambda: calls.append("elected"), lambda: calls.append("deposed"), poll_seconds=0.05)
    election.poll()
    assert election.leading and calls == ["elected"]
    lock.release()  # as if the lock vanished under us
    election.poll()
    assert not election.leading and calls == ["elected", "deposed"]


@pytest.mark.slow  # two replica processes and a takeover (~9 s per engine)
def test_two_replicas_one_leads_the_other_takes_over_and_no_reminder_is_sent_twice(database_url, session_factory, tmp_path):
    smtp = SmtpServer()
    try:
        seed_published_roster(session_factory)
        with session_factory() as session:
            roster = jobs.load_published(session, COMMUNITY, "2026-10")
        offsets = jobs.parse_offsets("P40D,P1D")
        env = {"ROTA_REMINDER_OFFSETS": "P40D,P1D"}
        clock_file = tmp_path / "clock"
        early = dt.datetime(2026, 9, 30, 12, 0, tzinfo=SHANGHAI)  # every session's P40D reminder is due
        set_clock(clock_file, early)
        first_due = jobs.due_reminders(roster, offsets, early)

        replicas = [WorkerProcess(database_url, clock_file, smtp.port, tmp_path / f"replica{n}.log", env=env) for n in (1, 2)]
        try:
            wait_for(lambda: any(r.says("MARK leader") for r in replicas), 60, "a leader")
            wait_for(lambda: len(smtp.inbox.messages) >= len(first_due), 60, "the first reminders")
            leaders = [r for r in replicas if r.says("MARK leader")]
            assert len(leaders) == 1, "exactly one replica runs the jobs"
            leader, standby = leaders[0], next(r for r in replicas if r is not leaders[0])
            time.sleep(1.5)  # a few more sweeps: nothing new is due, nothing is re-sent
            assert len(smtp.inbox.messages) == len(first_due)

            leader.kill()
            killed_at = time.monotonic()
            # The day before the first sessions: their P1D reminders are due now, for the new leader to send.
            first_day = min(a.date for a in roster.assignments)
            later = dt.datetime.combine(first_day, dt.time(0, 0), SHANGHAI) - dt.timedelta(hours=1)
            set_clock(clock_file, later)
            second_due = [r for r in jobs.due_reminders(roster, offsets, later) if r.offset == "P1D"]
            assert second_due
            wait_for(lambda: standby.says("MARK leader"), 20, "the standby to take over")
            took_over = time.monotonic() - killed_at
            print(f"\nleader SIGKILLed: the standby took over after {took_over:.1f} s")
            wait_for(lambda: len(smtp.inbox.messages) >= len(first_due) + len(second_due), 60, "the reminders due after the kill")
            time.sleep(1.5)
        finally:
            for replica in replicas:
                replica.stop()
        assert took_over < 10, f"take-over took {took_over:.1f} s"
        expected = {f"reminder:expert:{r.assignment.expert}:{r.about}:v{r.revision}:email" for r in [*first_due, *second_due]}
        assert Counter(smtp.inbox.keys()) == Counter(expected)  # every reminder once, none twice
    finally:
        smtp.close()


@pytest.fixture(autouse=True)
def _no_leaked_runtime():
    yield
    jobs.set_runtime(None)


def _freeze(replica: WorkerProcess) -> None:
    os.kill(replica.process.pid, signal.SIGSTOP)


def _thaw(replica: WorkerProcess) -> None:
    if replica.process.poll() is None:
        os.kill(replica.process.pid, signal.SIGCONT)


@pytest.mark.slow  # a stopped process waited out until its lease lapses (~25 s)
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_stopped_leader_is_replaced_within_30_s_and_once_resumed_does_nothing(database_url, session_factory, tmp_path):
    """SIGSTOP the leader: the other replica runs the jobs within 30 s; SIGCONT it: it commits and sends nothing, and stands down.

    While the old leader is resumed, the new one is itself stopped, with work due (a notice, an event, the sweep),
    so anything done in that window was done by the old leader.
    """
    smtp = SmtpServer()
    replicas: list[WorkerProcess] = []
    try:
        seed_published_roster(session_factory)
        with session_factory() as session:
            roster = jobs.load_published(session, COMMUNITY, "2026-10")
        offsets = jobs.parse_offsets("P40D,P1D")
        clock_file = tmp_path / "clock"
        early = dt.datetime(2026, 9, 30, 12, 0, tzinfo=SHANGHAI)
        set_clock(clock_file, early)
        first_due = jobs.due_reminders(roster, offsets, early)
        env = {"ROTA_REMINDER_OFFSETS": "P40D,P1D", "ROTA_LEADER_LEASE_SECONDS": "10"}
        replicas = [WorkerProcess(database_url, clock_file, smtp.port, tmp_path / f"replica{n}.log", env=env) for n in (1, 2)]
        wait_for(lambda: any(r.says("MARK leader") for r in replicas), 60, "a leader")
        wait_for(lambda: len(smtp.inbox.messages) >= len(first_due), 60, "the first reminders")
        old = next(r for r in replicas if r.says("MARK leader"))
        new = next(r for r in replicas if r is not old)
        time.sleep(1.5)

        _freeze(old)
        stopped_at = time.monotonic()
        first_day = min(a.date for a in roster.assignments)
        later = dt.datetime.combine(first_day, dt.time(0, 0), SHANGHAI) - dt.timedelta(hours=1)
        set_clock(clock_file, later)
        second_due = [r for r in jobs.due_reminders(roster, offsets, later) if r.offset == "P1D"]
        wait_for(lambda: new.says("MARK leader"), 30, "the other replica to take over")
        took_over = time.monotonic() - stopped_at
        wait_for(lambda: len(smtp.inbox.messages) >= len(first_due) + len(second_due), 30, "the reminders due after the stop")
        jobs_ran = time.monotonic() - stopped_at
        print(f"\nleader SIGSTOPped: lease taken over after {took_over:.1f} s, the due reminders sent after {jobs_ran:.1f} s")
        time.sleep(1.0)

        # The new leader freezes too; work falls due that only a leader may do.
        _freeze(new)
        with transaction(session_factory) as session:
            community_id = store.community_id_of(session, COMMUNITY)
            event_id = record_event(session, community_id, "demand", {}, month="2026-10")
            session.get(Event, event_id).next_attempt_at = later - dt.timedelta(minutes=1)  # due by the replicas' clock
            enqueue_notice(
                session, "fence-test:expert:E01:v1:email", community_id=community_id, recipient_kind="expert", recipient_id="E01", channel="email",
                address="e01@hospital.example", kind="reminder", subject="栅栏", body="只发一次", now=later - dt.timedelta(minutes=1),
            )
        messages_before = len(smtp.inbox.messages)
        with session_factory() as session:
            notices_before = sorted(session.execute(select(Notice.dedup_key, Notice.status, Notice.attempts)).all())
        resumed_from = len(old.output())
        _thaw(old)
        wait_for(lambda: "MARK deposed" in old.output()[resumed_from:], 8, "the resumed leader to stand down")
        time.sleep(3.0)  # its timers, worker and job threads have all woken by now
        after_resume = old.output()[resumed_from:]
        with session_factory() as session:
            event = session.get(Event, event_id)
            notice = session.scalars(select(Notice).where(Notice.dedup_key == "fence-test:expert:E01:v1:email")).one()
            assert (event.status, event.attempts) == ("pending", 0), "the resumed old leader claimed an event"
            assert (notice.status, notice.attempts) == ("queued", 0), "the resumed old leader claimed a notice"
        assert len(smtp.inbox.messages) == messages_before, "the resumed old leader sent a notice"
        # Its scheduler thread may wake before its lease thread and run a due job (a reminder job
        # that finds its notice already queued even returns "successfully"), but no job gets a write
        # through: the fence (or the connection the new leader ended) refuses it, so no notice row
        # is added or changed.
        with session_factory() as session:
            notices_after = sorted(session.execute(select(Notice.dedup_key, Notice.status, Notice.attempts)).all())
        assert notices_after == notices_before, after_resume
        assert "MARK leader" not in after_resume

        _thaw(new)
        wait_for(lambda: "fence-test:expert:E01:v1:email" in smtp.inbox.keys(), 30, "the new leader to send the notice")
        with session_factory() as session:
            wait_for(lambda: session.get(Event, event_id, populate_existing=True).status == "done", 60, "the new leader to process the event")
        time.sleep(1.5)
        assert "MARK deposed" not in new.output()
        assert old.output().count("MARK leader") == 1
    finally:
        for replica in replicas:
            _thaw(replica)
            replica.stop()
        smtp.close()
    assert took_over < 30 and jobs_ran < 30, (took_over, jobs_ran)
    expected = {f"reminder:expert:{r.assignment.expert}:{r.about}:v{r.revision}:email" for r in [*first_due, *second_due]}
    assert Counter(smtp.inbox.keys()) == Counter([*expected, "fence-test:expert:E01:v1:email"])
