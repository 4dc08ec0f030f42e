"""The store: plain functions over a Session that keep each community's standing data and its roster versions.

Functions flush but never commit: the caller owns the unit of work (`scheduler.db.transaction`).
One database holds many communities (tenants). A `community` argument is a community id (int) or
its code (str); it is always given: no service function guesses "the only community". Only the
command line may default to it (`sole_community`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from scheduler.actors import current_actor
from scheduler.calendar import parse_month
from scheduler.errors import Conflict, FieldError, NotFound, ScenarioError
from scheduler.models import (
    SCENARIO_SOURCE,
    Community,
    DemandRow,
    Department,
    Expert,
    ExpertSpecialty,
    ExpertUnavailability,
    LinkRow,
    RosterAssignment,
    RosterUnmet,
    RosterVersion,
    Specialty,
    Township,
    TownshipClosure,
    utc_now,
)
from scheduler.scenario.load import validate_document
from scheduler.scenario.schema import FORMAT, Scenario
from scheduler.reason_text import reason_text
from solver.solution import Assignment, Reason, ReasonCode, Solution, SolveReport, Unmet, new_assignment_id

CommunityRef = int | str  # a community's id, or its code
ROSTER_STATUSES = ("draft", "published")
# The scenario ids' alphabet: letters, digits, '-' and '_' (a code is a path segment and a part of job ids).
COMMUNITY_CODE_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
_COMMUNITY_CODE = re.compile(COMMUNITY_CODE_PATTERN)


# --- communities -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class CommunitySummary:
    """One community as listings show it."""

    id: int
    code: str
    name: str


def check_community_code(code: str, field: str = "community") -> str:
    """The code itself if it is a community code (1-64 letters, digits, '-', '_'); ScenarioError naming `field` otherwise."""
    if not isinstance(code, str) or not _COMMUNITY_CODE.match(code):
        raise ScenarioError([FieldError(field, f"a community code is 1-64 letters, digits, '-' or '_' (got {code!r})")])
    return code


def get_community(session: Session, community: CommunityRef) -> Community:
    """The community by id (int) or code (str); NotFound otherwise."""
    if isinstance(community, bool) or not isinstance(community, (int, str)):
        raise NotFound(f"no community {community!r}")
    if isinstance(community, int):
        found = session.get(Community, community)
        if found is None:
            raise NotFound(f"no community with id {community}")
        return found
    found = session.scalar(select(Community).where(Community.code == community))
    if found is None:
        raise NotFound(f"no community '{community}'")
    return found


def community_id_of(session: Session, community: CommunityRef) -> int:
    """The id of a community given by id or code; NotFound if there is none."""
    return get_community(session, community).id


def sole_community(session: Session) -> Community:
    """The database's only community, for command-line defaults: NotFound when none, Conflict (naming the codes) when several."""
    rows = session.scalars(select(Community).order_by(Community.id).limit(2)).all()
    if not rows:
        raise NotFound("no community has been imported yet (run `rota import FILE`)")
    if len(rows) > 1:
        codes = session.scalars(select(Community.code).order_by(Community.code)).all()
        raise Conflict(f"the database holds {len(codes)} communities ({', '.join(codes)}): give --community CODE")
    return rows[0]


def list_communities(session: Session) -> list[CommunitySummary]:
    """Every community as (id, code, name), in code order."""
    return [CommunitySummary(row.id, row.code, row.name) for row in session.scalars(select(Community).order_by(Community.code))]


def expert_row(session: Session, community: CommunityRef, expert: str) -> Expert:
    """A community's expert by code; NotFound naming it otherwise."""
    row = session.scalar(select(Expert).where(Expert.community_id == community_id_of(session, community), Expert.code == expert))
    if row is None:
        raise NotFound(f"no expert '{expert}'")
    return row


def township_row(session: Session, community: CommunityRef, township: str) -> Township:
    """A community's township by code; NotFound naming it otherwise."""
    row = session.scalar(select(Township).where(Township.community_id == community_id_of(session, community), Township.code == township))
    if row is None:
        raise NotFound(f"no township '{township}'")
    return row


