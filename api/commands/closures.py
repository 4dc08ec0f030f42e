"""rota commands for township closures: `close` a township's centre for some days and `reopen` it, each an event.

Both write to the store (ROTA_DATABASE_URL) in one transaction with their event; the service's event
worker then re-plans the months they touch and tells the people whose sessions move.
"""

from __future__ import annotations

import datetime as dt

import typer
from pydantic import TypeAdapter, ValidationError
from rich.console import Console

from api.commands.base import InputError, app, choose_community, fail_on_bad_input, open_store
from config.settings import get_settings
from scheduler.errors import NotFound, ScenarioError
from scheduler.scenario.fields import IsoDate

out = Console(highlight=False)
_DATE = TypeAdapter(IsoDate)


def _day(text: str, option: str) -> dt.date | None:
    if not text:
        return None
    try:
        return _DATE.validate_python(text)
    except ValidationError as error:
        raise InputError(f"{option}: {error.errors()[0]['msg']}") from None


def _run(change, community: str) -> None:
    from scheduler.actors import CLI, acting_as
    from scheduler.db import transaction

    factory = open_store(get_settings().database_url)
    try:
        with transaction(factory) as session, acting_as(CLI):  # the event names the command line as its actor
            owner = choose_community(session, community)
            filed = change(session, owner.id)
            code = owner.code
    except ScenarioError as error:
        # The store names fields as the API does (from, to); the command's options are --from and --to.
        fail_on_bad_input(ScenarioError([type(p)(f"--{p.path}" if p.path in ("from", "to") else p.path, p.message) for p in error.problems]))
        return
    except (InputError, NotFound) as error:
        fail_on_bad_input(error)
        return
    days = filed.dates
    span = days[0].isoformat() if len(days) == 1 else f"{days[0].isoformat()}..{days[-1].isoformat()} ({len(days)} days)"
    out.print(f"{code}: {filed.township} {span}: event #{filed.event} queued; the event worker re-plans {', '.join(filed.months)}", markup=False, soft_wrap=True)


@app.command("close")
def close(
    township: str = typer.Argument(..., help="The township's id."),
    first: str = typer.Option(..., "--from", help="First closed day, YYYY-MM-DD."),
    last: str = typer.Option("", "--to", help="Last closed day, YYYY-MM-DD (default: --from, one day)."),
    reason: str = typer.Option("", "--reason", help="Why (flood, outbreak): the notices say it."),
    community: str = typer.Option("", "--community", help="The community's code (needed when the database holds several)."),
) -> None:
    """Close a township's centre from --from to --to: its sessions those days are moved or cancelled by the event worker."""
    from scheduler import closures

    try:
        first_day, last_day = _day(first, "--from"), _day(last, "--to")
    except InputError as error:
        fail_on_bad_input(error)
        return
    _run(lambda session, owner: closures.close_township(session, owner, township, first_day, last_day, reason), community)


@app.command("reopen")
def reopen(
    township: str = typer.Argument(..., help="The township's id."),
    first: str = typer.Option(..., "--from", help="First day to open again, YYYY-MM-DD."),
    last: str = typer.Option("", "--to", help="Last day to open again (default: --from)."),
    community: str = typer.Option("", "--community", help="The community's code (needed when the database holds several)."),
) -> None:
    """Open a township's closed days from --from to --to again; the event worker may place sessions there again."""
    from scheduler import closures

    try:
        first_day, last_day = _day(first, "--from"), _day(last, "--to")
    except InputError as error:
        fail_on_bad_input(error)
        return
    _run(lambda session, owner: closures.reopen_township(session, owner, township, first_day, last_day), community)
