"""Reopening (恢复开诊): closed days of a township centre are working days again, so coverage can rise there."""

from __future__ import annotations

import datetime as dt

from scheduler.events.kinds.closure import days_text
from scheduler.events.registry import EventKind, Payload, months_of_dates, register, zh


class ReopenPayload(Payload):
    township: str
    dates: list[dt.date]
    months: list[str] = []


@register
class Reopen(EventKind):
    name = "reopen"
    payload_type = ReopenPayload
    labels = {"zh-CN": "恢复开诊", "en": "reopening"}
    cancellation_reasons = {"zh-CN": "卫生院恢复开诊后重新安排", "en": "rearranged after the centre reopened"}

    def months(self, payload: ReopenPayload) -> list[str]:  # type: ignore[override]
        return payload.months or months_of_dates(payload.dates)

    def township(self, payload: ReopenPayload) -> str:  # type: ignore[override]
        return payload.township

    def may_raise_coverage(self, payload: ReopenPayload) -> bool:  # type: ignore[override]
        return True

    def summary(self, payload: ReopenPayload, lang: str = "zh-CN") -> str:  # type: ignore[override]
        return (f"{payload.township} 恢复开诊 " if zh(lang) else f"{payload.township} reopened ") + days_text(payload.dates)
