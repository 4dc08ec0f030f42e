"""Check a hand-edited roster against every hard rule, with the solver's own rulebook.

Each rule explains its own breaks (solver.rules.EXPLANATIONS, asked through `solver.rules.explain`):
an assignment no roster of the month could hold (rules 1, 2 and 6, an expert not rostered, a row
not asked for, a department that can spare nobody, a supervision that is no link's visit, the same
session twice) is named with the first rule it breaks; a roster whose sessions could each be held
is named with the rules it breaks as a whole (3, 4, 5, 7, 8's visit days, 9, the office's forced
requests). A roster they find nothing in is still pinned as fixed candidates in the CP-SAT model in
diagnosis mode, so the model itself names any clash they did not see. Link visits (rule 8) must
not drop below what the roster before the edit made, and every pin of the office must be held.

Every break is the rule's name and a reason as data (solver.solution.ReasonCode with the session it is
about), rendered in the reader's language by scheduler.reason_text where it is shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ortools.sat.python import cp_model

from scheduler.errors import Conflict
from scheduler.reason_text import reason_text, rule_breaks_text
from solver.candidates import SUPERVISION, Candidates, enumerate_candidates
from solver.model import build_model
from solver.partial_roster import as_candidate
from solver.problem import Pin, Problem, Slot
from solver.reasons import clashing_rules
from solver.rules import explain
from solver.rules.office import PINNED as PIN_RULE
from solver.rules.office import lost_pins as pins_lost_by
from solver.solution import Assignment, Reason, ReasonCode, session_at

UNNAMED_RULE = "hard rules"  # a clash the diagnosis shows without naming its rule


@dataclass(frozen=True)
class RuleBreak:
    """One hard rule a roster breaks (the rule's name, as the model names it) and why, as a reason code with parameters."""

    rule: str
    reason: Reason

    @property
    def message(self) -> str:
        """Where and why in English (logs, `str`); every surface renders `reason` in its reader's language."""
        return reason_text(self.reason, "en")

    def as_json(self) -> dict[str, Any]:
        """The break as data: the rule, its reason code and parameters (no words)."""
        return {"rule": self.rule, "reason_code": str(self.reason.code), "reason_params": self.reason.params_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RuleBreak:
        """The break `as_json` wrote (a job's failure, read back by the process that waited for it)."""
        return cls(str(data["rule"]), Reason.from_json(data.get("reason_code"), data.get("reason_params"), str(data.get("rule", ""))))


@dataclass
class RuleBroken(Conflict):
    """An edit refused because the roster it would make breaks hard rules."""

    breaks: list[RuleBreak] = field(default_factory=list)

    def __str__(self) -> str:
        return rule_breaks_text(self.breaks, "en")

    @property
    def reason(self) -> Reason:
        """The refusal as one reason a row keeps (a declined swap, a forced request left pending): its one break, or the rules."""
        if len(self.breaks) == 1:
            return self.breaks[0].reason
        return Reason.of(ReasonCode.BREAKS_RULES, rules=sorted({b.rule for b in self.breaks}))


def _malformed(problem: Problem, a: Assignment) -> RuleBreak | None:
    """What makes an assignment no session at all (an expert or township that does not exist, a session with no
    specialty), before any rule is asked about it."""
    known = problem.has_expert(a.expert), problem.has_township(a.township)
    if all(known) and (a.type == SUPERVISION or a.specialty is not None):
        return None
    at = session_at(a.expert, a.slot, a.township, None)
    at.update(type=a.type, specialty=a.specialty)
    if not known[0]:
        return RuleBreak("known expert", Reason.of(ReasonCode.UNKNOWN_EXPERT, **at))
    if not known[1]:
        return RuleBreak("known township", Reason.of(ReasonCode.UNKNOWN_TOWNSHIP, **at))
    return RuleBreak("specialty", Reason.of(ReasonCode.SESSION_NEEDS_SPECIALTY, **at))


def explained_breaks(problem: Problem, spare: Mapping[tuple[str, Slot], int], assignments: Sequence[Assignment]) -> list[RuleBreak]:
    """The breaks the rules' own explanations find (solver.rules.explain): each assignment that is no session or that
    no roster of the month could hold, in order; when there is none, the rules the roster breaks as a whole."""
    alone: dict[int, RuleBreak] = {}
    positions, sessions = [], []
    for position, a in enumerate(assignments):
        found = _malformed(problem, a)
        if found is not None:
            alone[position] = found
        else:
            positions.append(position)
            sessions.append(as_candidate(a))
    whole = []
    for violation in explain(problem, spare, sessions):
        if violation.session is None:
            whole.append(RuleBreak(violation.rule, violation.reason))
        else:
            alone[positions[violation.session]] = RuleBreak(violation.rule, violation.reason)
    if alone:
        return [alone[position] for position in sorted(alone)]
    return whole


def candidate_indices(problem: Problem, candidates: Candidates, assignments: Sequence[Assignment]) -> tuple[set[int], list[Assignment]]:
    """The candidate index of each assignment, and the assignments that are no candidate (or a repeat)."""
    fixed: set[int] = set()
    missing: list[Assignment] = []
    for a in assignments:
        index = candidates.index_of(a.expert, a.slot, a.township, a.key)
        if index is None or index in fixed:
            missing.append(a)
        else:
            fixed.add(index)
    return fixed, missing


def _clashing_rules(problem: Problem, candidates: Candidates, fixed: set[int]) -> list[str]:
    """The hard rules the pinned roster breaks, as CP-SAT's sufficient assumptions name them."""
    clashing = clashing_rules(problem, candidates, fixed)
    if clashing is None:
        return []
    return clashing or [UNNAMED_RULE]


def _missed_link_visits(problem: Problem, candidates: Candidates, fixed: set[int]) -> int:
    """How many link visits the pinned roster cannot make (the model picks the visit days it can)."""
    if not problem.links or problem.rules.link_visits_per_month <= 0:
        return 0
    roster = build_model(problem, candidates, free=(), fixed=fixed)
    misses = list(roster.link_misses.values())
    roster.model.minimize(sum(misses))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 10
    status = solver.solve(roster.model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return len(problem.links) * problem.rules.link_visits_per_month
    return int(round(solver.objective_value))


def lost_pins(pins: Sequence[Pin], assignments: Iterable[Assignment]) -> list[RuleBreak]:
    """The office's pins a roster does not hold, each as the clash it is (empty when the roster keeps every pin).

    The model binds a pin only while the month still allows it (scheduler.pins, solver.rules.office), so every
    roster about to be saved, solved or edited, is held against the pins here as well."""
    if not pins:
        return []
    return [RuleBreak(v.rule, v.reason) for v in pins_lost_by(pins, [as_candidate(a) for a in assignments])]


def hard_rule_breaks(problem: Problem, assignments: Sequence[Assignment], before: Sequence[Assignment] | None = None) -> list[RuleBreak]:
    """Every hard rule and pin the roster breaks (empty when it keeps them all); `before` is the roster the edit started from."""
    lost = lost_pins(problem.pins, assignments)
    breaks = _rule_breaks(problem, assignments, before)
    if lost:  # the model names the pin rule; the pins it lost say which sessions
        breaks = [b for b in breaks if b.rule != PIN_RULE]
    return breaks + lost


def _rule_breaks(problem: Problem, assignments: Sequence[Assignment], before: Sequence[Assignment] | None) -> list[RuleBreak]:
    # Only the rosters' own assignments become candidates: the check never needs the month's others.
    own = [(a.expert, a.slot, a.township, a.key) for a in (*assignments, *(before or ()))]
    candidates = enumerate_candidates(problem, keys=(), supervision_townships=(), also=own)
    breaks = explained_breaks(problem, candidates.spare, assignments)
    if breaks:
        return breaks
    fixed, missing = candidate_indices(problem, candidates, assignments)
    if missing:  # every rule's explanation passed them, yet the month holds no such candidate
        return [RuleBreak(UNNAMED_RULE, Reason.of(ReasonCode.EDIT_BREAKS_RULE, rule=UNNAMED_RULE))]
    for rule in _clashing_rules(problem, candidates, fixed):
        breaks.append(RuleBreak(rule, Reason.of(ReasonCode.EDIT_BREAKS_RULE, rule=rule)))
    if breaks:
        return breaks
    if before is not None:
        before_fixed, before_missing = candidate_indices(problem, candidates, before)
        baseline = _missed_link_visits(problem, candidates, before_fixed) if not before_missing else None
        missed = _missed_link_visits(problem, candidates, fixed)
        if baseline is not None and missed > baseline:
            breaks.append(RuleBreak("link team minimum", Reason.of(ReasonCode.LINK_VISITS_LOST, visits=missed - baseline)))
    return breaks


def check_roster(problem: Problem, assignments: Sequence[Assignment], before: Sequence[Assignment] | None = None) -> None:
    """Raise RuleBroken (a Conflict naming the rules) unless the roster keeps every hard rule and pin: the check of every edit."""
    breaks = hard_rule_breaks(problem, assignments, before)
    if breaks:
        raise RuleBroken(breaks)


def check_pins(pins: Sequence[Pin], assignments: Iterable[Assignment]) -> None:
    """Raise RuleBroken naming every pin a solved roster lost (its rules are the model's): reported, never saved."""
    lost = lost_pins(pins, assignments)
    if lost:
        raise RuleBroken(lost)
