"""The solver's output: assignments, unmet demand with reasons, and how the solve went."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from solver.problem import DemandKey, Slot


@dataclass(frozen=True)
class Assignment:
    """One expert at one township for one half-day session."""

    date: dt.date
    half_day: str
    township: str
    type: str  # clinic | teaching | ward_round | supervision
    specialty: str | None
    expert: str
    link_visit: bool = False
    id: str = ""

    @property
    def slot(self) -> Slot:
        return Slot(self.date, self.half_day)

    @property
    def key(self) -> DemandKey | None:
        """The demand row the session serves (None for a supervision, which serves none)."""
        return None if self.type == "supervision" else DemandKey(self.township, self.type, self.specialty or "")

    @property
    def content(self) -> tuple:
        """What the assignment is, without its id: used to compare versions."""
        return (self.date, self.half_day, self.township, self.type, self.specialty, self.expert, self.link_visit)

    def with_id(self, assignment_id: str) -> "Assignment":
        # the constructor, not dataclasses.replace: a re-plan gives ids to a whole month's sessions twice over
        return Assignment(self.date, self.half_day, self.township, self.type, self.specialty, self.expert, self.link_visit, assignment_id)


def new_assignment_id(month: str, assignment: Assignment, salt: str = "") -> str:
    """A short id derived from what the assignment is (and a salt for a repeat of the same content)."""
    key = "|".join(str(part) for part in (month, *assignment.content, salt))
    return hashlib.blake2b(key.encode(), digest_size=8).hexdigest()


class ReasonCode(StrEnum):
    """Why demand went unmet, a link visit was not made, a request waits, or the hard rules clash: one code per sentence."""

    # unmet demand (solver/reasons.py)
    NO_INPATIENT_WARD = "NO_INPATIENT_WARD"  # {township}
    NO_OPEN_HALF_DAY = "NO_OPEN_HALF_DAY"  # {township, type, specialty}
    NO_SPECIALIST = "NO_SPECIALIST"  # {specialty}
    TITLE_TOO_LOW = "TITLE_TOO_LOW"  # {specialty, title, holders}
    NOT_ROSTERED = "NOT_ROSTERED"  # {specialty, experts}: every eligible expert has max_sessions 0
    ALL_AT_MONTHLY_LIMIT = "ALL_AT_MONTHLY_LIMIT"  # {township, type, specialty, sessions, experts}
    ALL_UNAVAILABLE = "ALL_UNAVAILABLE"  # {township, type, specialty, sessions, experts, why}
    DEPARTMENT_MINIMUM = "DEPARTMENT_MINIMUM"  # {township, type, specialty, sessions, experts, departments}
    HALF_DAYS_TAKEN = "HALF_DAYS_TAKEN"  # {township, type, specialty, sessions, experts}: other sessions, full rooms
    MIXED_SHORTFALL = "MIXED_SHORTFALL"  # {township, type, specialty, sessions, eligible, at_limit, unavailable, why, kept_home, departments, busy}
    NO_FREE_HALF_DAY = "NO_FREE_HALF_DAY"  # {specialty, eligible}: the greedy baseline's summary
    # link visits not made
    NOT_AN_EXPERT = "NOT_AN_EXPERT"  # {member}
    MEMBER_NOT_ROSTERED = "MEMBER_NOT_ROSTERED"  # {member}
    TOWNSHIP_CLOSED_ALL_MONTH = "TOWNSHIP_CLOSED_ALL_MONTH"  # {township}
    MEMBER_UNAVAILABLE = "MEMBER_UNAVAILABLE"  # {member, township}
    MEMBER_AT_MONTHLY_LIMIT = "MEMBER_AT_MONTHLY_LIMIT"  # {member, limit}
    TEAM_TOO_SMALL = "TEAM_TOO_SMALL"  # {member, township, days, team_min}
    TEAM_NOT_FITTED = "TEAM_NOT_FITTED"  # {member, township, team_min}
    # the hard rules clash (no roster at all)
    RULES_CLASH = "RULES_CLASH"  # {rules, fixed}
    CLASH_NOT_SHOWN = "CLASH_NOT_SHOWN"  # {}
    # extra-session requests (scheduler/flows.py)
    DEMAND_OVERFILLED = "DEMAND_OVERFILLED"  # {}
    NO_ELIGIBLE_EXPERT = "NO_ELIGIBLE_EXPERT"  # {township, type, specialty}
    NO_FREE_EXPERT = "NO_FREE_EXPERT"  # {township, type, specialty, first_day, last_day, placed, sessions}
    ROSTER_NOT_GENERATED = "ROSTER_NOT_GENERATED"  # {month}
    REQUEST_AWAITS_APPROVAL = "REQUEST_AWAITS_APPROVAL"  # {}
    # a roster edit that breaks a hard rule (scheduler/roster_rules.py); AT = the session's {expert, township, date,
    # half_day, type, specialty}, which every one of these but the last three carries
    UNKNOWN_EXPERT = "UNKNOWN_EXPERT"  # {AT}
    UNKNOWN_TOWNSHIP = "UNKNOWN_TOWNSHIP"  # {AT}
    NOT_A_WORKING_HALF_DAY = "NOT_A_WORKING_HALF_DAY"  # {AT}
    EXPERT_UNAVAILABLE = "EXPERT_UNAVAILABLE"  # {AT, why}
    TOWNSHIP_CLOSED = "TOWNSHIP_CLOSED"  # {AT}
    NO_WARD_FOR_THE_ROUND = "NO_WARD_FOR_THE_ROUND"  # {AT}
    WARD_ROUND_HALF_DAY = "WARD_ROUND_HALF_DAY"  # {AT, half_days}
    LACKS_THE_SPECIALTY = "LACKS_THE_SPECIALTY"  # {AT}
    TITLE_BELOW_TEACHING = "TITLE_BELOW_TEACHING"  # {AT, title, expert_title}
    EXPERT_NOT_ROSTERED = "EXPERT_NOT_ROSTERED"  # {AT}
    SUPERVISION_NOT_A_VISIT = "SUPERVISION_NOT_A_VISIT"  # {AT}
    DEPARTMENT_CANNOT_SPARE = "DEPARTMENT_CANNOT_SPARE"  # {AT, department}
    SESSION_NEEDS_SPECIALTY = "SESSION_NEEDS_SPECIALTY"  # {AT}
    NOT_DEMANDED = "NOT_DEMANDED"  # {AT}
    BOOKED_TWICE = "BOOKED_TWICE"  # {AT}
    PIN_LOST = "PIN_LOST"  # {AT}
    EDIT_BREAKS_RULE = "EDIT_BREAKS_RULE"  # {rule}: the model names the rule the edited roster breaks
    LINK_VISITS_LOST = "LINK_VISITS_LOST"  # {visits}
    # why a swap (scheduler/swaps.py) was declined (its one broken rule is that break's code)
    SWAP_SESSIONS_CHANGED = "SWAP_SESSIONS_CHANGED"  # {}
    SWAP_DECLINED_BY_COLLEAGUE = "SWAP_DECLINED_BY_COLLEAGUE"  # {expert}
    SWAP_REJECTED_BY_OFFICE = "SWAP_REJECTED_BY_OFFICE"  # {} (the office's own words are a TEXT reason)
    # a change refused by several hard rules at once (a swap, a forced request): the rules it would break
    BREAKS_RULES = "BREAKS_RULES"  # {rules}
    # why a forced request (scheduler/forced.py) cannot be placed
    FORCE_NO_ROSTER = "FORCE_NO_ROSTER"  # {month}
    FORCE_DAY_PAST = "FORCE_DAY_PAST"  # {first_day, today}
    FORCE_NO_CANDIDATE = "FORCE_NO_CANDIDATE"  # {township, type, specialty, month, days}
    FORCE_CANNOT_PLACE = "FORCE_CANNOT_PLACE"  # {township, type, specialty, month, days, placed, sessions}
    # a sentence from before reasons were codes (an imported roster file, an old stored row): shown as written
    TEXT = "TEXT"  # {text}


def _frozen_value(value: Any) -> Any:
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else value
        return tuple(_frozen_value(item) for item in items)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class Reason:
    """A reason as data: a code and its parameters (ids, counts, ISO days), rendered at the edge in the reader's language."""

    code: ReasonCode
    args: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, code: ReasonCode | str, **params: Any) -> "Reason":
        """A reason with parameters; lists become tuples and dates ISO strings, so the reason is hashable and JSON-ready."""
        return cls(ReasonCode(code), tuple((name, _frozen_value(value)) for name, value in params.items()))

    @classmethod
    def text(cls, sentence: str) -> "Reason":
        """A free sentence with no code (from a file or row written before codes)."""
        return cls.of(ReasonCode.TEXT, text=sentence)

    @classmethod
    def from_json(cls, code: str | None, params: Mapping[str, Any] | None, sentence: str = "") -> "Reason":
        """The reason stored as code and parameters, or the sentence as TEXT when the code is missing or unknown."""
        if code and code in ReasonCode.__members__:
            return cls.of(code, **dict(params or {}))
        return cls.text(sentence)

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.args)

    def params_json(self) -> dict[str, Any]:
        """The parameters as JSON values (tuples as lists)."""
        return {name: list(value) if isinstance(value, tuple) else value for name, value in self.args}

    def __bool__(self) -> bool:
        return not (self.code is ReasonCode.TEXT and not self.params.get("text"))


