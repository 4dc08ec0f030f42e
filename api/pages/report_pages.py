"""A community's month report: tables and server-drawn charts, and a printable one-page version.

The office reads its latest version (or ?version=N); the health bureau reads the latest published one.
`report_charts_cached` is shared with the bureau's province page.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.pages.month_data import load_month
from api.pages.roster_views import unmet_views
from api.deps import Tenant
from api.pages.web import SERVICE_ZONE, PageNotFound, checked_month, page, page_lang, render, require_tenant, session_factory
from scheduler import i18n
from scheduler.labels import CommunityLabels
from scheduler.report_charts import all_charts
from scheduler.reports import MonthReport, month_report
from scheduler.scenario.schema import Scenario
from scheduler.requests import scheduled_extra_demand
from scheduler.reason_text import reason_text
from solver.solution import Reason

router = APIRouter(include_in_schema=False)
# A roster version never changes once saved, so its charts are drawn once per (version, language, demand, names).
_CHART_CACHE: OrderedDict[tuple, dict[str, str]] = OrderedDict()
_CHART_CACHE_SIZE = 32
_CHART_LOCK = threading.Lock()


@dataclass(frozen=True)
class ReportNames:
    """Names the report templates look up, in the page language."""

    labels: CommunityLabels
    lang: str

    def township(self, code: str) -> str:
        return self.labels.township(code)

    def specialty(self, code: str | None) -> str:
        return self.labels.specialty(code)

    def expert(self, expert_id: str) -> str:
        return self.labels.expert(expert_id)

    def department(self, code: str) -> str:
        return self.labels.department(code)

    def type(self, session_type: str) -> str:
        return i18n.session_type_name(session_type, self.lang)

    def reason(self, reason: Reason | None) -> str:
        return reason_text(reason, self.lang, self.labels)

    def day(self, day: dt.date) -> str:
        return f"{day.month}月{day.day}日" if self.lang == "zh-CN" else day.strftime("%d %b")


def report_charts_cached(community: str, report: MonthReport, scenario: Scenario, labels: CommunityLabels, extra: dict, lang: str) -> dict[str, str]:
    """`all_charts` of a community's report, drawn once per (community, version, language, extra demand, standing data)."""
    key = (
        community, report.month, report.version, report.status, lang,
        tuple(sorted((k.township, k.type, k.specialty, n) for k, n in extra.items())),
        hashlib.sha256(scenario.model_dump_json().encode()).hexdigest(),
    )
    with _CHART_LOCK:
        if key in _CHART_CACHE:
            _CHART_CACHE.move_to_end(key)
            return _CHART_CACHE[key]
    charts = all_charts(report, labels, lang)
    with _CHART_LOCK:
        _CHART_CACHE[key] = charts
        while len(_CHART_CACHE) > _CHART_CACHE_SIZE:
            _CHART_CACHE.popitem(last=False)
    return charts


def _report_context(request: Request, tenant: Tenant, month: str, version: int | None) -> dict:
    lang = page_lang(request)
    status = "published" if tenant.is_bureau else None  # a draft is the office's business
    with session_factory(request)() as session:
        data = load_month(session, tenant.id, month, version, status=status)
        # Approved requests are demand too: without them a scheduled extra session would read as over-coverage.
        extra = scheduled_extra_demand(session, tenant.id, month)
    if data.document is None:
        if version is not None:
            raise PageNotFound()
        return {"month": month, "report": None}
    report = month_report(data.document, data.scenario, extra)
    return {
        "month": month,
        "report": report,
        "names": ReportNames(data.labels, lang),
        "charts": report_charts_cached(tenant.code, report, data.scenario, data.labels, extra, lang),
        "unmet": unmet_views(data.document, data.scenario, lang),
    }


@router.get("/office/{month}/report")
@page
def report_page(request: Request, month: str, version: int | None = None) -> Response:
    tenant = require_tenant(request, "office", readers=True)
    month = checked_month(month)
    return render(request, "report.html", caller=tenant.caller, compact=False, **_report_context(request, tenant, month, version))


@router.get("/office/{month}/report/print")
@page
def report_print(request: Request, month: str, version: int | None = None) -> Response:
    tenant = require_tenant(request, "office", readers=True)
    month = checked_month(month)
    context = _report_context(request, tenant, month, version)
    if context["report"] is None:
        raise PageNotFound()
    generated_at = dt.datetime.now(SERVICE_ZONE).strftime("%Y-%m-%d %H:%M")
    return render(request, "report_print.html", caller=tenant.caller, compact=True, generated_at=generated_at, **context)
