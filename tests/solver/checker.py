"""An independent check of a roster against the hard rules of DOMAIN.md (1-9), links and unmet bookkeeping.

Written from the domain text, not from the solver: it uses only the plain dataclasses of
`solver.problem` and `solver.solution`, so a bug in the model cannot hide itself here.
`violations(problem, solution)` returns one readable line per broken rule, naming the
assignment; an empty list means the roster keeps every hard rule.

Readings the domain text leaves open, fixed here:
- Rule 3: two assignments of one expert in the same half-day break it even at one township.
- Rule 4: every assignment counts against `max_sessions`, supervision included.
- Rule 5: supervision takes no room; clinic, teaching and ward rounds take one each.
- Rule 7: in each half-day, a department's experts with any assignment (supervision included)
  are "away"; "available" experts are those not blocked that half-day (spec/scenario.md: min_on_site counts
  the department's experts not unavailable and not away; one with max_sessions 0 is at the hospital);
  away <= max(0, available - min_on_site).
- Rule 8: a visit is a day with exactly one link_visit-flagged assignment of the member at the
  township and at least link_team_min OTHER experts with a clinic, teaching or ward-round
  session there that day (a second member's supervision is no team); the
  month needs link_visits_per_month distinct visit days per link, and each missing one is an
  `unmet` row of type supervision naming the member (its `sessions` = visits missing).
- Rule 9 and unmet: per (township, type, specialty), assigned <= demand, and the unmet rows
  of that key add up to exactly demand - assigned.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from solver.problem import Problem, Slot
from solver.solution import Assignment, Solution

DEMAND_TYPES = ("clinic", "teaching", "ward_round")
SUPERVISION = "supervision"
TITLE_ORDER = ("attending", "associate_chief", "chief")  # rising seniority, as in the scenario spec


def _label(assignment: Assignment) -> str:
    specialty = f"/{assignment.specialty}" if assignment.specialty else ""
    flag = " (link visit)" if assignment.link_visit else ""
    return f"{assignment.expert} {assignment.date.isoformat()} {assignment.half_day} at {assignment.township} {assignment.type}{specialty}{flag}"


def violations(problem: Problem, solution: Solution) -> list[str]:
    """Every hard-rule violation of the solution, one line each; empty when the roster is valid."""
    found: list[str] = []
    found += _references(problem, solution)
    known = [a for a in solution.assignments if a.expert in _expert_ids(problem) and a.township in _township_ids(problem)]
    found += _specialty_held(problem, known)
    found += _working_day_and_availability(problem, known)
    found += _one_place_at_a_time(known)
    found += _monthly_limit(problem, known)
    found += _rooms(problem, known)
    found += _title_and_ward(problem, known)
    found += _department_staffing(problem, known)
    found += _link_visits(problem, solution, known)
    found += _demand_and_unmet(problem, solution, known)
    return found


def _expert_ids(problem: Problem) -> set[str]:
    return {expert.id for expert in problem.experts}


def _township_ids(problem: Problem) -> set[str]:
    return {township.id for township in problem.townships}


def _references(problem: Problem, solution: Solution) -> list[str]:
    found = []
    ids = Counter(a.id for a in solution.assignments)
    for assignment in solution.assignments:
        if assignment.expert not in _expert_ids(problem):
            found.append(f"unknown expert: {_label(assignment)}")
        if assignment.township not in _township_ids(problem):
            found.append(f"unknown township: {_label(assignment)}")
        if assignment.type not in (*DEMAND_TYPES, SUPERVISION):
            found.append(f"unknown session type: {_label(assignment)}")
        if assignment.half_day not in ("am", "pm"):
            found.append(f"half_day must be am or pm: {_label(assignment)}")
        if not assignment.id:
            found.append(f"assignment without id: {_label(assignment)}")
        elif ids[assignment.id] > 1:
            found.append(f"assignment id {assignment.id} used {ids[assignment.id]} times: {_label(assignment)}")
    return found


def _specialty_held(problem: Problem, assignments: list[Assignment]) -> list[str]:
    """Rule 1: only sessions of a specialty the expert holds; supervision carries no specialty."""
    found = []
    for assignment in assignments:
        expert = problem.expert(assignment.expert)
        if assignment.type == SUPERVISION:
            if assignment.specialty is not None:
                found.append(f"rule 1 (supervision has no specialty): {_label(assignment)}")
        elif assignment.specialty not in expert.specialties:
            found.append(f"rule 1 (specialty not held by {expert.id}): {_label(assignment)}")
    return found


def _working_day_and_availability(problem: Problem, assignments: list[Assignment]) -> list[str]:
    """Rule 2: working half-days only, never when the expert is unavailable or the township closed."""
    found = []
    working = set(problem.slots)
    for assignment in assignments:
        slot = Slot(assignment.date, assignment.half_day)
        if slot not in working:
            found.append(f"rule 2 (not a working half-day): {_label(assignment)}")
        if slot in problem.expert(assignment.expert).blocked:
            found.append(f"rule 2 (expert unavailable: {problem.expert(assignment.expert).blocked[slot]}): {_label(assignment)}")
        if assignment.date in problem.township(assignment.township).closed_days:
            found.append(f"rule 2 (township closed that day): {_label(assignment)}")
    return found


def _one_place_at_a_time(assignments: list[Assignment]) -> list[str]:
    """Rule 3: one assignment per expert per half-day, one township per expert per day."""
    found = []
    by_slot: dict[tuple[str, dt.date, str], list[Assignment]] = defaultdict(list)
    townships_by_day: dict[tuple[str, dt.date], set[str]] = defaultdict(set)
    for assignment in assignments:
        by_slot[(assignment.expert, assignment.date, assignment.half_day)].append(assignment)
        townships_by_day[(assignment.expert, assignment.date)].add(assignment.township)
    for (expert, day, half_day), same_slot in sorted(by_slot.items()):
        if len(same_slot) > 1:
            found.append(f"rule 3 ({expert} has {len(same_slot)} sessions on {day.isoformat()} {half_day}): " + "; ".join(_label(a) for a in same_slot))
    for (expert, day), townships in sorted(townships_by_day.items()):
        if len(townships) > 1:
            found.append(f"rule 3 ({expert} is at {len(townships)} townships on {day.isoformat()}: {', '.join(sorted(townships))})")
    return found


def _monthly_limit(problem: Problem, assignments: list[Assignment]) -> list[str]:
    """Rule 4: all of an expert's sessions in the month, supervision included, within max_sessions."""
    counts = Counter(a.expert for a in assignments)
    return [
        f"rule 4 ({expert} has {count} sessions, max_sessions {problem.expert(expert).max_sessions})"
        for expert, count in sorted(counts.items())
        if count > problem.expert(expert).max_sessions
    ]


