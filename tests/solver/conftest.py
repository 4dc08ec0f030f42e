"""Builders for the solver's tests, in one place: tiny problems, roster entries, and the rule verifier.

The verifier is the ConstraintVerifier habit adapted to CP-SAT: `verify(rule, problem)` builds a
model with that rule ALONE (no engine, bounds or start), `.given(...)` fixes a hand-made roster
in it (every other candidate is left out), and the verdict says whether the roster keeps the
rule (`keeps()`, `breaks()`) and what it costs (`penalizes(family, amount)`). A binding
expectation that fails raises `RuleDidNotBind`, so the rule-removal check can tell "the rule
was missed" from any other failure.

Rules 1, 2 and 6 (solver.eligibility) are settled by the candidate list, not the model: for
them `given(...)` asks the fast checks (`can_serve`, `can_be_there`, `can_host`) with only
that rule on, and the month's enumeration and `is_candidate` (the re-plan's test of one
session) must agree with them.

The fast checks of rules 3, 4, 5, 7 and 9 (one more session against a partial roster,
`solver.rules.FAST_CHECKS`) have a verifier of the same kind: `fast_check(check, problem)
.given(*roster).refuses(entry) / .admits(entry)` asks the check, `solver.rules.fits` (which
must ask it) and the CP-SAT model of the check's rule alone with roster and entry fixed; all
three must say the same.

Each rule's explanation of a saved roster (`solver.rules.EXPLANATIONS`) has one too:
`explained(rule, problem).breaks(*roster, code=...)` / `.keeps(*roster)` asks the explanation,
and, where they can be asked, the independent checker under the rule's number and the model of
the rule alone; all must agree.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from ortools.sat.python import cp_model

import solver.eligibility as eligibility
from solver.candidates import Candidate, department_spare, enumerate_candidates, is_candidate
from solver.model import build_model
from solver.problem import DemandKey, Department, Expert, Link, Problem, Rules, Slot, Township
from solver.roster_model import RosterModel
from solver.partial_roster import PartialRoster
from solver.rules import ELIGIBILITY_RULES, EXPLANATIONS, FAST_CHECKS, RULES, explain, fits
from solver.rules.availability import experts_within_monthly_limit
from solver.rules.coverage import no_more_sessions_than_asked, township_rooms_per_half_day
from solver.rules.staffing import department_keeps_min_on_site
from solver.rules.travel import one_place_per_half_day, one_township_per_day
from solver.solution import Assignment, ReasonCode, Solution, SolveReport, Violation, new_assignment_id
from tests.solver.checker import violations

MON, TUE, WED, THU = dt.date(2027, 3, 1), dt.date(2027, 3, 2), dt.date(2027, 3, 3), dt.date(2027, 3, 4)
SAT = dt.date(2027, 3, 6)
NEXT_MON, NEXT_TUE = dt.date(2027, 3, 8), dt.date(2027, 3, 9)

Rule = Callable[[RosterModel], None]
Entry = tuple[str, Slot, str, DemandKey | None]  # (expert, half-day, township, demand row or None for supervision)


# --- problems ----------------------------------------------------------------------------------


def expert(expert_id: str, specialties: Iterable[str] = ("cardio",), title: str = "chief", max_sessions: int = 4, department: str = "d", **changes) -> Expert:
    """An expert of department `d`, a chief with four sessions unless told otherwise."""
    return Expert(expert_id, department, title, frozenset(specialties), max_sessions, **changes)


def cardiologist(expert_id: str, max_sessions: int = 4, department: str = "d", title: str = "chief", **changes) -> Expert:
    """A cardiologist (the specialty every tiny case asks for)."""
    return expert(expert_id, ("cardio",), title, max_sessions, department, **changes)


def member(member_id: str = "M", max_sessions: int = 2, **changes) -> Expert:
    """A non-clinical party-committee member: no specialty, department `admin`."""
    return expert(member_id, (), "chief", max_sessions, "admin", **changes)


def township(township_id: str = "t1", rooms: int = 1, ward: bool = False, **changes) -> Township:
    """A township with one room and no ward unless told otherwise."""
    return Township(township_id, rooms=rooms, inpatient_ward=ward, **changes)


def slots_of(*days: dt.date, halves: tuple[str, ...] = ("am",)) -> tuple[Slot, ...]:
    """The working half-days of the given days."""
    return tuple(Slot(day, half) for day in days for half in halves)


def clinic(township_id: str = "t1", specialty: str = "cardio", kind: str = "clinic") -> DemandKey:
    """A demand row: a cardiology clinic at t1 unless told otherwise."""
    return DemandKey(township_id, kind, specialty)


def make_problem(
    experts: Iterable[Expert],
    townships: Iterable[Township],
    demand: dict[DemandKey, int],
    slots: tuple[Slot, ...] = slots_of(MON),
    departments: Iterable[Department] | None = None,
    links: Iterable[Link] = (),
    rules: Rules = Rules(),
) -> Problem:
    """A month of March 2027 with the given people and places; every department keeps nobody on site unless told."""
    experts = tuple(experts)
    if departments is None:
        departments = tuple(Department(code, 0) for code in sorted({e.department for e in experts}))
    return Problem("2027-03", slots, experts, tuple(townships), tuple(departments), dict(demand), tuple(links), rules)


# --- roster entries ----------------------------------------------------------------------------


def session(expert_id: str, day: dt.date, township_id: str = "t1", kind: str = "clinic", specialty: str = "cardio", half: str = "am") -> Entry:
    """One session of a hand-made roster."""
    return (expert_id, Slot(day, half), township_id, DemandKey(township_id, kind, specialty))


def supervision(member_id: str, day: dt.date, township_id: str = "t1", half: str = "am") -> Entry:
    """A linked member's supervision session (it consumes no demand and no room)."""
    return (member_id, Slot(day, half), township_id, None)


