"""Check a community's month against its current standing data: which hard rules its latest roster now breaks.

The worker calls this before re-planning: a change that leaves the roster keeping every rule (and cannot
let coverage rise) needs no solve; one that breaks a rule gets a re-plan, and the re-plan is checked
again, so a published roster never silently breaks a rule of the data it is published under. A pinned
session the new data forbids is found here too (`pin_clashes`): no re-plan may move it, so the worker
fails the event with that reason instead of solving. A pin that is fine alone but cannot stay beside the
days a re-plan may not change (today and before) is found by the re-plan itself: `lost_pins` names it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from scheduler import flows, pins, store
from scheduler.errors import NotFound
from scheduler.roster_rules import RuleBreak, hard_rule_breaks

SHOWN_BREAKS = 10  # an outcome keeps this many breaks (as data: rule, reason code and parameters); the count is kept in full


@dataclass(frozen=True)
class MonthCheck:
    """The latest version of a month and the hard rules it breaks under the current data (no version: no roster yet)."""

    month: str
    version: int | None
    status: str | None
    breaks: tuple[RuleBreak, ...]

    @property
    def broken(self) -> bool:
        return bool(self.breaks)


def check_month(factory: sessionmaker[Session], community_id: int, month: str, *, status: str | None = None) -> MonthCheck:
    """Check the month's latest version (of `status` when given) against the community's current standing data."""
    with factory() as session:
        try:
            solution, version, found_status, _ = store.load_roster_version(session, community_id, month, status=status)
        except NotFound:
            return MonthCheck(month, None, None, ())
        problem, _ = flows.month_problem(session, community_id, month)
    breaks = hard_rule_breaks(problem, solution.assignments)
    return MonthCheck(month, version, found_status, tuple(breaks))


def pin_clashes(factory: sessionmaker[Session], community_id: int, month: str) -> list[dict]:
    """The month's pinned sessions its current standing data forbids, each with the rule it breaks (scheduler.pins.clashing_pins)."""
    with factory() as session:
        problem, _ = flows.month_problem(session, community_id, month)
        return pins.clashing_pins(session, community_id, month, problem)


def lost_pins(factory: sessionmaker[Session], community_id: int, month: str, lost: Sequence[RuleBreak]) -> list[dict]:
    """The pinned sessions a re-plan lost (`lost`, the breaks its refusal named), each with the rule that forbids it beside the
    sessions no re-plan may change, today's and the days' before (scheduler.pins.lost_pin_clashes)."""
    today = flows._today(factory, community_id)
    with factory() as session:
        problem, _ = flows.month_problem(session, community_id, month)
        try:
            roster, _, _, _ = store.load_roster_version(session, community_id, month)
        except NotFound:
            roster = None
        history = [a for a in roster.assignments if a.date <= today] if roster is not None else []
        return pins.lost_pin_clashes(session, community_id, month, problem, lost, history)
