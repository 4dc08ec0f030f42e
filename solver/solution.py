"""The solver's output: assignments, unmet demand with reasons, and how the solve went."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field, replace

from solver.problem import Slot


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
    def content(self) -> tuple:
        """What the assignment is, without its id: used to compare versions."""
        return (self.date, self.half_day, self.township, self.type, self.specialty, self.expert, self.link_visit)

    def with_id(self, assignment_id: str) -> "Assignment":
        return replace(self, id=assignment_id)


def new_assignment_id(month: str, assignment: Assignment, salt: str = "") -> str:
    """A short id derived from what the assignment is (and a salt for a repeat of the same content)."""
    key = "|".join(str(part) for part in (month, *assignment.content, salt))
    return hashlib.blake2b(key.encode(), digest_size=8).hexdigest()


@dataclass(frozen=True)
class Unmet:
    """Demanded sessions (or a link visit) with no expert, and why, in words a person can act on."""

    township: str
    type: str
    specialty: str | None
    sessions: int
    reason: str
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