# --- import ------------------------------------------------------------------------------------


def _sync_keyed(rows: list[Any], key: str, wanted: Iterable[tuple[str, dict[str, Any]]], make: type) -> tuple[dict[str, Any], list[Any]]:
    """Update rows whose key is wanted, create the missing ones; return (key -> row, rows no longer wanted)."""
    existing = {getattr(row, key): row for row in rows}
    kept: dict[str, Any] = {}
    for position, (code, fields) in enumerate(wanted):
        row = existing.pop(code, None)
        if row is None:
            row = make(**{key: code})
            rows.append(row)
        for name, value in {**fields, "position": position}.items():
            if getattr(row, name, None) != value:
                setattr(row, name, value)
        kept[code] = row
    return kept, list(existing.values())


def _sync_positional(rows: list[Any], wanted: list[dict[str, Any]], make: type) -> None:
    """Make rows[i] carry wanted[i] (updating in place, so unchanged rows keep their ids); drop the rest."""
    for position, fields in enumerate(wanted):
        if position < len(rows):
            row = rows[position]
        else:
            row = make()
            rows.append(row)
        for name, value in {**fields, "position": position}.items():
            if getattr(row, name, None) != value:
                setattr(row, name, value)
    del rows[len(wanted):]


def lock_community_writes(session: Session, community: CommunityRef) -> None:
    """Serialise a community's roster writes: take its row's write lock, waiting for any other writer.

    A no-op UPDATE of the community row locks the row on PostgreSQL and takes SQLite's one writer
    lock at once (waiting up to its busy timeout), so the read of the base version and the write
    of the next one that follow in the same transaction cannot interleave with another writer's.
    Call it as the transaction's FIRST statement: on SQLite (WAL) a transaction that has read
    first cannot take the writer lock once another writer has committed. Taking it twice is harmless.
    """
    if isinstance(community, bool) or not isinstance(community, (int, str)):
        raise NotFound(f"no community {community!r}")
    column = Community.id if isinstance(community, int) else Community.code
    locked = session.execute(
        update(Community).where(column == community).values(code=Community.code).execution_options(synchronize_session=False)
    )
    if locked.rowcount == 0:
        raise NotFound(f"no community {community!r}")


def _unavailability_fields(period) -> dict[str, Any]:
    return {"from_date": period.from_, "to_date": period.to, "date": period.date, "half_day": period.half_day, "reason": period.reason, "source": SCENARIO_SOURCE}


