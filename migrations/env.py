"""Alembic environment: runs on a connection handed over by scheduler.migrate, or on a URL when run by hand."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context

import scheduler.models  # noqa: F401  (registers the store's tables on Base.metadata)
import scheduler.notify.models  # noqa: F401  (the notices outbox and contacts)
import scheduler.events  # noqa: F401  (the events outbox)
import scheduler.auth  # noqa: F401  (API and feed tokens)
import scheduler.requests  # noqa: F401  (extra-session requests)
import scheduler.swaps  # noqa: F401  (swap requests)
import scheduler.pins  # noqa: F401  (the office's pins)
import scheduler.audit  # noqa: F401  (who did what)
from scheduler.db import Base, make_engine

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from config.settings import get_settings

    return get_settings().database_url


def _include_object(obj, name, type_, reflected, compare_to) -> bool:
    # APScheduler's SQLAlchemyJobStore creates and owns its job table, scheduler.leader its lease table;
    # autogenerate must not drop them.
    return not (type_ == "table" and name in ("apscheduler_jobs", "leader_lease"))


def _run(connection) -> None:
    # Batch mode lets later revisions ALTER tables on SQLite too (it rebuilds the table).
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=connection.dialect.name == "sqlite", compare_type=True, include_object=_include_object)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
elif context.is_offline_mode():
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    if config.config_file_name:
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    engine = make_engine(_url())
    with engine.connect() as opened:
        if opened.dialect.name == "sqlite":
            # As in scheduler.migrate: a batch rebuild with foreign keys on would cascade-delete child rows.
            opened.exec_driver_sql("PRAGMA foreign_keys=OFF")
            opened.commit()
        _run(opened)
        if opened.dialect.name == "sqlite":
            opened.exec_driver_sql("PRAGMA foreign_keys=ON")
            opened.commit()
    engine.dispose()
