"""Swap (换班): an expert hands a session to a colleague who accepted; the exchange is made, then the month is checked."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from scheduler import flows
from scheduler.events.registry import EventKind, Payload, register, zh


class SwapPayload(Payload):
    swap_id: int


@register
class Swap(EventKind):
    name = "swap"
    payload_type = SwapPayload
    labels = {"zh-CN": "换班", "en": "swap"}
    cancellation_reasons = {"zh-CN": "专家调换", "en": "session swapped"}

    def apply(self, factory: sessionmaker[Session], community_id: int, payload: SwapPayload) -> dict[str, Any]:  # type: ignore[override]
        return {"swaps": {str(payload.swap_id): flows.apply_swap(factory, community_id, payload.swap_id)}}

    def summary(self, payload: SwapPayload, lang: str = "zh-CN") -> str:  # type: ignore[override]
        return f"换班申请 #{payload.swap_id}" if zh(lang) else f"swap #{payload.swap_id}"
