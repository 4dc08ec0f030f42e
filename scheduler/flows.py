"""Multi-step workflows over a session factory: generate, re-plan, publish, edit, leave and extra-session requests.

Every flow works on one community (its id or code, the `community` argument). Each reads the
standing data, calls the solver outside any open transaction (a solve takes seconds), and saves
the result as a new roster version in a short transaction of its own.
Standing-data changes that are events (leave, requests, closures, demand) store the change and
record an outbox event in the SAME transaction via `scheduler.events.outbox.record_event`; the
event worker then calls `replan` / `settle_request`. flows imports the outbox alone, never the
events package's worker or kinds, which call flows.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from config.settings import get_settings
from scheduler import history, pins, store, swaps
from scheduler.calendar import parse_month
from scheduler.db import transaction
from scheduler.errors import Conflict, FieldError, NotFound, ScenarioError
from scheduler.events.outbox import record_event
from scheduler.models import ExpertUnavailability, TownshipClosure
from scheduler.store import CommunityRef
from scheduler.problem_builder import build_problem, with_published_history
from scheduler.requests import ExtraSessionRequest, create_request, get_request, scheduled_extra_demand
from scheduler.roster_rules import RuleBroken, candidate_indices, check_pins, check_roster, hard_rule_breaks, lost_pins
from scheduler.scenario.fields import date_problems
from scheduler.scenario.load import validate_document
from scheduler.scenario.schema import HALF_DAYS, Scenario
from solver.candidates import enumerate_candidates
from solver.engine import solve
from solver.partial_roster import PartialRoster, as_candidate
from solver.problem import Problem
from solver.reasons import explain_unmet
from solver.rules import fits
from scheduler.reason_text import reason_text
from solver.solution import Assignment, Reason, ReasonCode, RosterDiff, Solution, diff_rosters, new_assignment_id

log = logging.getLogger(__name__)
Factory = sessionmaker[Session]
LEAVE_SOURCE = "leave"


# --- events (the outbox belongs to scheduler.events; flows only records) ----------------------


def has_event_outbox() -> bool:
    """Whether the events outbox and worker are part of this installation (always, since the outbox is imported)."""
    return True


def _record_event(
    session: Session, community: CommunityRef, kind: str, payload: dict[str, Any], *, month: str | None = None, township: str | None = None
) -> int:
    return record_event(session, store.community_id_of(session, community), kind, payload, month=month, township=township)


def months_between(first_day: dt.date, last_day: dt.date) -> list[str]:
    """The YYYY-MM months a date range touches, in order."""
    months, day = [], first_day.replace(day=1)
    while day <= last_day:
        months.append(f"{day.year:04d}-{day.month:02d}")
        day = (day + dt.timedelta(days=32)).replace(day=1)
    return months


# --- problems and solves -----------------------------------------------------------------------


def _time_limit(time_limit: float | None) -> float:
    return float(time_limit if time_limit is not None else get_settings().solver_time_limit)


def month_problem(session: Session, community: CommunityRef, month: str) -> tuple[Problem, Scenario]:
    """A community's solver problem for the month from its stored standing data, closures, scheduled extra-session requests
    and the published months before it (`ROTA_HISTORY_MONTHS`: their load carries over into fairness, their townships into continuity)."""
    parse_month(month)
    scenario = store.export_scenario(session, community)
    problem = build_problem(scenario, month, store.closures_for_month(session, community, month))
    window = get_settings().history_months
    if window:
        problem = with_published_history(problem, scenario, history.published_history(session, community, month, window))
    extra = scheduled_extra_demand(session, community, month)
    if extra:
        demand = dict(problem.demand)
        for key, sessions in extra.items():
            demand[key] = demand.get(key, 0) + sessions
        problem = dataclasses.replace(problem, demand=demand)
    held = pins.solver_pins(session, community, month)
    if held:
        problem = dataclasses.replace(problem, pins=held)
    return problem, scenario


def _latest(session: Session, community: CommunityRef, month: str, status: str | None = None) -> tuple[Solution, int, str] | None:
    try:
        solution, version, status_found, _ = store.load_roster_version(session, community, month, status=status)
    except NotFound:
        return None
    return solution, version, status_found


def generate(
    factory: Factory, community: CommunityRef, month: str, *, time_limit: float | None = None, cause: str = "generate",
    on_saved: Callable[[Session, int], None] | None = None,
) -> int:
    """Solve a community's month from its stored standing data and save a new draft version (a re-plan if one is published).

    `on_saved(session, version)` runs in the transaction that saved the version (a background job marks
    itself done there, or raises to roll the version back when another run of the job got there first)."""
    with factory() as session:
        problem, _ = month_problem(session, community, month)
        published = _latest(session, community, month, status="published")
    settings = get_settings()
    previous = published[0] if published else None
    solution = solve(problem, time_limit=_time_limit(time_limit), workers=settings.solver_workers, previous=previous, frozen_until=_today(factory, community))
    if problem.pins and lost_pins(problem.pins, solution.assignments):
        # A fresh solve of a large month may miss a pin the search could not free; the re-plan of the
        # latest version (which holds the pins) keeps them.
        with factory() as session:
            latest = _latest(session, community, month)
        if latest is not None:
            solution = solve(problem, time_limit=_time_limit(time_limit), workers=settings.solver_workers, previous=latest[0], frozen_until=_today(factory, community))
        _keeps_pins(problem, solution)
    with transaction(factory) as session:
        number = store.save_roster_version(session, community, solution, status="draft", cause=cause)
        if on_saved is not None:
            on_saved(session, number)
        return number


def _keeps_pins(problem: Problem, solution: Solution) -> None:
    """RuleBroken naming every pin a solved roster lost (a pin clashes with the changed data): reported, never saved."""
    check_pins(problem.pins, solution.assignments)


def _today(factory: Factory, community: CommunityRef) -> dt.date:
    """Today in the community's time zone: a re-plan leaves this day and the past as they were."""
    with factory() as session:
        zone = ZoneInfo(store.get_community(session, community).timezone)
    return dt.datetime.now(zone).date()


