"""Extra-session requests (加诊申请) of a community: a township posts, sees its own; the office approves or declines."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from api.deps import Factory, Forbidden, Jobs, Lang, Member, Office, Tenant, require_township
from api.schemas import DeclineBody, MonthQuery, RequestBody, RequestView
from scheduler import flows, forced, requests
from scheduler.db import transaction
from scheduler.errors import FieldError, ScenarioError
from scheduler.events.notices import community_labels
from scheduler.labels import CommunityLabels
from scheduler.reason_text import reason_fields
from scheduler.requests import ExtraSessionRequest
from scheduler.i18n import with_article

router = APIRouter(tags=["requests"])
RequestId = Annotated[int, Path(ge=1, le=2_147_483_647)]


class _Views:
    """Request rows as the wire shows them: the reason in the reader's language, with its code and parameters."""

    def __init__(self, factory, tenant: Tenant, lang: str) -> None:
        # The names are read first, in a session of their own: never inside the route's write transaction.
        self.lang = lang
        with factory() as session:
            self.labels: CommunityLabels = community_labels(session, tenant.id)

    def __call__(self, row: ExtraSessionRequest) -> RequestView:
        fields = {name: getattr(row, name) for name in RequestView.model_fields if name not in ("reason", "reason_code", "reason_params")}
        return RequestView(**fields, **reason_fields(row.why, self.lang, self.labels))


def _settle_now(factory, jobs, tenant: Tenant, request_id: int) -> None:
    if not flows.has_event_outbox():
        # Without the event worker, the insertion is tried here, in a worker thread.
        jobs.submit("settle", None, community_id=tenant.id, community=tenant.code, args={"request_id": request_id})


@router.post("/requests", status_code=201, response_model=RequestView)
def create(body: RequestBody, factory: Factory, tenant: Member, jobs: Jobs, lang: Lang) -> RequestView:
    """A township head asks for extra sessions; the service tries to place them with no other change at once."""
    township = body.township or tenant.caller.township
    if township is None:
        raise ScenarioError([FieldError("township", "required field is missing (the office names the township)")])
    if tenant.role == "expert":
        raise Forbidden("an expert token cannot file extra-session requests")
    require_township(tenant, township)
    with transaction(factory) as session:
        request_id = flows.request_extra_session(
            session, tenant.id, township, body.type, body.specialty, body.sessions, body.first_day, body.last_day, body.note
        )
    _settle_now(factory, jobs, tenant, request_id)
    views = _Views(factory, tenant, lang)
    with factory() as session:
        return views(requests.get_request(session, tenant.id, request_id))


@router.get("/requests", response_model=list[RequestView])
def list_all(
    factory: Factory,
    tenant: Member,
    lang: Lang,
    state: Annotated[Literal["pending", "scheduled", "declined", "cancelled"] | None, Query()] = None,
    month: MonthQuery = None,
) -> list[RequestView]:
    """The office sees every request of its community; a township only its own."""
    if tenant.role not in ("office", "township"):
        raise Forbidden(f"{with_article(tenant.role)} token cannot read extra-session requests")
    township = None if tenant.is_office else tenant.caller.township
    views = _Views(factory, tenant, lang)
    with factory() as session:
        return [views(row) for row in requests.list_requests(session, tenant.id, township=township, state=state, month=month)]


def _own(factory, tenant: Tenant, request_id: int) -> ExtraSessionRequest:
    if tenant.role not in ("office", "township"):
        raise Forbidden(f"{with_article(tenant.role)} token cannot read extra-session requests")
    with factory() as session:
        row = requests.get_request(session, tenant.id, request_id)
    require_township(tenant, row.township)
    return row


@router.get("/requests/{request_id}", response_model=RequestView)
def get_one(request_id: RequestId, factory: Factory, tenant: Member, lang: Lang) -> RequestView:
    row = _own(factory, tenant, request_id)
    return _Views(factory, tenant, lang)(row)


@router.post("/requests/{request_id}/cancel", response_model=RequestView)
def cancel(request_id: RequestId, factory: Factory, tenant: Member, lang: Lang) -> RequestView:
    """The township withdraws a pending request."""
    _own(factory, tenant, request_id)
    views = _Views(factory, tenant, lang)
    with transaction(factory) as session:
        return views(requests.cancel_request(session, tenant.id, request_id))


@router.post("/requests/{request_id}/approve", response_model=RequestView)
def approve(request_id: RequestId, factory: Factory, tenant: Office, lang: Lang) -> RequestView:
    """The office places a pending request now: by insertion, else by a re-plan that moves others (every rule and pin kept); pending with the reason if neither can."""
    forced.approve_request(factory, tenant.id, request_id)
    views = _Views(factory, tenant, lang)
    with factory() as session:
        return views(requests.get_request(session, tenant.id, request_id))


@router.post("/requests/{request_id}/decline", response_model=RequestView)
def decline(request_id: RequestId, body: DeclineBody, factory: Factory, tenant: Office, lang: Lang) -> RequestView:
    views = _Views(factory, tenant, lang)
    with transaction(factory) as session:
        return views(requests.decline_request(session, tenant.id, request_id, body.reason))