# --- the registry of each rule's own test --------------------------------------------------------


def own_test_of(registry: dict[Callable, Callable[[], None]]) -> Callable[[Callable], Callable]:
    """A decorator factory: `@own_test_of(REGISTRY)(rule)` registers a test as THE test of `rule` (meta-tests read it)."""

    def of(rule: Callable) -> Callable:
        def register(test: Callable[[], None]) -> Callable[[], None]:
            assert rule not in registry, f"{rule.__name__} has two tests"
            registry[rule] = test
            return test

        return register

    return of


# --- the rule verifier -------------------------------------------------------------------------


# The number each hard rule has in DOMAIN.md, for the independent checker (tests/solver/checker.py)
# to be asked the same question: a roster the rule refuses must be one it reports, and one the
# rule keeps must be one it does not. (Rule 8's reading needs unmet rows, so it is left to part two.)
DOMAIN_NUMBER: dict[Callable, int] = {
    eligibility.expert_holds_the_specialty: 1,
    eligibility.only_working_half_days: 2,
    eligibility.expert_is_available: 2,
    eligibility.township_is_open: 2,
    one_place_per_half_day: 3,
    one_township_per_day: 3,
    experts_within_monthly_limit: 4,
    township_rooms_per_half_day: 5,
    eligibility.teaching_needs_the_minimum_title: 6,
    eligibility.ward_rounds_need_an_inpatient_ward: 6,
    eligibility.ward_rounds_only_in_the_morning: 6,
    department_keeps_min_on_site: 7,
    no_more_sessions_than_asked: 9,
}


class RuleDidNotBind(AssertionError):
    """A roster that should break a rule, or cost something under it, did not."""


@dataclass
class _Dropping:
    rule: Rule | None = None
    base: str = "alone"  # "alone": the model of the rule under test; "all": every rule of RULES


_dropping = _Dropping()


@contextlib.contextmanager
def rule_dropped(rule: Rule, base: str = "alone") -> Iterator[None]:
    """While open, `verify` builds its models without `rule`: from the rule alone, or from all of RULES."""
    assert base in ("alone", "all")
    _dropping.rule, _dropping.base = rule, base
    try:
        yield
    finally:
        _dropping.rule, _dropping.base = None, "alone"


