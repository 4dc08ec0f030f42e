"""Swap requests (换班): two experts exchange one session; the table and plain functions over a session.

The proposer offers one of their sessions to a colleague, optionally taking one of the
colleague's sessions in return. The colleague must accept; when the office requires approval
(ROTA_SWAP_REQUIRES_APPROVAL), the office approves too. Only then is a "swap" event recorded,
in the same transaction, and the event worker applies it (`scheduler.flows.apply_swap`): a new
roster version if every hard rule holds, else the swap is declined with the rule named. Why a swap was
declined is a reason code with parameters (`why`), rendered in the reader's language where it is shown.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from scheduler import store
from scheduler.db import Base
from scheduler.errors import Conflict, FieldError, NotFound, ScenarioError
from scheduler.events.outbox import record_event
from scheduler.notify.models import UtcDateTime, utc_now
from scheduler.reason_columns import ReasonColumns
from solver.solution import Reason, ReasonCode

SWAP_STATES = ("proposed", "accepted", "applied", "declined", "cancelled")


class SwapRequest(ReasonColumns, Base):
    """One proposed exchange of sessions between two experts, and where it stands (why declined: `why`, a reason code)."""

    __tablename__ = "swap_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    month: Mapped[str] = mapped_column(String(7), index=True)
    assignment_id: Mapped[str] = mapped_column(String)  # the proposer's session, going to `to_expert`
    from_expert: Mapped[str] = mapped_column(String, index=True)
    to_expert: Mapped[str] = mapped_column(String, index=True)
    give_back_id: Mapped[str | None] = mapped_column(String)  # the colleague's session, going to the proposer
    state: Mapped[str] = mapped_column(String(16), default="proposed")
    needs_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    roster_version: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utc_now)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utc_now, onupdate=utc_now)


def _session_of(session: Session, owner: int, month: str, assignment_id: str, expert: str, field: str) -> None:
    try:
        roster, version, _status, _ = store.load_roster_version(session, owner, month)
    except NotFound:
        raise ScenarioError([FieldError("month", f"there is no roster for {month} yet")]) from None
    found = next((a for a in roster.assignments if a.id == assignment_id), None)
    if found is None:
        raise ScenarioError([FieldError(field, f"version {version} of {month} has no session '{assignment_id}'")])
    if found.expert != expert:
        raise ScenarioError([FieldError(field, f"session '{assignment_id}' belongs to {found.expert}, not {expert}")])


def propose_swap(
    session: Session, community: store.CommunityRef, month: str, assignment_id: str, from_expert: str, to_expert: str,
    give_back_id: str | None = None, needs_approval: bool = False,
) -> int:
    """Record a proposal in a community (state proposed) after checking that each session belongs to its expert."""
    if from_expert == to_expert:
        raise ScenarioError([FieldError("to_expert", "a swap needs two different experts")])
    owner = store.community_id_of(session, community)
    store.expert_row(session, owner, to_expert)
    _session_of(session, owner, month, assignment_id, from_expert, "assignment_id")
    if give_back_id is not None:
        _session_of(session, owner, month, give_back_id, to_expert, "give_back_id")
    row = SwapRequest(
        community_id=owner,
        month=month,
        assignment_id=assignment_id,
        from_expert=from_expert,
        to_expert=to_expert,
        give_back_id=give_back_id,
        needs_approval=needs_approval,
    )
    session.add(row)
    session.flush()
    return row.id


def get_swap(session: Session, community: store.CommunityRef, swap_id: int, for_update: bool = False) -> SwapRequest:
    """One swap of a community by id; NotFound otherwise (another community's swap too)."""
    query = select(SwapRequest).where(SwapRequest.id == swap_id, SwapRequest.community_id == store.community_id_of(session, community))
    row = session.scalars(query.with_for_update() if for_update else query).first()
    if row is None:
        raise NotFound(f"no swap request {swap_id}")
    return row


def _queue(session: Session, row: SwapRequest) -> None:
    record_event(session, row.community_id, "swap", {"swap_id": row.id}, month=row.month)


def answer_swap(session: Session, community: store.CommunityRef, swap_id: int, expert: str, accept: bool) -> SwapRequest:
    """The colleague accepts (queued for the worker, or for the office's approval) or declines."""
    row = get_swap(session, community, swap_id, for_update=True)
    if expert != row.to_expert:
        raise Conflict(f"only {row.to_expert} can answer swap {swap_id}")
    if row.state != "proposed":
        raise Conflict(f"swap {swap_id} is {row.state}, not proposed")
    if not accept:
        row.state = "declined"
        row.say_why(Reason.of(ReasonCode.SWAP_DECLINED_BY_COLLEAGUE, expert=expert))
        return row
    row.state = "accepted"
    if not row.needs_approval:
        _queue(session, row)
    return row


def approve_swap(session: Session, community: store.CommunityRef, swap_id: int, approve: bool, reason: str = "") -> SwapRequest:
    """The office approves an accepted swap that needs approval (queued for the worker), or rejects it."""
    row = get_swap(session, community, swap_id, for_update=True)
    if row.state != "accepted" or not row.needs_approval:
        raise Conflict(f"swap {swap_id} is not waiting for the office (state {row.state})")
    if approve:
        row.needs_approval = False
        _queue(session, row)
    else:
        row.state = "declined"
        row.say_why(Reason.text(reason) if reason.strip() else Reason.of(ReasonCode.SWAP_REJECTED_BY_OFFICE))
    return row


def cancel_swap(session: Session, community: store.CommunityRef, swap_id: int, expert: str) -> SwapRequest:
    """The proposer withdraws a swap that has not been applied."""
    row = get_swap(session, community, swap_id, for_update=True)
    if expert != row.from_expert:
        raise Conflict(f"only {row.from_expert} can cancel swap {swap_id}")
    if row.state not in ("proposed", "accepted"):
        raise Conflict(f"swap {swap_id} is {row.state}; it can no longer be cancelled")
    row.state = "cancelled"
    return row


def list_swaps(session: Session, community: store.CommunityRef, expert: str | None = None, month: str | None = None) -> list[SwapRequest]:
    """A community's swaps, newest first; an expert sees those they proposed or were asked for."""
    query = select(SwapRequest).where(SwapRequest.community_id == store.community_id_of(session, community)).order_by(SwapRequest.id.desc())
    if expert is not None:
        query = query.where((SwapRequest.from_expert == expert) | (SwapRequest.to_expert == expert))
    if month is not None:
        query = query.where(SwapRequest.month == month)
    return list(session.scalars(query))
