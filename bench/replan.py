"""Benchmark of the minimal-change re-plan on a generated county, one row per kind of change.

`python -m bench.replan [--townships 26 --experts 400 --load 0.9] [--solve-seconds 60] [--replan-seconds 5] [--fresh-seconds 60]`
solves the month, then for each change (the busiest expert's week of leave; the busiest township
cut to one room, closed for a week, its largest demand row halved, and a request of two more
sessions of that row forced onto its busiest day, as scheduler.forced does) re-plans from that
roster and solves the changed month afresh, and prints a Markdown row: how long the re-plan took,
how many sessions the change forced off, how many assignments changed, and unmet demand before,
after the re-plan and in the fresh solve.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import sys
import time
from collections import Counter
from collections.abc import Callable

from bench.generate import generate_scenario
from scheduler.problem_builder import build_problem
from scheduler.scenario.schema import Scenario
from solver.engine import solve
from solver.problem import DemandKey, Problem, Requirement
from solver.replan import split_previous
from solver.solution import Solution, diff_rosters
from tests.solver.checker import violations


def with_leave(scenario: Scenario, expert_id: str, first: dt.date, last: dt.date) -> Scenario:
    document = scenario.model_dump(by_alias=True)
    for expert in document["experts"]:
        if expert["id"] == expert_id:
            expert["unavailable"] = list(expert["unavailable"]) + [{"from": first, "to": last, "reason": "leave"}]
    return Scenario.model_validate(document)


def edited(scenario: Scenario, edit: Callable[[dict], None]) -> Scenario:
    document = scenario.model_dump(by_alias=True, mode="json")
    edit(document)
    return Scenario.model_validate(document)


# A forced request's sessions: one more than a township's rooms can take on a full day without moving others.
FORCED_SESSIONS = 2


def with_forced_request(problem: Problem, before: Solution, key: DemandKey, day: dt.date, sessions: int) -> Problem:
    """The month with a request of `sessions` more sessions of row `key` forced onto `day` (as scheduler.forced builds it)."""
    on_day = sum(1 for a in before.assignments if (a.township, a.type, a.specialty) == tuple(key) and a.date == day)
    requirement = Requirement(key, frozenset({day}), on_day + sessions)
    return dataclasses.replace(
        problem, demand={**problem.demand, key: problem.demand.get(key, 0) + sessions}, requirements=(*problem.requirements, requirement)
    )


def forced_off(problem: Problem, before: Solution) -> int:
    """Sessions of `before` the changed month cannot keep: no longer possible, beyond a township's rooms, or beyond a row's
    demand, or in the way of a forced request (those beyond the rooms its day has free)."""
    still, lost = split_previous(problem, before)
    rooms = {t.id: t.rooms for t in problem.townships}
    per_half_day = Counter((a.township, a.slot) for a in still if a.type != "supervision")
    per_row = Counter((a.township, a.type, a.specialty) for a in still if a.type != "supervision")
    demand = {(key.township, key.type, key.specialty): sessions for key, sessions in problem.demand.items()}
    beyond_rooms = sum(max(0, sessions - rooms[township]) for (township, _slot), sessions in per_half_day.items())
    beyond_demand = sum(max(0, sessions - demand.get(row, 0)) for row, sessions in per_row.items())
    in_the_way = 0
    for requirement in problem.requirements:
        already = sum(1 for a in still if (a.township, a.type, a.specialty) == tuple(requirement.key) and a.date in requirement.days)
        free = sum(max(0, rooms[requirement.key.township] - per_half_day[(requirement.key.township, slot)]) for slot in problem.slots if slot.day in requirement.days)
        in_the_way += max(0, requirement.sessions - already - free)
    return len(lost) + beyond_rooms + beyond_demand + in_the_way


def changes(scenario: Scenario, month: str, before: Solution) -> list[tuple[str, Problem]]:
    """The changed months, each with a label: a leave, a rooms cut, a closure, a demand cut and a forced request."""
    busiest = Counter(a.expert for a in before.assignments).most_common(1)[0][0]
    first = min(a.date for a in before.assignments if a.expert == busiest)
    rooms = {t.id: t.rooms for t in scenario.townships}
    sessions = Counter(a.township for a in before.assignments if a.type != "supervision")
    township = max(sorted(t for t in sessions if rooms[t] >= 2), key=lambda t: sessions[t])
    days = sorted({a.date for a in before.assignments if a.township == township})
    monday = days[len(days) // 2] - dt.timedelta(days=days[len(days) // 2].weekday())
    week = frozenset(monday + dt.timedelta(days=n) for n in range(5))
    served = Counter((a.type, a.specialty) for a in before.assignments if a.township == township and a.type != "supervision")
    (kind, specialty), _count = served.most_common(1)[0]
    busiest_day = Counter(a.date for a in before.assignments if a.township == township and a.type != "supervision").most_common(1)[0][0]
    problem = build_problem(scenario, month)

    def one_room(document: dict) -> None:
        for entry in document["townships"]:
            if entry["id"] == township:
                entry["rooms"] = 1

    def halve(document: dict) -> None:
        for row in document["demand"]:
            if (row["township"], row["type"], row["specialty"]) == (township, kind, specialty):
                row["sessions"] //= 2

    return [
        (f"leave {busiest} {first}..{first + dt.timedelta(days=6)}", build_problem(with_leave(scenario, busiest, first, first + dt.timedelta(days=6)), month)),
        (f"rooms {township} {rooms[township]} -> 1", build_problem(edited(scenario, one_room), month)),
        (f"closure {township} {monday}..{monday + dt.timedelta(days=4)}", build_problem(scenario, month, township_closures={township: week})),
        (f"demand {township} {kind}/{specialty} halved", build_problem(edited(scenario, halve), month)),
        (
            f"forced request {township} {kind}/{specialty} +{FORCED_SESSIONS} on {busiest_day}",
            with_forced_request(problem, before, DemandKey(township, kind, specialty), busiest_day, FORCED_SESSIONS),
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--townships", type=int, default=26)
    parser.add_argument("--experts", type=int, default=400)
    parser.add_argument("--load", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--month", default="2027-03")
    parser.add_argument("--solve-seconds", type=float, default=60.0)
    parser.add_argument("--replan-seconds", type=float, default=5.0)
    parser.add_argument("--fresh-seconds", type=float, default=None, help="a fresh solve's limit (default: --solve-seconds)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--progress", action="store_true", help="print each re-plan's steps, with seconds since it started, to stderr")
    args = parser.parse_args()

    scenario = generate_scenario(townships=args.townships, experts=args.experts, load=args.load, seed=args.seed, month=args.month)
    problem = build_problem(scenario, args.month)
    before = solve(problem, time_limit=args.solve_seconds, workers=args.workers)
    fresh_seconds = args.fresh_seconds if args.fresh_seconds is not None else args.solve_seconds
    print(f"county {args.townships} townships / {args.experts} experts @ {args.load:.0%}, {args.month}; re-plan {args.replan_seconds:g} s, fresh solve {fresh_seconds:g} s, {args.workers} workers")
    print("| change | re-plan wall s | status | forced off | changes (added+removed+moved) | changes beyond the forced | unmet before | unmet re-plan | unmet fresh | fresh wall s | hard-rule violations |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for label, changed in changes(scenario, args.month, before):
        forced = forced_off(changed, before)
        started = time.monotonic()
        progress = (lambda message: print(f"  {time.monotonic() - started:6.2f} s {message}", file=sys.stderr, flush=True)) if args.progress else None
        after = solve(changed, time_limit=args.replan_seconds, workers=args.workers, previous=before, progress=progress)
        seconds = time.monotonic() - started
        started = time.monotonic()
        fresh = solve(changed, time_limit=fresh_seconds, workers=args.workers)
        fresh_wall = time.monotonic() - started
        diff = diff_rosters(before.assignments, after.assignments)
        print(
            f"| {label} | {seconds:.2f} | {after.report.status} | {forced} | {diff.changes} ({len(diff.added)}+{len(diff.removed)}+{len(diff.moved)}) | "
            f"{max(0, len(diff.removed) + len(diff.moved) - forced)} | {before.report.unmet_sessions} | {after.report.unmet_sessions} | "
            f"{fresh.report.unmet_sessions} | {fresh_wall:.1f} | {len(violations(changed, after))} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