def replan(
    factory: Factory, community: CommunityRef, month: str, *, cause: str, time_limit: float | None = None, status: str | None = None,
    on_saved: Callable[[Session, int], None] | None = None,
) -> tuple[int, RosterDiff] | None:
    """Re-plan a community's latest version of the month against its current standing data with the fewest changes; None when nothing changed.

    The new version has the re-planned version's status, or `status` when given (a draft held for the office).
    `on_saved(session, version)` runs in the transaction that saved it (as in `generate`)."""
    with factory() as session:
        latest = _latest(session, community, month)
        if latest is None:
            return None
        problem, _ = month_problem(session, community, month)
    new_status = status
    previous, version, status = latest
    settings = get_settings()
    solution = solve(problem, time_limit=_time_limit(time_limit), workers=settings.solver_workers, previous=previous, frozen_until=_today(factory, community))
    if solution.report.status in ("INFEASIBLE", "MODEL_INVALID"):
        why = reason_text(solution.report.clash, "en") if solution.report.clash else solution.report.explanation
        raise Conflict(f"the re-plan of {month} failed: {why or solution.report.status}")
    _keeps_pins(problem, solution)
    diff = diff_rosters(previous.assignments, solution.assignments)
    if diff.changes == 0 and Counter(u.sessions for u in solution.unmet) == Counter(u.sessions for u in previous.unmet):
        return None
    with transaction(factory) as session:
        store.lock_community_writes(session, community)
        current = _latest(session, community, month)
        if current is not None and current[1] != version:
            # Someone saved a version while we solved: do not overwrite their work with a stale re-plan.
            raise Conflict(f"the roster for {month} changed while re-planning (now version {current[1]}); try again")
        number = store.save_roster_version(session, community, solution, status=new_status or status, cause=cause)
        if on_saved is not None:
            on_saved(session, number)
    return number, diff


