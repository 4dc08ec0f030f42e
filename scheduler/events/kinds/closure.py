"""Closure (停诊): a township centre is closed on some days (flood, outbreak); its sessions then are moved or cancelled."""

from __future__ import annotations

import datetime as dt

from scheduler.events.registry import EventKind, Payload, months_of_dates, register, zh
from solver.solution import Assignment


class ClosurePayload(Payload):
    township: str
    dates: list[dt.date]
    reason: str = ""
    months: list[str] = []


def days_text(dates: list[dt.date]) -> str:
    """A run of days as `first..last (n)` or one date."""
    if not dates:
        return ""
    first, last = min(dates), max(dates)
    return first.isoformat() if first == last else f"{first.isoformat()}..{last.isoformat()} ({len(dates)})"


@register
class Closure(EventKind):
    name = "closure"
    payload_type = ClosurePayload
    labels = {"zh-CN": "停诊", "en": "closure"}
    cancellation_reasons = {"zh-CN": "卫生院停诊", "en": "township centre closed"}

    def months(self, payload: ClosurePayload) -> list[str]:  # type: ignore[override]
        return payload.months or months_of_dates(payload.dates)

    def township(self, payload: ClosurePayload) -> str:  # type: ignore[override]
        return payload.township

    def cancelled(self, payload: ClosurePayload, assignment: Assignment) -> bool:  # type: ignore[override]
        return assignment.township == payload.township and assignment.date in payload.dates

    def summary(self, payload: ClosurePayload, lang: str = "zh-CN") -> str:  # type: ignore[override]
        reason = f"（{payload.reason}）" if payload.reason and zh(lang) else (f" ({payload.reason})" if payload.reason else "")
        return (f"{payload.township} 停诊 " if zh(lang) else f"{payload.township} closed ") + days_text(payload.dates) + reason
