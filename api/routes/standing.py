"""A community's standing data: experts, townships, specialties, departments, links, demand, unavailability and the whole scenario.

Reads of the whole lists and every change are the community office's; an expert reads their own record and
leave, a township its own record. A change obeys the `rota.scenario/1` rules (422 naming the field).
"""

# No `from __future__ import annotations`: the generated routes need their body models as real objects.

from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Path, Query, Request, Response, status

from api.deps import Factory, Forbidden, Jobs, Member, Office, require_expert, require_township
from api.schemas import CalendarYearBody, CalendarYearView, DemandBody, LeaveBody, LeaveFiled, LinkBody, UnavailabilityView
from scheduler import calendar_year, flows, i18n, standing, store
from scheduler.db import transaction
from scheduler.errors import FieldError, ScenarioError
from scheduler.scenario import schema
from scheduler.scenario.bounded import parse_scenario_bounded

router = APIRouter(tags=["standing data"])
ItemId = Annotated[str, Path(min_length=1, max_length=100)]


def _document(item: schema.Strict) -> dict[str, Any]:
    return item.model_dump(mode="json", by_alias=True, exclude_none=True)


def _same_key(path_key: str, body_key: str, field: str) -> None:
    if path_key != body_key:
        raise ScenarioError([FieldError(field, f"must match the address ('{path_key}'), got '{body_key}'")])


# --- keyed lists: experts, townships, specialties, departments ---------------------------------


def _keyed_routes(list_name: str, model: type[schema.Strict], key_field: str, reader_role: str | None) -> None:
    singular = standing.SINGULAR[list_name]
    one = i18n.with_article(singular)

    def list_all(factory: Factory, tenant: Office) -> list[dict[str, Any]]:
        with factory() as session:
            return standing.list_items(session, tenant.id, list_name)

    def get_one(key: ItemId, factory: Factory, tenant: Member) -> dict[str, Any]:
        if reader_role == "expert":
            require_expert(tenant, key)
        elif reader_role == "township":
            require_township(tenant, key)
        elif not tenant.is_office:
            raise Forbidden(f"this needs the office role (the token's role is {tenant.role})")
        with factory() as session:
            return standing.get_item(session, tenant.id, list_name, key)

    def create(body: model, factory: Factory, tenant: Office) -> dict[str, Any]:  # type: ignore[valid-type]
        item = _document(body)
        with transaction(factory) as session:
            standing.put_item(session, tenant.id, list_name, item, create_only=True)
        return item

    def replace(key: ItemId, body: model, factory: Factory, tenant: Office, response: Response) -> dict[str, Any]:  # type: ignore[valid-type]
        item = _document(body)
        _same_key(key, item[key_field], key_field)
        with transaction(factory) as session:
            created = standing.put_item(session, tenant.id, list_name, item)
        if created:
            response.status_code = status.HTTP_201_CREATED
        return item

    def delete(key: ItemId, factory: Factory, tenant: Office) -> None:
        with transaction(factory) as session:
            standing.delete_item(session, tenant.id, list_name, key)

    router.add_api_route(f"/{list_name}", list_all, methods=["GET"], summary=f"List {list_name}", operation_id=f"list_{list_name}")
    router.add_api_route(f"/{list_name}", create, methods=["POST"], status_code=201, summary=f"Create {one}", operation_id=f"create_{singular}")
    router.add_api_route(f"/{list_name}/{{key}}", get_one, methods=["GET"], summary=f"One {singular}", operation_id=f"get_{singular}")
    router.add_api_route(f"/{list_name}/{{key}}", replace, methods=["PUT"], summary=f"Create or replace {one}", operation_id=f"put_{singular}",
                            responses={201: {"description": "Created: nothing had this key (the body as stored, as a 200's)",
                                            "content": {"application/json": {"schema": {"type": "object", "additionalProperties": True}}}}})
    router.add_api_route(f"/{list_name}/{{key}}", delete, methods=["DELETE"], status_code=204, summary=f"Delete {one}", operation_id=f"delete_{singular}")


_keyed_routes("experts", schema.Expert, "id", "expert")
_keyed_routes("townships", schema.Township, "id", "township")
_keyed_routes("specialties", schema.Specialty, "code", None)
_keyed_routes("departments", schema.Department, "code", None)


