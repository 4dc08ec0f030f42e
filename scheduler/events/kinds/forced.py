"""Forced request (强制加诊): the office placed an extra-session request by moving others; the worker tells whom it moved."""

from __future__ import annotations

from scheduler.events.registry import EventKind, Payload, register, zh
from solver.solution import Assignment


class ForcedPayload(Payload):
    request_id: int
    month: str
    new_version: int


@register
class Forced(EventKind):
    name = "forced"
    payload_type = ForcedPayload
    labels = {"zh-CN": "强制加诊", "en": "forced request"}
    cancellation_reasons = {"zh-CN": "为安排加诊调整", "en": "moved to make room for an extra-session request"}

    def months(self, payload: ForcedPayload) -> list[str]:  # type: ignore[override]
        return [payload.month]

    def cancelled(self, payload: ForcedPayload, assignment: Assignment) -> bool:  # type: ignore[override]
        return True

    def summary(self, payload: ForcedPayload, lang: str = "zh-CN") -> str:  # type: ignore[override]
        return f"加诊申请 #{payload.request_id} 强制安排" if zh(lang) else f"request #{payload.request_id} forced"