def import_scenario(session: Session, code: str, scenario: Scenario) -> int:
    """Store a scenario as the standing data of the community `code` (created if new; upsert by ids, delete what the file dropped); return its id."""
    check_community_code(code)
    community = session.scalar(
        select(Community)
        .where(Community.code == code)
        .options(
            selectinload(Community.specialties),
            selectinload(Community.departments),
            selectinload(Community.townships),
            selectinload(Community.experts).selectinload(Expert.specialty_links),
            selectinload(Community.experts).selectinload(Expert.unavailable),
            selectinload(Community.links),
            selectinload(Community.demand),
        )
    )
    if community is None:
        community = Community(code=code, name=scenario.community.name)
        session.add(community)
    settings = {
        "name": scenario.community.name,
        "timezone": scenario.community.timezone,
        "holidays": scenario.calendar.holidays,
        "closed_dates": [day.isoformat() for day in scenario.calendar.closed],
        "extra_workdays": [day.isoformat() for day in scenario.calendar.extra_workdays],
        "half_days": scenario.half_days.model_dump(mode="json"),
        "rules": scenario.rules.model_dump(mode="json"),
    }
    for name, value in settings.items():
        if getattr(community, name, None) != value:
            setattr(community, name, value)

    # Phase 1: the lists others point at gain and update rows; dropped rows wait until nothing points at them.
    specialties, stale_specialties = _sync_keyed(
        community.specialties, "code", ((s.code, {"name": s.name}) for s in scenario.specialties), Specialty
    )
    departments, stale_departments = _sync_keyed(
        community.departments, "code", ((d.code, {"name": d.name, "min_on_site": d.min_on_site}) for d in scenario.departments), Department
    )
    townships, stale_townships = _sync_keyed(
        community.townships,
        "code",
        (
            (t.id, {"name": t.name, "travel_minutes": t.travel_minutes, "rooms": t.rooms, "inpatient_ward": t.inpatient_ward, "preferred_weekdays": list(t.preferred_weekdays)})
            for t in scenario.townships
        ),
        Township,
    )
    session.flush()

    # Phase 2: experts and what hangs off them.
    experts, stale_experts = _sync_keyed(
        community.experts,
        "code",
        (
            (
                e.id,
                {
                    "name": e.name,
                    "department": departments[e.department],
                    "title": e.title,
                    "max_sessions": e.max_sessions,
                    "avoid_weekdays": list(e.avoid_weekdays),
                    "previous_townships": list(e.previous_townships),
                },
            )
            for e in scenario.experts
        ),
        Expert,
    )
    for expert in scenario.experts:
        row = experts[expert.id]
        held = {link.specialty_id: link for link in row.specialty_links if link.specialty_id is not None}
        wanted_ids = []
        for position, code in enumerate(expert.specialties):
            specialty = specialties[code]
            wanted_ids.append(specialty.id)
            link = held.get(specialty.id)
            if link is None:
                row.specialty_links.append(ExpertSpecialty(specialty=specialty, position=position))
            elif link.position != position:
                link.position = position
        for link in list(row.specialty_links):
            if link.specialty_id is not None and link.specialty_id not in wanted_ids:
                row.specialty_links.remove(link)
        from_file = [period for period in row.unavailable if period.source == SCENARIO_SOURCE]
        from_events = [period for period in row.unavailable if period.source != SCENARIO_SOURCE]
        _sync_positional(from_file, [_unavailability_fields(period) for period in expert.unavailable], ExpertUnavailability)
        row.unavailable = from_file + from_events

    for stale in stale_experts:
        # Drop their links through the ORM too, or it would later delete rows the database cascade already removed.
        for link in [link for link in community.links if link.member_id == stale.id]:
            community.links.remove(link)
        community.experts.remove(stale)
    session.flush()

    # Phase 3: links and demand, which point at experts, townships and specialties.
    wanted_links = [
        ((experts[link.member].id, townships[code].id), {"link_position": link_position, "position": position})
        for link_position, link in enumerate(scenario.links)
        for position, code in enumerate(link.townships)
    ]
    existing_links = {(row.member_id, row.township_id): row for row in community.links}
    for (member_id, township_id), fields in wanted_links:
        row = existing_links.pop((member_id, township_id), None)
        if row is None:
            community.links.append(LinkRow(member_id=member_id, township_id=township_id, **fields))
        else:
            for name, value in fields.items():
                if getattr(row, name) != value:
                    setattr(row, name, value)
    for row in existing_links.values():
        community.links.remove(row)
    _sync_positional(
        community.demand,
        [{"township": townships[d.township], "type": d.type, "specialty": specialties[d.specialty], "sessions": d.sessions} for d in scenario.demand],
        DemandRow,
    )
    session.flush()

    # Phase 4: nothing points at the dropped rows any more.
    for stale in stale_townships:
        community.townships.remove(stale)
    for stale in stale_departments:
        community.departments.remove(stale)
    for stale in stale_specialties:
        community.specialties.remove(stale)
    session.flush()
    return community.id


# --- export ------------------------------------------------------------------------------------


def _unavailability_document(period: ExpertUnavailability) -> dict[str, Any]:
    if period.date is not None:
        row: dict[str, Any] = {"date": period.date}
        if period.half_day is not None:
            row["half_day"] = period.half_day
    else:
        row = {"from": period.from_date, "to": period.to_date}
    if period.reason is not None:
        row["reason"] = period.reason
    return row


