"""Forced requests (强制加诊): the office places an extra-session request on a chosen day by moving others.

Insertion alone (`flows.settle_request`) never moves a session, so a request it cannot place used
to wait forever. Forcing it re-plans the month from its latest version with the request's sessions
as a hard requirement on the chosen day (or, from an approve, anywhere in the request's window):
the re-plan moves others with the fewest changes and keeps every rule and pin. The result is saved
through the edits' one write (`flows.save_edited_roster`, every hard rule checked again); the
placed sessions are pinned so that later re-plans keep them where the office put them; a "forced"
event with the latest version as its base lets the worker tell the people whose sessions moved.
When no roster of the month can hold the request, the answer says why and the request stays pending.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy.orm import Session

from config.settings import get_settings
from scheduler import flows, pins, store
from scheduler.audit import record_audit
from scheduler.errors import Conflict, FieldError, NotFound, ScenarioError
from scheduler.requests import get_request
from solver.solution import Reason, ReasonCode
from scheduler.revert import record_lever_event
from scheduler.reason_text import Refused
from scheduler.roster_rules import RuleBroken, lost_pins
from scheduler.store import CommunityRef
from solver.candidates import enumerate_candidates
from solver.engine import solve
from solver.problem import Requirement
from solver.solution import diff_rosters

EVENT_KIND = "forced"


@dataclasses.dataclass(frozen=True)
class Forced:
    """What forcing a request did: the new version, the sessions it placed and how many others moved."""

    version: int
    placed: list[str]
    changes: int


def _day_range(request, day: dt.date | None) -> frozenset[dt.date]:
    if day is not None:
        return frozenset({day})
    span = (request.last_day - request.first_day).days
    return frozenset(request.first_day + dt.timedelta(days=n) for n in range(span + 1))


def force_request(
    factory: flows.Factory, community: CommunityRef, request_id: int, day: dt.date | None = None, half_day: str | None = None,
    *, time_limit: float | None = None,
) -> Forced:
    """Place a pending request on `day` (its whole window when None) by a minimal-change re-plan; Conflict with the reason when it cannot."""
    try:
        return flows.rebasing(community, lambda: _force_once(factory, community, request_id, day, half_day, time_limit))
    except (Refused, RuleBroken) as refused:
        flows._keep_pending(factory, community, request_id, refused.reason)
        raise
    except Conflict as refused:  # the request changed state, or other writes kept winning: said as it is
        flows._keep_pending(factory, community, request_id, Reason.text(str(refused)))
        raise


def _force_once(factory, community, request_id: int, day: dt.date | None, half_day: str | None, time_limit: float | None) -> Forced:
    with factory() as session:
        request = get_request(session, community, request_id)
        if request.state != "pending":
            raise Conflict(f"request {request_id} is {request.state}; only a pending request can be forced")
        month = request.month
        if day is not None and f"{day.year:04d}-{day.month:02d}" != month:
            raise ScenarioError([FieldError("date", f"{day.isoformat()} is not in the request's month {month}")])
        problem, _ = flows.month_problem(session, community, month)
        try:
            before, version, status, _ = store.load_roster_version(session, community, month)
        except NotFound:
            raise Refused(Reason.of(ReasonCode.FORCE_NO_ROSTER, month=month)) from None
        key, sessions = request.demand_key, request.sessions
    today = flows._today(factory, community)
    days = _day_range(request, day)
    if all(d <= today for d in days):
        raise Refused(Reason.of(ReasonCode.FORCE_DAY_PAST, first_day=min(days), today=today))
    days = frozenset(d for d in days if d > today)

    def on_days(assignments) -> int:
        return sum(
            1 for a in assignments
            if (a.township, a.type, a.specialty) == tuple(key) and a.date in days and (half_day is None or a.half_day == half_day)
        )

    wanted = on_days(before.assignments) + sessions
    requirement = Requirement(key, days, wanted, half_day)
    problem = dataclasses.replace(
        problem, demand={**problem.demand, key: problem.demand.get(key, 0) + sessions}, requirements=(*problem.requirements, requirement)
    )
    where = f"{request.township} on {', '.join(d.isoformat() for d in sorted(days)[:3])}{' ...' if len(days) > 3 else ''}"
    place = {"township": request.township, "type": request.type, "specialty": request.specialty, "month": month, "days": sorted(days)}
    candidates = enumerate_candidates(problem, keys={key}, supervision_townships=())
    possible = [i for i in candidates.by_key.get(key, []) if candidates.items[i].day in days and (half_day is None or candidates.items[i].slot.half_day == half_day)]
    if len({(candidates.items[i].slot, candidates.items[i].expert) for i in possible}) < sessions:
        raise Refused(Reason.of(ReasonCode.FORCE_NO_CANDIDATE, **place))
    settings = get_settings()
    limit = float(time_limit if time_limit is not None else settings.solver_time_limit)
    solution = solve(problem, time_limit=limit, workers=settings.solver_workers, previous=before, frozen_until=today)
    placed_count = on_days(solution.assignments)
    if placed_count < wanted or lost_pins(problem.pins, solution.assignments):
        raise Refused(Reason.of(ReasonCode.FORCE_CANNOT_PLACE, **place, placed=placed_count - (wanted - sessions), sessions=sessions))
    diff = diff_rosters(before.assignments, solution.assignments)
    placed = [
        a for a in diff.added
        if (a.township, a.type, a.specialty) == tuple(key) and a.date in days and (half_day is None or a.half_day == half_day)
    ][:sessions]

    def after_save(session: Session, number: int) -> None:
        row = get_request(session, community, request_id, for_update=True)
        if row.state != "pending":
            raise Conflict(f"request {request_id} became {row.state} while it was being forced")
        row.state, row.reason = "scheduled", ""
        row.assignment_ids = [a.id for a in placed]
        row.roster_version = number
        pins.pin_sessions(session, community, month, placed, f"request {request_id}")
        event_id = record_lever_event(session, community, EVENT_KIND, {"request_id": request_id, "month": month, "new_version": number}, month, version, township=request.township)
        record_audit(
            session, community, "force", f"request {request_id} forced at {where}", month=month, township=request.township,
            before={"version": version}, after={"version": number, "placed": [a.id for a in placed], "changes": diff.changes}, version=number,
            event_id=event_id,
        )

    number = flows.save_edited_roster(
        factory, community, month, version, list(solution.assignments), before, status, f"request {request_id} forced ({request.township})",
        after_save=after_save, problem=problem,
    )
    return Forced(number, [a.id for a in placed], diff.changes)


def approve_request(factory: flows.Factory, community: CommunityRef, request_id: int) -> str:
    """The office's approve: insertion first, else a re-plan that moves others anywhere in the request's window; returns the state.

    A request neither can place stays pending with the reason (it never waits without one)."""
    state = flows.settle_request(factory, community, request_id, approve=True)
    if state != "pending":
        return state
    try:
        force_request(factory, community, request_id)
    except Conflict:
        return "pending"  # the reason is on the request
    return "scheduled"
