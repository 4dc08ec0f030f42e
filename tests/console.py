"""`rota` for the tests: in this process through the console entry (`api.cli.main`), or as the installed script.

Starting the installed script costs about two seconds of imports (OR-Tools, openpyxl, SQLAlchemy) before the
command runs, which most tests pay a dozen times over for nothing: `run_rota` runs the same entry function in this
process, with the arguments, environment, working directory and standard input the command would get, and answers
what `subprocess.run` would (exit code, stdout, stderr). `run_rota_script` runs the real console script; the tests
that are about the process itself (the installed entry point, signals, several commands at once) use it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from config.settings import get_settings

# Wide enough that neither Typer's usage errors nor rich ever wrap a line the tests read.
_CONSOLE = {"COLUMNS": "200", "NO_COLOR": "1", "TERMINAL_WIDTH": "200"}


def rota_script() -> str:
    """The installed console script next to this interpreter (not `python -m`): what a user runs."""
    beside = Path(sys.executable).parent / "rota"
    found = str(beside) if beside.exists() else shutil.which("rota")
    assert found, "the `rota` console script is not installed (pip install -e .)"
    return found


def run_rota_script(*arguments: str, env: dict[str, str] | None = None, cwd: Path | None = None, input: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The installed `rota` in its own process; `env` is added to this process's environment."""
    environment = {**os.environ, **_CONSOLE, **(env or {})}
    return subprocess.run([rota_script(), *arguments], env=environment, cwd=cwd, input=input, capture_output=True, text=True, timeout=timeout, check=False)


def run_rota(*arguments: str, env: dict[str, str] | None = None, cwd: Path | None = None, input: str | None = None) -> subprocess.CompletedProcess[str]:
    """`rota ARGUMENTS` run by `api.cli.main` in this process; `env` is added to the environment for the call.

    Settings are read afresh for the call and forgotten after it, so a `ROTA_*` variable given here applies to this
    command only, as it would to a process of its own.
    """
    from api.cli import main  # the command line's own modules, imported once per test process

    runner = CliRunner()
    before = Path.cwd()
    get_settings.cache_clear()
    try:
        with runner.isolation(input=input, env={**_CONSOLE, **(env or {})}) as (stdout, stderr, _):
            if cwd is not None:
                os.chdir(cwd)
            try:
                main([*arguments])
                code = 0
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
            printed, complained = stdout.getvalue().decode(), stderr.getvalue().decode()
    finally:
        os.chdir(before)
        get_settings.cache_clear()
    return subprocess.CompletedProcess(["rota", *arguments], code, printed, complained)
