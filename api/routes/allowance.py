"""下沉补助 of a community's month (`/c/{community}/allowance/{month}`): rows as JSON, or the sheet as .xlsx or CSV.

The office and the health bureau read it (every expert's pay: not for township or expert tokens). Only
published sessions count; the rate table is `ROTA_ALLOWANCE_RATES` (placeholder defaults without it).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from api.deps import AppSettings, Factory, Forbidden, Reader, Tenant
from api.routes.rosters import Month
from scheduler import i18n
from scheduler.allowance_month import MonthAllowance, configured_rates, month_allowance
from scheduler.errors import FieldError, ScenarioError

router = APIRouter(tags=["allowance"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Lang = Annotated[str | None, Query(max_length=20, description="zh-CN (default) or en")]


def office_or_bureau(tenant: Reader) -> Tenant:
    """The community's office, or the health bureau (403 for township and expert tokens)."""
    if not (tenant.is_office or tenant.is_bureau):
        raise Forbidden(f"the allowance needs the office or bureau role (the token's role is {tenant.role})")
    return tenant


Accounts = Annotated[Tenant, Depends(office_or_bureau)]


def _language(lang: str | None) -> str:
    try:
        return i18n.parse_lang(lang)
    except ValueError as error:
        raise ScenarioError([FieldError("lang", str(error))]) from None


def _allowance(factory: Factory, settings: AppSettings, tenant: Tenant, month: str) -> MonthAllowance:
    with factory() as session:
        return month_allowance(session, tenant.id, month, configured_rates(settings.allowance_rates))


def _attachment(month: str, suffix: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="allowance-{month}.{suffix}"'}


@router.get("/allowance/{month}.xlsx", response_class=Response, responses={200: {"content": {XLSX: {}}}})
def allowance_sheet(month: Month, factory: Factory, settings: AppSettings, tenant: Accounts, lang: Lang = None) -> Response:
    """The allowance sheet (one row per expert who served, totals, and the rates used) as a workbook."""
    language = _language(lang)
    return Response(_allowance(factory, settings, tenant, month).xlsx(language), media_type=XLSX, headers=_attachment(month, "xlsx"))


@router.get("/allowance/{month}.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def allowance_table(month: Month, factory: Factory, settings: AppSettings, tenant: Accounts, lang: Lang = None) -> Response:
    """The allowance rows as CSV (UTF-8 with a BOM, so Excel reads the Chinese)."""
    language = _language(lang)
    body = _allowance(factory, settings, tenant, month).csv(language).encode("utf-8")
    return Response(body, media_type="text/csv; charset=utf-8", headers=_attachment(month, "csv"))


@router.get("/allowance/{month}")
def allowance(month: Month, factory: Factory, settings: AppSettings, tenant: Accounts) -> dict[str, Any]:
    """Per expert who served in the month: sessions by type, days down, townships, shared car-days, amounts (CNY, as strings)."""
    found = _allowance(factory, settings, tenant, month)
    return {
        "month": month,
        "published_versions": list(found.published_versions),
        "total": str(found.total),
        "experts": [
            {
                "expert": row.expert, "name": row.name, "title": row.title, "department": row.department,
                "sessions": {"clinic": row.clinic, "teaching": row.teaching, "ward_round": row.ward_round, "supervision": row.supervision},
                "days_down": row.days_down, "townships": list(row.townships), "shared_car_days": row.shared_car_days,
                "session_amount": str(row.session_amount), "day_amount": str(row.day_amount), "amount": str(row.amount),
            }
            for row in found.rows
        ],
    }
