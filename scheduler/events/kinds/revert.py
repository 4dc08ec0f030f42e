"""Revert (恢复旧版本): the office saved an earlier version's assignments as a new published version; the worker tells whom it moved."""

from __future__ import annotations

from scheduler.events.registry import EventKind, Payload, register, zh
from solver.solution import Assignment


class RevertPayload(Payload):
    month: str
    version: int  # the version restored
    new_version: int  # the version the revert saved


@register
class Revert(EventKind):
    name = "revert"
    payload_type = RevertPayload
    labels = {"zh-CN": "恢复旧版本", "en": "revert"}
    cancellation_reasons = {"zh-CN": "恢复到旧版本排班", "en": "an earlier roster version was restored"}

    def months(self, payload: RevertPayload) -> list[str]:  # type: ignore[override]
        return [payload.month]

    def cancelled(self, payload: RevertPayload, assignment: Assignment) -> bool:  # type: ignore[override]
        return True

    def summary(self, payload: RevertPayload, lang: str = "zh-CN") -> str:  # type: ignore[override]
        if zh(lang):
            return f"{payload.month} 恢复为第 {payload.version} 版（新第 {payload.new_version} 版）"
        return f"{payload.month} back to version {payload.version} (as version {payload.new_version})"
