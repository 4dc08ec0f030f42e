"""One active scheduler per store: the replica holding the store's lease runs the timed jobs and the event worker.

PostgreSQL: a lease row (`leader_lease`: holder, epoch, expires_at) that the holder renews every ~2 s
and that lapses `ROTA_LEADER_LEASE_SECONDS` (10 s) after the last renewal. Another replica takes it
over when it has lapsed, or at once when the holder's lease connection is gone (the process died: the
server drops its connection within a moment). A holder that lapsed while its process lives on (SIGSTOP,
a hung host, a frozen VM) has its lease connection and its busy connections ended by the new holder
(`pg_terminate_backend`), so none of its open transactions or row locks can hold up the new leader.
Every takeover raises the epoch: the fencing token.

Fencing: the leader's roles reach the database only through `fenced_engine`, whose every commit first
checks, in the same transaction, that this replica's epoch is still the current, unexpired one
(`SELECT ... FOR KEY SHARE` on the lease row, which a takeover's `FOR UPDATE` waits for), and refuses
with `LostLeadership` otherwise; its channels (`FencedChannel`) check the same immediately before each
send. So a leader resumed after it lost the lease commits nothing (no job run: APScheduler cannot even
fetch its due jobs, no event or notice claim, no outcome) and sends nothing, and it stands down at its
next renewal. What fencing cannot cover is a send already past the check when the process froze; the
notice outbox's own rules (scheduler/notify/outbox.py) and the webhook's idempotency key cover that.

SQLite: one process per database file, by an exclusive `flock` on a lock file next to it (released
by the kernel when the process dies); the same fencing interface checks that this process holds it.

    python -m scheduler.leader     # run the jobs and the event worker (no web API) until SIGTERM
"""

from __future__ import annotations

import datetime as dt
import fcntl
import itertools
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    event,
    make_url,
    text,
)
from sqlalchemy.orm import Session, sessionmaker

from config.settings import Settings, get_settings
from scheduler import metrics
from scheduler.db import make_engine, process_tag
from scheduler.notify.channels import Accepted, Channel, OutgoingNotice, channels_from_settings

log = logging.getLogger(__name__)

SCHEDULER_LEASE = "scheduler"
LEASE_SECONDS = 10.0
LOCK_POLL_SECONDS = 2.0
# The holder refuses to act this long before its lease lapses by its own clock (the server's decides).
LOCAL_MARGIN_SECONDS = 1.0
# Serialises the creation of the lease table by replicas starting together (differs from the migration lock).
LEASE_TABLE_LOCK_KEY = 7_410_215_303
# How long a takeover waits for the old holder's in-flight commit before trying again at the next poll.
TAKEOVER_LOCK_TIMEOUT = "2s"

# The lease table is the leader's own, created on first use (like APScheduler's job table), outside
# the service's migrations: migrations/env.py leaves it out of autogenerate.
LEASE_METADATA = MetaData()
leader_lease = Table(
    "leader_lease",
    LEASE_METADATA,
    Column("name", String(64), primary_key=True),
    Column("epoch", BigInteger, nullable=False),  # the fencing token: +1 at every takeover
    Column("holder", String(160), nullable=True),  # NULL: released
    Column("holder_process", String(63), nullable=True),  # the holder's connections' application_name
    Column("holder_backend_pid", Integer, nullable=True),  # the backend of the holder's lease connection
    Column("holder_backend_start", DateTime(timezone=True), nullable=True),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("renewed_at", DateTime(timezone=True), nullable=True),
)

_instances = itertools.count(1)


class LostLeadership(Exception):
    """This replica no longer holds the store's lease (or lock): it must not act as the leader."""


class StoreLock(Protocol):
    """Leadership of one store: at most one holder; `still_held` is called on every poll, `verify` before every act."""

    def try_acquire(self) -> bool: ...

    def still_held(self) -> bool: ...

    def release(self) -> None: ...

    def verify(self, connection: Connection | None = None) -> None:
        """Raise LostLeadership unless this holder leads now; with a connection, inside its transaction, until it ends."""


