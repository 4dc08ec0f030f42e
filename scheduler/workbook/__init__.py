"""The standing data as the office's Excel workbook: a template to fill, export of a scenario, import of a filled one.

    template_workbook(lang) -> bytes                      the blank workbook to download
    document_to_workbook(document_or_scenario, lang) -> bytes
    workbook_to_document(data, lang) -> dict              a validated rota.scenario/1 document, or WorkbookError
    workbook_to_scenario(data, lang) -> Scenario          the same, as the Scenario the store imports
    workbook_to_scenario_bounded(data, lang=, timeout=)   the same in a child process with a time limit (untrusted uploads)

The sheets and columns are in `layout.py`; the words cells may hold in `vocabulary.py`; how problems are told
(`专家!C7（职称）：未知职称“主任”`) in `messages.py`. A workbook with any problem imports nothing: WorkbookError
(a ScenarioError, so the CLI and the API render it where they render scenario errors) lists them all.
"""

from __future__ import annotations

from typing import Any

from config.settings import get_settings
from scheduler import i18n
from scheduler.scenario.bounded import CHILD_MEMORY_BYTES, ChildFailed, ChildTimedOut, run_in_child
from scheduler.scenario.load import validate_document
from scheduler.scenario.schema import Scenario
import scheduler.workbook.reader as reader
from scheduler.workbook.messages import CellRef, WorkbookError, WorkbookProblem, problem_at
from scheduler.workbook.reader import read_workbook
from scheduler.workbook.writer import scenario_workbook, template_document, write_workbook

__all__ = [
    "CellRef",
    "WorkbookError",
    "WorkbookProblem",
    "document_to_workbook",
    "template_workbook",
    "workbook_to_document",
    "workbook_to_scenario",
    "workbook_to_scenario_bounded",
]


def template_workbook(lang: str = i18n.DEFAULT_LANG) -> bytes:
    """The blank workbook the office downloads: headers, instructions, choices, and every setting at its default."""
    return write_workbook(template_document(), lang)


def document_to_workbook(document: dict[str, Any] | Scenario, lang: str = i18n.DEFAULT_LANG) -> bytes:
    """A `rota.scenario/1` document (validated here; ScenarioError if it is not one) or a Scenario as .xlsx bytes."""
    scenario = document if isinstance(document, Scenario) else validate_document(document)
    return scenario_workbook(scenario, lang)


def workbook_to_scenario(data: bytes, lang: str = i18n.DEFAULT_LANG) -> Scenario:
    """The scenario a filled workbook holds; WorkbookError naming every problem by sheet, row and column."""
    return read_workbook(data, lang)


def workbook_to_document(data: bytes, lang: str = i18n.DEFAULT_LANG) -> dict[str, Any]:
    """The `rota.scenario/1` document a filled workbook holds (validated, defaults filled); WorkbookError otherwise."""
    return read_workbook(data, lang).to_document()


def workbook_to_scenario_bounded(data: bytes, lang: str = i18n.DEFAULT_LANG, *, timeout: float | None = None) -> Scenario:
    """`workbook_to_scenario` in a child process, killed after `timeout` seconds (default ROTA_SCENARIO_PARSE_TIMEOUT).

    For a workbook from outside (an upload): it blocks the calling thread, not the event loop's interpreter;
    from async code, `await run_in_threadpool(workbook_to_scenario_bounded, raw, lang)`.
    """
    lang = i18n.parse_lang(lang)
    seconds = get_settings().scenario_parse_timeout if timeout is None else timeout
    if len(data) > reader.MAX_WORKBOOK_BYTES:
        return read_workbook(data, lang)  # refused at once by its size, in this process, with the reader's words
    try:
        kind, payload = run_in_child("scheduler.workbook.read_process", [lang, str(reader.MAX_WORKBOOK_BYTES), str(CHILD_MEMORY_BYTES)],
                                     data, seconds=seconds)
    except ChildTimedOut:
        message = (f"读取超过 {seconds:g} 秒，已放弃（ROTA_SCENARIO_PARSE_TIMEOUT）" if lang == "zh-CN"
                   else f"reading took more than {seconds:g} s and was given up (ROTA_SCENARIO_PARSE_TIMEOUT)")
        raise WorkbookError([problem_at(None, message, lang)]) from None
    except ChildFailed as exc:
        message = "读取进程意外结束，未能读取" if lang == "zh-CN" else f"could not be read: the reading process {exc}"
        raise WorkbookError([problem_at(None, message, lang)]) from None
    if kind == "ok":
        return payload
    raise WorkbookError(list(payload))
