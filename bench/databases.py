"""A fresh PostgreSQL database for a benchmark run, beside the admin URL's, and its removal afterwards."""

from __future__ import annotations

import uuid

from sqlalchemy import create_engine, make_url, text


def fresh_postgres(admin_url: str, prefix: str) -> tuple[str, str]:
    """(URL, name) of a new empty database on the admin URL's server."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), name


def drop_postgres(admin_url: str, name: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
