"""Parsing untrusted bytes in a child process with a time limit: what the service and the CLI call.

Why a process and not a thread: parsing is CPU-bound Python (and libyaml called with the GIL held), so in a
thread it would still hold the interpreter lock and slow the event loop; and a thread cannot be stopped, so a
file that outran the time limit would keep a core busy after its caller gave up. A child process runs beside
the service, is killed when the limit passes, and has its address space capped, so a file that slipped past
the size and value bounds (`load.py`) costs at most the limit's seconds and CHILD_MEMORY_BYTES. The time limit
counts from the moment the child is ready to read (its imports done), so a machine busy with other work does
not turn start-up time into a refusal. It costs a Python start-up (~0.3 s quiet): fine for a scenario import,
which is rare; `parse_scenario` stays for trusted input in this process.

`run_in_child` / `serve_in_child` are the two halves of the protocol (the parent's and the child's), shared by
the scenario file (`parse_process.py`) and the workbook import (`scheduler.workbook.read_process`).
"""

from __future__ import annotations

import os
import pickle
import resource
import select
import signal
import subprocess
import sys
from typing import Any, Callable

from config.settings import get_settings
from scheduler.errors import FieldError, ScenarioError
from scheduler.scenario.load import too_big_message
from scheduler.scenario.schema import Scenario

CHILD_MEMORY_BYTES = 1_500_000_000  # address space of the parsing process; a 2 MB scenario peaks near 0.3 GB
CHILD_MODULE = "scheduler.scenario.parse_process"
STARTUP_SECONDS = 60.0  # for the child's interpreter and imports, before the time limit starts
READY = b"R"  # the child's first byte: imports done, reading the input now


class ChildTimedOut(Exception):
    """The child did not answer within the time limit (it has been killed)."""


class ChildFailed(Exception):
    """The child did not start, or ended without an answer; the text says how it ended."""


def run_in_child(module: str, arguments: list[str], data: bytes, *, seconds: float) -> tuple[str, Any]:
    """Run `python -m module arguments...` with `data` on its stdin; its pickled answer, within `seconds` of it being ready.

    Raises ChildTimedOut (the child is killed) or ChildFailed. The answer is whatever the child's
    `serve_in_child` sent: ("ok", value) or ("problems", [FieldError, ...]).
    """
    command = [sys.executable, "-m", module, *arguments]
    with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as child:
        try:
            started = _ready(child)
            if started:
                stdout, stderr = child.communicate(data, timeout=seconds)
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
            raise ChildTimedOut() from None
        except BaseException:
            child.kill()
            child.communicate()
            raise
        if not started:
            child.kill()
            _, stderr = child.communicate()
            raise ChildFailed(f"did not start ({_how_it_ended(child.returncode, stderr)})")
    if child.returncode != 0 or not stdout:
        raise ChildFailed(_how_it_ended(child.returncode, stderr))
    return pickle.loads(stdout)  # noqa: S301 - our own child's answer, not the caller's bytes


def serve_in_child(parse: Callable[[bytes], Any], max_bytes: int, memory_bytes: int, out_of_memory: str) -> int:
    """The child's half: cap memory, say ready, read at most max_bytes + 1 from stdin, answer ("ok", value) or ("problems", [...])."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    sys.stdout.buffer.write(READY)  # the parent's time limit starts now
    sys.stdout.buffer.flush()
    data = sys.stdin.buffer.read(max_bytes + 1)
    try:
        answer: tuple = ("ok", parse(data))
    except ScenarioError as exc:
        answer = ("problems", exc.problems)  # coded problems stay coded, so the caller can render them in zh-CN
    except MemoryError:
        answer = ("problems", [FieldError("", out_of_memory)])
    sys.stdout.buffer.write(pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL))
    sys.stdout.buffer.flush()
    return 0


def parse_scenario_bounded(
    data: bytes,
    *,
    timeout: float | None = None,
    source: str = "the scenario",
    max_bytes: int | None = None,
) -> Scenario:
    """Parse and validate scenario bytes in a child process within `timeout` seconds; raise ScenarioError naming what is wrong.

    Blocks the calling thread while the child works (the GIL is free meanwhile): from async code,
    `await run_in_threadpool(parse_scenario_bounded, raw, ...)`.
    """
    settings = get_settings()
    limit = settings.scenario_max_bytes if max_bytes is None else max_bytes
    seconds = settings.scenario_parse_timeout if timeout is None else timeout
    if len(data) > limit:
        raise ScenarioError([FieldError("", too_big_message(source, len(data), limit))])
    try:
        kind, payload = run_in_child(CHILD_MODULE, [source, str(limit), str(CHILD_MEMORY_BYTES)], data, seconds=seconds)
    except ChildTimedOut:
        raise ScenarioError([FieldError("", f"{source} took more than {seconds:g} s to read and was given up (ROTA_SCENARIO_PARSE_TIMEOUT)")]) from None
    except ChildFailed as exc:
        raise ScenarioError([FieldError("", f"{source} could not be read: the parsing process {exc}")]) from None
    if kind == "ok":
        return payload
    raise ScenarioError(list(payload))


def _ready(child: subprocess.Popen[bytes]) -> bool:
    """Whether the child said it is ready (imports done) within STARTUP_SECONDS.

    The time limit is for reading the input, so it starts only then: on a machine busy with other work,
    starting Python alone can take seconds that say nothing about the file.
    """
    assert child.stdout is not None
    ready, _, _ = select.select([child.stdout], [], [], STARTUP_SECONDS)
    return bool(ready) and os.read(child.stdout.fileno(), 1) == READY


def _how_it_ended(returncode: int | None, stderr: bytes) -> str:
    if returncode is not None and returncode < 0:
        try:
            return f"was stopped by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was stopped by signal {-returncode}"
    last = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
    return f"ended with code {returncode}" + (f" ({last[0][:120]})" if last[0] else "")