class PostgresLease:
    """A renewed, expiring lease row with an epoch, kept through a connection of its own that nothing else uses."""

    def __init__(self, engine: Engine, name: str = SCHEDULER_LEASE, lease_seconds: float = LEASE_SECONDS) -> None:
        self.engine = engine
        self.name = name
        self.lease_seconds = float(lease_seconds)
        self.holder = f"{process_tag()}#{next(_instances)}"
        self.epoch: int | None = None
        self.connection: Connection | None = None
        self._valid_until = 0.0  # time.monotonic() past which we stop acting, whatever the server says
        self._refused = threading.Event()  # set by `verify` (any thread) when it refused an act
        self._table_ready = False

    # --- taking and keeping the lease --------------------------------------------------------------

    def try_acquire(self) -> bool:
        try:
            connection = self._connection()
            started = time.monotonic()
            seen = self._read(connection)
            if seen is None:
                return False
            if seen["holder"] is not None and seen["live"] and seen["holder_connected"]:
                return False  # a live holder renews it
            if seen["holder"] is not None and seen["holder_connected"]:
                # Lapsed yet connected: paused or hung. End its lease connection and anything it holds open.
                self._end_holder_backends(connection, seen)
            epoch = self._take_over(connection, seen["epoch"])
        except Exception:  # noqa: BLE001 - the database is away or the holder is mid-commit: try again next poll
            log.warning("scheduler lease: cannot take it now", exc_info=True)
            self._drop_connection()
            return False
        if epoch is None:
            return False
        self.epoch = epoch
        self._valid_until = started + self.lease_seconds - LOCAL_MARGIN_SECONDS
        self._refused.clear()
        if seen["holder"] is not None:
            log.warning(
                "scheduler lease taken over from %s (epoch %s -> %s, %s)", seen["holder"], seen["epoch"], epoch,
                "lapsed" if not seen["live"] else "its connection was gone",
                extra={"lease_epoch": epoch, "previous_holder": seen["holder"]},
            )
        return True

    def still_held(self) -> bool:
        """Renew the lease; False (and no longer leading) if it was taken over, or the database cannot be reached."""
        if self.connection is None or self.epoch is None:
            return False
        if self._refused.is_set():
            # Some role was refused (the lease lapsed under it, if only for a moment): restart them from a clean election.
            log.warning("scheduler lease: a commit or send was refused at epoch %s", self.epoch)
            self.release()
            return False
        started = time.monotonic()
        try:
            with self.connection.begin():
                renewed = self.connection.execute(
                    text(
                        "UPDATE leader_lease SET expires_at = clock_timestamp() + make_interval(secs => :seconds), "
                        "renewed_at = clock_timestamp() WHERE name = :name AND holder = :holder AND epoch = :epoch RETURNING epoch"
                    ),
                    {"seconds": self.lease_seconds, "name": self.name, "holder": self.holder, "epoch": self.epoch},
                ).first()
        except Exception:  # noqa: BLE001 - a terminated backend or a broken socket shows up here
            log.warning("scheduler lease: lost the lease connection", exc_info=True)
            self._lose()
            return False
        if renewed is None:
            log.warning("scheduler lease: epoch %s was taken over by another replica", self.epoch)
            self._lose()
            return False
        self._valid_until = started + self.lease_seconds - LOCAL_MARGIN_SECONDS
        return True

    def release(self) -> None:
        if self.connection is not None and self.epoch is not None:
            try:
                with self.connection.begin():
                    self.connection.execute(
                        text("UPDATE leader_lease SET holder = NULL, holder_process = NULL, holder_backend_pid = NULL, "
                             "holder_backend_start = NULL, expires_at = NULL WHERE name = :name AND holder = :holder AND epoch = :epoch"),
                        {"name": self.name, "holder": self.holder, "epoch": self.epoch},
                    )
            except Exception:  # noqa: BLE001 - it lapses by itself
                log.warning("scheduler lease: could not release it; it lapses in %s s", self.lease_seconds, exc_info=True)
        self._lose()

    # --- fencing -----------------------------------------------------------------------------------

    def verify(self, connection: Connection | None = None) -> None:
        epoch = self.epoch
        if epoch is None or time.monotonic() > self._valid_until:
            self._refused.set()
            raise LostLeadership(f"scheduler lease {self.name!r} is not held by {self.holder} (epoch {epoch})")
        query = (
            "SELECT epoch FROM leader_lease WHERE name = :name AND holder = :holder AND epoch = :epoch "
            "AND expires_at > clock_timestamp()"
        )
        parameters = {"name": self.name, "holder": self.holder, "epoch": epoch}
        if connection is not None:
            # KEY SHARE: renewals go on beside it, but a takeover's FOR UPDATE waits until this transaction ends.
            current = connection.execute(text(query + " FOR KEY SHARE"), parameters).first()
        else:
            with self.engine.connect() as own:
                current = own.execute(text(query), parameters).first()
        if current is None:
            self._refused.set()
            raise LostLeadership(f"scheduler lease {self.name!r}: epoch {epoch} is no longer current")

    # --- the parts ---------------------------------------------------------------------------------

    def _connection(self) -> Connection:
        if self.connection is None:
            if not self._table_ready:
                ensure_lease_table(self.engine)
                self._table_ready = True
            self.connection = self.engine.connect()
        return self.connection

    def _read(self, connection: Connection) -> dict[str, Any] | None:
        with connection.begin():
            connection.execute(
                text("INSERT INTO leader_lease (name, epoch) VALUES (:name, 0) ON CONFLICT (name) DO NOTHING"), {"name": self.name}
            )
            row = connection.execute(
                text(
                    "SELECT l.epoch, l.holder, l.holder_process, l.holder_backend_pid, "
                    "coalesce(l.expires_at > clock_timestamp(), false) AS live, "
                    "EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = l.holder_backend_pid "
                    "AND (l.holder_backend_start IS NULL OR a.backend_start IS NULL OR a.backend_start = l.holder_backend_start)) "
                    "AS holder_connected FROM leader_lease l WHERE l.name = :name"
                ),
                {"name": self.name},
            ).mappings().first()
        return dict(row) if row is not None else None

    def _end_holder_backends(self, connection: Connection, seen: Mapping[str, Any]) -> None:
        """End the lapsed holder's lease connection, and those of its connections that are inside a transaction."""
        try:
            with connection.begin():
                ended = connection.execute(
                    text(
                        "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND "
                        "(pid = :pid OR (application_name = :process AND application_name <> :mine AND state <> 'idle'))"
                    ),
                    {"pid": seen["holder_backend_pid"], "process": seen["holder_process"] or "", "mine": process_tag()},
                ).all()
            log.warning("scheduler lease: ended %s connection(s) of the lapsed holder %s", len(ended), seen["holder"])
        except Exception:  # noqa: BLE001 - without the right to, its commits are still fenced out
            log.warning("scheduler lease: could not end the lapsed holder's connections", exc_info=True)

    def _take_over(self, connection: Connection, seen_epoch: int) -> int | None:
        with connection.begin():
            connection.execute(text(f"SET LOCAL lock_timeout = '{TAKEOVER_LOCK_TIMEOUT}'"))
            epoch = connection.execute(
                text("SELECT epoch FROM leader_lease WHERE name = :name FOR UPDATE"), {"name": self.name}
            ).scalar()
            if epoch != seen_epoch:
                return None  # another replica was quicker
            return connection.execute(
                text(
                    "UPDATE leader_lease SET epoch = epoch + 1, holder = :holder, holder_process = :process, "
                    "holder_backend_pid = pg_backend_pid(), "
                    "holder_backend_start = (SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()), "
                    "expires_at = clock_timestamp() + make_interval(secs => :seconds), renewed_at = clock_timestamp() "
                    "WHERE name = :name RETURNING epoch"
                ),
                {"holder": self.holder, "process": process_tag(), "seconds": self.lease_seconds, "name": self.name},
            ).scalar()

    def _lose(self) -> None:
        self.epoch = None
        self._valid_until = 0.0
        self._refused.clear()
        self._drop_connection()

    def _drop_connection(self) -> None:
        if self.connection is not None:
            try:
                self.connection.invalidate()
                self.connection.close()
            except Exception:  # noqa: BLE001
                pass
            self.connection = None


