"""Who may serve a demand row, and where and when it may be held (rules 1, 2 and 6): settled before the model.

solver.candidates creates no candidate that breaks one of these rules, so the CP-SAT model
never holds a variable that could; every other place that asks whether one assignment is
allowed (`is_candidate` for a re-plan's kept sessions, the greedy baseline, the service's
edit check) calls the same checks. Each rule is a function named as the domain says it,
True when the assignment keeps it, listed with the others that look at the same things;
`NAMED_BREAKS` says, next to the rules, how each names a break and why, as a reason code the service renders;
`SessionRule(rule)` is the rule's explanation of a saved roster (solver.rules.EXPLANATIONS lists them all).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from solver.problem import TITLE_RANK, DemandKey, Expert, Problem, Slot, Township
from solver.solution import Reason, ReasonCode, Violation

# --- the person and the demand row (problem, expert, key) ----------------------------------------


def expert_holds_the_specialty(problem: Problem, expert: Expert, key: DemandKey) -> bool:
    """Rule 1: an expert serves only sessions of a specialty they hold."""
    return key.specialty in expert.specialties


def teaching_needs_the_minimum_title(problem: Problem, expert: Expert, key: DemandKey) -> bool:
    """Rule 6: a teaching session needs the scenario's minimum title (associate chief unless it says otherwise)."""
    return key.type != "teaching" or TITLE_RANK[expert.title] >= TITLE_RANK[problem.rules.teaching_min_title]


# --- the person and the half-day (problem, expert, slot) -----------------------------------------


def only_working_half_days(problem: Problem, expert: Expert, slot: Slot) -> bool:
    """Rule 2: sessions fall only on the month's working half-days (holidays off, make-up days on)."""
    return slot in problem.slot_set


def expert_is_available(problem: Problem, expert: Expert, slot: Slot) -> bool:
    """Rule 2: never on a half-day the expert is unavailable (leave, absence)."""
    return expert.available(slot)


# --- the place, the demand row and the half-day (problem, township, key, slot; key None: supervision) -


def township_is_open(problem: Problem, township: Township, key: DemandKey | None, slot: Slot) -> bool:
    """Rule 2: never on a day the township is closed (flood, outbreak); a supervision visit neither."""
    return slot.day not in township.closed_days


def ward_rounds_need_an_inpatient_ward(problem: Problem, township: Township, key: DemandKey | None, slot: Slot | None) -> bool:
    """Rule 6: a ward round is held only where the township has an inpatient ward."""
    return key is None or key.type != "ward_round" or township.inpatient_ward


def ward_rounds_only_in_the_morning(problem: Problem, township: Township, key: DemandKey | None, slot: Slot) -> bool:
    """Rule 6: a ward round is held only in the scenario's ward-round half-days (mornings unless it says otherwise)."""
    return key is None or key.type != "ward_round" or slot.half_day in problem.rules.ward_round_half_days


PERSON_RULES = (expert_holds_the_specialty, teaching_needs_the_minimum_title)
PRESENCE_RULES = (only_working_half_days, expert_is_available)
PLACE_RULES = (township_is_open, ward_rounds_need_an_inpatient_ward, ward_rounds_only_in_the_morning)
ELIGIBILITY_RULES = PRESENCE_RULES + PLACE_RULES + PERSON_RULES


def can_serve(problem: Problem, expert: Expert, key: DemandKey) -> bool:
    """Rules 1 and 6 for the person: the specialty, and the title a teaching session needs."""
    for rule in PERSON_RULES:
        if not rule(problem, expert, key):
            return False
    return True


def can_be_there(problem: Problem, expert: Expert, slot: Slot) -> bool:
    """Rule 2 for the person: a working half-day of the month on which the expert is available."""
    for rule in PRESENCE_RULES:
        if not rule(problem, expert, slot):
            return False
    return True


def can_host(problem: Problem, township: Township, key: DemandKey | None, slot: Slot) -> bool:
    """Rules 2 and 6 for the place: open that day, and a ward round needs a ward and its half-day."""
    for rule in PLACE_RULES:
        if not rule(problem, township, key, slot):
            return False
    return True


# --- how a break is named and told (the saved roster's check): the rule's name and a reason as data ---