@dataclass
class Verdict:
    """What the model said about one hand-made roster."""

    rule: Rule
    roster: tuple[Entry, ...]
    kept: bool  # False: the model with the roster fixed is infeasible
    penalties: Counter  # family -> amount (unweighted)
    alone: bool
    problem: Problem | None = None

    def _name(self) -> str:
        return f"{self.rule.__name__} given {[_show(entry) for entry in self.roster]}"

    def _checker_lines(self) -> list[str] | None:
        """What the independent checker reports under the rule's DOMAIN.md number (None: a rule it is not asked about)."""
        number = DOMAIN_NUMBER.get(self.rule)
        if number is None or self.problem is None:
            return None
        return [line for line in violations(self.problem, _as_solution(self.problem, self.roster)) if line.startswith(f"rule {number} ")]

    def breaks(self) -> Verdict:
        """The roster breaks the rule: the model with it fixed is infeasible."""
        if self.kept:
            raise RuleDidNotBind(f"{self._name()}: expected the rule to refuse the roster, the model accepted it")
        seen = self._checker_lines()
        assert seen is None or seen, f"{self._name()}: the model refuses it, the independent checker sees no break"
        return self

    def keeps(self) -> Verdict:
        """The roster keeps the rule (and, for a rule alone, costs nothing under it)."""
        assert self.kept, f"{self._name()}: expected the roster to keep the rule, the model refused it"
        seen = self._checker_lines()
        assert not seen, f"{self._name()}: the model keeps it, the independent checker reports {seen}"
        costs = {family: amount for family, amount in self.penalties.items() if amount}
        if self.alone:
            assert not costs, f"{self._name()}: expected no cost, got {costs}"
        return self

    def penalizes(self, family: str, amount: int) -> Verdict:
        """The roster keeps the hard rules and costs `amount` (before weights) in the soft family `family`."""
        assert self.kept, f"{self._name()}: expected a cost of {amount} {family}, the model refused the roster"
        found = self.penalties.get(family, 0)
        if amount and found == 0:
            raise RuleDidNotBind(f"{self._name()}: expected {amount} {family}, got none")
        assert found == amount, f"{self._name()}: expected {amount} {family}, got {found}"
        if self.alone:
            others = {name: value for name, value in self.penalties.items() if name != family and value}
            assert not others, f"{self._name()}: the rule alone priced other families {others}"
        return self


@dataclass
class _Verification:
    rule: Rule
    problem: Problem
    previous: tuple[Entry, ...]
    stability_weight: int

    def given(self, *roster: Entry) -> Verdict:
        """Fix the roster (exactly these sessions, nothing else) in the model and read the verdict."""
        return judge(self.rule, self.problem, roster, previous=self.previous, stability_weight=self.stability_weight)


def verify(rule: Rule, problem: Problem, previous: Iterable[Entry] = (), stability_weight: int = 0) -> _Verification:
    """Start a check of one rule on a problem (a re-plan's previous roster and its stability weight, when given)."""
    return _Verification(rule, problem, tuple(previous), stability_weight)


def judge(rule: Rule, problem: Problem, roster: Iterable[Entry], previous: Iterable[Entry] = (), stability_weight: int = 0) -> Verdict:
    """Build the model of `rule` alone (or of RULES, when a removal check says so) with the roster fixed, and solve it."""
    roster = tuple(roster)
    alone = _dropping.base == "alone"
    if rule in ELIGIBILITY_RULES:
        return _judge_eligibility(rule, problem, roster, alone)
    rules = [rule] if alone else list(RULES)
    rules = [r for r in rules if r is not _dropping.rule]
    candidates = enumerate_candidates(problem)
    fixed = [_index(candidates, entry) for entry in roster]
    assert len(set(fixed)) == len(fixed), f"a roster entry is given twice: {roster}"
    model = build_model(
        problem, candidates, free=(), fixed=fixed, previous=[_index(candidates, entry) for entry in previous],
        stability_weight=stability_weight, rules=rules,
    )
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 10
    status = solver.solve(model.model)
    if status == cp_model.INFEASIBLE:
        return Verdict(rule, roster, False, Counter(), alone, problem)
    assert status == cp_model.OPTIMAL, solver.status_name(status)
    penalties: Counter = Counter()
    for penalty in model.penalties:
        expression = penalty.expression
        penalties[penalty.family] += expression if isinstance(expression, int) else solver.value(expression)
    return Verdict(rule, roster, True, penalties, alone, problem)


