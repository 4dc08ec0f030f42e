"""Leave (请假): an expert is away for some days or a half-day; their sessions then are moved or cancelled."""

from __future__ import annotations

import datetime as dt

from scheduler.events.registry import EventKind, Payload, months_of_dates, register, zh
from solver.solution import Assignment


class LeavePayload(Payload):
    expert: str
    first_day: dt.date
    last_day: dt.date | None = None
    half_day: str | None = None
    reason: str = ""
    unavailability_id: int | None = None
    months: list[str] = []

    @property
    def last(self) -> dt.date:
        return self.last_day or self.first_day


@register
class Leave(EventKind):
    name = "leave"
    payload_type = LeavePayload
    labels = {"zh-CN": "请假", "en": "leave"}
    cancellation_reasons = {"zh-CN": "专家请假", "en": "expert on leave"}

    def months(self, payload: LeavePayload) -> list[str]:  # type: ignore[override]
        return payload.months or months_of_dates([payload.first_day, payload.last])

    def cancelled(self, payload: LeavePayload, assignment: Assignment) -> bool:  # type: ignore[override]
        if assignment.expert != payload.expert or not payload.first_day <= assignment.date <= payload.last:
            return False
        return payload.half_day is None or payload.half_day == assignment.half_day

    def summary(self, payload: LeavePayload, lang: str = "zh-CN") -> str:  # type: ignore[override]
        days = payload.first_day.isoformat() + (f"..{payload.last.isoformat()}" if payload.last != payload.first_day else "")
        half = f" {payload.half_day}" if payload.half_day else ""
        return f"{payload.expert} 请假 {days}{half}" if zh(lang) else f"{payload.expert} on leave {days}{half}"
