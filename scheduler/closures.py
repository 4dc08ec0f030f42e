"""Township closures (停诊: flood, outbreak) and reopening, each an event in the same transaction as the change.

A closure names a township and a run of days (at most a year, within the dates every input accepts);
the closed days are stored (`township_closures`) and a "closure" event makes the worker move or cancel
the sessions of those days. Reopening removes closed days and records a "reopen" event, so a re-plan
can place sessions there again. The office reaches both through the API, `rota close` / `rota reopen`
and the office's closure page; all of them call these functions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import events, flows, store
from scheduler.calendar import parse_month
from scheduler.errors import FieldError, NotFound, ScenarioError
from scheduler.events.kinds.reopen import ReopenPayload
from scheduler.events.registry import months_of_dates
from scheduler.models import Township, TownshipClosure
from scheduler.scenario.fields import FIRST_DATE, LAST_DATE

MAX_CLOSURE_DAYS = 366  # longer is no closure: take the township out of the demand instead
REASON_MAX_LENGTH = 500


@dataclass(frozen=True)
class ClosureView:
    """One closed day of a township."""

    id: int
    township: str
    date: dt.date
    reason: str


@dataclass(frozen=True)
class ClosureFiled:
    """What a close or reopen did: the event recorded, the days and the months it touches."""

    event: int | None
    township: str
    dates: tuple[dt.date, ...]
    months: tuple[str, ...]


def closure_days(first_day: dt.date, last_day: dt.date | None = None, *, first_field: str = "from", last_field: str = "to") -> list[dt.date]:
    """The days from first to last (one day when last is None); ScenarioError naming the field when the range is not one."""
    last_day = last_day or first_day
    for field, day in ((first_field, first_day), (last_field, last_day)):
        if not FIRST_DATE <= day <= LAST_DATE:
            raise ScenarioError([FieldError(field, f"must be a date from {FIRST_DATE.isoformat()} to {LAST_DATE.isoformat()} (got {day.isoformat()})")])
    if last_day < first_day:
        raise ScenarioError([FieldError(last_field, f"{last_day.isoformat()} is before {first_field} {first_day.isoformat()}")])
    count = (last_day - first_day).days + 1
    if count > MAX_CLOSURE_DAYS:
        raise ScenarioError([FieldError(last_field, f"a closure is at most {MAX_CLOSURE_DAYS} days (got {count})")])
    return [first_day + dt.timedelta(days=offset) for offset in range(count)]


def _township(session: Session, community: store.CommunityRef, township: str) -> Township:
    try:
        return store.township_row(session, community, township)
    except NotFound:
        raise ScenarioError([FieldError("township", f"no township '{township[:64]}' in this community")]) from None


def close_township(
    session: Session, community: store.CommunityRef, township: str, first_day: dt.date, last_day: dt.date | None = None, reason: str = ""
) -> ClosureFiled:
    """Close a township's centre from first to last day (a "closure" event in the same transaction); returns what was filed."""
    days = closure_days(first_day, last_day)
    if len(reason) > REASON_MAX_LENGTH:
        raise ScenarioError([FieldError("reason", f"at most {REASON_MAX_LENGTH} characters (got {len(reason)})")])
    _township(session, community, township)
    event_id = flows.close_township(session, community, township, days, reason)
    return ClosureFiled(event_id, township, tuple(days), tuple(months_of_dates(days)))


def reopen_township(session: Session, community: store.CommunityRef, township: str, first_day: dt.date, last_day: dt.date | None = None) -> ClosureFiled:
    """Reopen a township's closed days from first to last day (a "reopen" event); NotFound when none of them is closed."""
    days = set(closure_days(first_day, last_day))
    row = _township(session, community, township)
    reopened = sorted(closure.date for closure in row.closures if closure.date in days)
    if not reopened:
        last = last_day or first_day
        raise NotFound(f"township '{township}' is not closed on any day from {first_day.isoformat()} to {last.isoformat()}")
    return _reopen(session, community, row, reopened)


def reopen_day(session: Session, community: store.CommunityRef, closure_id: int) -> ClosureFiled:
    """Reopen one closed day by its id (a "reopen" event); NotFound for an id that is not one of this community's."""
    owner = store.community_id_of(session, community)
    closure = session.scalar(
        select(TownshipClosure).join(TownshipClosure.township).where(TownshipClosure.id == closure_id, Township.community_id == owner)
    )
    if closure is None:
        raise NotFound(f"no closed day {closure_id}")
    return _reopen(session, community, closure.township, [closure.date])


def _reopen(session: Session, community: store.CommunityRef, row: Township, days: list[dt.date]) -> ClosureFiled:
    for closure in [closure for closure in row.closures if closure.date in set(days)]:
        row.closures.remove(closure)
    session.flush()
    months = months_of_dates(days)
    event_id = events.record(session, store.community_id_of(session, community), ReopenPayload(township=row.code, dates=days, months=months))
    return ClosureFiled(event_id, row.code, tuple(days), tuple(months))


def list_closures(session: Session, community: store.CommunityRef, township: str | None = None, month: str | None = None) -> list[ClosureView]:
    """A community's closed days, by date then township (of one township, one month, when given)."""
    query = (
        select(TownshipClosure, Township.code)
        .join(TownshipClosure.township)
        .where(Township.community_id == store.community_id_of(session, community))
        .order_by(TownshipClosure.date, Township.code)
    )
    if township:
        query = query.where(Township.code == township)
    if month:
        year, number = parse_month(month)
        first = dt.date(year, number, 1)
        after = (first + dt.timedelta(days=32)).replace(day=1)
        query = query.where(TownshipClosure.date >= first, TownshipClosure.date < after)
    return [ClosureView(closure.id, code, closure.date, closure.reason or "") for closure, code in session.execute(query)]
