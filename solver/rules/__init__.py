"""The rulebook of a monthly roster, in DOMAIN.md's order; `build_model` applies RULES top to bottom.

Rules 1, 2 and 6 (specialty, working days and availability, township open, teaching title,
ward rounds) are ELIGIBILITY_RULES, settled before the model exists: solver.candidates
creates no variable that breaks them, asking the checks of solver.eligibility.

Rules 3, 4, 5, 7 and 9 each also have a fast check beside them, of one more session against a
partial roster (solver.partial_roster): FAST_CHECKS says which rule each check belongs to, and
`fits` asks them all, for everything that builds a roster a session at a time.

Every hard rule has an explanation beside it too: given the month and a saved roster, the breaks
of that rule, each named and told with a reason code (the rules with a fast check replay the
roster through it). EXPLANATIONS lists them, and `explain` asks them all for the service's check
of a saved or edited roster (scheduler.roster_rules).
"""

from collections.abc import Callable, Iterator, Mapping, Sequence
from itertools import chain

from solver.candidates import Candidate
from solver.eligibility import (
    ELIGIBILITY_RULES,
    SessionRule,
    each_session,
    expert_holds_the_specialty,
    expert_is_available,
    explain_availability,
    explain_specialty,
    explain_teaching_title,
    explain_township_open,
    explain_ward,
    explain_ward_half_day,
    explain_working_days,
    only_working_half_days,
    teaching_needs_the_minimum_title,
    township_is_open,
    ward_rounds_need_an_inpatient_ward,
    ward_rounds_only_in_the_morning,
)
from solver.partial_roster import PartialRoster, Replayed, replay
from solver.problem import Problem, Slot
from solver.rules.availability import experts_within_monthly_limit, explain_monthly_limit, within_monthly_limit
from solver.rules.coverage import (
    demand_left,
    explain_demand_cap,
    explain_township_rooms,
    no_more_sessions_than_asked,
    room_left,
    township_rooms_per_half_day,
)
from solver.rules.links import explain_link_visits, link_visits_with_their_team
from solver.rules.objectives import (
    keep_published_assignments,
    load_fair_to_capacity,
    prefer_market_days_and_avoid_weekdays,
    same_expert_returns,
    sessions_spread_across_weeks,
    shared_cars,
    unmet_demand,
)
from solver.rules.office import explain_forced_requests, explain_pins, forced_requests_on_their_days, pinned_assignments_stay
from solver.rules.staffing import department_can_spare, department_keeps_min_on_site, explain_min_on_site
from solver.rules.travel import (
    at_one_township_that_day,
    explain_one_place,
    explain_one_township,
    free_that_half_day,
    one_place_per_half_day,
    one_township_per_day,
)
from solver.solution import Violation

HARD_RULES = (
    one_place_per_half_day,  # 3
    one_township_per_day,  # 3
    experts_within_monthly_limit,  # 4
    township_rooms_per_half_day,  # 5
    department_keeps_min_on_site,  # 7
    link_visits_with_their_team,  # 8 (a visit no roster can hold is reported, not forced)
    no_more_sessions_than_asked,  # 9
    pinned_assignments_stay,  # the office's pins
    forced_requests_on_their_days,  # the office's forced requests
)

SOFT_RULES = (
    unmet_demand,
    load_fair_to_capacity,
    sessions_spread_across_weeks,
    shared_cars,
    same_expert_returns,
    prefer_market_days_and_avoid_weekdays,
    keep_published_assignments,
)

RULES = HARD_RULES + SOFT_RULES

# each fast check -> the hard rule it is the partial-roster form of (cheapest first: `fits` asks in this order)
FAST_CHECKS = {
    free_that_half_day: one_place_per_half_day,  # 3
    within_monthly_limit: experts_within_monthly_limit,  # 4
    at_one_township_that_day: one_township_per_day,  # 3
    department_can_spare: department_keeps_min_on_site,  # 7
    room_left: township_rooms_per_half_day,  # 5
    demand_left: no_more_sessions_than_asked,  # 9
}
_CHECKS = tuple(FAST_CHECKS)


def fits(partial: PartialRoster, c: Candidate) -> bool:
    """True when adding the session to the partial roster keeps rules 3, 4, 5, 7 and 9 (1, 2 and 6 hold for every candidate)."""
    for check in _CHECKS:
        if not check(partial, c):
            return False
    return True


Explanation = Callable[[Problem, Mapping[tuple[str, Slot], int], Sequence[Candidate]], Iterator[Violation]]

# each rule -> its explanation of a saved roster, in the order a session's first break is named: where it can never
# be (2), whose it can never be (4, 8, 9, 1, 6), what its department cannot spare (7), then the roster as a whole
EXPLANATIONS: dict[Callable, Explanation] = {
    only_working_half_days: explain_working_days, expert_is_available: explain_availability, township_is_open: explain_township_open,  # 2
    experts_within_monthly_limit: explain_monthly_limit,  # 4
    link_visits_with_their_team: explain_link_visits,  # 8
    no_more_sessions_than_asked: explain_demand_cap,  # 9
    expert_holds_the_specialty: explain_specialty,  # 1
    teaching_needs_the_minimum_title: explain_teaching_title,  # 6
    ward_rounds_need_an_inpatient_ward: explain_ward, ward_rounds_only_in_the_morning: explain_ward_half_day,  # 6
    department_keeps_min_on_site: explain_min_on_site,  # 7
    one_place_per_half_day: explain_one_place, one_township_per_day: explain_one_township,  # 3
    township_rooms_per_half_day: explain_township_rooms,  # 5
    pinned_assignments_stay: explain_pins, forced_requests_on_their_days: explain_forced_requests,  # the office's levers
}


def explain(problem: Problem, spare: Mapping[tuple[str, Slot], int], sessions: Sequence[Candidate]) -> list[Violation]:
    """The hard rules a saved roster breaks, as EXPLANATIONS tell them (empty: it keeps them all, as far as they see).

    Each session that breaks a rule on its own (no roster of the month could hold it) is named once, with the first
    such rule in EXPLANATIONS' order, in the roster's order; only when there is none, the rules the roster breaks as
    a whole, each once, by name (as the model's diagnosis lists them; a rule told the same way twice, once). `spare`
    is rule 7's bound, solver.candidates.department_spare. The explanations of rules 1, 2 and 6 are asked in one pass
    over the roster, those that replay it through a fast check in one replay.
    """
    order = list(EXPLANATIONS.values())
    rank = {id(explanation): position for position, explanation in enumerate(order)}
    replayed = [e for e in order if isinstance(e, Replayed)]
    per_session = [e for e in order if isinstance(e, SessionRule)]
    found = chain(
        replay(replayed, problem, spare, sessions),
        each_session(per_session, problem, sessions),
        ((e, violation) for e in order if not isinstance(e, (Replayed, SessionRule)) for violation in e(problem, spare, sessions)),
    )
    alone: dict[int, tuple[int, Violation]] = {}
    whole: dict[Violation, None] = {}  # in the order found, each once
    for explanation, violation in found:
        if violation.session is None:
            whole.setdefault(violation)
        elif violation.session not in alone or rank[id(explanation)] < alone[violation.session][0]:
            alone[violation.session] = (rank[id(explanation)], violation)
    if alone:
        return [alone[position][1] for position in sorted(alone)]
    return sorted(whole, key=lambda violation: violation.rule)


__all__ = ["ELIGIBILITY_RULES", "EXPLANATIONS", "FAST_CHECKS", "HARD_RULES", "RULES", "SOFT_RULES", "explain", "fits"]
