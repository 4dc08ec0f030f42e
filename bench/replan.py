"""Benchmark of the minimal-change re-plan: one expert's week of leave on a generated county.

`python -m bench.replan [--townships 26 --experts 400 --load 0.9] [--solve-seconds 60] [--replan-seconds 5]`
solves the month, gives the busiest expert a week of leave over their first session, re-plans,
and prints how long it took, how many sessions the leave forced off, and how many changed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections import Counter

from bench.generate import generate_scenario
from scheduler.problem_builder import build_problem
from scheduler.scenario.schema import Scenario
from solver.engine import solve
from solver.solution import diff_rosters
from tests.solver.checker import violations


def with_leave(scenario: Scenario, expert_id: str, first: dt.date, last: dt.date) -> Scenario:
    document = scenario.model_dump(by_alias=True)
    for expert in document["experts"]:
        if expert["id"] == expert_id:
            expert["unavailable"] = list(expert["unavailable"]) + [{"from": first, "to": last, "reason": "leave"}]
    return Scenario.model_validate(document)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--townships", type=int, default=26)
    parser.add_argument("--experts", type=int, default=400)
    parser.add_argument("--load", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--month", default="2027-03")
    parser.add_argument("--solve-seconds", type=float, default=60.0)
    parser.add_argument("--replan-seconds", type=float, default=5.0)
    args = parser.parse_args()

    scenario = generate_scenario(townships=args.townships, experts=args.experts, load=args.load, seed=args.seed, month=args.month)
    problem = build_problem(scenario, args.month)
    before = solve(problem, time_limit=args.solve_seconds)
    busiest = Counter(a.expert for a in before.assignments).most_common(1)[0][0]
    first = min(a.date for a in before.assignments if a.expert == busiest)
    last = first + dt.timedelta(days=6)
    forced = [a for a in before.assignments if a.expert == busiest and first <= a.date <= last]
    changed = build_problem(with_leave(scenario, busiest, first, last), args.month)
    started = time.monotonic()
    after = solve(changed, time_limit=args.replan_seconds, previous=before)
    seconds = time.monotonic() - started
    diff = diff_rosters(before.assignments, after.assignments)
    forced_ids = {a.id for a in forced}
    unforced = [a for a in before.assignments if a.id not in forced_ids and a.id not in {x.id for x in after.assignments}]
    unforced += [b for a, b in diff.moved if a.id not in forced_ids]
    print(f"county {args.townships} townships / {args.experts} experts @ {args.load:.0%}; leave for {busiest} {first}..{last}")
    print("| re-plan wall s | forced off | changes (added+removed+moved) | unforced changes | unmet before | unmet after | hard-rule violations |")
    print("|---|---|---|---|---|---|---|")
    print(
        f"| {seconds:.2f} | {len(forced)} | {diff.changes} ({len(diff.added)}+{len(diff.removed)}+{len(diff.moved)}) | {len(unforced)} | "
        f"{before.report.unmet_sessions} | {after.report.unmet_sessions} | {len(violations(changed, after))} |"
    )


if __name__ == "__main__":
    main()
