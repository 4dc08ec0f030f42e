"""The `rota` command line: one Typer app (api/commands/base.py); each group of commands lives in api/commands/."""

from __future__ import annotations

import sys

import typer

# Each command module adds its commands to `app` when imported.
from api.commands import allowance, closures, levers, province, scenario, serve, solve, users, workbook, worker  # noqa: F401
from api.commands.base import InputError, app, fail_on_bad_input
from scheduler.errors import ScenarioError


def main(argv: list[str] | None = None) -> None:
    """Run `rota` with `argv` (default: the process's own arguments); exits with the command's code."""
    try:
        app(args=argv)
    except (ScenarioError, InputError) as exc:
        try:
            fail_on_bad_input(exc)
        except typer.Exit as done:
            sys.exit(done.exit_code)


if __name__ == "__main__":
    main()
