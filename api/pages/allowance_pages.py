"""The office's allowance page (下沉补助) for a month, and its .xlsx / CSV downloads; the bureau may read it too."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.pages.web import checked_month, page, page_lang, render, require_tenant, session_factory
from config.settings import get_settings
from scheduler import i18n
from scheduler.allowance_month import MonthAllowance, configured_rates, month_allowance

router = APIRouter(include_in_schema=False)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _month_allowance(request: Request, month: str) -> MonthAllowance:
    tenant = require_tenant(request, "office", readers=True)
    with session_factory(request)() as session:
        return month_allowance(session, tenant.id, checked_month(month), configured_rates(get_settings().allowance_rates))


@router.get("/office/{month}/allowance")
@page
def allowance_page(request: Request, month: str) -> Response:
    tenant = require_tenant(request, "office", readers=True)
    found = _month_allowance(request, month)
    lang = page_lang(request)
    rows = [
        {
            "row": row,
            "title": i18n.title_name(row.title, lang),
            "townships": ("、" if lang == "zh-CN" else ", ").join(found.township_names.get(code, code) for code in row.townships),
        }
        for row in found.rows
    ]
    return render(request, "allowance.html", caller=tenant.caller, month=found.month, found=found, rows=rows)


def _download(request: Request, month: str, suffix: str) -> Response:
    found = _month_allowance(request, month)
    lang = page_lang(request)
    body, media = (found.xlsx(lang), XLSX) if suffix == "xlsx" else (found.csv(lang).encode("utf-8"), "text/csv; charset=utf-8")
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="allowance-{found.month}.{suffix}"'})


@router.get("/office/{month}/allowance.xlsx")
@page
def allowance_xlsx_download(request: Request, month: str) -> Response:
    return _download(request, month, "xlsx")


@router.get("/office/{month}/allowance.csv")
@page
def allowance_csv_download(request: Request, month: str) -> Response:
    return _download(request, month, "csv")
