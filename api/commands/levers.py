"""rota commands for the office's levers: `revert` a month to an earlier version (saved as a new published version)."""

from __future__ import annotations

import re
import typer
from rich.console import Console

from api.commands.base import InputError, app, choose_community, err, fail_on_bad_input, open_store
from config.settings import get_settings
from scheduler.errors import Conflict, NotFound, ScenarioError

out = Console(highlight=False)
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
EXIT_CLASH = 3  # the hard rules clash (as `rota solve`)


@app.command("revert")
def revert_month(
    month: str = typer.Option(..., "--month", help="The month, YYYY-MM."),
    version: int = typer.Option(..., "--version", min=1, help="The earlier version whose assignments become the new published version."),
    community: str = typer.Option("", "--community", help="The community's code (needed when the database holds several)."),
) -> None:
    """Save an earlier version's assignments as a new published version (checked against today's data); the event worker tells whom it moves."""
    from scheduler import revert
    from scheduler.actors import CLI, acting_as
    from scheduler.roster_rules import RuleBroken

    if not _MONTH.match(month):
        fail_on_bad_input(InputError(f"--month: expected YYYY-MM (got {month!r})"))
        return
    factory = open_store(get_settings().database_url)
    try:
        with factory() as session:
            owner = choose_community(session, community)
            code = owner.code
        with acting_as(CLI):
            number, changes = revert.revert_to(factory, code, month, version)
    except RuleBroken as clash:
        for broken in clash.breaks:
            err.print(f"error: {broken.rule}: {broken.message}", markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_CLASH) from None
    except (InputError, NotFound, Conflict, ScenarioError) as error:
        fail_on_bad_input(error)
        return
    out.print(f"{code}: {month} version {number} published = version {version}'s assignments ({changes} sessions changed); the event worker tells whom it moved", markup=False, soft_wrap=True)
