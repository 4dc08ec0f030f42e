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
    lang: str = typer.Option("", "--lang", help="Language of a clash's rules: zh-CN or en (default ROTA_LANGUAGE)."),
) -> None:
    """Save an earlier version's assignments as a new published version (checked against today's data); the event worker tells whom it moves."""
    from scheduler import i18n, revert, store
    from scheduler.actors import CLI, acting_as
    from scheduler.labels import CommunityLabels
    from scheduler.reason_text import rule_break_text
    from scheduler.roster_rules import RuleBroken

    if not _MONTH.match(month):
        fail_on_bad_input(InputError(f"--month: expected YYYY-MM (got {month!r})"))
        return
    try:
        language = i18n.parse_lang(lang or get_settings().language)
    except ValueError as exc:
        fail_on_bad_input(InputError(f"--lang: {exc}"))
        return
    factory = open_store(get_settings().database_url)
    try:
        with factory() as session:
            owner = choose_community(session, community)
            code = owner.code
        with acting_as(CLI):
            number, changes = revert.revert_to(factory, code, month, version)
    except RuleBroken as clash:
        with factory() as session:
            labels = CommunityLabels.from_scenario(store.export_scenario(session, code))
        prefix = "错误：" if language == "zh-CN" else "error: "
        for broken in clash.breaks:
            err.print(prefix + rule_break_text(broken.rule, broken.reason, language, labels), markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_CLASH) from None
    except (InputError, NotFound, Conflict, ScenarioError) as error:
        fail_on_bad_input(error)
        return
    out.print(f"{code}: {month} version {number} published = version {version}'s assignments ({changes} sessions changed); the event worker tells whom it moved", markup=False, soft_wrap=True)
