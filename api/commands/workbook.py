"""rota command for the office's Excel workbook: `template` writes the blank workbook to fill in.

Import and export of workbooks go through `rota import file.xlsx` and `rota export --out file.xlsx` (api/commands/scenario.py).
"""

from __future__ import annotations

from pathlib import Path

import typer

from api.commands.base import InputError, app, fail_on_bad_input
from config.settings import get_settings
from scheduler import i18n
from scheduler.workbook import template_workbook


@app.command("template")
def template(
    out_file: str = typer.Option(..., "--out", help="Where to write the blank workbook (.xlsx)."),
    lang: str = typer.Option("", "--lang", help="Language of sheets and headers: zh-CN or en (default ROTA_LANGUAGE)."),
) -> None:
    """Write the blank workbook the office fills in: sheets, headers, choices, and every setting at its default."""
    try:
        language = i18n.parse_lang(lang or get_settings().language)
    except ValueError as exc:
        fail_on_bad_input(InputError(f"--lang: {exc}"))
        return
    target = Path(out_file)
    try:
        target.write_bytes(template_workbook(language))
    except OSError as exc:
        fail_on_bad_input(InputError(f"cannot write {target}: {exc.strerror or exc}"))
    typer.echo(f"wrote the template to {target}")
