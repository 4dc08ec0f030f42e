"""The kinds of neighbourhood the search steps through, and the step each yields."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum


class Kind(Enum):
    """What a step frees; its module in solver.search.neighbourhoods says how and why."""

    WHOLE_TOWNSHIP = "township"  # every candidate at one township
    WHOLE_SPECIALTY = "specialty"  # every candidate of one specialty
    COLLEAGUES = "colleagues"  # a specialty's experts where they serve or served before
    REASSIGN_SPECIALTY = "reassign specialty"  # who serves a specialty's sessions as placed
    REASSIGN_ACROSS = "reassign across specialties"  # who serves a sample of all sessions as placed
    THIN_DAY = "thin day"  # a township's least-used car-day, into its other car-days
    WHOLE_DAYS = "two days"  # two (or three) whole days, at every township
    VISIT = "visit"  # a link visit as one of the member's sessions
    WEEK = "week"  # one week at some townships
    UNMET = "unmet"  # who could serve an unmet demand row, with the rows they serve now
    CHAINS = "chains"  # no CP-SAT: placed sessions moved along augmenting chains to cover short rows (solver.augment)
    REPACKED_TOWNSHIPS = "repacked townships"  # a roster of its own: the townships above their floors re-packed
    CHEAPEST_EXPERTS = "cheapest experts"  # a roster of its own: each session to its cheapest experts

    @property
    def frees_exactly(self) -> bool:
        """Whether a step of this kind keeps all it frees (never sampled down to `max_free`): a sample would not hold its trade."""
        return self is Kind.WHOLE_DAYS


class Scope(Enum):
    """Where a soft neighbourhood is taken: one of its steps per township, specialty, link visit or week, or for the month."""

    TOWNSHIP = "township"
    SPECIALTY = "specialty"
    LINK = "link"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True)
class Step:
    """One step: the candidates it frees and, for a step from another roster, that roster as the hint."""

    kind: Kind
    label: str  # for progress lines: the kind and where, e.g. "two days t03"
    free: set[int]
    hint: set[int] | None = None  # None: the incumbent is the hint

    @property
    def frees_exactly(self) -> bool:
        """A step from another roster, or of a kind that must not be sampled, frees exactly what it needs."""
        return self.hint is not None or self.kind.frees_exactly


@dataclass(frozen=True)
class Option:
    """A soft step of a round, not yet taken: what it would free is computed when its turn comes (the incumbent moves)."""

    kind: Kind
    label: str
    free: Callable[[], set[int]]

    def take(self) -> Step:
        """The step as the incumbent now stands."""
        return Step(self.kind, self.label, self.free())