Explain = Callable[[Problem, Expert, Township, Slot, DemandKey | None], Reason]

NAMED_BREAKS: dict[Callable, tuple[str, Explain]] = {
    expert_holds_the_specialty: ("specialty", lambda problem, expert, township, slot, key: Reason.of(ReasonCode.LACKS_THE_SPECIALTY)),
    teaching_needs_the_minimum_title: (
        "teaching title",
        lambda problem, expert, township, slot, key: Reason.of(
            ReasonCode.TITLE_BELOW_TEACHING, title=problem.rules.teaching_min_title, expert_title=expert.title
        ),
    ),
    only_working_half_days: ("working days only", lambda problem, expert, township, slot, key: Reason.of(ReasonCode.NOT_A_WORKING_HALF_DAY)),
    expert_is_available: (
        "expert available", lambda problem, expert, township, slot, key: Reason.of(
            ReasonCode.EXPERT_UNAVAILABLE, why=[expert.blocked[slot]] if expert.blocked.get(slot) else []
        )
    ),
    township_is_open: ("township open", lambda problem, expert, township, slot, key: Reason.of(ReasonCode.TOWNSHIP_CLOSED)),
    ward_rounds_need_an_inpatient_ward: ("ward rounds", lambda problem, expert, township, slot, key: Reason.of(ReasonCode.NO_WARD_FOR_THE_ROUND)),
    ward_rounds_only_in_the_morning: (
        "ward rounds",
        lambda problem, expert, township, slot, key: Reason.of(ReasonCode.WARD_ROUND_HALF_DAY, half_days=sorted(problem.rules.ward_round_half_days)),
    ),
}


_ASKS = {rule: group for group in (PERSON_RULES, PRESENCE_RULES, PLACE_RULES) for rule in group}  # fixed at import


def keeps(rule: Callable, problem: Problem, expert: Expert, township: Township, slot: Slot, key: DemandKey | None) -> bool:
    """Whether one assignment keeps one of the rules, asked about what the rule looks at (a supervision has no row)."""
    group = _ASKS[rule]
    if group is PERSON_RULES:
        return key is None or rule(problem, expert, key)
    if group is PRESENCE_RULES:
        return rule(problem, expert, slot)
    return rule(problem, township, key, slot)


class Session(Protocol):
    """One session of a saved roster, as solver.candidates.Candidate holds it (which asks these rules, so is not imported)."""

    expert: str
    slot: Slot
    township: str
    key: DemandKey | None


Explanation = Callable[[Problem, Mapping[tuple[str, Slot], int], Sequence[Session]], Iterator[Violation]]


@dataclass(frozen=True, eq=False)
class SessionRule:
    """The explanation of one of these rules in a saved roster: each session that breaks it, named as NAMED_BREAKS
    names it, with why and where. A session naming no known expert or township is passed over: the roster's check
    names those itself."""

    rule: Callable

    def __call__(self, problem: Problem, spare: Mapping[tuple[str, Slot], int], sessions: Sequence[Session]) -> Iterator[Violation]:
        for _explanation, violation in each_session((self,), problem, sessions):
            yield violation


def each_session(explanations: Sequence[SessionRule], problem: Problem, sessions: Sequence[Session]) -> Iterator[tuple[SessionRule, Violation]]:
    """The breaks the explanations see, asked in one pass over the roster (each session's expert and township looked
    up once), each with the explanation that saw it."""
    for position, c in enumerate(sessions):
        try:
            expert, township = problem.expert(c.expert), problem.township(c.township)
        except KeyError:
            continue
        for explanation in explanations:
            if not keeps(explanation.rule, problem, expert, township, c.slot, c.key):
                name, why = NAMED_BREAKS[explanation.rule]
                yield explanation, Violation.of_session(name, why(problem, expert, township, c.slot, c.key), c, position)


explain_specialty = SessionRule(expert_holds_the_specialty)
explain_teaching_title = SessionRule(teaching_needs_the_minimum_title)
explain_working_days = SessionRule(only_working_half_days)
explain_availability = SessionRule(expert_is_available)
explain_township_open = SessionRule(township_is_open)
explain_ward = SessionRule(ward_rounds_need_an_inpatient_ward)
explain_ward_half_day = SessionRule(ward_rounds_only_in_the_morning)
