"""Proposals: a step from a roster of its own, built outside CP-SAT and offered as the step's hint.

The townships whose timetables pay more than their part of the bounds (car-days, market days,
spread) are re-packed by solver.timetable, or else the sessions stay as placed; either way each
session goes to its cheapest experts by solver.reassign's min-cost flow. The step frees that
roster and the incumbent together, so CP-SAT keeps the better mix of the two.
"""

from __future__ import annotations

import time

from solver.reassign import cheapest_experts
from solver.search.context import SearchContext
from solver.search.floors import timetable_above_its_floors
from solver.search.groups import sessions_at
from solver.search.kinds import Kind, Step
from solver.timetable import repacked_timetable, staff


def repacked_townships(context: SearchContext, until: float) -> set[int] | None:
    """Every township above its floors (`timetable_above_its_floors`), re-packed in turn on the roster the last one
    left, then the cheapest experts for the whole; None when no township re-packs better. A township settled on
    its sessions as they stand (`context.settled`) is not tried again, and none is started after `until`."""
    problem, candidates, targets = context.problem, context.candidates, context.targets
    incumbent = context.incumbent()
    roster = set(incumbent.chosen)
    townships = context.townships()
    context.rng.shuffle(townships)
    changed = False
    for township in townships:
        if time.monotonic() >= until:
            break
        here = sessions_at(candidates, roster, township)
        if context.settled.holds(township, here) or not timetable_above_its_floors(problem, candidates, township, here):
            continue
        timetable = repacked_timetable(problem, candidates, township, roster, incumbent.visits)
        staffed = staff(problem, candidates, timetable, roster, targets) if timetable is not None else None
        if staffed is None or len(staffed) < len(roster):  # every session staffed, or none moves
            context.settled.note(township, here)
            continue
        roster, changed = staffed, True
    if not changed:
        return None
    return cheapest_experts(problem, candidates, roster, incumbent.visits, targets) or roster


def proposal_step(context: SearchContext, deadline: float) -> Step | None:
    """The re-packed townships (taking at most `repack_share` of the time left), or when none re-packs better, the
    cheapest experts for the sessions as placed; None when neither changes the incumbent."""
    best = context.incumbent()
    kind, roster = Kind.REPACKED_TOWNSHIPS, repacked_townships(context, until=time.monotonic() + context.config.repack_share * (deadline - time.monotonic()))
    if roster is None:
        kind, roster = Kind.CHEAPEST_EXPERTS, cheapest_experts(context.problem, context.candidates, best.chosen, best.visits, context.targets)
    if roster is None or roster == best.chosen:
        return None
    return Step(kind, kind.value, roster | best.chosen, hint=roster)