def session_at(expert: str, slot: Slot, township: str, key: DemandKey | None) -> dict[str, Any]:
    """The parameters that say which session a break is about (the `{at}` of the rule-break reasons)."""
    return {
        "expert": expert, "township": township, "date": slot.day, "half_day": slot.half_day,
        "type": "supervision" if key is None else key.type, "specialty": None if key is None else key.specialty,
    }


@dataclass(frozen=True)
class Violation:
    """One break of a hard rule in a saved roster: the rule's name (as the model names it) and why, as a reason code.

    `session` is the position, in the roster asked about, of the session that breaks the rule on its own (it is
    no candidate of the month); None when the roster as a whole breaks it (two sessions in one half-day, say).
    """

    rule: str
    reason: Reason
    session: int | None = None

    @classmethod
    def of_session(cls, rule: str, reason: Reason, session: Any, position: int) -> Violation:
        """The session at `position` breaks the rule on its own: the reason, told where (`session` has a candidate's
        expert, slot, township and key)."""
        at = session_at(session.expert, session.slot, session.township, session.key)
        return cls(rule, Reason.of(reason.code, **at, **reason.params), position)

    @classmethod
    def of_roster(cls, rule: str) -> Violation:
        """The roster as a whole breaks the rule: named as the model's diagnosis names it."""
        return cls(rule, Reason.of(ReasonCode.EDIT_BREAKS_RULE, rule=rule))


