"""Bring a database to the newest schema with Alembic, from code (the service and CLI call this on start)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from scheduler.db import make_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
# Any constant will do: it only has to be the same for every process that migrates.
_MIGRATION_LOCK_KEY = 7_410_215_301


def alembic_config() -> Config:
    """An Alembic config pointing at migrations/, without reading alembic.ini (no logging changes)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str | None:
    """The newest revision in migrations/versions."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _on_one_connection(engine: Engine, work) -> None:
    """Run `work(connection)` in one transaction, holding the migration lock, with SQLite's foreign keys off meanwhile.

    Alembic's batch mode rebuilds an SQLite table (copy, DROP, rename); with foreign keys on, the DROP
    would cascade-delete every row pointing at the table. The pragma is ignored inside a transaction,
    so it is switched before the transaction begins, back on after it, and the keys checked before commit.
    """
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                if connection.dialect.name == "postgresql":
                    # Two processes starting at once would both try to create the tables; the lock orders them.
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
                work(connection)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"the migration left rows pointing at nothing: {broken[:5]}")
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def _run_alembic(url_or_engine: str | Engine, run: Callable[[Config], None]) -> Engine:
    engine = make_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
    config = alembic_config()

    def on(connection) -> None:
        config.attributes["connection"] = connection
        run(config)

    _on_one_connection(engine, on)
    return engine


def migrate(url_or_engine: str | Engine, revision: str = "head") -> Engine:
    """Upgrade the database to the head revision (or the one given) and return its engine (safe to call on every start)."""
    return _run_alembic(url_or_engine, lambda config: command.upgrade(config, revision))


def downgrade(url_or_engine: str | Engine, revision: str) -> Engine:
    """Downgrade the database to an earlier revision (where the migrations support it) and return its engine."""
    return _run_alembic(url_or_engine, lambda config: command.downgrade(config, revision))