def _rooms(problem: Problem, assignments: list[Assignment]) -> list[str]:
    """Rule 5: at most `rooms` clinic/teaching/ward-round sessions per township per half-day."""
    counts = Counter((a.township, a.date, a.half_day) for a in assignments if a.type in DEMAND_TYPES)
    return [
        f"rule 5 ({township} hosts {count} sessions on {day.isoformat()} {half_day}, rooms {problem.township(township).rooms})"
        for (township, day, half_day), count in sorted(counts.items())
        if count > problem.township(township).rooms
    ]


def _title_and_ward(problem: Problem, assignments: list[Assignment]) -> list[str]:
    """Rule 6: teaching needs the minimum title; ward rounds need a ward and an allowed half-day."""
    found = []
    minimum = TITLE_ORDER.index(problem.rules.teaching_min_title)
    for assignment in assignments:
        if assignment.type == "teaching":
            title = problem.expert(assignment.expert).title
            if TITLE_ORDER.index(title) < minimum:
                found.append(f"rule 6 (teaching needs {problem.rules.teaching_min_title}, {assignment.expert} is {title}): {_label(assignment)}")
        if assignment.type == "ward_round":
            if not problem.township(assignment.township).inpatient_ward:
                found.append(f"rule 6 (ward round where there is no inpatient ward): {_label(assignment)}")
            if assignment.half_day not in problem.rules.ward_round_half_days:
                found.append(f"rule 6 (ward round in the {assignment.half_day}): {_label(assignment)}")
    return found


def _department_staffing(problem: Problem, assignments: list[Assignment]) -> list[str]:
    """Rule 7: per half-day, away experts of a department <= max(0, available experts - min_on_site)."""
    found = []
    away: dict[tuple[str, Slot], set[str]] = defaultdict(set)
    for assignment in assignments:
        away[(problem.expert(assignment.expert).department, Slot(assignment.date, assignment.half_day))].add(assignment.expert)
    minimum = {department.code: department.min_on_site for department in problem.departments}
    for (department, slot), experts in sorted(away.items()):
        available = sum(1 for e in problem.experts if e.department == department and slot not in e.blocked)
        bound = max(0, available - minimum.get(department, 0))
        if len(experts) > bound:
            found.append(
                f"rule 7 (department {department} has {len(experts)} away on {slot}, "
                f"{available} available, min_on_site {minimum.get(department, 0)}): {', '.join(sorted(experts))}"
            )
    return found