# --- links -------------------------------------------------------------------------------------


@router.get("/links")
def list_links(factory: Factory, tenant: Office) -> list[dict[str, Any]]:
    with factory() as session:
        return standing.list_links(session, tenant.id)


@router.put("/links/{member}", responses={201: {"description": "Created: the member had no links yet",
                                               "content": {"application/json": {"schema": {"type": "object", "additionalProperties": True}}}}})
def set_links(member: ItemId, body: LinkBody, factory: Factory, tenant: Office, response: Response) -> dict[str, Any]:
    """Set the townships a committee member is linked to (挂点)."""
    with transaction(factory) as session:
        created = standing.set_links(session, tenant.id, member, body.townships)
    if created:
        response.status_code = status.HTTP_201_CREATED
    return {"member": member, "townships": body.townships}


@router.delete("/links/{member}", status_code=204)
def delete_links(member: ItemId, factory: Factory, tenant: Office) -> None:
    with transaction(factory) as session:
        standing.delete_links(session, tenant.id, member)


# --- demand ------------------------------------------------------------------------------------


@router.get("/demand")
def list_demand(factory: Factory, tenant: Office) -> list[dict[str, Any]]:
    """Demand rows in file order; a row's index is its address."""
    with factory() as session:
        return [{"index": index, **row} for index, row in enumerate(standing.list_demand(session, tenant.id))]


@router.post("/demand", status_code=201)
def add_demand(body: DemandBody, factory: Factory, tenant: Office) -> dict[str, Any]:
    with transaction(factory) as session:
        index = standing.add_demand(session, tenant.id, body.model_dump())
    return {"index": index, **body.model_dump()}


@router.put("/demand/{index}")
def replace_demand(index: Annotated[int, Path(ge=0, le=1_000_000)], body: DemandBody, factory: Factory, tenant: Office) -> dict[str, Any]:
    with transaction(factory) as session:
        standing.replace_demand(session, tenant.id, index, body.model_dump())
    return {"index": index, **body.model_dump()}


@router.delete("/demand/{index}", status_code=204)
def delete_demand(index: Annotated[int, Path(ge=0, le=1_000_000)], factory: Factory, tenant: Office) -> None:
    with transaction(factory) as session:
        standing.delete_demand(session, tenant.id, index)


# --- calendar ----------------------------------------------------------------------------------


@router.get("/calendar")
def get_calendar(factory: Factory, tenant: Office) -> dict[str, Any]:
    """The community calendar: the holiday calendar, closed days (停诊日) and make-up working days (调休上班)."""
    with factory() as session:
        return _document(schema.CalendarSpec.model_validate(standing.get_calendar(session, tenant.id)))


@router.put("/calendar")
def set_calendar(body: schema.CalendarSpec, factory: Factory, tenant: Office) -> dict[str, Any]:
    """Replace the community calendar; every month with a roster that the change touches is re-checked (and re-planned) by the event worker."""
    calendar = _document(body)
    with transaction(factory) as session:
        recorded = standing.set_calendar(session, tenant.id, calendar)
    return {**calendar, "events": recorded}


_FIRST_YEAR, _LAST_YEAR = calendar_year.year_bounds()
Year = Annotated[int, Path(ge=_FIRST_YEAR, le=_LAST_YEAR, description="a calendar year")]


@router.get("/calendar/{year}", response_model=CalendarYearView)
def get_calendar_year(year: Year, factory: Factory, tenant: Office) -> dict[str, Any]:
    """A year's days off on weekdays and weekend working days, pre-filled from the holidays package (`announced`: it carries the year's notice)."""
    with factory() as session:
        spec = schema.CalendarSpec.model_validate(standing.get_calendar(session, tenant.id))
    return calendar_year.year_arrangement(spec, year).as_json()


@router.put("/calendar/{year}", response_model=CalendarYearView)
def set_calendar_year(year: Year, body: CalendarYearBody, factory: Factory, tenant: Office) -> dict[str, Any]:
    """Enter a year's official arrangement; it applies to every month of the year, each re-checked (and re-planned) by the event worker."""
    with transaction(factory) as session:
        spec = schema.CalendarSpec.model_validate(standing.get_calendar(session, tenant.id))
        changed = calendar_year.with_year(spec, year, body.days_off, body.make_up_workdays)
        recorded = standing.set_calendar(session, tenant.id, _document(changed))
    return {**calendar_year.year_arrangement(changed, year).as_json(), "events": recorded}


