"""Extra-session requests (加诊申请) of a community: a township posts, sees its own; the office approves or declines."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from api.deps import Factory, Forbidden, Jobs, Member, Office, Tenant, require_township
from api.schemas import DeclineBody, MonthQuery, RequestBody, RequestView
from scheduler import flows, forced, requests
from scheduler.db import transaction
from scheduler.errors import FieldError, ScenarioError
from scheduler.requests import ExtraSessionRequest

router = APIRouter(tags=["requests"])
RequestId = Annotated[int, Path(ge=1, le=2_147_483_647)]


def _view(row: ExtraSessionRequest) -> RequestView:
    return RequestView.model_validate(row, from_attributes=True)


def _settle_now(factory, jobs, tenant: Tenant, request_id: int) -> None:
    if not flows.has_event_outbox():
        # Without the event worker, the insertion is tried here, in a worker thread.
        jobs.submit("settle", None, community_id=tenant.id, community=tenant.code, args={"request_id": request_id})


@router.post("/requests", status_code=201, response_model=RequestView)
def create(body: RequestBody, factory: Factory, tenant: Member, jobs: Jobs) -> RequestView:
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
    with factory() as session:
        return _view(requests.get_request(session, tenant.id, request_id))


@router.get("/requests", response_model=list[RequestView])
def list_all(
    factory: Factory,
    tenant: Member,
    state: Annotated[Literal["pending", "scheduled", "declined", "cancelled"] | None, Query()] = None,
    month: MonthQuery = None,
) -> list[RequestView]:
    """The office sees every request of its community; a township only its own."""
    if tenant.role not in ("office", "township"):
        raise Forbidden(f"a {tenant.role} token cannot read extra-session requests")
    township = None if tenant.is_office else tenant.caller.township
    with factory() as session:
        return [_view(row) for row in requests.list_requests(session, tenant.id, township=township, state=state, month=month)]


def _own(factory, tenant: Tenant, request_id: int) -> ExtraSessionRequest:
    if tenant.role not in ("office", "township"):
        raise Forbidden(f"a {tenant.role} token cannot read extra-session requests")
    with factory() as session:
        row = requests.get_request(session, tenant.id, request_id)
    require_township(tenant, row.township)
    return row


@router.get("/requests/{request_id}", response_model=RequestView)
def get_one(request_id: RequestId, factory: Factory, tenant: Member) -> RequestView:
    return _view(_own(factory, tenant, request_id))


@router.post("/requests/{request_id}/cancel", response_model=RequestView)
def cancel(request_id: RequestId, factory: Factory, tenant: Member) -> RequestView:
    """The township withdraws a pending request."""
    _own(factory, tenant, request_id)
    with transaction(factory) as session:
        return _view(requests.cancel_request(session, tenant.id, request_id))


@router.post("/requests/{request_id}/approve", response_model=RequestView)
def approve(request_id: RequestId, factory: Factory, tenant: Office) -> RequestView:
    """The office places a pending request now: by insertion, else by a re-plan that moves others (every rule and pin kept); pending with the reason if neither can."""
    forced.approve_request(factory, tenant.id, request_id)
    with factory() as session:
        return _view(requests.get_request(session, tenant.id, request_id))


@router.post("/requests/{request_id}/decline", response_model=RequestView)
def decline(request_id: RequestId, body: DeclineBody, factory: Factory, tenant: Office) -> RequestView:
    with transaction(factory) as session:
        return _view(requests.decline_request(session, tenant.id, request_id, body.reason))
