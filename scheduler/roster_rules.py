"""Check a hand-edited roster against every hard rule, with the solver's own rulebook.

Each assignment must be one of the solver's candidates (rules 1, 2, 6, availability, closures,
demand that exists); a session that is not is named with the rule it breaks, in the words
solver.eligibility gives each of those rules. The roster is then
pinned as fixed candidates in the CP-SAT model in diagnosis mode, so the model itself names any
rule that clashes (3, 4, 5, 7, 8's supervision days, 9). Link visits (rule 8) must not drop below
what the roster before the edit made.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from scheduler.errors import Conflict
from solver.candidates import Candidates, enumerate_candidates
from solver.eligibility import PERSON_RULES, PLACE_RULES, PRESENCE_RULES, first_broken, township_is_open
from solver.model import build_model
from solver.problem import DemandKey, Problem
from solver.reasons import clashing_rules
from solver.solution import Assignment


@dataclass(frozen=True)
class RuleBreak:
    """One hard rule a roster breaks, and the words that say where."""

    rule: str
    message: str


@dataclass
class RuleBroken(Conflict):
    """An edit refused because the roster it would make breaks hard rules."""

    breaks: list[RuleBreak] = field(default_factory=list)

    def __str__(self) -> str:
        return "the edit breaks a hard rule: " + "; ".join(f"{b.rule}: {b.message}" for b in self.breaks)


def _where(a: Assignment) -> str:
    what = a.type if a.specialty is None else f"{a.type} {a.specialty}"
    return f"{a.expert} at {a.township} on {a.date.isoformat()} {a.half_day} ({what})"


def _not_a_candidate(problem: Problem, a: Assignment) -> RuleBreak:
    """Why an assignment is not among the solver's candidates, as the rule it breaks."""
    experts = {e.id: e for e in problem.experts}
    townships = {t.id: t for t in problem.townships}
    where = _where(a)
    if a.expert not in experts:
        return RuleBreak("known expert", f"{where}: no expert '{a.expert}'")
    if a.township not in townships:
        return RuleBreak("known township", f"{where}: no township '{a.township}'")
    expert, township = experts[a.expert], townships[a.township]
    slot = a.slot
    key = None if a.type == "supervision" or a.specialty is None else DemandKey(a.township, a.type, a.specialty)

    def broken(rules) -> RuleBreak | None:
        found = first_broken(problem, expert, township, slot, key, rules)
        return RuleBreak(found[0], f"{where}: {found[1]}") if found else None

    if found := broken(PRESENCE_RULES + (township_is_open,)):
        return found
    if expert.max_sessions <= 0:
        return RuleBreak("monthly session limit", f"{where}: {a.expert} is not rostered (max_sessions 0)")
    if a.type == "supervision":
        linked = any(link.member == a.expert and link.township == a.township for link in problem.links)
        if not linked or problem.rules.link_visits_per_month <= 0:
            return RuleBreak("supervision only on a visit day", f"{where}: a supervision session is only a link member's visit to a linked township")
        return RuleBreak("department minimum on site", f"{where}: {expert.department} cannot spare anyone that half-day")
    if key is None:
        return RuleBreak("specialty", f"{where}: a {a.type} session needs a specialty")
    if problem.demand.get(key, 0) <= 0:
        return RuleBreak("demand cap", f"{where}: {a.township} asked for no {a.type} sessions of {a.specialty}")
    if found := broken(PERSON_RULES + PLACE_RULES):
        return found
    return RuleBreak("department minimum on site", f"{where}: {expert.department} cannot spare anyone that half-day")


def _as_candidate(a: Assignment) -> tuple:
    key = None if a.type == "supervision" else DemandKey(a.township, a.type, a.specialty or "")
    return (a.expert, a.slot, a.township, key)


def candidate_indices(problem: Problem, candidates: Candidates, assignments: Sequence[Assignment]) -> tuple[set[int], list[RuleBreak]]:
    """The candidate index of each assignment, and a RuleBreak for each that is no candidate (or a repeat)."""
    fixed: set[int] = set()
    breaks: list[RuleBreak] = []
    for a in assignments:
        key = None if a.type == "supervision" else DemandKey(a.township, a.type, a.specialty or "")
        index = candidates.index_of(a.expert, a.slot, a.township, key)
        if index is None:
            breaks.append(_not_a_candidate(problem, a))
        elif index in fixed:
            breaks.append(RuleBreak("one place per half-day", f"{_where(a)} appears twice"))
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


def hard_rule_breaks(problem: Problem, assignments: Sequence[Assignment], before: Sequence[Assignment] | None = None) -> list[RuleBreak]:
    """Every hard rule the roster breaks (empty when it keeps them all); `before` is the roster the edit started from."""
    # Only the rosters' own assignments become candidates: the check never needs the month's others.
    own = [_as_candidate(a) for a in (*assignments, *(before or ()))]
    candidates = enumerate_candidates(problem, keys=(), supervision_townships=(), also=own)
    fixed, breaks = candidate_indices(problem, candidates, assignments)
    if breaks:
        return breaks
    for rule in _clashing_rules(problem, candidates, fixed):
        breaks.append(RuleBreak(rule, f"the edited roster breaks the rule '{rule}'"))
    if breaks:
        return breaks
    if before is not None:
        before_fixed, before_breaks = candidate_indices(problem, candidates, before)
        baseline = _missed_link_visits(problem, candidates, before_fixed) if not before_breaks else None
        missed = _missed_link_visits(problem, candidates, fixed)
        if baseline is not None and missed > baseline:
            breaks.append(RuleBreak("link team minimum", f"the edit leaves {missed - baseline} more link visit(s) unmade (a member or the team minimum is missing)"))
    return breaks


def check_roster(problem: Problem, assignments: Sequence[Assignment], before: Sequence[Assignment] | None = None) -> None:
    """Raise RuleBroken (a Conflict naming the rules) unless the roster keeps every hard rule."""
    breaks = hard_rule_breaks(problem, assignments, before)
    if breaks:
        raise RuleBroken(breaks)

