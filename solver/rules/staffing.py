"""The county hospital stays staffed while its experts are away (rule 7)."""

from __future__ import annotations

from solver.roster_model import RosterModel


def department_keeps_min_on_site(roster: RosterModel) -> None:
    """Rule 7: per half-day, a department's experts away never exceed its available experts minus min_on_site."""
    for (department, slot), indices in roster.candidates.by_department_slot.items():
        spare = roster.candidates.spare.get((department, slot), 0)
        roster.add("department minimum on site", roster.total(indices) <= spare)