# --- unavailability and leave ------------------------------------------------------------------


@router.get("/experts/{expert}/unavailability", response_model=list[UnavailabilityView], response_model_by_alias=True)
def list_unavailability(expert: ItemId, factory: Factory, tenant: Member) -> list[UnavailabilityView]:
    """An expert's unavailability (the file's and leave filed since): the office, or the expert themself."""
    require_expert(tenant, expert)
    with factory() as session:
        return [
            UnavailabilityView(id=p.id, source=p.source, from_=p.from_date, to=p.to_date, date=p.date, half_day=p.half_day, reason=p.reason)
            for p in standing.expert_unavailability(session, tenant.id, expert)
        ]


@router.post("/experts/{expert}/unavailability", status_code=202, response_model=LeaveFiled)
def file_leave(expert: ItemId, body: LeaveBody, factory: Factory, tenant: Member, jobs: Jobs) -> LeaveFiled:
    """File leave (请假): the expert themself or the office; the touched months are re-planned with the fewest changes."""
    require_expert(tenant, expert)
    months = flows.leave_months(body.first_day, body.last_day)
    with transaction(factory) as session:
        event_id = flows.file_leave(session, tenant.id, expert, body.first_day, body.last_day, body.half_day, body.reason)
        newest = standing.expert_unavailability(session, tenant.id, expert)
        unavailability_id = max((p.id for p in newest if p.source == flows.LEAVE_SOURCE), default=None)
    job_id = None
    if event_id is None:
        # No event outbox in this installation: re-plan here, in a worker thread.
        job_id = jobs.submit("replan", months[0], community_id=tenant.id, community=tenant.code, args={"expert": expert, "months": months, "cause": f"leave {expert}"}).id
    return LeaveFiled(expert=expert, unavailability_id=unavailability_id, event=event_id, job=job_id, months=months)


@router.delete("/experts/{expert}/unavailability/{unavailability_id}", status_code=204)
def delete_unavailability(expert: ItemId, unavailability_id: Annotated[int, Path(ge=0, le=2_147_483_647)], factory: Factory, tenant: Office) -> None:
    with transaction(factory) as session:
        standing.delete_unavailability(session, tenant.id, expert, unavailability_id)


# --- the whole scenario ------------------------------------------------------------------------


@router.get("/scenario", responses={200: {"content": {"application/json": {}, "application/yaml": {}}}})
def export_scenario(factory: Factory, tenant: Office, format: Annotated[str, Query(pattern="^(json|yaml)$")] = "json") -> Any:
    """The community's standing data as a `rota.scenario/1` file (JSON, or YAML with ?format=yaml)."""
    with factory() as session:
        document = store.export_scenario(session, tenant.id).to_document()
    if format == "yaml":
        text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
        return Response(text, media_type="application/yaml; charset=utf-8")
    return document


@router.put(
    "/scenario",
    openapi_extra={"requestBody": {"required": True, "content": {"application/yaml": {"schema": {"type": "string"}}, "application/json": {"schema": {"type": "object"}}}}},
)
async def import_scenario(request: Request, factory: Factory, tenant: Office) -> dict[str, Any]:
    """Import a whole `rota.scenario/1` file (YAML or JSON body) as this community's standing data: upsert by ids, drop what the file dropped."""
    raw = await request.body()
    from starlette.concurrency import run_in_threadpool

    # Untrusted bytes: read in a child process with a time limit, off the event loop (an anchor bomb stalls nothing).
    scenario = await run_in_threadpool(lambda: parse_scenario_bounded(raw, source="the request body"))

    def store_it() -> int:
        with transaction(factory) as session:
            return standing.import_whole(session, tenant.id, scenario)

    community_id = await run_in_threadpool(store_it)
    return {"community": scenario.community.name, "code": tenant.code, "id": community_id, "experts": len(scenario.experts), "townships": len(scenario.townships)}
