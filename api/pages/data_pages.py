"""The office's standing-data page (`/c/{community}/office/data`): the Excel workbook out and in.

The office downloads the blank template or the community's data as it is now, fills or edits it in
Excel or WPS, and uploads it: the same import as `PUT /workbook` and `rota import county.xlsx`
(bounded reading in a child process; any problem imports nothing and is named by sheet, row and
column in the page's language; every change through the event path).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, UploadFile
from fastapi.responses import Response

from api.pages.web import page, page_lang, redirect, render, require_tenant, session_factory, this_month
from api.pages.words import page_word
from api.routes.workbook import XLSX, import_bytes
from scheduler import store
from scheduler.errors import Conflict, ScenarioError
from scheduler.workbook import document_to_workbook, reader, template_workbook

router = APIRouter(include_in_schema=False)


def _view(request: Request, *, errors: list[str] | None = None, notice: str = "", status_code: int = 200) -> Response:
    tenant = require_tenant(request, "office")
    with session_factory(request)() as session:
        scenario = store.export_scenario(session, tenant.id)
    counts = {"experts": len(scenario.experts), "townships": len(scenario.townships), "departments": len(scenario.departments),
              "links": len(scenario.links), "demand": len(scenario.demand)}
    return render(request, "office_data.html", status_code=status_code, caller=tenant.caller, month=this_month(),
                  counts=counts, errors=errors or [], notice=notice)


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
