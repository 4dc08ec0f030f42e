"""One active scheduler per store: the replica holding a lock runs the timed jobs and the event worker.

PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock`) taken on a dedicated connection.
The lock lives exactly as long as that connection, so when the holder dies (SIGKILL, lost host) the
server drops the connection and the lock with it; the other replicas try every ~2 s and one takes
over within seconds. The holder pings its connection at the same pace and stands down the moment
it fails, so two replicas never both believe they lead for longer than one poll; even then, every
job and notice is deduplicated in the database, so an overlap cannot send anything twice.

SQLite: one process per database file, by an exclusive `flock` on a lock file next to it (released
by the kernel when the process dies).

    python -m scheduler.leader     # run the jobs and the event worker (no web API) until SIGTERM
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import os
import signal
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, Engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from config.settings import Settings, get_settings
from scheduler import metrics
from scheduler.db import make_engine
from scheduler.notify.channels import Channel

log = logging.getLogger(__name__)

# Any constant will do, as long as every replica uses the same one (and it differs from the migration lock).
SCHEDULER_LOCK_KEY = 7_410_215_302
LOCK_POLL_SECONDS = 2.0


class StoreLock(Protocol):
    """A lock that at most one process per store holds; `still_held` is checked on every poll."""

    def try_acquire(self) -> bool: ...

    def still_held(self) -> bool: ...

    def release(self) -> None: ...


class PostgresAdvisoryLock:
    """A session-level advisory lock on a connection of its own, which nothing else uses."""

    def __init__(self, engine: Engine, key: int = SCHEDULER_LOCK_KEY) -> None:
        self.engine = engine
        self.key = key
        self.connection: Connection | None = None

    def try_acquire(self) -> bool:
        try:
            if self.connection is None:
                self.connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            acquired = bool(self.connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}).scalar())
        except Exception:  # noqa: BLE001 - the database is away: not acquired, try again next poll
            log.warning("scheduler lock: cannot reach PostgreSQL", exc_info=True)
            self._drop_connection()
            return False
        return acquired

    def still_held(self) -> bool:
        if self.connection is None:
            return False
        try:
            # Ask the server, not ourselves: a terminated backend or a broken socket shows up here.
            held = self.connection.execute(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted "
                     "AND ((classid::bigint << 32) | objid::bigint) = :key"),
                {"key": self.key},
            ).scalar()
            return bool(held)
        except Exception:  # noqa: BLE001
            log.warning("scheduler lock: lost the lock connection", exc_info=True)
            self._drop_connection()
            return False

    def release(self) -> None:
        if self.connection is not None:
            try:
                self.connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            except Exception:  # noqa: BLE001 - closing the connection releases it anyway
                pass
            self._drop_connection()

    def _drop_connection(self) -> None:
        if self.connection is not None:
            try:
                self.connection.invalidate()
                self.connection.close()
            except Exception:  # noqa: BLE001
                pass
            self.connection = None


class FileLock:
    """An exclusive, non-blocking flock on a file: one holder per SQLite database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle = None

    def try_acquire(self) -> bool:
        if self.handle is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")  # noqa: SIM115 - held open for as long as we lead
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self.handle = handle
        return True

    def still_held(self) -> bool:
        return self.handle is not None

    def release(self) -> None:
        if self.handle is not None:
            fcntl.flock(self.handle.fileno(), fcntl.LOCK_UN)
            self.handle.close()
            self.handle = None


def lock_for(engine: Engine) -> StoreLock:
    """The scheduler lock of a store: an advisory lock on PostgreSQL, a lock file beside an SQLite file."""
    if engine.dialect.name == "postgresql":
        return PostgresAdvisoryLock(engine)
    database = make_url(str(engine.url)).database
    if not database or database == ":memory:":
        raise ValueError("an in-memory SQLite database has no file to lock; use a file or PostgreSQL")
    return FileLock(Path(database).with_name(Path(database).name + ".scheduler.lock"))


