"""GET /province/months/{month}: the health bureau's month across every community (bureau tokens only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import Bureau, Factory, Lang
from api.schemas import MonthPath
from scheduler.province import province_json, province_month

router = APIRouter(tags=["province"])


@router.get("/province/months/{month}")
def province_month_report(month: MonthPath, factory: Factory, _bureau: Bureau, lang: Lang) -> dict[str, Any]:
    """Each community's coverage, unmet sessions, link visits per committee member, load and publication status for the month."""
    with factory() as session:
        return province_json(month, province_month(session, month), lang)
