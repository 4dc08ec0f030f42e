"""The `rota` command line: one Typer app; each group of commands lives in api/commands/."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from scheduler.errors import ScenarioError

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


def _register() -> None:
    from api.commands import closures, scenario, solve, serve, workbook  # noqa: F401  (each adds its commands to `app`)


def main() -> None:
    _register()
    try:
        app()
    except (ScenarioError, InputError) as exc:
        try:
            fail_on_bad_input(exc)
        except typer.Exit as done:
            sys.exit(done.exit_code)


if __name__ == "__main__":
    main()
