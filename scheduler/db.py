"""Database engines and sessions: an SQLite file by default, PostgreSQL by URL.

PostgreSQL connections carry TCP keepalives on both ends. The client side (libpq `keepalives*`,
`tcp_user_timeout`) notices a database host that vanished within about half a minute instead of
hanging on a dead socket; the server side (`tcp_keepalives_*` sent as connection options, which the
server's default 7200 s would otherwise govern) drops the backends of a client host that vanished,
so their locks and transactions do not outlive it by two hours. Each connection is named
(`application_name`) after its process (`process_tag`), so a replica taking over leadership can find
and end the connections of a holder that stopped answering (scheduler.leader).
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, MetaData, create_engine, event, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Every table of the service hangs off this metadata (one place for Alembic to read)."""

    metadata = MetaData(naming_convention=NAMING)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


# Idle seconds before the first probe, seconds between probes, probes lost before the peer counts as gone:
# a silent peer is noticed after 10 + 3 * 5 = 25 s.
KEEPALIVE_IDLE_SECONDS = 10
KEEPALIVE_INTERVAL_SECONDS = 5
KEEPALIVE_COUNT = 3
# Data sent and not acknowledged for this long breaks the connection (libpq's tcp_user_timeout, in ms).
TCP_USER_TIMEOUT_MS = 30_000

_process_tag: tuple[int, str] | None = None


def process_tag() -> str:
    """A name unique to this process (host, pid and a random part, at most 63 characters), fixed for its lifetime."""
    global _process_tag
    if _process_tag is None or _process_tag[0] != os.getpid():  # a forked child is another process
        host = socket.gethostname().split(".")[0][:24]
        _process_tag = (os.getpid(), f"rota:{host}:{os.getpid()}:{uuid.uuid4().hex[:8]}")
    return _process_tag[1]


def postgres_connect_args(url: str) -> dict[str, object]:
    """libpq options for every PostgreSQL connection: keepalives both ways and the process's name, unless the URL sets them."""
    given = set(make_url(url).query)
    wanted: dict[str, object] = {
        "keepalives": 1,
        "keepalives_idle": KEEPALIVE_IDLE_SECONDS,
        "keepalives_interval": KEEPALIVE_INTERVAL_SECONDS,
        "keepalives_count": KEEPALIVE_COUNT,
        "tcp_user_timeout": TCP_USER_TIMEOUT_MS,
        "application_name": process_tag(),
        "options": (
            f"-c tcp_keepalives_idle={KEEPALIVE_IDLE_SECONDS} -c tcp_keepalives_interval={KEEPALIVE_INTERVAL_SECONDS} "
            f"-c tcp_keepalives_count={KEEPALIVE_COUNT}"
        ),
    }
    return {name: value for name, value in wanted.items() if name not in given}


def make_engine(url: str) -> Engine:
    """An engine for the URL; an SQLite file gets its folder created and safe pragmas, PostgreSQL keepalives."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    connect_args = postgres_connect_args(url) if url.startswith("postgresql") else {}
    engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: committed when the block ends, rolled back on any error."""
    with factory() as session, session.begin():
        yield session