def publish(factory: Factory, community: CommunityRef, month: str, version: int | None = None) -> int:
    """Publish a version (the latest when None) of a community's month; return its number."""
    with transaction(factory) as session:
        if version is None:
            latest = _latest(session, community, month)
            if latest is None:
                raise NotFound(f"the roster for {month} has no version to publish")
            version = latest[1]
        store.publish(session, community, month, version)
        return version


# --- manual edits by the office ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SessionPlace:
    """Where and what one session is (an edit's target), without its id."""

    date: dt.date
    half_day: str
    township: str
    type: str
    specialty: str | None
    expert: str


def _save_edit(
    factory: Factory, community: CommunityRef, month: str, based_on: int, edited: list[Assignment], before: Solution, status: str, cause: str,
    *, after_save: Callable[[Session, int], None] | None = None, problem: Problem | None = None,
) -> int:
    if problem is None:
        with factory() as session:
            problem, _ = month_problem(session, community, month)
    check_roster(problem, edited, before.assignments)  # every hard rule and pin, in one place
    # The unmet list of the edited roster: recount from the solver's explanation of what is left.
    candidates = enumerate_candidates(problem)
    chosen, _ = candidate_indices(problem, candidates, edited)
    visits = {(a.expert, a.township, a.date) for a in edited if a.link_visit}
    unmet = tuple(explain_unmet(problem, candidates, chosen, visits))
    report = dataclasses.replace(before.report, unmet_sessions=sum(u.sessions for u in unmet if u.type != "supervision"))
    solution = Solution(month, tuple(edited), unmet, report)
    with transaction(factory) as session:
        store.lock_community_writes(session, community)
        current = _latest(session, community, month)
        if current is None or current[1] != based_on:
            raise BaseMoved(month, current[1] if current else 0)
        number = store.save_roster_version(session, community, solution, status=status, cause=cause)
        if after_save is not None:
            after_save(session, number)  # the lever's own rows (request state, event, audit), in the same transaction
        return number


_T = TypeVar("_T")


def save_edited_roster(
    factory: Factory, community: CommunityRef, month: str, based_on: int, edited: list[Assignment], before: Solution, status: str, cause: str,
    *, after_save: Callable[[Session, int], None] | None = None, problem: Problem | None = None,
) -> int:
    """The one roster write of the office's edits and levers: check every hard rule and pin, then save on `based_on` or raise BaseMoved."""
    return _save_edit(factory, community, month, based_on, edited, before, status, cause, after_save=after_save, problem=problem)


def rebasing(community: CommunityRef, write: Callable[[], _T]) -> _T:
    """Run a roster write again on the new latest version when another write lands first (see `_rebasing`)."""
    return _rebasing(community, write)


class BaseMoved(Exception):
    """Another write saved a version of the month after this one read its base."""

    def __init__(self, month: str, current: int) -> None:
        super().__init__(f"the roster for {month} changed during the write (now version {current})")
        self.month, self.current = month, current


# A write whose base moved is done again on the new latest version (a rebase), this many times at most.
REBASE_ATTEMPTS = 8

# One lock per community for the roster writes of THIS process: they queue up instead of racing, so a
# burst of edits through one service is answered in order, not with 409s. Between processes (replicas,
# the CLI) the base check under the database's write lock stays the guarantee, and rebases catch up.
_community_write_locks: dict[CommunityRef, threading.Lock] = {}
_community_write_locks_guard = threading.Lock()


def _community_write_lock(community: CommunityRef) -> threading.Lock:
    with _community_write_locks_guard:
        return _community_write_locks.setdefault(community, threading.Lock())


def _rebasing(community: CommunityRef, write: Callable[[], _T]) -> _T:
    """Run a community's roster write on the latest version; when another write lands first, run it again on the new latest.

    Writes of one community in this process run one at a time. Each attempt re-reads its base and
    re-checks every hard rule, so a rebased write is saved only when it still fits the roster as it
    now is (else it is refused like any edit); after REBASE_ATTEMPTS lost races (to other processes)
    it is answered with a Conflict naming the current version. No write is ever saved on a stale
    base, so none undoes another.
    """
    with _community_write_lock(community):
        for _ in range(REBASE_ATTEMPTS):
            try:
                return write()
            except BaseMoved as moved:
                last = moved
    raise Conflict(f"the roster for {last.month} keeps changing (now version {last.current}); reload and try again", current_version=last.current)


