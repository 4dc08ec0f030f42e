"""Pins (锁定): assignments the office fixes in place; every generation and re-plan of the month keeps them.

A pin names one assignment of the month by id and keeps what it is (date, half-day, township, type,
specialty, expert). The solver gets the pins as hard constraints (`Problem.pins`); every roster the
service is about to save is checked against them with the other hard rules (`scheduler.roster_rules`,
`lost_pins`), so an edit, a re-plan or a revert that would lose a pin is refused with the clash named,
never saved.

When the data changes under a pin (the pinned expert on leave, the township closed that day), no
re-plan can keep it: `clashing_pins` names each pin the new data forbids, and the event worker fails
the change's event at once with that reason (`PinClash`), for the office to unpin or undo, then retry.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from scheduler import store
from scheduler.actors import current_actor
from scheduler.audit import record_audit
from scheduler.db import Base
from scheduler.errors import NotFound
from scheduler.notify.models import UtcDateTime, utc_now
from scheduler.roster_rules import PIN_RULE, RuleBreak, hard_rule_breaks
from scheduler.store import CommunityRef, community_id_of
from solver.problem import DemandKey, Pin, Problem, Slot
from solver.solution import Assignment

class RosterPin(Base):
    """One pinned assignment of a community's month."""

    __tablename__ = "roster_pins"
    __table_args__ = (UniqueConstraint("community_id", "month", "assignment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    month: Mapped[str] = mapped_column(String(7))
    assignment_id: Mapped[str] = mapped_column(String(100))
    date: Mapped[dt.date] = mapped_column(Date)
    half_day: Mapped[str] = mapped_column(String(2))
    township: Mapped[str] = mapped_column(String)
    type: Mapped[str] = mapped_column(String(16))
    specialty: Mapped[str | None] = mapped_column(String)
    expert: Mapped[str] = mapped_column(String)
    note: Mapped[str] = mapped_column(Text, default="")
    pinned_by: Mapped[str] = mapped_column(Text, default="system")
    pinned_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utc_now)

    @property
    def solver_pin(self) -> Pin:
        key = None if self.type == "supervision" else DemandKey(self.township, self.type, self.specialty or "")
        return Pin(self.expert, Slot(self.date, self.half_day), self.township, key)

    @property
    def assignment(self) -> Assignment:
        """The pinned session as an assignment of the roster."""
        return Assignment(self.date, self.half_day, self.township, self.type, self.specialty, self.expert, self.type == "supervision", self.assignment_id)

    def holds(self, assignment: Assignment) -> bool:
        """Whether the assignment is this pin's session, as pinned."""
        return (assignment.date, assignment.half_day, assignment.township, assignment.type, assignment.specialty, assignment.expert) == (
            self.date, self.half_day, self.township, self.type, self.specialty, self.expert
        )


@dataclass(frozen=True)
class PinView:
    """A pin as the API and the pages show it."""

    assignment_id: str
    month: str
    date: dt.date
    half_day: str
    township: str
    type: str
    specialty: str | None
    expert: str
    note: str
    pinned_by: str
    pinned_at: dt.datetime

    def as_json(self) -> dict:
        return {**self.__dict__, "date": self.date.isoformat(), "pinned_at": self.pinned_at.isoformat()}


def _view(row: RosterPin) -> PinView:
    return PinView(row.assignment_id, row.month, row.date, row.half_day, row.township, row.type, row.specialty, row.expert, row.note, row.pinned_by, row.pinned_at)


def _rows(session: Session, community: CommunityRef, month: str) -> list[RosterPin]:
    query = select(RosterPin).where(RosterPin.community_id == community_id_of(session, community), RosterPin.month == month)
    return list(session.scalars(query.order_by(RosterPin.date, RosterPin.half_day, RosterPin.township, RosterPin.expert)))


def list_pins(session: Session, community: CommunityRef, month: str) -> list[PinView]:
    """A community's pins of the month, by date."""
    return [_view(row) for row in _rows(session, community, month)]


def pinned_ids(session: Session, community: CommunityRef, month: str) -> set[str]:
    """The assignment ids pinned in a community's month."""
    return {row.assignment_id for row in _rows(session, community, month)}


def solver_pins(session: Session, community: CommunityRef, month: str) -> tuple[Pin, ...]:
    """The month's pins as the solver takes them (`Problem.pins`)."""
    return tuple(row.solver_pin for row in _rows(session, community, month))


def pin_assignment(session: Session, community: CommunityRef, month: str, assignment_id: str, note: str = "") -> PinView:
    """Pin an assignment of the month's latest version (pinning it again only updates the note); NotFound when the version has no such id."""
    store.lock_community_writes(session, community)
    solution, version, _, _ = store.load_roster_version(session, community, month)
    found = next((a for a in solution.assignments if a.id == assignment_id), None)
    if found is None:
        raise NotFound(f"version {version} of {month} has no assignment '{assignment_id}'")
    owner = community_id_of(session, community)
    row = session.scalar(select(RosterPin).where(RosterPin.community_id == owner, RosterPin.month == month, RosterPin.assignment_id == assignment_id))
    if row is None:
        row = RosterPin(
            community_id=owner, month=month, assignment_id=assignment_id, date=found.date, half_day=found.half_day, township=found.township,
            type=found.type, specialty=found.specialty, expert=found.expert, note=note, pinned_by=current_actor().name, pinned_at=utc_now(),
        )
        session.add(row)
    else:
        row.note = note
    session.flush()
    record_audit(session, owner, "pin", f"pin {assignment_id} ({_where(found)})", month=month, township=found.township, after=_view(row).as_json(), version=version)
    return _view(row)


def unpin_assignment(session: Session, community: CommunityRef, month: str, assignment_id: str) -> None:
    """Remove a pin; NotFound when the assignment is not pinned."""
    store.lock_community_writes(session, community)
    owner = community_id_of(session, community)
    row = session.scalar(select(RosterPin).where(RosterPin.community_id == owner, RosterPin.month == month, RosterPin.assignment_id == assignment_id))
    if row is None:
        raise NotFound(f"assignment '{assignment_id}' of {month} is not pinned")
    before = _view(row).as_json()
    session.delete(row)
    session.flush()
    record_audit(session, owner, "unpin", f"unpin {assignment_id}", month=month, township=before["township"], before=before)


def pin_sessions(session: Session, community: CommunityRef, month: str, assignments: Iterable[Assignment], note: str) -> None:
    """Pin sessions a lever just placed (a forced request's), in the caller's transaction."""
    owner = community_id_of(session, community)
    held = pinned_ids(session, owner, month)
    for a in assignments:
        if a.id in held:
            continue
        session.add(
            RosterPin(
                community_id=owner, month=month, assignment_id=a.id, date=a.date, half_day=a.half_day, township=a.township, type=a.type,
                specialty=a.specialty, expert=a.expert, note=note, pinned_by=current_actor().name, pinned_at=utc_now(),
            )
        )
    session.flush()


def _where(a) -> str:
    what = a.type if a.specialty is None else f"{a.type} {a.specialty}"
    return f"{a.expert} at {a.township} on {a.date.isoformat()} {a.half_day}, {what}"


class PinClash(Exception):
    """The month's current data forbids pinned sessions: no re-plan can keep them, so the change's event fails with this reason.

    `clashes` names each pinned session and the hard rule it now breaks (JSON-ready: the event's outcome keeps
    it and the office's pages word it); `str()` is the one-line reason the event's error shows.
    """

    def __init__(self, month: str, clashes: list[dict[str, Any]], detail: str = "") -> None:
        self.month, self.clashes, self.detail = month, clashes, detail
        super().__init__(str(self))

    def __str__(self) -> str:
        named = "; ".join(
            f"{c['expert']} at {c['township']} on {c['date']} {c['half_day']} ({c['type']}{' ' + c['specialty'] if c['specialty'] else ''}): {c['rule']}"
            for c in self.clashes
        ) or self.detail
        return f"the change clashes with pinned sessions of {self.month}, which no re-plan may move: {named}; unpin them (or undo the change), then retry the event"


def clashing_pins(session: Session, community: CommunityRef, month: str, problem: Problem) -> list[dict[str, Any]]:
    """The month's pins that the problem's data now forbids, each with the hard rule it breaks (empty: every pin can be kept).

    Each pin is checked alone, so the one that clashes is named; pins that are fine alone but clash together
    (two pinned sessions and one room left) are all named with the rules of the set.
    """
    rows = _rows(session, community, month)
    if not rows:
        return []
    free = dataclasses.replace(problem, pins=())
    found = []
    for row in rows:
        breaks = hard_rule_breaks(free, [row.assignment])
        if breaks:
            found.append(_clash(row, breaks[0].rule))
    if found or len(rows) == 1:
        return found
    together = hard_rule_breaks(free, [row.assignment for row in rows])
    return [_clash(row, together[0].rule) for row in rows] if together else []


def lost_pin_clashes(
    session: Session, community: CommunityRef, month: str, problem: Problem, lost: Sequence[RuleBreak], history: Sequence[Assignment] = ()
) -> list[dict[str, Any]]:
    """The pins a solved roster lost (`lost`: the pin breaks of `check_pins`), named as `clashing_pins` names them.

    Such a pin is fine alone and with the other pins (`clashing_pins` found nothing), so what forbids it is the
    rest of the month a re-plan may not change: each is named with the hard rule it breaks beside `history`
    (the sessions of today and the days before), or with the pin rule itself when that shows none.
    """
    free = dataclasses.replace(problem, pins=())
    sessions = {
        tuple(b.reason.params.get(name) for name in ("expert", "township", "date", "half_day", "type", "specialty")) for b in lost if b.rule == PIN_RULE
    }
    found, already = [], None
    for row in _rows(session, community, month):
        if (row.expert, row.township, row.date.isoformat(), row.half_day, row.type, row.specialty) not in sessions:
            continue
        past = [a for a in history if a.id != row.assignment_id]
        rules = [b.rule for b in hard_rule_breaks(free, [row.assignment, *past])]
        if already is None:
            already = {b.rule for b in hard_rule_breaks(free, past)} if past else set()  # what the past breaks on its own
        found.append(_clash(row, next((r for r in rules if r not in already), rules[0] if rules else PIN_RULE)))
    return found


def _clash(row: RosterPin, rule: str) -> dict[str, Any]:
    """A pinned session and the hard rule that forbids it, JSON-ready (an event's outcome keeps it)."""
    return {
        "assignment_id": row.assignment_id, "date": row.date.isoformat(), "half_day": row.half_day, "township": row.township,
        "type": row.type, "specialty": row.specialty, "expert": row.expert, "rule": rule,
    }