def export_document(session: Session, community: CommunityRef) -> dict[str, Any]:
    """The stored standing data as a `rota.scenario/1` document (plain dict, dates as date objects)."""
    owner = get_community(session, community)
    row = session.scalar(
        select(Community)
        .where(Community.id == owner.id)
        .options(
            selectinload(Community.specialties),
            selectinload(Community.departments),
            selectinload(Community.townships),
            selectinload(Community.experts).joinedload(Expert.department),
            selectinload(Community.experts).selectinload(Expert.specialty_links).joinedload(ExpertSpecialty.specialty),
            selectinload(Community.experts).selectinload(Expert.unavailable),
            selectinload(Community.links).joinedload(LinkRow.member),
            selectinload(Community.links).joinedload(LinkRow.township),
            selectinload(Community.demand).joinedload(DemandRow.township),
            selectinload(Community.demand).joinedload(DemandRow.specialty),
        )
        # A caller may hold collections loaded before an import in the same session.
        .execution_options(populate_existing=True)
    )
    assert row is not None
    links: dict[int, dict[str, Any]] = {}
    for link in row.links:
        links.setdefault(link.link_position, {"member": link.member.code, "townships": []})["townships"].append(link.township.code)
    experts = []
    for expert in row.experts:
        # The file's own periods first, then those written by events (leave), so a round trip keeps the file's order.
        periods = sorted(expert.unavailable, key=lambda p: (p.source != SCENARIO_SOURCE, p.position, p.id or 0))
        experts.append(
            {
                "id": expert.code,
                "name": expert.name,
                "department": expert.department.code,
                "title": expert.title,
                "specialties": expert.specialty_codes,
                "max_sessions": expert.max_sessions,
                "avoid_weekdays": list(expert.avoid_weekdays),
                "unavailable": [_unavailability_document(period) for period in periods],
                "previous_townships": list(expert.previous_townships),
            }
        )
    return {
        "format": FORMAT,
        "community": {"name": row.name, "timezone": row.timezone},
        "calendar": {"holidays": row.holidays, "closed": list(row.closed_dates), "extra_workdays": list(row.extra_workdays)},
        "half_days": dict(row.half_days),
        "specialties": [{"code": s.code, "name": s.name} for s in row.specialties],
        "departments": [{"code": d.code, "name": d.name, "min_on_site": d.min_on_site} for d in row.departments],
        "townships": [
            {
                "id": t.code,
                "name": t.name,
                "travel_minutes": t.travel_minutes,
                "rooms": t.rooms,
                "inpatient_ward": t.inpatient_ward,
                "preferred_weekdays": list(t.preferred_weekdays),
            }
            for t in row.townships
        ],
        "experts": experts,
        "links": [links[position] for position in sorted(links)],
        "demand": [{"township": d.township.code, "type": d.type, "specialty": d.specialty.code, "sessions": d.sessions} for d in row.demand],
        "rules": dict(row.rules),
    }


def export_scenario(session: Session, community: CommunityRef) -> Scenario:
    """The stored standing data as a validated Scenario, equal to the one imported."""
    return validate_document(export_document(session, community), source="the stored scenario")


def closures_for_month(session: Session, community: CommunityRef, month: str) -> dict[str, frozenset[dt.date]]:
    """Closed days per township code of a community in the month (the `township_closures` argument of build_problem)."""
    row = get_community(session, community)
    first, last = _month_bounds(month)
    closed: dict[str, set[dt.date]] = defaultdict(set)
    query = (
        select(Township.code, TownshipClosure.date)
        .join(TownshipClosure.township)
        .where(Township.community_id == row.id, TownshipClosure.date >= first, TownshipClosure.date <= last)
    )
    for code, day in session.execute(query):
        closed[code].add(day)
    return {code: frozenset(days) for code, days in closed.items()}


# --- roster versions ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class RosterVersionSummary:
    """One version of a month's roster, without its assignments (for listings)."""

    month: str
    version: int
    status: str
    created_at: dt.datetime
    published_at: dt.datetime | None
    cause: str
    assignments: int
    unmet_sessions: int
    actor: str = "system"
    actor_role: str = "system"