def _edit_base(factory: Factory, community: CommunityRef, month: str) -> tuple[Solution, int, str]:
    with factory() as session:
        latest = _latest(session, community, month)
    if latest is None:
        raise NotFound(f"the roster for {month} has no version yet: generate it first")
    return latest


def _in_month(place: SessionPlace, month: str) -> None:
    if f"{place.date.year:04d}-{place.date.month:02d}" != month:
        raise ScenarioError([FieldError("date", f"{place.date.isoformat()} is not in {month}")])


def assign_session(factory: Factory, community: CommunityRef, month: str, place: SessionPlace) -> tuple[int, Assignment]:
    """Add one session to a community's latest version (checked against every hard rule); return (new version, assignment)."""
    return _rebasing(community, lambda: _assign_session_once(factory, community, month, place))


def _assign_session_once(factory: Factory, community: CommunityRef, month: str, place: SessionPlace) -> tuple[int, Assignment]:
    _in_month(place, month)
    before, version, status = _edit_base(factory, community, month)
    assignment = Assignment(place.date, place.half_day, place.township, place.type, place.specialty, place.expert)
    taken = {a.id for a in before.assignments}
    salt, assignment_id = 0, new_assignment_id(month, assignment)
    while assignment_id in taken:
        salt += 1
        assignment_id = new_assignment_id(month, assignment, salt=str(salt))
    assignment = assignment.with_id(assignment_id)
    number = _save_edit(factory, community, month, version, [*before.assignments, assignment], before, status, f"edit: assign {assignment.expert} {place.date.isoformat()} {place.half_day} {place.township}")
    return number, assignment


def move_session(factory: Factory, community: CommunityRef, month: str, assignment_id: str, **changes: Any) -> tuple[int, Assignment]:
    """Move one session (new date, half-day, township or expert; same id, so calendars update it); return (version, assignment)."""
    return _rebasing(community, lambda: _move_session_once(factory, community, month, assignment_id, **changes))


def _move_session_once(factory: Factory, community: CommunityRef, month: str, assignment_id: str, **changes: Any) -> tuple[int, Assignment]:
    before, version, status = _edit_base(factory, community, month)
    found = next((a for a in before.assignments if a.id == assignment_id), None)
    if found is None:
        raise NotFound(f"version {version} of {month} has no assignment '{assignment_id}'")
    wanted = {name: value for name, value in changes.items() if value is not None}
    moved = dataclasses.replace(found, **wanted)
    if moved.content == found.content:
        raise ScenarioError([FieldError("", "the move changes nothing: give a new date, half_day, township or expert")])
    _in_month(SessionPlace(moved.date, moved.half_day, moved.township, moved.type, moved.specialty, moved.expert), month)
    if found.link_visit and (moved.expert != found.expert or moved.township != found.township or moved.date != found.date):
        moved = dataclasses.replace(moved, link_visit=False)
    edited = [moved if a.id == assignment_id else a for a in before.assignments]
    number = _save_edit(factory, community, month, version, edited, before, status, f"edit: move {assignment_id}")
    return number, moved


