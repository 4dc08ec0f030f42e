"""The rulebook of a monthly roster, in DOMAIN.md's order; `build_model` applies RULES top to bottom.

Rules 1, 2 and 6 (specialty, working days and availability, township open, teaching title,
ward rounds) are ELIGIBILITY_RULES, settled before the model exists: solver.candidates
creates no variable that breaks them, asking the checks of solver.eligibility.
"""

from solver.eligibility import ELIGIBILITY_RULES

from solver.rules.availability import experts_within_monthly_limit
from solver.rules.coverage import no_more_sessions_than_asked, township_rooms_per_half_day
from solver.rules.links import link_visits_with_their_team
from solver.rules.objectives import (
    keep_published_assignments,
    load_fair_to_capacity,
    prefer_market_days_and_avoid_weekdays,
    same_expert_returns,
    sessions_spread_across_weeks,
    shared_cars,
    unmet_demand,
)
from solver.rules.staffing import department_keeps_min_on_site
from solver.rules.travel import one_place_per_half_day, one_township_per_day

HARD_RULES = (
    one_place_per_half_day,  # 3
    one_township_per_day,  # 3
    experts_within_monthly_limit,  # 4
    township_rooms_per_half_day,  # 5
    department_keeps_min_on_site,  # 7
    link_visits_with_their_team,  # 8 (a visit no roster can hold is reported, not forced)
    no_more_sessions_than_asked,  # 9
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

__all__ = ["ELIGIBILITY_RULES", "HARD_RULES", "RULES", "SOFT_RULES"]
