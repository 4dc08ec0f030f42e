"""The office's levers on a community's month (`/c/{community}/...`): revert to an earlier version, pin and unpin, force a request; and who did what (`/audit`)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import Field, StringConstraints

from api.deps import Factory, Office
from api.routes.rosters import AssignmentId, Month
from api.schemas import MonthQuery, RequestView, Wire
from scheduler import audit, forced, pins, requests, revert
from scheduler.db import transaction
from scheduler.scenario.schema import HalfDay, IsoDate

router = APIRouter(tags=["levers"])
RequestId = Annotated[int, Path(ge=1, le=2_147_483_647)]
Note = Annotated[str, StringConstraints(max_length=500, pattern=r"^[^\x00]*$")]


class RevertBody(Wire):
    version: Annotated[int, Field(ge=1, le=2_147_483_647)]


class PinBody(Wire):
    note: Note = ""


class ForceBody(Wire):
    date: IsoDate | None = None  # the chosen day; none: anywhere in the request's window
    half_day: HalfDay | None = None


@router.post("/rosters/{month}/revert")
def revert_month(month: Month, body: RevertBody, factory: Factory, tenant: Office) -> dict[str, Any]:
    """Save version N's assignments (from tomorrow on) as a new published version; 409 naming every rule or pin it would break today."""
    number, changes = revert.revert_to(factory, tenant.id, month, body.version)
    return {"month": month, "version": number, "restored": body.version, "status": "published", "changes": changes}


@router.get("/rosters/{month}/pins")
def list_pins(month: Month, factory: Factory, tenant: Office) -> list[dict[str, Any]]:
    """The month's pinned assignments: every generation and re-plan keeps them."""
    with factory() as session:
        return [pin.as_json() for pin in pins.list_pins(session, tenant.id, month)]


@router.put("/rosters/{month}/pins/{assignment_id}")
def pin(month: Month, assignment_id: AssignmentId, factory: Factory, tenant: Office, body: PinBody | None = None) -> dict[str, Any]:
    """Pin an assignment of the latest version (again: the note changes)."""
    with transaction(factory) as session:
        return pins.pin_assignment(session, tenant.id, month, assignment_id, (body or PinBody()).note).as_json()


@router.delete("/rosters/{month}/pins/{assignment_id}", status_code=204)
def unpin(month: Month, assignment_id: AssignmentId, factory: Factory, tenant: Office) -> None:
    with transaction(factory) as session:
        pins.unpin_assignment(session, tenant.id, month, assignment_id)


@router.post("/requests/{request_id}/force")
def force(request_id: RequestId, body: ForceBody, factory: Factory, tenant: Office) -> dict[str, Any]:
    """Place a pending request on the chosen day by moving others with the fewest changes (every rule and pin kept); 409 saying why not."""
    done = forced.force_request(factory, tenant.id, request_id, body.date, body.half_day)
    with factory() as session:
        view = RequestView.model_validate(requests.get_request(session, tenant.id, request_id), from_attributes=True)
    return {"request": view.model_dump(mode="json"), "version": done.version, "placed": done.placed, "changes": done.changes}


@router.get("/audit")
def list_audit(
    factory: Factory,
    tenant: Office,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    township: Annotated[str | None, Query(max_length=64)] = None,
    month: MonthQuery = None,
    kind: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=audit.AUDIT_PAGE)] = 200,
) -> list[dict[str, Any]]:
    """Who did what, newest first: roster versions, events (every standing-data edit among them, with its values), pins, reverts, forced requests."""
    with factory() as session:
        return [entry.as_json() for entry in audit.list_audit(session, tenant.id, actor=actor, township=township, month=month, kind=kind, limit=limit)]