def apply_swap(factory: Factory, community: CommunityRef, swap_id: int) -> str:
    """Exchange the experts of a community's swap in a new version (ids kept), or decline it naming the broken rule."""
    with factory() as session:
        swap = swaps.get_swap(session, community, swap_id)
        if swap.state != "accepted" or swap.needs_approval:
            return swap.state
        month, given, taken = swap.month, swap.assignment_id, swap.give_back_id
        giver, taker = swap.from_expert, swap.to_expert

    def exchange() -> tuple[Reason | None, int | None]:
        before, version, status = _edit_base(factory, community, month)
        by_id = {a.id: a for a in before.assignments}
        missing = [i for i in (given, taken) if i is not None and i not in by_id]
        owners_changed = (given in by_id and by_id[given].expert != giver) or (taken in by_id and by_id[taken].expert != taker)
        if missing or owners_changed:
            return Reason.of(ReasonCode.SWAP_SESSIONS_CHANGED), None
        exchanged = {given: taker, **({taken: giver} if taken else {})}
        edited = [
            dataclasses.replace(a, expert=exchanged[a.id], link_visit=False) if a.id in exchanged else a for a in before.assignments
        ]
        try:
            return None, _save_edit(factory, community, month, version, edited, before, status, f"swap {swap_id} ({giver} <-> {taker})")
        except RuleBroken as broken:
            return broken.reason, None

    reason, number = _rebasing(community, exchange)
    with transaction(factory) as session:
        swap = swaps.get_swap(session, community, swap_id, for_update=True)
        if reason is not None:
            swap.state = "declined"
            swap.say_why(reason)
        else:
            swap.state, swap.roster_version = "applied", number
        return swap.state


def remove_session(factory: Factory, community: CommunityRef, month: str, assignment_id: str) -> int:
    """Remove one session from a community's latest version (refused if that breaks a rule, e.g. a link visit's team); return the version."""
    return _rebasing(community, lambda: _remove_session_once(factory, community, month, assignment_id))


def _remove_session_once(factory: Factory, community: CommunityRef, month: str, assignment_id: str) -> int:
    before, version, status = _edit_base(factory, community, month)
    if not any(a.id == assignment_id for a in before.assignments):
        raise NotFound(f"version {version} of {month} has no assignment '{assignment_id}'")
    edited = [a for a in before.assignments if a.id != assignment_id]
    return _save_edit(factory, community, month, version, edited, before, status, f"edit: remove {assignment_id}")


# --- leave -------------------------------------------------------------------------------------


def file_leave(
    session: Session, community: CommunityRef, expert_id: str, first_day: dt.date, last_day: dt.date | None = None, half_day: str | None = None, reason: str = ""
) -> int | None:
    """Store a community's expert's leave (unavailability that survives re-imports) and record a "leave" event; return the event id."""
    out_of_range = date_problems(first_day=first_day, last_day=last_day)
    if out_of_range:
        raise ScenarioError(list(out_of_range))
    last_day = last_day or first_day
    if last_day < first_day:
        raise ScenarioError([FieldError("last_day", f"{last_day.isoformat()} is before first_day {first_day.isoformat()}")])
    if half_day is not None:
        if half_day not in HALF_DAYS:
            raise ScenarioError([FieldError("half_day", f"must be one of am, pm (got {half_day!r})")])
        if last_day != first_day:
            raise ScenarioError([FieldError("half_day", "a half-day leave is one date: leave last_day out or equal to first_day")])
    if (last_day - first_day).days > 366:
        raise ScenarioError([FieldError("last_day", "a leave longer than a year is not leave: set max_sessions to 0 instead")])
    expert = store.expert_row(session, community, expert_id)
    position = max((p.position for p in expert.unavailable if p.source != "scenario"), default=-1) + 1
    if half_day is None:
        period = ExpertUnavailability(from_date=first_day, to_date=last_day, reason=reason or None, source=LEAVE_SOURCE, position=position)
    else:
        period = ExpertUnavailability(date=first_day, half_day=half_day, reason=reason or None, source=LEAVE_SOURCE, position=position)
    expert.unavailable.append(period)
    session.flush()
    payload = {
        "expert": expert_id,
        "first_day": first_day.isoformat(),
        "last_day": last_day.isoformat(),
        "half_day": half_day,
        "reason": reason,
        "unavailability_id": period.id,
        "months": months_between(first_day, last_day),
    }
    months = months_between(first_day, last_day)
    # A leave across months has no single month: the event worker then re-plans every month from the current one.
    return _record_event(session, community, "leave", payload, month=months[0] if len(months) == 1 else None)


def leave_months(first_day: dt.date, last_day: dt.date | None) -> list[str]:
    """The months a leave touches (each is re-planned)."""
    return months_between(first_day, last_day or first_day)