def ensure_lease_table(engine: Engine) -> None:
    """Create the lease table if it is missing (replicas starting together take turns)."""
    with engine.begin() as connection:
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LEASE_TABLE_LOCK_KEY})
        LEASE_METADATA.create_all(connection, checkfirst=True)


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

    def verify(self, connection: Connection | None = None) -> None:
        if self.handle is None:
            raise LostLeadership(f"the scheduler lock file {self.path} is not held by this process")


def lock_for(engine: Engine, lease_seconds: float = LEASE_SECONDS) -> StoreLock:
    """The leadership of a store: a lease row on PostgreSQL, a lock file beside an SQLite file."""
    if engine.dialect.name == "postgresql":
        return PostgresLease(engine, lease_seconds=lease_seconds)
    database = make_url(str(engine.url)).database
    if not database or database == ":memory:":
        raise ValueError("an in-memory SQLite database has no file to lock; use a file or PostgreSQL")
    return FileLock(Path(database).with_name(Path(database).name + ".scheduler.lock"))


# --- fencing the leader's roles ------------------------------------------------------------------


def fenced_engine(engine: Engine, lock: StoreLock) -> Engine:
    """The same engine (and pool), whose every commit first checks the lock in its own transaction.

    A refused commit raises LostLeadership; its connection is invalidated (closed, so the server rolls the
    transaction back), since SQLAlchemy counts a transaction whose commit was attempted as ended and would
    hand the connection back to the pool mid-transaction.
    """
    fenced = engine.execution_options(rota_fenced_by=id(lock))

    def check_before_commit(connection: Connection) -> None:
        try:
            lock.verify(connection)
        except Exception as error:
            connection.invalidate(error)
            if isinstance(error, LostLeadership):
                log.warning("refused a commit: this replica no longer leads")
            raise

    event.listen(fenced, "commit", check_before_commit)
    return fenced


