"""Rosters of a community (`/c/{community}/...`): generate (a background job), read a version, diff, publish, the office's edits, the Excel grid.

The health bureau may read a community's published roster (GET only); everything else is the community's own.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from api.deps import Factory, Jobs, Lang, Office, Reader, Tenant
from api.schemas import EditResult, JobAccepted, JobView, MonthPath, MoveBody, SessionBody
from scheduler import flows, i18n, store
from scheduler.calendar import month_calendar_for
from scheduler.errors import FieldError, NotFound, ScenarioError
from scheduler.labels import CommunityLabels
from scheduler.reason_text import with_reason_text
from scheduler.roster_file import assignment_json, roster_json
from scheduler.xlsx import roster_workbook
from scheduler.i18n import with_article
from solver.solution import diff_rosters

router = APIRouter(tags=["rosters"])


Month = MonthPath  # the one date range (scenario fields): `0000-01` or `9999-12` is a 422 naming the month, never a later failure
Version = Annotated[int | None, Query(ge=1, le=2_147_483_647)]
AssignmentId = Annotated[str, Path(min_length=1, max_length=100)]


def _visible(document: dict[str, Any], tenant: Tenant) -> dict[str, Any]:
    """The roster as the caller may see it: the office and the bureau all of it, a township its own sessions, an expert their own."""
    caller = tenant.caller
    if caller.is_office or caller.is_bureau:
        return document
    if caller.role == "township":
        document["assignments"] = [a for a in document["assignments"] if a["township"] == caller.township]
        document["unmet"] = [u for u in document["unmet"] if u["township"] == caller.township]
    else:
        document["assignments"] = [a for a in document["assignments"] if a["expert"] == caller.expert]
        document["unmet"] = []
    return document


def _roster_document(factory, tenant: Tenant, month: str, version: int | None, status: str | None = None) -> dict[str, Any]:
    with factory() as session:
        solution, number, found_status, _ = store.load_roster_version(session, tenant.id, month, version, status=status)
    return roster_json(tenant.name, solution, number, found_status)


@router.post(
    "/rosters/{month}/generate", status_code=202, response_model=JobAccepted,
    responses={503: {"description": "the task queue (ROTA_BROKER_URL) cannot be reached; the job is marked failed"}},
)
def generate(month: Month, jobs: Jobs, tenant: Office) -> JobAccepted:
    """Solve the community's month in the background (a new draft version); poll the job."""
    job = jobs.submit("generate", month, community_id=tenant.id, community=tenant.code, args={"cause": "generate"})
    return JobAccepted(job=job.id, month=month, status_url=f"/c/{tenant.code}/jobs/{job.id}")


@router.get("/jobs/{job_id}", response_model=JobView)
def get_job(job_id: Annotated[str, Path(max_length=64)], jobs: Jobs, tenant: Office) -> JobView:
    """A background job of this community (another community's job is not found)."""
    job = jobs.get(job_id, community_id=tenant.id, community=tenant.code)
    if job is None:
        raise NotFound(f"no job '{job_id}'")
    return JobView(**job.as_json())