@contextlib.contextmanager
def _eligibility_checked(rules: Iterable[Callable]) -> Iterator[None]:
    """While open, solver.eligibility checks only the given rules (each group keeps its order)."""
    kept = set(rules)
    groups = {name: getattr(eligibility, name) for name in ("PERSON_RULES", "PRESENCE_RULES", "PLACE_RULES")}
    try:
        for name, group in groups.items():
            setattr(eligibility, name, tuple(r for r in group if r in kept))
        yield
    finally:
        for name, group in groups.items():
            setattr(eligibility, name, group)


def _judge_eligibility(rule: Callable, problem: Problem, roster: tuple[Entry, ...], alone: bool) -> Verdict:
    """The fast checks of solver.eligibility with only `rule` on; the candidate list and `is_candidate` must agree."""
    rules = [rule] if alone else list(ELIGIBILITY_RULES)
    with _eligibility_checked(r for r in rules if r is not _dropping.rule):
        candidates = enumerate_candidates(problem)
        spare = department_spare(problem)
        kept = True
        for entry in roster:
            expert_id, slot, township_id, key = entry
            expert, place = problem.expert(expert_id), problem.township(township_id)
            fits = (
                eligibility.can_be_there(problem, expert, slot)
                and eligibility.can_host(problem, place, key, slot)
                and (key is None or eligibility.can_serve(problem, expert, key))
            )
            listed = candidates.index_of(*entry) is not None
            if not fits:
                assert not listed and not is_candidate(problem, spare, *entry), f"{_show(entry)}: a use of the rules lets it through"
            elif slot in problem.slot_set:  # the enumeration walks the month's half-days only
                assert listed and is_candidate(problem, spare, *entry), f"{_show(entry)}: keeps the rules yet is no candidate"
            kept = kept and fits
    return Verdict(rule, roster, kept, Counter(), alone, problem)


def _index(candidates, entry: Entry) -> int:
    index = candidates.index_of(*entry)
    assert index is not None, f"{_show(entry)} is no candidate of the problem (rules 1, 2 and 6 are settled there)"
    return index


def _as_solution(problem: Problem, roster: Iterable[Entry]) -> Solution:
    """The hand-made roster as a saved roster would hold it (a supervision carries its visit)."""
    assignments = []
    for n, (expert_id, slot, township_id, key) in enumerate(roster):
        kind, specialty = (key.type, key.specialty) if key is not None else ("supervision", None)
        assignment = Assignment(slot.day, slot.half_day, township_id, kind, specialty, expert_id, key is None)
        assignments.append(assignment.with_id(new_assignment_id(problem.month, assignment, salt=str(n))))
    return Solution(problem.month, tuple(assignments), (), SolveReport("FEASIBLE"))


def _show(entry: Entry) -> str:
    expert_id, slot, township_id, key = entry
    what = f"{key.type}/{key.specialty}" if key is not None else "supervision"
    return f"{expert_id} {slot} {township_id} {what}"


# --- the fast checks' verifier -----------------------------------------------------------------


def partial_roster(problem: Problem, *roster: Entry) -> PartialRoster:
    """A hand-made partial roster of the problem holding exactly these sessions."""
    return PartialRoster.of(problem, department_spare(problem), (Candidate(-1, *entry) for entry in roster))


@dataclass
class _FastCheck:
    check: Callable[[PartialRoster, Candidate], bool]
    problem: Problem
    roster: tuple[Entry, ...] = ()

    def given(self, *roster: Entry) -> _FastCheck:
        """The partial roster the next session is asked against (it must keep the check's rule itself)."""
        assert judge(FAST_CHECKS[self.check], self.problem, roster).kept, f"the roster {[_show(e) for e in roster]} breaks the rule already"
        return _FastCheck(self.check, self.problem, tuple(roster))

    def _asked(self, entry: Entry) -> tuple[bool, bool, bool]:
        partial = partial_roster(self.problem, *self.roster)
        candidate = Candidate(-1, *entry)
        model = judge(FAST_CHECKS[self.check], self.problem, self.roster + (entry,)).kept
        return self.check(partial, candidate), fits(partial, candidate), model

    def _name(self, entry: Entry) -> str:
        return f"{self.check.__name__} of {_show(entry)} given {[_show(e) for e in self.roster]}"

    def refuses(self, entry: Entry) -> None:
        """The check refuses the session, `fits` too, and the rule's model refuses the roster with it."""
        check, fitted, model = self._asked(entry)
        assert not model, f"{self._name(entry)}: the case is wrong, the rule's model keeps the roster with it"
        if check or fitted:
            raise RuleDidNotBind(f"{self._name(entry)}: the rule refuses it, yet the check said {check} and fits {fitted}")

    def admits(self, entry: Entry) -> None:
        """The check admits the session, `fits` too, and the rule's model keeps the roster with it."""
        check, fitted, model = self._asked(entry)
        assert model, f"{self._name(entry)}: the case is wrong, the rule's model refuses the roster with it"
        assert check and fitted, f"{self._name(entry)}: the rule keeps it, yet the check said {check} and fits {fitted}"


