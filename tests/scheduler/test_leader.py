"""One active scheduler per store: the locks themselves, and two replica processes where the leader is SIGKILLed,
the other takes over within seconds, and no reminder is sent twice (PostgreSQL advisory lock; SQLite lock file).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter

import pytest
from event_harness import SmtpServer, WorkerProcess, seed_published_roster, set_clock, wait_for
from sqlalchemy import create_engine, text

from scheduler import jobs
from scheduler.db import make_engine
from scheduler.leader import FileLock, LeaderElection, PostgresAdvisoryLock

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def test_a_lock_file_admits_one_holder_until_it_lets_go(tmp_path):
    first, second = FileLock(tmp_path / "rota.lock"), FileLock(tmp_path / "rota.lock")
    assert first.try_acquire()
    assert not second.try_acquire()
    first.release()
    assert second.try_acquire() and second.still_held()
    second.release()


def test_the_advisory_lock_follows_its_connection(postgres_server_url):
    holder, waiter = PostgresAdvisoryLock(make_engine(postgres_server_url)), PostgresAdvisoryLock(make_engine(postgres_server_url))
    try:
        assert holder.try_acquire() and holder.still_held()
        assert not waiter.try_acquire()
        # The holder's connection dies (as when its process is killed): the server frees the lock.
        pid = holder.connection.execute(text("SELECT pg_backend_pid()")).scalar()
        admin = create_engine(postgres_server_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        admin.dispose()
        assert not holder.still_held()
        wait_for(waiter.try_acquire, 5, "the lock to be free")
        assert waiter.still_held()
    finally:
        holder.release()
        waiter.release()


def test_an_election_stands_down_when_the_lock_is_lost(tmp_path):
    lock = FileLock(tmp_path / "rota.lock")
    calls: list[str] = []
    election = LeaderElection(lock, lambda: calls.append("elected"), lambda: calls.append("deposed"), poll_seconds=0.05)
    election.poll()
    assert election.leading and calls == ["elected"]
    lock.release()  # as if the lock vanished under us
    election.poll()
    assert not election.leading and calls == ["elected", "deposed"]


def test_two_replicas_one_leads_the_other_takes_over_and_no_reminder_is_sent_twice(database_url, session_factory, tmp_path):
    smtp = SmtpServer()
    try:
        seed_published_roster(session_factory)
        with session_factory() as session:
            roster = jobs.load_published(session, "2026-10")
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
