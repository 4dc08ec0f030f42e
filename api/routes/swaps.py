"""Swap requests (换班) of a community: an expert offers a session to a colleague, who accepts; the office may have to approve."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.deps import AppSettings, Factory, Forbidden, Lang, Member, Office, require_expert
from api.schemas import DeclineBody, MonthPath, MonthQuery, SwapBody, SwapView
from scheduler import swaps
from scheduler.db import transaction
from scheduler.errors import FieldError, ScenarioError
from scheduler.events.notices import community_labels
from scheduler.labels import CommunityLabels
from scheduler.reason_text import reason_fields

router = APIRouter(tags=["swaps"])
SwapId = Annotated[int, Path(ge=1, le=2_147_483_647)]
Month = MonthPath


class _Views:
    """Swap rows as the wire shows them: why one was declined in the reader's language, with its code and parameters."""

    def __init__(self, factory, tenant, lang: str) -> None:
        # The names are read first, in a session of their own: never inside the route's write transaction.
        self.lang = lang
        with factory() as session:
            self.labels: CommunityLabels = community_labels(session, tenant.id)

    def __call__(self, row: swaps.SwapRequest) -> SwapView:
        fields = {name: getattr(row, name) for name in SwapView.model_fields if name not in ("reason", "reason_code", "reason_params")}
        return SwapView(**fields, **reason_fields(row.why, self.lang, self.labels))


@router.post("/rosters/{month}/swaps", status_code=201, response_model=SwapView)
def propose(month: Month, body: SwapBody, factory: Factory, tenant: Member, settings: AppSettings, lang: Lang) -> SwapView:
    """Propose a swap: an expert for their own session, the office for any expert's."""
    if not tenant.is_office and tenant.role != "expert":
        raise Forbidden("swaps are for experts and the office")
    proposer = body.from_expert if tenant.is_office else tenant.caller.expert
    if proposer is None:
        raise ScenarioError([FieldError("from_expert", "required field is missing (the office names the proposer)")])
    require_expert(tenant, proposer)
    view = _Views(factory, tenant, lang)
    with transaction(factory) as session:
        swap_id = swaps.propose_swap(
            session, tenant.id, month, body.assignment_id, proposer, body.to_expert, body.give_back_id, needs_approval=settings.swap_requires_approval
        )
        return view(swaps.get_swap(session, tenant.id, swap_id))


@router.get("/swaps", response_model=list[SwapView])
def list_all(factory: Factory, tenant: Member, lang: Lang, month: MonthQuery = None) -> list[SwapView]:
    """The office sees every swap of its community; an expert the swaps they proposed or were asked for."""
    if not tenant.is_office and tenant.role != "expert":
        raise Forbidden("swaps are for experts and the office")
    view = _Views(factory, tenant, lang)
    with factory() as session:
        return [view(row) for row in swaps.list_swaps(session, tenant.id, expert=None if tenant.is_office else tenant.caller.expert, month=month)]


def _answer(swap_id: int, factory, tenant, lang: str, accept: bool) -> SwapView:
    view = _Views(factory, tenant, lang)
    with transaction(factory) as session:
        row = swaps.get_swap(session, tenant.id, swap_id)
        require_expert(tenant, row.to_expert)
        return view(swaps.answer_swap(session, tenant.id, swap_id, row.to_expert, accept))


@router.post("/swaps/{swap_id}/accept", response_model=SwapView)
def accept(swap_id: SwapId, factory: Factory, tenant: Member, lang: Lang) -> SwapView:
    """The colleague accepts: the swap is applied by the event worker (or waits for the office)."""
    return _answer(swap_id, factory, tenant, lang, True)


@router.post("/swaps/{swap_id}/decline", response_model=SwapView)
def decline(swap_id: SwapId, factory: Factory, tenant: Member, lang: Lang) -> SwapView:
    """The colleague declines."""
    return _answer(swap_id, factory, tenant, lang, False)


@router.post("/swaps/{swap_id}/approve", response_model=SwapView)
def approve(swap_id: SwapId, factory: Factory, tenant: Office, lang: Lang) -> SwapView:
    """The office approves an accepted swap that needs approval."""
    view = _Views(factory, tenant, lang)
    with transaction(factory) as session:
        return view(swaps.approve_swap(session, tenant.id, swap_id, True))


@router.post("/swaps/{swap_id}/reject", response_model=SwapView)
def reject(swap_id: SwapId, body: DeclineBody, factory: Factory, tenant: Office, lang: Lang) -> SwapView:
    """The office rejects an accepted swap, with a reason."""
    view = _Views(factory, tenant, lang)
    with transaction(factory) as session:
        return view(swaps.approve_swap(session, tenant.id, swap_id, False, body.reason))


@router.post("/swaps/{swap_id}/cancel", response_model=SwapView)
def cancel(swap_id: SwapId, factory: Factory, tenant: Member, lang: Lang) -> SwapView:
    """The proposer withdraws the swap before it is applied."""
    view = _Views(factory, tenant, lang)
    with transaction(factory) as session:
        row = swaps.get_swap(session, tenant.id, swap_id)
        require_expert(tenant, row.from_expert)
        return view(swaps.cancel_swap(session, tenant.id, swap_id, row.from_expert))