@dataclass(frozen=True)
class Unmet:
    """Demanded sessions (or a link visit) with no expert, and why, as a reason code with parameters."""

    township: str
    type: str
    specialty: str | None
    sessions: int
    reason: Reason
    member: str | None = None


@dataclass(frozen=True)
class SolveReport:
    status: str  # OPTIMAL | FEASIBLE | INFEASIBLE | MODEL_INVALID | UNKNOWN
    objective: int | None = None
    best_bound: int | None = None
    wall_seconds: float = 0.0
    workers: int = 2
    explanation: str | None = None
    unmet_sessions: int = 0
    unmet_bound: int | None = None  # proven lower bound on unmet demanded sessions
    first_feasible_seconds: float | None = None
    objective_terms: dict[str, int] = field(default_factory=dict)
    clash: Reason | None = None  # why there is no roster at all: the hard rules that clash (INFEASIBLE)

    @property
    def gap(self) -> float | None:
        if self.objective is None or self.best_bound is None:
            return None
        if self.objective == 0:
            return 0.0
        return max(0.0, (self.objective - self.best_bound) / abs(self.objective))


@dataclass(frozen=True)
class Solution:
    month: str
    assignments: tuple[Assignment, ...]
    unmet: tuple[Unmet, ...]
    report: SolveReport


@dataclass(frozen=True)
class RosterDiff:
    """What changed between two versions of a month's roster."""

    added: tuple[Assignment, ...] = ()
    removed: tuple[Assignment, ...] = ()
    moved: tuple[tuple[Assignment, Assignment], ...] = ()  # (before, after), same id

    @property
    def changes(self) -> int:
        return len(self.added) + len(self.removed) + len(self.moved)


def diff_rosters(before: tuple[Assignment, ...] | list[Assignment], after: tuple[Assignment, ...] | list[Assignment]) -> RosterDiff:
    """Compare two versions by assignment id: same id and content = kept, same id new content = moved."""
    old = {a.id: a for a in before}
    new = {a.id: a for a in after}
    added = tuple(a for a in after if a.id not in old)
    removed = tuple(a for a in before if a.id not in new)
    moved = tuple((old[i], new[i]) for i in new if i in old and old[i].content != new[i].content)
    return RosterDiff(added, removed, moved)