def apply_leave(factory: Factory, community: CommunityRef, expert_id: str, months: Iterable[str], *, time_limit: float | None = None) -> dict[str, int | None]:
    """Re-plan every month of the community a leave touches that has a roster; month -> new version (None when nothing moved)."""
    versions: dict[str, int | None] = {}
    for month in months:
        result = replan(factory, community, month, cause=f"leave {expert_id}", time_limit=time_limit)
        versions[month] = result[0] if result else None
    return versions


# --- closures and demand (events the office records) -------------------------------------------


def close_township(session: Session, community: CommunityRef, township: str, dates: Iterable[dt.date], reason: str = "") -> int | None:
    """Record days a community's township centre is closed (flood, outbreak) and a "closure" event; return the event id."""
    row = store.township_row(session, community, township)
    days = sorted(set(dates))
    if not days:
        raise ScenarioError([FieldError("dates", "give at least one date")])
    held = {closure.date for closure in row.closures}
    for day in days:
        if day not in held:
            row.closures.append(TownshipClosure(date=day, reason=reason))
    session.flush()
    months = sorted({f"{d.year:04d}-{d.month:02d}" for d in days})
    return _record_event(session, community, "closure", {"township": township, "dates": [d.isoformat() for d in days], "reason": reason, "months": months}, month=months[0], township=township)


def change_demand(session: Session, community: CommunityRef, scenario_document: dict[str, Any], month: str | None = None) -> int | None:
    """Store a community's changed scenario (demand rows edited by the office) and record a "demand" event; return the event id."""
    scenario = validate_document(scenario_document, source="the scenario")
    store.import_scenario(session, store.get_community(session, community).code, scenario)
    return _record_event(session, community, "demand", {"month": month}, month=month)


# --- extra-session requests --------------------------------------------------------------------


def request_extra_session(
    session: Session, community: CommunityRef, township: str, type: str, specialty: str, sessions: int, first_day: dt.date, last_day: dt.date | None,
    note: str = "",
) -> int:
    """Store a community's township's pending request and record a "request" event; return the request id."""
    row = create_request(session, community, township, type, specialty, sessions, first_day, last_day, note)
    _record_event(session, community, "request", {"request_id": row.id}, month=row.month, township=township)
    return row.id


def _placement_order(problem: Problem, roster: list[Assignment], request: ExtraSessionRequest, candidates) -> list:
    """Candidates for the request inside its window, best first: a car already going there, then the least loaded expert."""
    key = request.demand_key
    load = Counter(a.expert for a in roster)
    going = {(a.township, a.date) for a in roster}
    capacity = {e.id: max(1, e.max_sessions) for e in problem.experts}
    options = [candidates.items[i] for i in candidates.by_key.get(key, []) if request.covers(candidates.items[i].day)]
    return sorted(options, key=lambda c: ((c.township, c.day) not in going, load[c.expert] / capacity[c.expert], c.slot, c.expert))


def _insert(problem: Problem, before: Solution, request: ExtraSessionRequest) -> tuple[list[Assignment], list[Assignment]] | Reason:
    """Place the request's sessions without moving anyone; (roster, added) or the reason it cannot be done."""
    candidates = enumerate_candidates(problem, keys={request.demand_key}, supervision_townships=())
    roster = list(before.assignments)
    key = request.demand_key
    placed_for_key = sum(1 for a in roster if a.type == key.type and a.specialty == key.specialty and a.township == key.township)
    if placed_for_key + request.sessions > problem.demand.get(key, 0):
        return Reason.of(ReasonCode.DEMAND_OVERFILLED)
    added: list[Assignment] = []
    if not candidates.by_key.get(key):
        return Reason.of(ReasonCode.NO_ELIGIBLE_EXPERT, township=request.township, type=request.type, specialty=request.specialty)
    for _ in range(request.sessions):
        placed = False
        # the cheap part of the hard rules first (solver.rules.fits), the full model check of the roster after
        partial = PartialRoster.of(problem, candidates.spare, (as_candidate(a) for a in roster))
        for candidate in _placement_order(problem, roster, request, candidates):
            if not fits(partial, candidate):
                continue
            assignment = Assignment(candidate.day, candidate.slot.half_day, candidate.township, key.type, key.specialty, candidate.expert)
            taken = {a.id for a in roster}
            salt, assignment_id = 0, new_assignment_id(problem.month, assignment)
            while assignment_id in taken:
                salt += 1
                assignment_id = new_assignment_id(problem.month, assignment, salt=str(salt))
            trial = [*roster, assignment.with_id(assignment_id)]
            if hard_rule_breaks(problem, trial, roster):
                continue
            roster, placed = trial, True
            added.append(trial[-1])
            break
        if not placed:
            return Reason.of(
                ReasonCode.NO_FREE_EXPERT, township=request.township, type=request.type, specialty=request.specialty,
                first_day=request.first_day, last_day=request.last_day, placed=len(added), sessions=request.sessions,
            )
    return roster, added


