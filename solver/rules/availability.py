"""An expert's own limits (rule 4). Availability itself (rule 2) is settled in solver.candidates."""

from __future__ import annotations

from solver.roster_model import RosterModel


def experts_within_monthly_limit(roster: RosterModel) -> None:
    """Rule 4: an expert's sessions of all types in the month stay within max_sessions."""
    for expert in roster.problem.experts:
        indices = roster.candidates.by_expert.get(expert.id)
        if indices:
            roster.add("monthly session limit", roster.total(indices) <= expert.max_sessions)
