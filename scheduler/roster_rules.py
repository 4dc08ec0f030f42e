"""Check a hand-edited roster against every hard rule, with the solver's own rulebook.

Each assignment must be one of the solver's candidates (rules 1, 2, 6, availability, closures,
demand that exists); a session that is not is named with the rule it breaks, in the words
solver.eligibility gives each of those rules. The roster is then
pinned as fixed candidates in the CP-SAT model in diagnosis mode, so the model itself names any
rule that clashes (3, 4, 5, 7, 8's supervision days, 9). Link visits (rule 8) must not drop below
what the roster before the edit made, and every pin of the office must be held.

Every break is the rule's name and a reason as data (solver.solution.ReasonCode with the session it is
about), rendered in the reader's language by scheduler.reason_text where it is shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ortools.sat.python import cp_model

from scheduler.errors import Conflict
from scheduler.reason_text import reason_text, rule_breaks_text
from solver.candidates import Candidates, enumerate_candidates
from solver.eligibility import PERSON_RULES, PLACE_RULES, PRESENCE_RULES, first_broken, township_is_open
from solver.model import build_model
from solver.problem import DemandKey, Pin, Problem
from solver.reasons import clashing_rules
from solver.solution import Assignment, Reason, ReasonCode


PIN_RULE = "pinned assignment"  # the model's name of the office's pins (solver.rules.office)


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


def session_at(a: Assignment) -> dict[str, Any]:
    """The parameters that say which session a break is about (the `{at}` of the rule-break reasons)."""
    return {"expert": a.expert, "township": a.township, "date": a.date, "half_day": a.half_day, "type": a.type, "specialty": a.specialty}


def _break(rule: str, code: ReasonCode, a: Assignment, **params: Any) -> RuleBreak:
    return RuleBreak(rule, Reason.of(code, **session_at(a), **params))


def _not_a_candidate(problem: Problem, a: Assignment) -> RuleBreak:
    """Why an assignment is not among the solver's candidates, as the rule it breaks."""
    experts = {e.id: e for e in problem.experts}
    townships = {t.id: t for t in problem.townships}
    if a.expert not in experts:
        return _break("known expert", ReasonCode.UNKNOWN_EXPERT, a)
    if a.township not in townships:
        return _break("known township", ReasonCode.UNKNOWN_TOWNSHIP, a)
    expert, township = experts[a.expert], townships[a.township]
    slot = a.slot
    key = None if a.type == "supervision" or a.specialty is None else DemandKey(a.township, a.type, a.specialty)

    def broken(rules) -> RuleBreak | None:
        found = first_broken(problem, expert, township, slot, key, rules)
        return RuleBreak(found[0], Reason.of(found[1].code, **session_at(a), **found[1].params)) if found else None

    if found := broken(PRESENCE_RULES + (township_is_open,)):
        return found
    if expert.max_sessions <= 0:
        return _break("monthly session limit", ReasonCode.EXPERT_NOT_ROSTERED, a)
    if a.type == "supervision":
        linked = any(link.member == a.expert and link.township == a.township for link in problem.links)
        if not linked or problem.rules.link_visits_per_month <= 0:
            return _break("supervision only on a visit day", ReasonCode.SUPERVISION_NOT_A_VISIT, a)
        return _break("department minimum on site", ReasonCode.DEPARTMENT_CANNOT_SPARE, a, department=expert.department)
    if key is None:
        return _break("specialty", ReasonCode.SESSION_NEEDS_SPECIALTY, a)
    if problem.demand.get(key, 0) <= 0:
        return _break("demand cap", ReasonCode.NOT_DEMANDED, a)
    if found := broken(PERSON_RULES + PLACE_RULES):
        return found
    return _break("department minimum on site", ReasonCode.DEPARTMENT_CANNOT_SPARE, a, department=expert.department)


def _as_candidate(a: Assignment) -> tuple:
    return (a.expert, a.slot, a.township, a.key)


def candidate_indices(problem: Problem, candidates: Candidates, assignments: Sequence[Assignment]) -> tuple[set[int], list[RuleBreak]]:
    """The candidate index of each assignment, and a RuleBreak for each that is no candidate (or a repeat)."""
    fixed: set[int] = set()
    breaks: list[RuleBreak] = []
    for a in assignments:
        index = candidates.index_of(a.expert, a.slot, a.township, a.key)
        if index is None:
            breaks.append(_not_a_candidate(problem, a))
        elif index in fixed:
            breaks.append(_break("one place per half-day", ReasonCode.BOOKED_TWICE, a))
        else:
            fixed.add(index)
    return fixed, breaks


def _clashing_rules(problem: Problem, candidates: Candidates, fixed: set[int]) -> list[str]:
    """The hard rules the pinned roster breaks, as CP-SAT's sufficient assumptions name them."""
    clashing = clashing_rules(problem, candidates, fixed)
    if clashing is None:
        return []
    return clashing or ["hard rules"]


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
    held = {(a.expert, a.slot, a.township, a.key) for a in assignments}
    return [
        RuleBreak(PIN_RULE, Reason.of(
            ReasonCode.PIN_LOST, expert=pin.expert, township=pin.township, date=pin.slot.day, half_day=pin.slot.half_day,
            type="supervision" if pin.key is None else pin.key.type, specialty=None if pin.key is None else pin.key.specialty,
        ))
        for pin in pins
        if tuple(pin) not in held
    ]


def hard_rule_breaks(problem: Problem, assignments: Sequence[Assignment], before: Sequence[Assignment] | None = None) -> list[RuleBreak]:
    """Every hard rule and pin the roster breaks (empty when it keeps them all); `before` is the roster the edit started from."""
    lost = lost_pins(problem.pins, assignments)
    breaks = _rule_breaks(problem, assignments, before)
    if lost:  # the model names the pin rule; the pins it lost say which sessions
        breaks = [b for b in breaks if b.rule != PIN_RULE]
    return breaks + lost


def _rule_breaks(problem: Problem, assignments: Sequence[Assignment], before: Sequence[Assignment] | None) -> list[RuleBreak]:
    # Only the rosters' own assignments become candidates: the check never needs the month's others.
    own = [_as_candidate(a) for a in (*assignments, *(before or ()))]
    candidates = enumerate_candidates(problem, keys=(), supervision_townships=(), also=own)
    fixed, breaks = candidate_indices(problem, candidates, assignments)
    if breaks:
        return breaks
    for rule in _clashing_rules(problem, candidates, fixed):
        breaks.append(RuleBreak(rule, Reason.of(ReasonCode.EDIT_BREAKS_RULE, rule=rule)))
    if breaks:
        return breaks
    if before is not None:
        before_fixed, before_breaks = candidate_indices(problem, candidates, before)
        baseline = _missed_link_visits(problem, candidates, before_fixed) if not before_breaks else None
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
