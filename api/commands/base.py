"""What every `rota` command shares: the Typer app they register on, exit codes, and how bad input is shown.

Command modules (api/commands/*.py) import from here; `api.cli` imports them to register their commands,
so the imports run one way: cli -> commands -> base.
"""

from __future__ import annotations

import typer
from rich.console import Console

from scheduler.errors import Conflict, NotFound, ScenarioError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="township-rota: monthly rosters of county specialists for township health centres.")
err = Console(stderr=True, highlight=False)

EXIT_BAD_INPUT = 2
EXIT_INFEASIBLE = 3


class InputError(Exception):
    """A command-line input that is wrong in a way one line can say (bad month, missing file)."""


def fail_on_bad_input(exc: Exception) -> None:
    """The one place where bad input becomes readable lines on stderr and exit code 2."""
    if isinstance(exc, ScenarioError):
        for problem in exc.problems:
            err.print(f"error: {problem}", markup=False, soft_wrap=True)  # one problem per line, never wrapped
    else:
        err.print(f"error: {exc}", markup=False, soft_wrap=True)
    raise typer.Exit(EXIT_BAD_INPUT)


def shown_url(url: str) -> str:
    """A database URL as it may be shown: its password hidden."""
    from sqlalchemy import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def open_store(url: str):
    """A session factory of the migrated store at `url`; exit 2 naming the database when it cannot be opened."""
    # The store (SQLAlchemy, Alembic) is imported here, not at the top: `rota validate` starts faster without it.
    from sqlalchemy.exc import SQLAlchemyError

    from scheduler.db import session_factory
    from scheduler.migrate import migrate

    try:
        return session_factory(migrate(url))
    except (SQLAlchemyError, OSError, ValueError) as exc:
        fail_on_bad_input(InputError(f"cannot open the database {shown_url(url)}: {str(exc).splitlines()[0]}"))
        raise


def choose_community(session, code: str):
    """The community a command names with --community CODE, or the database's only one; InputError (exit 2) otherwise."""
    from scheduler.store import get_community, sole_community

    try:
        return get_community(session, code) if code else sole_community(session)
    except (NotFound, Conflict) as exc:
        raise InputError(str(exc)) from None
