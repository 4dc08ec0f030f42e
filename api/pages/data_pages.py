"""The office's standing-data page (`/c/{community}/office/data`): the Excel workbook out and in.

The office downloads the blank template or the community's data as it is now, fills or edits it in
Excel or WPS, and uploads it: the same import as `PUT /workbook` and `rota import county.xlsx`
(bounded reading in a child process; any problem imports nothing and is named by sheet, row and
column in the page's language; every change through the event path).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, UploadFile
from fastapi.responses import Response
from starlette.datastructures import FormData

from api.pages.web import page, page_lang, redirect, render, require_tenant, session_factory, this_month
from api.pages.words import page_word
from api.routes.workbook import XLSX, import_bytes
from scheduler import standing, store
from scheduler.db import transaction
from scheduler.errors import Conflict, NotFound, ScenarioError
from scheduler.workbook import WorkbookError, document_to_workbook, edit, reader, template_workbook

router = APIRouter(include_in_schema=False)


def _view(request: Request, *, errors: list[str] | None = None, notice: str = "", status_code: int = 200) -> Response:
    tenant = require_tenant(request, "office")
    with session_factory(request)() as session:
        scenario = store.export_scenario(session, tenant.id)
    counts = {"experts": len(scenario.experts), "townships": len(scenario.townships), "departments": len(scenario.departments),
              "links": len(scenario.links), "demand": len(scenario.demand)}
    return render(request, "office_data.html", status_code=status_code, caller=tenant.caller, month=this_month(),
                  counts=counts, errors=errors or [], notice=notice,
                  lists=[(key, sheet.name(page_lang(request))) for key, sheet in edit.EDITABLE_SHEETS.items()])


def _attachment(body: bytes, name: str) -> Response:
    return Response(body, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/office/data")
@page
def data_page(request: Request) -> Response:
    require_tenant(request, "office")
    lang = page_lang(request)
    imported = request.query_params.get("imported", "")
    notice = page_word("data_imported", lang) if imported else ""
    return _view(request, notice=notice)


@router.get("/office/data/template.xlsx")
@page
def template_download(request: Request) -> Response:
    require_tenant(request, "office")
    return _attachment(template_workbook(page_lang(request)), "rota-template.xlsx")


@router.get("/office/data/workbook.xlsx")
@page
def workbook_download(request: Request) -> Response:
    tenant = require_tenant(request, "office")
    with session_factory(request)() as session:
        scenario = store.export_scenario(session, tenant.id)
    return _attachment(document_to_workbook(scenario, page_lang(request)), f"{tenant.code}.xlsx")


@router.post("/office/data/import")
@page
def import_workbook_form(request: Request, workbook: UploadFile | None = None) -> Response:
    tenant = require_tenant(request, "office")
    lang = page_lang(request)
    data = workbook.file.read(reader.MAX_WORKBOOK_BYTES + 1) if workbook is not None else b""
    if not data:
        return _view(request, errors=[page_word("data_no_file", lang)], status_code=422)
    try:
        import_bytes(session_factory(request), tenant.id, data, lang)
    except ScenarioError as error:
        return _view(request, errors=[str(problem) for problem in error.problems], status_code=422)
    except Conflict:
        return _view(request, errors=[page_word("data_other_community", lang)], status_code=409)
    return redirect(request, "/office/data", imported="1")


# --- one list, one row at a time ---------------------------------------------------------------


def _scenario(request: Request, community: int):
    with session_factory(request)() as session:
        return store.export_scenario(session, community)


def _row_number(text: str) -> int | None:
    if text == "new":
        return None
    if not text.isdigit() or not 2 <= int(text) <= 1_000_000:
        raise NotFound(f"no row {text}")
    return int(text)


def _row_view(request: Request, key: str, number: int | None, *, values: dict[str, str] | None = None, first_cell: str = "",
              errors: list[str] | None = None, status_code: int = 200) -> Response:
    tenant = require_tenant(request, "office")
    lang = page_lang(request)
    found = edit.sheet_rows(_scenario(request, tenant.id), key, lang)
    if values is None:
        cells = found.row(number) if number is not None else ("",) * len(found.sheet.columns)
        values = {column.key: cell for column, cell in zip(found.sheet.columns, cells)}
        first_cell = cells[0]
    fields = [{"key": c.key, "label": c.header(lang), "hint": c.hint_zh if lang == "zh-CN" else c.hint_en, "value": values.get(c.key, "")}
              for c in found.sheet.columns]
    return render(request, "office_data_row.html", status_code=status_code, caller=tenant.caller, month=this_month(),
                  sheet_key=key, sheet_name=found.sheet.name(lang), number=number, first_cell=first_cell, fields=fields, errors=errors or [])


@router.get("/office/data/{key}")
@page
def list_page(request: Request, key: str) -> Response:
    tenant = require_tenant(request, "office")
    lang = page_lang(request)
    found = edit.sheet_rows(_scenario(request, tenant.id), key, lang)
    done = request.query_params.get("done", "")
    notice = page_word("data_row_" + done, lang) if done in ("saved", "deleted") else ""
    return render(request, "office_data_list.html", caller=tenant.caller, month=this_month(), sheet_key=key,
                  sheet_name=found.sheet.name(lang), headers=[c.header(lang) for c in found.sheet.columns], rows=found.rows, notice=notice)


@router.get("/office/data/{key}/{row}")
@page
def row_page(request: Request, key: str, row: str) -> Response:
    require_tenant(request, "office")
    edit.editable_sheet(key)
    return _row_view(request, key, _row_number(row))


def _store(request: Request, community: int, change) -> None:
    """Apply `change(scenario) -> scenario` to the stored data and import the result, in one transaction."""
    with transaction(session_factory(request)) as session:
        standing.import_whole(session, community, change(store.export_scenario(session, community)))


async def _form(request: Request) -> FormData:
    return await request.form()


Form = Annotated[FormData, Depends(_form)]


@router.post("/office/data/{key}/{row}")
@page
def save_row(request: Request, key: str, row: str, form: Form) -> Response:
    tenant = require_tenant(request, "office")
    lang, sheet, number = page_lang(request), edit.editable_sheet(key), _row_number(row)
    values = {c.key: str(form.get(c.key, ""))[:2000] for c in sheet.columns}
    first_cell = str(form.get("first_cell", ""))[:2000]
    try:
        _store(request, tenant.id, lambda s: edit.with_row(s, key, number, first_cell, values, lang))
    except WorkbookError as error:
        return _row_view(request, key, number, values=values, first_cell=first_cell, errors=edit.workbook_problems(error, key, number, lang), status_code=422)
    except Conflict:
        return _row_view(request, key, number, values=values, first_cell=first_cell, errors=[page_word("data_row_moved", lang)], status_code=409)
    return redirect(request, f"/office/data/{key}", done="saved")


@router.post("/office/data/{key}/{row}/delete")
@page
def delete_row(request: Request, key: str, row: str, form: Form) -> Response:
    tenant = require_tenant(request, "office")
    lang, number = page_lang(request), _row_number(row)
    edit.editable_sheet(key)
    if number is None:
        raise NotFound("a new row cannot be deleted")
    first_cell = str(form.get("first_cell", ""))[:2000]
    try:
        _store(request, tenant.id, lambda s: edit.without_row(s, key, number, first_cell, lang))
    except WorkbookError as error:
        return _row_view(request, key, number, errors=edit.workbook_problems(error, key, number, lang), status_code=422)
    except Conflict:
        return _row_view(request, key, number, errors=[page_word("data_row_moved", lang)], status_code=409)
    return redirect(request, f"/office/data/{key}", done="deleted")