def _link_visits(problem: Problem, solution: Solution, assignments: list[Assignment]) -> list[str]:
    """Rule 8: flags mark real visits with their team; supervision only for a link; missing visits reported unmet."""
    found = []
    links = {(link.member, link.township) for link in problem.links}
    team_min = problem.rules.link_team_min
    experts_at: dict[tuple[str, dt.date], set[str]] = defaultdict(set)
    for assignment in assignments:
        if assignment.type in DEMAND_TYPES:  # the team serves patients; another member's supervision does not count
            experts_at[(assignment.township, assignment.date)].add(assignment.expert)
    flagged: dict[tuple[str, str, dt.date], list[Assignment]] = defaultdict(list)
    for assignment in assignments:
        if assignment.type == SUPERVISION and (assignment.expert, assignment.township) not in links:
            found.append(f"rule 8 (supervision by someone not linked to {assignment.township}): {_label(assignment)}")
        if assignment.type == SUPERVISION and not assignment.link_visit:
            found.append(f"rule 8 (supervision that is not a link visit): {_label(assignment)}")
        if assignment.link_visit:
            if (assignment.expert, assignment.township) not in links:
                found.append(f"rule 8 (link_visit flag without a link): {_label(assignment)}")
            else:
                flagged[(assignment.expert, assignment.township, assignment.date)].append(assignment)
    made: Counter[tuple[str, str]] = Counter()
    for (member, township, day), carriers in sorted(flagged.items()):
        if len(carriers) > 1:
            found.append(f"rule 8 ({len(carriers)} link_visit flags for one visit): " + "; ".join(_label(a) for a in carriers))
        team = experts_at[(township, day)] - {member}
        if len(team) < team_min:
            found.append(f"rule 8 (visit of {member} to {township} on {day.isoformat()} has {len(team)} other experts, needs {team_min}): {_label(carriers[0])}")
        else:
            made[(member, township)] += 1
    wanted = problem.rules.link_visits_per_month
    reported: Counter[tuple[str | None, str]] = Counter()
    for row in solution.unmet:
        if row.type == SUPERVISION:
            reported[(row.member, row.township)] += row.sessions
            if (row.member, row.township) not in links:
                found.append(f"unmet supervision row for a link that does not exist: member {row.member} at {row.township}")
    for member, township in sorted(links):
        missing = max(0, wanted - made[(member, township)])
        if reported[(member, township)] != missing:
            found.append(
                f"rule 8 (link {member} -> {township}: {missing} visit(s) missing, "
                f"{reported[(member, township)]} reported unmet)"
            )
    return found


def _demand_and_unmet(problem: Problem, solution: Solution, assignments: list[Assignment]) -> list[str]:
    """Rule 9 and the unmet report: never more than demanded, and unmet = demand - assigned per key."""
    found = []
    assigned: Counter[tuple[str, str, str | None]] = Counter(
        (a.township, a.type, a.specialty) for a in assignments if a.type in DEMAND_TYPES
    )
    demanded = {(key.township, key.type, key.specialty): sessions for key, sessions in problem.demand.items()}
    unmet: Counter[tuple[str, str, str | None]] = Counter()
    for row in solution.unmet:
        if row.sessions < 1:
            found.append(f"unmet row with {row.sessions} sessions: {row.township} {row.type} {row.specialty}")
        if not row.reason:
            found.append(f"unmet row without a reason: {row.township} {row.type} {row.specialty}")
        if row.type != SUPERVISION:
            unmet[(row.township, row.type, row.specialty)] += row.sessions
    for key in sorted(set(assigned) | set(demanded) | set(unmet), key=str):
        wanted = demanded.get(key, 0)
        township, session_type, specialty = key
        if assigned[key] > wanted:
            found.append(f"rule 9 ({township} asked for {wanted} {session_type}/{specialty}, got {assigned[key]})")
        expected = max(0, wanted - assigned[key])
        if unmet[key] != expected:
            found.append(f"unmet ({township} {session_type}/{specialty}: demand {wanted}, assigned {assigned[key]}, reported unmet {unmet[key]})")
    return found
