"""Why demand went unmet, and which hard rules clash, in words the medical affairs office can act on."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Collection

from ortools.sat.python import cp_model

from solver.candidates import Candidates, can_serve
from solver.problem import DemandKey, Expert, Problem
from solver.solution import Unmet

TYPE_WORDS = {"clinic": "clinic", "teaching": "teaching", "ward_round": "ward-round"}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _days(days: list[dt.date]) -> str:
    """'10th-14th' style ranges of days of the month."""
    if not days:
        return ""
    days = sorted(set(days))
    runs, start, last = [], days[0], days[0]
    for day in days[1:]:
        if (day - last).days == 1:
            last = day
            continue
        runs.append((start, last))
        start = last = day
    runs.append((start, last))
    return ", ".join(f"{a.day}" if a == b else f"{a.day}-{b.day}" for a, b in runs)


def _names(experts: list[Expert], limit: int = 4) -> str:
    shown = ", ".join(e.id for e in experts[:limit])
    return shown + (f" and {len(experts) - limit} more" if len(experts) > limit else "")


def _demand_reason(problem: Problem, candidates: Candidates, key: DemandKey, missing: int, chosen: set[int], load: Counter) -> str:
    township = problem.township(key.township)
    specialty = problem.specialty_names.get(key.specialty, key.specialty)
    what = f"{specialty} ({key.specialty}) {TYPE_WORDS.get(key.type, key.type)}"
    if key.type == "ward_round" and not township.inpatient_ward:
        return f"{township.id} has no inpatient ward, so no ward round can be held there"
    open_slots = [s for s in problem.slots if s.day not in township.closed_days]
    if key.type == "ward_round":
        open_slots = [s for s in open_slots if s.half_day in problem.rules.ward_round_half_days]
    if not open_slots:
        return f"{township.id} has no open working half-day this month for {what} sessions"
    holders = [e for e in problem.experts if key.specialty in e.specialties]
    if not holders:
        return f"no expert holds the specialty {specialty} ({key.specialty})"
    eligible = [e for e in holders if can_serve(problem, e, key)]
    if not eligible:
        return f"teaching needs the title {problem.rules.teaching_min_title} or above, and none of the {_plural(len(holders), 'expert')} holding {key.specialty} has it"
    rostered = [e for e in eligible if e.max_sessions > 0]
    if not rostered:
        return f"all {_plural(len(eligible), 'eligible expert')} ({_names(eligible)}) have max_sessions 0"
    on_leave, at_limit, kept_home, busy = [], [], [], []
    leave_days: list[dt.date] = []
    for expert in rostered:
        free = [s for s in open_slots if expert.available(s)]
        if not free:
            on_leave.append(expert)
            leave_days.extend(s.day for s in open_slots)
        elif load[expert.id] >= expert.max_sessions:
            at_limit.append(expert)
        elif all(candidates.spare.get((expert.department, s), 0) <= 0 for s in free):
            kept_home.append(expert)
        else:
            busy.append(expert)
    parts = []
    if at_limit:
        parts.append(f"{len(at_limit)} at their monthly limit ({_names(at_limit)})")
    if on_leave:
        reasons = sorted({r for e in on_leave for r in e.blocked.values()})
        parts.append(f"{len(on_leave)} unavailable on every open day ({_names(on_leave)}: {', '.join(reasons) or 'leave'})")
    if kept_home:
        parts.append(f"{len(kept_home)} needed at the hospital by their department's minimum on site ({_names(kept_home)})")
    if busy:
        parts.append(
            f"{len(busy)} with free half-days taken by other sessions, full rooms at {township.id}, or their department's minimum ({_names(busy)})"
        )
    return f"{_plural(missing, what + ' session')} at {township.id} unfilled: of {_plural(len(rostered), 'eligible expert')}, " + "; ".join(parts)


def _link_reason(problem: Problem, candidates: Candidates, member: str, township_id: str) -> str:
    expert = next((e for e in problem.experts if e.id == member), None)
    township = problem.township(township_id)
    if expert is None:
        return f"{member} is not an expert of this county"
    if expert.max_sessions <= 0:
        return f"{member} has max_sessions 0 and is not rostered this month"
    open_days = [d for d in problem.days if d not in township.closed_days]
    if not open_days:
        return f"{township_id} is closed on every working day of the month"
    member_days = sorted({c.day for c in candidates.items if c.expert == member and c.township == township_id})
    if not member_days:
        return f"{member} is unavailable (or their department cannot spare them) on every working day {township_id} is open"
    team_min = problem.rules.link_team_min
    team_days = []
    for day in member_days:
        others = {c.expert for c in candidates.items if c.day == day and c.township == township_id and c.key is not None and c.expert != member}
        if len(others) >= team_min:
            team_days.append(day)
    if not team_days:
        return (
            f"on the {_plural(len(member_days), 'day')} {member} could go ({_days(member_days)}), fewer than {team_min} other experts "
            f"could serve {township_id}'s demand"
        )
    return f"a team of {team_min} for {member} at {township_id} could not be fitted around the rest of the roster (rooms, limits and other visits)"


def explain_unmet(problem: Problem, candidates: Candidates, chosen: Collection[int], visits: Collection[tuple]) -> list[Unmet]:
    """One row per (township, type, specialty) short of its demand, and per link visit not made, with reasons."""
    chosen = set(chosen)
    covered: Counter = Counter()
    load: Counter = Counter()
    for index in chosen:
        candidate = candidates.items[index]
        load[candidate.expert] += 1
        if candidate.key is not None:
            covered[candidate.key] += 1
    rows = []
    for key in sorted(problem.demand):
        missing = problem.demand[key] - covered[key]
        if missing > 0:
            rows.append(Unmet(key.township, key.type, key.specialty, missing, _demand_reason(problem, candidates, key, missing, chosen, load)))
    made: Counter = Counter((member, township) for member, township, _day in visits)
    wanted = problem.rules.link_visits_per_month
    for link in problem.links:
        missing = wanted - made[(link.member, link.township)]
        if missing > 0:
            rows.append(Unmet(link.township, "supervision", None, missing, _link_reason(problem, candidates, link.member, link.township), link.member))
    return rows


def clashing_rules(problem: Problem, candidates: Candidates, fixed: Collection[int], free: Collection[int] = ()) -> list[str] | None:
    """The hard rules that cannot all hold with `fixed` kept, as CP-SAT's sufficient assumptions name them (None: no clash shown)."""
    from solver.model import build_model

    roster = build_model(problem, candidates, free=free, fixed=fixed, diagnose=True)
    roster.model.clear_objective()
    names = {guard.index: rule for rule, guard in roster.guards.items()}
    roster.model.add_assumptions(list(roster.guards.values()))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 10
    if solver.solve(roster.model) != cp_model.INFEASIBLE:
        return None
    return sorted({names[i] for i in solver.sufficient_assumptions_for_infeasibility() if i in names})


def explain_infeasible(problem: Problem, candidates: Candidates, fixed: Collection[int]) -> str:
    """Name the hard rules that clash, from CP-SAT's sufficient assumptions for infeasibility."""
    fixed = set(fixed)
    clashing = clashing_rules(problem, candidates, fixed, free=[i for i in range(len(candidates.items)) if i not in fixed])
    if clashing is None:
        return "the hard rules could not be shown to clash within the time limit"
    detail = f"; {len(fixed)} fixed assignments are kept as given" if fixed else ""
    return "the hard rules clash: " + (", ".join(clashing) if clashing else "(no single rule named)") + detail
