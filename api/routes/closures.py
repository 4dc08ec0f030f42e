"""Township closures (停诊) for the office: list the closed days, close a township for some days, reopen them.

Each change is an event recorded with it (scheduler.closures): the event worker re-plans the months
it touches, and the people whose sessions move are told. The answer is 202: the change is stored, the
re-plan follows.
"""

# No `from __future__ import annotations`: the generated routes need their body models as real objects.

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import Factory, Office
from api.schemas import ClosureBody, ClosureDayView, ClosureFiledView, ReopenBody
from scheduler import closures
from scheduler.db import transaction
from scheduler.scenario.fields import Month

router = APIRouter(tags=["closures"])


def _filed(filed: closures.ClosureFiled) -> ClosureFiledView:
    return ClosureFiledView(event=filed.event, township=filed.township, dates=list(filed.dates), months=list(filed.months))


@router.get("/closures", response_model=list[ClosureDayView])
def list_closures(
    factory: Factory,
    tenant: Office,
    township: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    month: Annotated[Month | None, Query()] = None,
) -> list[ClosureDayView]:
    """The community's closed days (of one township, one month, when given), by date."""
    with factory() as session:
        return [ClosureDayView(id=c.id, township=c.township, date=c.date, reason=c.reason) for c in closures.list_closures(session, tenant.id, township, month)]


@router.post("/closures", status_code=202, response_model=ClosureFiledView)
def close_township(body: ClosureBody, factory: Factory, tenant: Office) -> ClosureFiledView:
    """Close a township's centre from `from` to `to` (flood, outbreak): its sessions those days are moved or cancelled by the event worker."""
    with transaction(factory) as session:
        return _filed(closures.close_township(session, tenant.id, body.township, body.from_, body.to, body.reason))


@router.post("/closures/reopen", status_code=202, response_model=ClosureFiledView)
def reopen_township(body: ReopenBody, factory: Factory, tenant: Office) -> ClosureFiledView:
    """Open a township's closed days from `from` to `to` again; the event worker may place sessions there again."""
    with transaction(factory) as session:
        return _filed(closures.reopen_township(session, tenant.id, body.township, body.from_, body.to))


@router.delete("/closures/{closure_id:int}", status_code=202, response_model=ClosureFiledView)
def reopen_day(closure_id: Annotated[int, Path(ge=0, le=2_147_483_647)], factory: Factory, tenant: Office) -> ClosureFiledView:
    """Reopen one closed day by its id (as listed)."""
    with transaction(factory) as session:
        return _filed(closures.reopen_day(session, tenant.id, closure_id))
