"""The rulebook of a monthly roster, in DOMAIN.md's order; `build_model` applies RULES top to bottom.

Rules 1, 2 and 6 (specialty, working days and availability, township open, teaching title,
ward rounds) are ELIGIBILITY_RULES, settled before the model exists: solver.candidates
creates no variable that breaks them, asking the checks of solver.eligibility.

Rules 3, 4, 5, 7 and 9 each also have a fast check beside them, of one more session against a
partial roster (solver.partial_roster): FAST_CHECKS says which rule each check belongs to, and
`fits` asks them all, for everything that builds a roster a session at a time.
"""

from solver.candidates import Candidate
from solver.eligibility import ELIGIBILITY_RULES
from solver.partial_roster import PartialRoster

from solver.rules.availability import experts_within_monthly_limit, within_monthly_limit
from solver.rules.coverage import demand_left, no_more_sessions_than_asked, room_left, township_rooms_per_half_day
from solver.rules.links import link_visits_with_their_team
from solver.rules.office import forced_requests_on_their_days, pinned_assignments_stay
from solver.rules.objectives import (
    keep_published_assignments,
    load_fair_to_capacity,
    prefer_market_days_and_avoid_weekdays,
    same_expert_returns,
    sessions_spread_across_weeks,
    shared_cars,
    unmet_demand,
)
from solver.rules.staffing import department_can_spare, department_keeps_min_on_site
from solver.rules.travel import at_one_township_that_day, free_that_half_day, one_place_per_half_day, one_township_per_day

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


__all__ = ["ELIGIBILITY_RULES", "FAST_CHECKS", "HARD_RULES", "RULES", "SOFT_RULES", "fits"]
