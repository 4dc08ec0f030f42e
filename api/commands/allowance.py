"""`rota allowance --month M`: the month's 下沉补助 per expert from the published roster, as a table, .xlsx or CSV."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from api.commands.base import InputError, app, choose_community, fail_on_bad_input, open_store
from config.settings import get_settings
from scheduler import i18n
from scheduler.allowance import AllowanceError, load_rates
from scheduler.allowance_month import configured_rates, month_allowance
from scheduler.errors import NotFound, ScenarioError

out = Console(highlight=False)
SUFFIXES = (".xlsx", ".csv")


@app.command("allowance")
def allowance(
    month: str = typer.Option(..., "--month", help="The month, YYYY-MM."),
    out_file: Path = typer.Option(None, "--out", help="Write the sheet here (.xlsx or .csv); without it, print a table."),
    rates_file: Path = typer.Option(None, "--rates", help="A YAML/JSON rate table (default: ROTA_ALLOWANCE_RATES, else placeholder rates)."),
    community: str = typer.Option("", "--community", help="The community's code (needed when the database holds several)."),
    lang: str = typer.Option("", "--lang", help="zh-CN (default) or en."),
) -> None:
    """Per expert: sessions by type, days down, townships, shared car-days and the amount; only published sessions count."""
    try:
        language = i18n.parse_lang(lang or get_settings().language)
        if out_file is not None and out_file.suffix.lower() not in SUFFIXES:
            raise InputError(f"--out: {out_file.name} must end in .xlsx or .csv")
        rates = load_rates(rates_file) if rates_file is not None else configured_rates(get_settings().allowance_rates)
        factory = open_store(get_settings().database_url)
        with factory() as session:
            found = month_allowance(session, choose_community(session, community).id, month, rates)
    except (InputError, ScenarioError, NotFound, AllowanceError, ValueError, OSError) as error:
        fail_on_bad_input(error)
        return
    if out_file is not None:
        if out_file.suffix.lower() == ".xlsx":
            out_file.write_bytes(found.xlsx(language))
        else:
            out_file.write_text(found.csv(language), encoding="utf-8")
        out.print(f"{out_file}: {len(found.rows)} experts, {found.total} CNY", markup=False)
        return
    english = language == "en"
    table = Table(title=f"{found.community} {month}")
    for header in (("Expert", "Sessions", "Days down", "Townships", "Amount (CNY)") if english else ("专家", "次数", "下沉天数", "乡镇数", "补助（元）")):
        table.add_column(header)
    for row in found.rows:
        table.add_row(f"{row.expert} {row.name}", str(row.sessions), str(row.days_down), str(len(row.townships)), str(row.amount))
    table.add_row("Total" if english else "合计", "", "", "", str(found.total))
    out.print(table)