def _month_bounds(month: str) -> tuple[dt.date, dt.date]:
    year, number = parse_month(month)
    first = dt.date(year, number, 1)
    last = (dt.date(year + (number == 12), number % 12 + 1, 1)) - dt.timedelta(days=1)
    return first, last


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    # SQLite hands back naive datetimes; every stored time is UTC.
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment


def _reason_columns(reason: Reason) -> dict[str, Any]:
    """How a reason is stored: its English sentence (as the roster file says it), its code and parameters."""
    if reason.code is ReasonCode.TEXT:
        return {"reason": reason_text(reason, "en"), "reason_code": None, "reason_params": None}
    return {"reason": reason_text(reason, "en"), "reason_code": str(reason.code), "reason_params": reason.params_json()}


def report_document(report: SolveReport) -> dict[str, Any]:
    """A SolveReport as JSON-ready dict (every field, so it reads back equal)."""
    document = dataclasses.asdict(dataclasses.replace(report, clash=None))
    document["clash"] = None if report.clash is None else {"code": str(report.clash.code), "params": report.clash.params_json()}
    return document


def report_from_document(document: dict[str, Any]) -> SolveReport:
    """The SolveReport a `report_document` dict came from (unknown keys ignored)."""
    names = {f.name for f in dataclasses.fields(SolveReport)}
    fields = {key: value for key, value in (document or {}).items() if key in names}
    clash = fields.pop("clash", None)
    if isinstance(clash, dict):
        fields["clash"] = Reason.from_json(clash.get("code"), clash.get("params"))
    return SolveReport(**fields)


def _with_ids(month: str, assignments: Iterable[Assignment]) -> list[Assignment]:
    seen: set[str] = set()
    repeats: dict[str, int] = defaultdict(int)
    ready = []
    for assignment in assignments:
        if not assignment.id:
            base = new_assignment_id(month, assignment)
            assignment_id = base
            while assignment_id in seen:
                repeats[base] += 1
                assignment_id = new_assignment_id(month, assignment, salt=str(repeats[base]))
            assignment = assignment.with_id(assignment_id)
        elif assignment.id in seen:
            raise Conflict(f"assignment id '{assignment.id}' appears twice in one roster")
        seen.add(assignment.id)
        ready.append(assignment)
    return ready


def save_roster_version(session: Session, community: CommunityRef, solution: Solution, status: str = "draft", cause: str = "") -> int:
    """Store a solution as the community's next roster version of its month (a full copy) and return its number."""
    if status not in ROSTER_STATUSES:
        raise ValueError(f"status must be one of {', '.join(ROSTER_STATUSES)} (got '{status}')")
    parse_month(solution.month)
    lock_community_writes(session, community)
    owner = get_community(session, community)
    latest = session.scalar(
        select(func.max(RosterVersion.version)).where(RosterVersion.community_id == owner.id, RosterVersion.month == solution.month)
    )
    number = (latest or 0) + 1
    now = utc_now()
    actor = current_actor()
    version = RosterVersion(
        community_id=owner.id,
        month=solution.month,
        version=number,
        status=status,
        created_at=now,
        published_at=now if status == "published" else None,
        solver_report=report_document(solution.report),
        cause=cause,
        actor=actor.name,
        actor_role=actor.role,
    )
    version.assignments = [
        RosterAssignment(
            assignment_id=a.id,
            date=a.date,
            half_day=a.half_day,
            township=a.township,
            type=a.type,
            specialty=a.specialty,
            expert=a.expert,
            link_visit=a.link_visit,
            position=position,
        )
        for position, a in enumerate(_with_ids(solution.month, solution.assignments))
    ]
    version.unmet = [
        RosterUnmet(
            township=u.township, type=u.type, specialty=u.specialty, member=u.member, sessions=u.sessions, position=position,
            **_reason_columns(u.reason),
        )
        for position, u in enumerate(solution.unmet)
    ]
    session.add(version)
    session.flush()
    return number