def fast_check(check: Callable[[PartialRoster, Candidate], bool], problem: Problem) -> _FastCheck:
    """Start a check of one fast check (an entry of solver.rules.FAST_CHECKS) on a problem."""
    assert check in FAST_CHECKS, f"{check.__name__} is no fast check of solver.rules"
    return _FastCheck(check, problem)


# --- the explanations' verifier ----------------------------------------------------------------


@dataclass
class _Explained:
    rule: Callable
    problem: Problem

    def violations(self, *roster: Entry) -> list[Violation]:
        """What the rule's own explanation says of the roster."""
        sessions = [Candidate(-1, *entry) for entry in roster]
        return list(EXPLANATIONS[self.rule](self.problem, department_spare(self.problem), sessions))

    def _name(self, roster: tuple[Entry, ...]) -> str:
        return f"the explanation of {self.rule.__name__} given {[_show(entry) for entry in roster]}"

    def _checker_lines(self, roster: tuple[Entry, ...]) -> list[str] | None:
        number = DOMAIN_NUMBER.get(self.rule)
        if number is None:
            return None
        return [line for line in violations(self.problem, _as_solution(self.problem, roster)) if line.startswith(f"rule {number} ")]

    def _model_keeps(self, roster: tuple[Entry, ...]) -> bool | None:
        """The model of the rule alone with the roster fixed (None: a session is no candidate, or given twice)."""
        candidates = enumerate_candidates(self.problem)
        found = [candidates.index_of(*entry) for entry in roster]
        if None in found or len(set(found)) < len(found) or self.rule not in (*RULES, *ELIGIBILITY_RULES):
            return None
        return judge(self.rule, self.problem, roster).kept

    def breaks(self, *roster: Entry, code: ReasonCode, alone: bool) -> list[Violation]:
        """The explanation names the rule's break with `code`, of one session on its own (`alone`) or of the roster."""
        found = self.violations(*roster)
        if not found:
            raise RuleDidNotBind(f"{self._name(roster)}: expected a break, the explanation saw none")
        assert all(v.reason.code is code for v in found), f"{self._name(roster)}: expected {code}, got {found}"
        assert all((v.session is not None) is alone for v in found), f"{self._name(roster)}: {'alone' if alone else 'whole'}? {found}"
        assert explain(self.problem, department_spare(self.problem), [Candidate(-1, *entry) for entry in roster]), "explain misses it"
        seen = self._checker_lines(roster)
        assert seen is None or seen, f"{self._name(roster)}: the explanation names {found}, the independent checker sees no break"
        assert self._model_keeps(roster) is not True, f"{self._name(roster)}: the explanation names {found}, the rule's model keeps it"
        return found

    def keeps(self, *roster: Entry) -> None:
        """The explanation sees no break of the rule in the roster."""
        found = self.violations(*roster)
        assert not found, f"{self._name(roster)}: expected no break, got {found}"
        seen = self._checker_lines(roster)
        assert not seen, f"{self._name(roster)}: the explanation sees nothing, the independent checker reports {seen}"
        assert self._model_keeps(roster) is not False, f"{self._name(roster)}: the explanation sees nothing, the rule's model refuses it"


def explained(rule: Callable, problem: Problem) -> _Explained:
    """Start a check of one rule's explanation (an entry of solver.rules.EXPLANATIONS) on a problem."""
    assert rule in EXPLANATIONS, f"{rule.__name__} has no explanation in solver.rules"
    return _Explained(rule, problem)
