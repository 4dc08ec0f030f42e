"""Bring a database to the newest schema with Alembic, from code (the service and CLI call this on start)."""

from __future__ import annotations

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


def migrate(url_or_engine: str | Engine) -> Engine:
    """Upgrade the database to the head revision and return its engine (safe to call on every start)."""
    engine = make_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
    config = alembic_config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Two processes starting at once would both try to create the tables; the lock orders them.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return engine
