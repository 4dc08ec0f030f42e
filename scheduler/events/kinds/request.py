"""Extra-session request (加诊申请): a township head asks for more sessions; the worker places them by insertion or keeps the request pending."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from config.settings import Settings
from scheduler.events.registry import EventKind, Payload, register, zh
from scheduler.i18n import session_type_name
from scheduler.labels import CommunityLabels
from scheduler.notify.messages import request_update_text
from scheduler.notify.outbox import notify_recipient
from scheduler.reason_text import reason_text
from scheduler.requests import get_request
import scheduler.events.solves as solves

# The request's state as the township head's notice words it.
REQUEST_OUTCOMES = {"scheduled": "approved", "pending": "queued", "declined": "rejected"}


class RequestPayload(Payload):
    request_id: int


@register
class Request(EventKind):
    name = "request"
    payload_type = RequestPayload
    labels = {"zh-CN": "加诊申请", "en": "extra-session request"}
    cancellation_reasons = {"zh-CN": "加诊安排调整", "en": "extra session rearranged"}
    replans = False  # placed by insertion on its own, never batched into a month's re-plan

    def settle(self, factory: sessionmaker[Session], community_id: int, payload: RequestPayload) -> dict[str, Any]:  # type: ignore[override]
        return {"request_state": solves.settle_request(factory, community_id, payload.request_id)}  # on a `rota worker` with a broker

    def extra_notices(
        self, session: Session, community_id: int, payload: RequestPayload, outcome: dict[str, Any], settings: Settings, now: dt.datetime, labels: CommunityLabels
    ) -> int:
        """Tell the township head how their request stands (once per request and state)."""
        outcome_word = REQUEST_OUTCOMES.get(outcome.get("request_state", ""))
        if outcome_word is None:
            return 0
        request = get_request(session, community_id, payload.request_id)

        def text_for(language: str):
            what = f"{labels.specialty(request.specialty)}{session_type_name(request.type, language)} ×{request.sessions}"
            reason = (reason_text(request.why, language, labels) or None) if outcome_word != "approved" else None
            return request_update_text(request.township, what, outcome_word, labels, language, reason=reason)

        return len(
            notify_recipient(
                session, community_id=community_id, recipient_kind="township", recipient_id=request.township, kind="request_update",
                about=f"request-{request.id}", version=outcome["request_state"], text_for=text_for, default_webhook_url=settings.webhook_url, now=now,
            )
        )

    def summary(self, payload: RequestPayload, lang: str = "zh-CN") -> str:  # type: ignore[override]
        return f"加诊申请 #{payload.request_id}" if zh(lang) else f"request #{payload.request_id}"
