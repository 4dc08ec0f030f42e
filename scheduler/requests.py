"""Extra-session requests (加诊申请) from township heads: the table and plain functions over a session.

A request asks for `sessions` half-day sessions of one (type, specialty) at the requesting township
within a date window of one month. It starts `pending`; `scheduler.flows.settle_request` tries to
place it and sets `scheduled` (with the assignments it added), or leaves it `pending` with the reason
it could not be placed; the office may decline it (with a reason), the township may cancel it.
A scheduled request is extra demand of its month from then on, so later re-plans keep its sessions.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from scheduler.db import Base
from scheduler.errors import Conflict, FieldError, NotFound, ScenarioError
from scheduler.models import Specialty, Township
from scheduler.notify.models import UtcDateTime, utc_now
from scheduler.scenario.fields import date_problems
from scheduler.scenario.schema import SESSION_TYPES
from scheduler.store import CommunityRef, community_id_of
from scheduler.reason_columns import ReasonColumns
from solver.problem import DemandKey
from solver.solution import Reason

REQUEST_STATES = ("pending", "scheduled", "declined", "cancelled")
MAX_REQUEST_SESSIONS = 31


class ExtraSessionRequest(ReasonColumns, Base):
    """One township's request for extra sessions, and where it stands (why pending or declined: `why`)."""

    __tablename__ = "extra_session_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    township: Mapped[str] = mapped_column(String, index=True)  # township code
    type: Mapped[str] = mapped_column(String)
    specialty: Mapped[str] = mapped_column(String)
    sessions: Mapped[int] = mapped_column(Integer)
    first_day: Mapped[dt.date] = mapped_column(Date)
    last_day: Mapped[dt.date] = mapped_column(Date)
    month: Mapped[str] = mapped_column(String(7), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default="pending")
    assignment_ids: Mapped[list[str]] = mapped_column(JSON, default=list)  # what scheduling added
    roster_version: Mapped[int | None] = mapped_column(Integer)  # the version that holds them
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utc_now)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utc_now, onupdate=utc_now)

    @property
    def demand_key(self) -> DemandKey:
        return DemandKey(self.township, self.type, self.specialty)

    def covers(self, day: dt.date) -> bool:
        return self.first_day <= day <= self.last_day


def _validated(session: Session, owner: int, township: str, type: str, specialty: str, sessions: int, first_day: dt.date, last_day: dt.date) -> list[FieldError]:
    problems: list[FieldError] = list(date_problems(first_day=first_day, last_day=last_day))
    if problems:
        return problems  # a window outside the one date range is not a month the service can plan
    if session.scalar(select(Township.id).where(Township.community_id == owner, Township.code == township)) is None:
        problems.append(FieldError("township", f"unknown township '{township}'"))
    if type not in SESSION_TYPES:
        problems.append(FieldError("type", f"must be one of {', '.join(SESSION_TYPES)} (got {type!r})"))
    if session.scalar(select(Specialty.id).where(Specialty.community_id == owner, Specialty.code == specialty)) is None:
        problems.append(FieldError("specialty", f"unknown specialty '{specialty}'"))
    if not 1 <= sessions <= MAX_REQUEST_SESSIONS:
        problems.append(FieldError("sessions", f"must be between 1 and {MAX_REQUEST_SESSIONS} (got {sessions})"))
    if last_day < first_day:
        problems.append(FieldError("last_day", f"{last_day.isoformat()} is before first_day {first_day.isoformat()}"))
    elif (first_day.year, first_day.month) != (last_day.year, last_day.month):
        problems.append(FieldError("last_day", "the date window must lie within one month (file one request per month)"))
    return problems


def create_request(
    session: Session, community: CommunityRef, township: str, type: str, specialty: str, sessions: int, first_day: dt.date, last_day: dt.date | None = None, note: str = ""
) -> ExtraSessionRequest:
    """Store a new pending request of a community's township (ScenarioError naming the field when something is wrong)."""
    owner = community_id_of(session, community)
    last_day = last_day or first_day
    problems = _validated(session, owner, township, type, specialty, sessions, first_day, last_day)
    if problems:
        raise ScenarioError(problems)
    row = ExtraSessionRequest(
        community_id=owner,
        township=township,
        type=type,
        specialty=specialty,
        sessions=sessions,
        first_day=first_day,
        last_day=last_day,
        month=f"{first_day.year:04d}-{first_day.month:02d}",
        note=note,
        state="pending",
        reason="",
        assignment_ids=[],
    )
    session.add(row)
    session.flush()
    return row


def get_request(session: Session, community: CommunityRef, request_id: int, *, for_update: bool = False) -> ExtraSessionRequest:
    """One request of a community by id; NotFound otherwise (another community's request too)."""
    query = select(ExtraSessionRequest).where(ExtraSessionRequest.id == request_id, ExtraSessionRequest.community_id == community_id_of(session, community))
    if for_update:
        query = query.with_for_update()
    row = session.scalar(query)
    if row is None:
        raise NotFound(f"no extra-session request with id {request_id}")
    return row


def list_requests(
    session: Session, community: CommunityRef, *, township: str | None = None, state: str | None = None, month: str | None = None
) -> list[ExtraSessionRequest]:
    """A community's requests, newest first, optionally of one township, state or month."""
    query = select(ExtraSessionRequest).where(ExtraSessionRequest.community_id == community_id_of(session, community)).order_by(ExtraSessionRequest.id.desc())
    if township is not None:
        query = query.where(ExtraSessionRequest.township == township)
    if state is not None:
        query = query.where(ExtraSessionRequest.state == state)
    if month is not None:
        query = query.where(ExtraSessionRequest.month == month)
    return list(session.scalars(query))


def cancel_request(session: Session, community: CommunityRef, request_id: int) -> ExtraSessionRequest:
    """The township withdraws a request that is not yet scheduled (a scheduled one is the office's to change)."""
    row = get_request(session, community, request_id, for_update=True)
    if row.state == "cancelled":
        return row
    if row.state != "pending":
        raise Conflict(f"request {request_id} is {row.state}; only a pending request can be cancelled")
    row.state = "cancelled"
    session.flush()
    return row


def decline_request(session: Session, community: CommunityRef, request_id: int, reason: str) -> ExtraSessionRequest:
    """The office declines a pending request, saying why."""
    if not reason.strip():
        raise ScenarioError([FieldError("reason", "a declined request needs the reason the township will read")])
    row = get_request(session, community, request_id, for_update=True)
    if row.state != "pending":
        raise Conflict(f"request {request_id} is {row.state}; only a pending request can be declined")
    row.state = "declined"
    row.say_why(Reason.text(reason))
    session.flush()
    return row


def scheduled_extra_demand(session: Session, community: CommunityRef, month: str) -> dict[DemandKey, int]:
    """Sessions that scheduled requests add to a community's month demand, per (township, type, specialty)."""
    extra: dict[DemandKey, int] = defaultdict(int)
    query = select(ExtraSessionRequest).where(
        ExtraSessionRequest.community_id == community_id_of(session, community), ExtraSessionRequest.month == month, ExtraSessionRequest.state == "scheduled"
    )
    for row in session.scalars(query):
        extra[row.demand_key] += row.sessions
    return dict(extra)