def fenced_factory(factory: sessionmaker[Session], lock: StoreLock) -> sessionmaker[Session]:
    """A session factory like `factory` whose sessions commit only while `lock` is held (see `fenced_engine`)."""
    options = {**factory.kw, "bind": fenced_engine(factory.kw["bind"], lock)}
    return sessionmaker(class_=factory.class_, **options)


class FencedChannel:
    """A channel that checks, immediately before each send, that this replica still leads."""

    def __init__(self, channel: Channel, lock: StoreLock) -> None:
        self.channel = channel
        self.lock = lock
        self.name = channel.name

    def send(self, notice: OutgoingNotice, accepted: Accepted | None = None) -> None:
        try:
            self.lock.verify()
        except LostLeadership:
            log.warning("refused to send notice %s: this replica no longer leads", notice.dedup_key)
            raise
        self.channel.send(notice, accepted)


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
        """One round: take the lock if free, or renew it and check that we still hold it."""
        if self.leading:
            if not self.lock.still_held():
                log.warning("scheduler lease lost: standing down")
                self._stand_down()
            return
        if self.lock.try_acquire():
            self.leading = True
            metrics.IS_LEADER.set(1)
            log.info("scheduler lease acquired (pid %s): running the timed jobs and the event worker", os.getpid())
            try:
                self.on_elected()
            except Exception:
                log.exception("starting the leader's roles failed; releasing the lease")
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
    """What the leader runs: the APScheduler jobs and the event-and-notice worker, started and stopped together.

    Given the lock, both reach the database through a fenced factory and the receivers through fenced channels.
    """

    def __init__(
        self,
        factory: sessionmaker[Session],
        settings: Settings,
        *,
        lock: StoreLock | None = None,
        channels: Mapping[str, Channel] | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        sweep_seconds: float | None = None,
        poll_seconds: float = 0.5,
    ) -> None:
        self.factory = factory
        self.settings = settings
        self.lock = lock
        self.channels = channels
        self.clock = clock
        self.sweep_seconds = sweep_seconds
        self.poll_seconds = poll_seconds
        self.runtime = None
        self.worker = None

    def start(self) -> None:
        from scheduler import jobs
        from scheduler.events import BackgroundWorker

        channels = dict(self.channels) if self.channels is not None else channels_from_settings(self.settings)
        factory = self.factory
        if self.lock is not None:
            factory = fenced_factory(factory, self.lock)
            channels = {name: FencedChannel(channel, self.lock) for name, channel in channels.items()}
        self.runtime = jobs.start_job_scheduler(
            factory, self.settings, channels=channels, clock=self.clock,
            sweep_seconds=self.sweep_seconds or jobs.SWEEP_SECONDS,
        )
        runtime = self.runtime

        def move_reminders(community: str, month: str) -> None:
            jobs.sync_reminder_jobs(runtime.scheduler, factory, community, month, self.settings, runtime.clock())

        self.worker = BackgroundWorker(
            factory, settings=self.settings, channels=runtime.channels, clock=self.clock,
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
    lock_poll_seconds: float | None = None,
) -> Callable[[], None]:
    """Join the election for this store; while leading, run the jobs and the event worker. Returns the stop callable."""
    settings = settings or get_settings()
    # With a broker, the event worker's re-plans and request settlements run on `rota worker` processes (scheduler.tasks).
    from scheduler.events import solves as event_solves

    if settings.broker_url:
        from functools import partial

        from scheduler.tasks import solves as worker_solves

        event_solves.use(partial(worker_solves.replan_month, settings=settings), partial(worker_solves.settle_request, settings=settings))
    else:
        event_solves.use()
    lock = lock_for(factory.kw["bind"], lease_seconds=settings.leader_lease_seconds)
    roles = ActiveRoles(factory, settings, lock=lock, channels=channels, clock=clock, sweep_seconds=sweep_seconds)
    # Renew several times per lease, so one slow round trip does not lose it.
    poll = lock_poll_seconds if lock_poll_seconds is not None else min(LOCK_POLL_SECONDS, settings.leader_lease_seconds / 4)
    election = LeaderElection(lock, roles.start, roles.stop, poll_seconds=poll).start()
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