def _version_row(session: Session, community: CommunityRef, month: str, version: int | None, status: str | None = None) -> RosterVersion:
    parse_month(month)
    owner = get_community(session, community)
    query = select(RosterVersion).where(RosterVersion.community_id == owner.id, RosterVersion.month == month)
    if status is not None:
        query = query.where(RosterVersion.status == status)
    if version is None:
        query = query.order_by(RosterVersion.version.desc()).limit(1)
    else:
        query = query.where(RosterVersion.version == version)
    row = session.scalar(query)
    if row is None:
        which = f"has no version {version}" if version is not None else ("has no published version" if status == "published" else "has not been generated yet")
        raise NotFound(f"the roster for {month} {which}")
    return row


def load_roster_version(
    session: Session, community: CommunityRef, month: str, version: int | None = None, *, status: str | None = None
) -> tuple[Solution, int, str, dt.datetime]:
    """A community's stored version (the latest when version is None; only `status` ones if given) as (Solution, version, status, created_at)."""
    row = _version_row(session, community, month, version, status)
    assignments = tuple(
        Assignment(
            date=a.date, half_day=a.half_day, township=a.township, type=a.type, specialty=a.specialty, expert=a.expert, link_visit=a.link_visit, id=a.assignment_id
        )
        for a in row.assignments
    )
    unmet = tuple(Unmet(u.township, u.type, u.specialty, u.sessions, Reason.from_json(u.reason_code, u.reason_params, u.reason), u.member) for u in row.unmet)
    solution = Solution(row.month, assignments, unmet, report_from_document(row.solver_report))
    return solution, row.version, row.status, _aware(row.created_at)  # type: ignore[return-value]


def list_versions(session: Session, community: CommunityRef, month: str) -> list[RosterVersionSummary]:
    """Every version of a community's month roster, oldest first (an empty list when none)."""
    parse_month(month)
    owner = get_community(session, community)
    assignment_counts = (
        select(RosterAssignment.version_id, func.count().label("n")).group_by(RosterAssignment.version_id).subquery()
    )
    unmet_counts = (
        select(RosterUnmet.version_id, func.sum(RosterUnmet.sessions).label("n")).group_by(RosterUnmet.version_id).subquery()
    )
    query = (
        select(RosterVersion, assignment_counts.c.n, unmet_counts.c.n)
        .outerjoin(assignment_counts, assignment_counts.c.version_id == RosterVersion.id)
        .outerjoin(unmet_counts, unmet_counts.c.version_id == RosterVersion.id)
        .where(RosterVersion.community_id == owner.id, RosterVersion.month == month)
        .order_by(RosterVersion.version)
    )
    return [
        RosterVersionSummary(
            month=row.month,
            version=row.version,
            status=row.status,
            created_at=_aware(row.created_at),  # type: ignore[arg-type]
            published_at=_aware(row.published_at),
            cause=row.cause,
            assignments=int(assignments or 0),
            unmet_sessions=int(unmet or 0),
            actor=row.actor,
            actor_role=row.actor_role,
        )
        for row, assignments, unmet in session.execute(query)
    ]


def publish(session: Session, community: CommunityRef, month: str, version: int) -> dt.datetime:
    """Mark a community's version published (no new assignments are created) and return when it was published."""
    row = _version_row(session, community, month, version)
    if row.status == "published":
        return _aware(row.published_at) or _aware(row.created_at)  # type: ignore[return-value]
    newer = session.scalar(
        select(func.max(RosterVersion.version)).where(
            RosterVersion.community_id == row.community_id, RosterVersion.month == month, RosterVersion.status == "published"
        )
    )
    if newer is not None and newer > version:
        raise Conflict(
            f"version {newer} of {month} is already published; to go back, save version {version}'s assignments as a new version: "
            f"POST /c/{row.community.code}/rosters/{month}/revert {{\"version\": {version}}} (rota revert --month {month} --version {version})"
        )
    row.status = "published"
    row.published_at = utc_now()
    session.flush()
    return row.published_at