@router.get("/rosters/{month}.xlsx", response_class=Response, responses={200: {"content": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}})
def roster_xlsx(month: Month, factory: Factory, tenant: Office, version: Version = None, lang: Annotated[str | None, Query(max_length=20)] = None) -> Response:
    """The grid the office knows: townships as rows, dates as columns, expert and specialty in the cells."""
    try:
        language = i18n.parse_lang(lang)
    except ValueError as error:
        raise ScenarioError([FieldError("lang", str(error))]) from None
    document = _roster_document(factory, tenant, month, version)
    with factory() as session:
        scenario = store.export_scenario(session, tenant.id)
    body = roster_workbook(document, CommunityLabels.from_scenario(scenario), month_calendar_for(scenario.calendar, month), language)
    filename = f"roster-{month}-v{document['version']}.xlsx"
    return Response(body, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/rosters/{month}")
def get_roster(month: Month, factory: Factory, tenant: Reader, lang: Lang, version: Version = None) -> dict[str, Any]:
    """The latest version (or ?version=N) as `rota.roster/1` JSON; drafts are the office's: a township, an expert and the bureau see published versions only, a township or expert only its own sessions.

    Each unmet row keeps the format's English `reason` and adds `reason_code`, `reason_params` and `reason_text`
    (the reason in `?lang=` or the Accept-Language, zh-CN by default).
    """
    status = None if tenant.is_office else "published"
    document = _visible(_roster_document(factory, tenant, month, version, status), tenant)
    labels = None
    if document["unmet"] or document["solver"].get("explanation_code"):
        with factory() as session:
            labels = CommunityLabels.from_scenario(store.export_scenario(session, tenant.id))
    return with_reason_text(document, lang, labels)


@router.get("/rosters/{month}/versions")
def list_versions(month: Month, factory: Factory, tenant: Office) -> list[dict[str, Any]]:
    with factory() as session:
        versions = store.list_versions(session, tenant.id, month)
    return [
        {
            "version": v.version,
            "status": v.status,
            "created_at": v.created_at.isoformat(),
            "published_at": v.published_at.isoformat() if v.published_at else None,
            "cause": v.cause,
            "assignments": v.assignments,
            "unmet_sessions": v.unmet_sessions,
            "actor": v.actor,
            "actor_role": v.actor_role,
        }
        for v in versions
    ]


@router.get("/rosters/{month}/diff")
def diff(
    month: Month,
    factory: Factory,
    tenant: Office,
    from_version: Annotated[int, Query(alias="from", ge=1, le=2_147_483_647)],
    to_version: Annotated[int | None, Query(alias="to", ge=1, le=2_147_483_647)] = None,
) -> dict[str, Any]:
    """What changed between two versions (to defaults to the latest): added, removed and moved sessions."""
    with factory() as session:
        before, _, _, _ = store.load_roster_version(session, tenant.id, month, from_version)
        after, to_number, _, _ = store.load_roster_version(session, tenant.id, month, to_version)
    changes = diff_rosters(before.assignments, after.assignments)
    return {
        "month": month,
        "from": from_version,
        "to": to_number,
        "added": [assignment_json(a) for a in changes.added],
        "removed": [assignment_json(a) for a in changes.removed],
        "moved": [{"before": assignment_json(old), "after": assignment_json(new)} for old, new in changes.moved],
        "changes": changes.changes,
    }


@router.post("/rosters/{month}/publish")
def publish(month: Month, factory: Factory, tenant: Office, version: Version = None) -> dict[str, Any]:
    """Publish the latest version (or ?version=N): feeds show it from now on."""
    number = flows.publish(factory, tenant.id, month, version)
    return {"month": month, "version": number, "status": "published"}


@router.post("/rosters/{month}/assignments", status_code=201, response_model=EditResult)
def assign(month: Month, body: SessionBody, factory: Factory, tenant: Office) -> EditResult:
    """Add one session (a new version); 409 naming the hard rule it would break."""
    if body.type != "supervision" and body.specialty is None:
        raise ScenarioError([FieldError("specialty", f"{with_article(body.type)} session needs a specialty")])
    if body.type == "supervision" and body.specialty is not None:
        raise ScenarioError([FieldError("specialty", "a supervision session has no specialty")])
    place = flows.SessionPlace(body.date, body.half_day, body.township, body.type, body.specialty, body.expert)
    number, assignment = flows.assign_session(factory, tenant.id, month, place)
    return EditResult(version=number, assignment=assignment_json(assignment))


@router.patch("/rosters/{month}/assignments/{assignment_id}", response_model=EditResult)
def move(month: Month, assignment_id: AssignmentId, body: MoveBody, factory: Factory, tenant: Office) -> EditResult:
    """Move one session to another date, half-day, township or expert (same id); 409 naming a broken rule."""
    changes = {name: getattr(body, name) for name in MoveBody.model_fields}  # real dates, not their JSON text
    number, assignment = flows.move_session(factory, tenant.id, month, assignment_id, **changes)
    return EditResult(version=number, assignment=assignment_json(assignment))


@router.delete("/rosters/{month}/assignments/{assignment_id}", response_model=EditResult)
def remove(month: Month, assignment_id: AssignmentId, factory: Factory, tenant: Office) -> EditResult:
    """Remove one session (a new version); refused if it breaks a rule (a link visit's team, say)."""
    return EditResult(version=flows.remove_session(factory, tenant.id, month, assignment_id))
