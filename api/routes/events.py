"""The events outbox for the office: every change that bears on a roster, what the worker did with it, and the retry of a failed one."""

# No `from __future__ import annotations`: the generated routes need their body models as real objects.

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from api.deps import AppSettings, Factory, Office
from api.schemas import EventOut
from scheduler import audit, events, i18n
from scheduler.db import transaction
from scheduler.events import EventView
from scheduler.scenario.fields import Month

router = APIRouter(tags=["events"])
EventId = Annotated[int, Path(ge=0, le=2_147_483_647)]
Lang = Annotated[Literal["zh-CN", "en"] | None, Query(description="language of the labels and summaries (default ROTA_LANGUAGE)")]


def _out(view: EventView, lang: str, actors: dict[int, tuple[str, str]] | None = None) -> EventOut:
    actor, actor_role = (actors or {}).get(view.id, ("system", "system"))
    return EventOut(
        actor=actor, actor_role=actor_role,
        id=view.id, kind=view.kind, label=view.label(lang), summary=view.summary(lang), month=view.month, township=view.township,
        status=view.status, attempts=view.attempts, last_error=view.last_error, created_at=view.created_at, processed_at=view.processed_at,
        payload=view.payload, outcome=view.outcome,
    )


def _lang(lang: str | None, settings) -> str:
    return i18n.parse_lang(lang or settings.language)


@router.get("/events", response_model=list[EventOut])
def list_events(
    factory: Factory,
    tenant: Office,
    settings: AppSettings,
    month: Annotated[Month | None, Query(description="the events that bear on this month")] = None,
    status: Annotated[Literal["pending", "processing", "done", "failed"] | None, Query()] = None,
    lang: Lang = None,
) -> list[EventOut]:
    """The community's events, newest first (of one month and one status when given)."""
    language = _lang(lang, settings)
    with factory() as session:
        found = events.month_events(session, tenant.id, month) if month else events.list_events(session, tenant.id)
        actors = audit.event_actors(session, tenant.id, [view.id for view in found])
    return [_out(view, language, actors) for view in found if status is None or view.status == status]


@router.get("/events/{event_id}", response_model=EventOut)
def get_event(event_id: EventId, factory: Factory, tenant: Office, settings: AppSettings, lang: Lang = None) -> EventOut:
    with factory() as session:
        return _out(events.get_event(session, tenant.id, event_id), _lang(lang, settings), audit.event_actors(session, tenant.id, [event_id]))


@router.post("/events/{event_id}/retry", response_model=EventOut)
def retry_event(event_id: EventId, factory: Factory, tenant: Office, settings: AppSettings) -> EventOut:
    """Put a failed event back in the queue with a fresh attempt budget."""
    with transaction(factory) as session:
        return _out(events.retry_event(session, tenant.id, event_id), _lang(None, settings))