class LeaderElection:
    """A thread that polls the store lock and calls `on_elected` / `on_deposed` as leadership comes and goes."""

    def __init__(
        self,
        lock: StoreLock,
        on_elected: Callable[[], None],
        on_deposed: Callable[[], None],
        poll_seconds: float = LOCK_POLL_SECONDS,
    ) -> None:
        self.lock = lock
        self.on_elected = on_elected
        self.on_deposed = on_deposed
        self.poll_seconds = poll_seconds
        self.leading = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rota-leader", daemon=True)

    def start(self) -> LeaderElection:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll()
            except Exception:  # noqa: BLE001 - a failing role start must not end the election
                log.exception("leader election poll failed")
            self._stop.wait(self.poll_seconds)
        self._stand_down()

    def poll(self) -> None:
        """One round: take the lock if free, or check that we still hold it."""
        if self.leading:
            if not self.lock.still_held():
                log.warning("scheduler lock lost: standing down")
                self._stand_down()
            return
        if self.lock.try_acquire():
            self.leading = True
            metrics.IS_LEADER.set(1)
            log.info("scheduler lock acquired (pid %s): running the timed jobs and the event worker", os.getpid())
            try:
                self.on_elected()
            except Exception:
                log.exception("starting the leader's roles failed; releasing the lock")
                self._stand_down()

    def _stand_down(self) -> None:
        if self.leading:
            self.leading = False
            metrics.IS_LEADER.set(0)
            try:
                self.on_deposed()
            finally:
                self.lock.release()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop polling, stop the roles if we lead, and release the lock."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        else:
            self._stand_down()


class ActiveRoles:
    """What the leader runs: the APScheduler jobs and the event-and-notice worker, started and stopped together."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        settings: Settings,
        *,
        channels: Mapping[str, Channel] | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        sweep_seconds: float | None = None,
        poll_seconds: float = 0.5,
    ) -> None:
        self.factory = factory
        self.settings = settings
        self.channels = channels
        self.clock = clock
        self.sweep_seconds = sweep_seconds
        self.poll_seconds = poll_seconds
        self.runtime = None
        self.worker = None

    def start(self) -> None:
        from scheduler import jobs
        from scheduler.events import BackgroundWorker

        self.runtime = jobs.start_job_scheduler(
            self.factory, self.settings, channels=self.channels, clock=self.clock,
            sweep_seconds=self.sweep_seconds or jobs.SWEEP_SECONDS,
        )
        runtime = self.runtime

        def move_reminders(month: str) -> None:
            jobs.sync_reminder_jobs(runtime.scheduler, self.factory, month, self.settings, runtime.clock())

        self.worker = BackgroundWorker(
            self.factory, settings=self.settings, channels=runtime.channels, clock=self.clock,
            poll_seconds=self.poll_seconds, on_roster_change=move_reminders,
        ).start()

    def stop(self) -> None:
        from scheduler import jobs

        if self.worker is not None:
            self.worker.stop()
            self.worker = None
        if self.runtime is not None:
            jobs.stop_job_scheduler(self.runtime)
            self.runtime = None


def start_active_roles(
    factory: sessionmaker[Session],
    settings: Settings | None = None,
    *,
    channels: Mapping[str, Channel] | None = None,
    clock: Callable[[], dt.datetime] | None = None,
    sweep_seconds: float | None = None,
    lock_poll_seconds: float = LOCK_POLL_SECONDS,
) -> Callable[[], None]:
    """Join the election for this store; while leading, run the jobs and the event worker. Returns the stop callable."""
    settings = settings or get_settings()
    roles = ActiveRoles(factory, settings, channels=channels, clock=clock, sweep_seconds=sweep_seconds)
    election = LeaderElection(lock_for(factory.kw["bind"]), roles.start, roles.stop, poll_seconds=lock_poll_seconds).start()
    return election.stop


def run_until_stopped(
    factory: sessionmaker[Session], settings: Settings | None = None, **options
) -> None:
    """Run the election and the leader's roles in this process until SIGTERM or SIGINT."""
    stopped = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopped.set())
    stop = start_active_roles(factory, settings, **options)
    try:
        stopped.wait()
    finally:
        stop()


def main() -> None:
    """`python -m scheduler.leader`: migrate, then run the jobs and the event worker for ROTA_DATABASE_URL."""
    from scheduler.db import session_factory
    from scheduler.migrate import migrate

    from config.logging import configure_logging

    configure_logging()
    settings = get_settings()
    engine = migrate(make_engine(settings.database_url))
    run_until_stopped(session_factory(engine), settings)


if __name__ == "__main__":
    main()
