"""The community calendar changed: closed days (停诊日) or make-up working days (调休上班), or the holiday calendar itself."""

from __future__ import annotations

import datetime as dt

from scheduler.events.kinds.item_changes import FieldChange
from scheduler.events.registry import Detected, EventKind, Payload, months_of_dates, register, zh
from scheduler.scenario.schema import Scenario
from solver.solution import Assignment


class CalendarPayload(Payload):
    closed_added: list[dt.date] = []
    closed_removed: list[dt.date] = []
    workdays_added: list[dt.date] = []
    workdays_removed: list[dt.date] = []
    holidays: FieldChange | None = None

    @property
    def dates(self) -> list[dt.date]:
        return [*self.closed_added, *self.closed_removed, *self.workdays_added, *self.workdays_removed]


def _dates(days: list[dt.date]) -> str:
    return "、".join(day.isoformat() for day in days)


@register
class CalendarChange(EventKind):
    name = "calendar"
    payload_type = CalendarPayload
    labels = {"zh-CN": "日历变更", "en": "calendar change"}
    cancellation_reasons = {"zh-CN": "停诊日或调休调整", "en": "the calendar changed"}

    def months(self, payload: CalendarPayload) -> list[str] | None:  # type: ignore[override]
        return None if payload.holidays is not None else months_of_dates(payload.dates)

    def may_raise_coverage(self, payload: CalendarPayload) -> bool:  # type: ignore[override]
        return bool(payload.closed_removed or payload.workdays_added or payload.holidays is not None)

    def cancelled(self, payload: CalendarPayload, assignment: Assignment) -> bool:  # type: ignore[override]
        return assignment.date in payload.closed_added or assignment.date in payload.workdays_removed

    def summary(self, payload: CalendarPayload, lang: str = "zh-CN") -> str:  # type: ignore[override]
        words = (
            ("停诊", "取消停诊", "调休上班", "取消调休上班", "节假日历")
            if zh(lang)
            else ("closed", "no longer closed", "make-up workday", "no longer a workday", "holiday calendar")
        )
        parts = [
            f"{word} {_dates(days)}"
            for word, days in zip(words, (payload.closed_added, payload.closed_removed, payload.workdays_added, payload.workdays_removed))
            if days
        ]
        if payload.holidays is not None:
            parts.append(f"{words[4]} {payload.holidays.before}→{payload.holidays.after}")
        return ("；" if zh(lang) else "; ").join(parts)

    @classmethod
    def detect(cls, before: Scenario, after: Scenario) -> list[Detected]:
        old, new = before.calendar, after.calendar
        payload = CalendarPayload(
            closed_added=sorted(set(new.closed) - set(old.closed)),
            closed_removed=sorted(set(old.closed) - set(new.closed)),
            workdays_added=sorted(set(new.extra_workdays) - set(old.extra_workdays)),
            workdays_removed=sorted(set(old.extra_workdays) - set(new.extra_workdays)),
            holidays=FieldChange(before=old.holidays, after=new.holidays) if old.holidays != new.holidays else None,
        )
        return [Detected(payload)] if payload.dates or payload.holidays is not None else []
