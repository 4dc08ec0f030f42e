"""The office's Excel workbook of a community's standing data (`/c/{community}/workbook`).

`GET /workbook/template` is the blank workbook to fill (sheets 专家, 乡镇, 科室, 挂点, 需求, 日历, ...),
`GET /workbook` the community's data as it is now, `PUT /workbook` imports a filled one: upsert by ids,
drop what the workbook dropped, every change through the event path. A workbook with any problem
imports nothing: 422 naming each problem's sheet, row and column (`专家!C7`) in the request's language.
The workbook is read in a child process with a time limit (`scheduler.workbook.workbook_to_scenario_bounded`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from api.deps import Factory, Office
from scheduler import i18n, standing, store
from scheduler.db import transaction
from scheduler.errors import FieldError, ScenarioError
from scheduler.workbook import document_to_workbook, template_workbook, workbook_to_scenario_bounded

router = APIRouter(tags=["standing data"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Lang = Annotated[str | None, Query(max_length=20, description="zh-CN (default) or en: sheet names, headers and messages")]


def language(lang: str | None) -> str:
    try:
        return i18n.parse_lang(lang)
    except ValueError as error:
        raise ScenarioError([FieldError("lang", str(error))]) from None


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


@router.get("/workbook/template", response_class=Response, responses={200: {"content": {XLSX: {}}}})
def workbook_template(tenant: Office, lang: Lang = None) -> Response:
    """The blank workbook the office fills in: one sheet per kind, headers, choices, settings at their defaults."""
    return Response(template_workbook(language(lang)), media_type=XLSX, headers=_attachment("rota-template.xlsx"))


@router.get("/workbook", response_class=Response, responses={200: {"content": {XLSX: {}}}})
def export_workbook(factory: Factory, tenant: Office, lang: Lang = None) -> Response:
    """The community's standing data as the office's workbook (what `rota export --format xlsx` writes)."""
    with factory() as session:
        scenario = store.export_scenario(session, tenant.id)
    return Response(document_to_workbook(scenario, language(lang)), media_type=XLSX, headers=_attachment(f"{tenant.code}.xlsx"))


def import_bytes(factory: Any, community: int, data: bytes, lang: str) -> dict[str, Any]:
    """Read a workbook (bounded, in a child process) and import it whole; WorkbookError naming every problem, nothing stored."""
    scenario = workbook_to_scenario_bounded(data, lang)
    with transaction(factory) as session:
        standing.import_whole(session, community, scenario)
    return {"community": scenario.community.name, "experts": len(scenario.experts), "townships": len(scenario.townships),
            "demand": len(scenario.demand), "links": len(scenario.links)}


@router.put(
    "/workbook",
    openapi_extra={"requestBody": {"required": True, "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}},
)
async def import_workbook(request: Request, factory: Factory, tenant: Office, lang: Lang = None) -> dict[str, Any]:
    """Import a filled workbook as this community's standing data (422 naming sheet, row and column; nothing stored then)."""
    words = language(lang)
    data = await request.body()
    return await run_in_threadpool(import_bytes, factory, tenant.id, data, words)