def settle_request(factory: Factory, community: CommunityRef, request_id: int, *, approve: bool = False, auto_approve: bool | None = None) -> str:
    """Try the minimal-change insertion of a community's pending request; set and return its state (scheduled, or pending with the reason)."""
    return _rebasing(community, lambda: _settle_request_once(factory, community, request_id, approve=approve, auto_approve=auto_approve))


def _settle_request_once(factory: Factory, community: CommunityRef, request_id: int, *, approve: bool = False, auto_approve: bool | None = None) -> str:
    auto = get_settings().auto_approve_requests if auto_approve is None else auto_approve
    with factory() as session:
        request = get_request(session, community, request_id)
        if request.state != "pending":
            return request.state
        month = request.month
        latest = _latest(session, community, month)
        problem, _ = month_problem(session, community, month)
    if latest is None:
        return _keep_pending(factory, community, request_id, Reason.of(ReasonCode.ROSTER_NOT_GENERATED, month=month))
    before, version, status = latest
    key = request.demand_key
    problem = dataclasses.replace(problem, demand={**problem.demand, key: problem.demand.get(key, 0) + request.sessions})
    outcome = _insert(problem, before, request)
    if isinstance(outcome, Reason):
        return _keep_pending(factory, community, request_id, outcome)
    if not (auto or approve):
        return _keep_pending(factory, community, request_id, Reason.of(ReasonCode.REQUEST_AWAITS_APPROVAL))
    roster, added = outcome
    solution = Solution(month, tuple(roster), before.unmet, before.report)
    with transaction(factory) as session:
        store.lock_community_writes(session, community)
        request = get_request(session, community, request_id, for_update=True)
        if request.state != "pending":
            return request.state
        current = _latest(session, community, month)
        if current is None or current[1] != version:
            raise BaseMoved(month, current[1] if current else 0)
        number = store.save_roster_version(session, community, solution, status=status, cause=f"request {request_id} ({request.township})")
        request.state = "scheduled"
        request.say_why(None)
        request.assignment_ids = [a.id for a in added]
        request.roster_version = number
    return "scheduled"


def _keep_pending(factory: Factory, community: CommunityRef, request_id: int, reason: Reason) -> str:
    with transaction(factory) as session:
        request = get_request(session, community, request_id, for_update=True)
        if request.state == "pending":
            request.say_why(reason)
        return request.state


def pending_requests(session: Session, community: CommunityRef, month: str | None = None) -> list[int]:
    """Ids of a community's pending requests (of one month), oldest first."""
    query = (
        select(ExtraSessionRequest.id)
        .where(ExtraSessionRequest.community_id == store.community_id_of(session, community), ExtraSessionRequest.state == "pending")
        .order_by(ExtraSessionRequest.id)
    )
    if month is not None:
        query = query.where(ExtraSessionRequest.month == month)
    return list(session.scalars(query))


__all__ = [
    "SessionPlace",
    "apply_leave",
    "assign_session",
    "change_demand",
    "close_township",
    "file_leave",
    "generate",
    "has_event_outbox",
    "leave_months",
    "month_problem",
    "move_session",
    "pending_requests",
    "publish",
    "remove_session",
    "rebasing",
    "replan",
    "request_extra_session",
    "save_edited_roster",
    "settle_request",
]
