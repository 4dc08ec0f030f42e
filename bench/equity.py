"""Benchmark of cross-month equity: consecutive months of a generated county, each solved alone or with carry-over.

`python -m bench.equity [--townships 22 --experts 150 --load 0.6] [--months 2027-03,2027-04,2027-05] [--seconds 10]`
generates a county (bench.generate) with fresh leave in every month, then solves the months in
order twice: each month alone (fairness within the month), and with the months before it carried
over as the service does once they are published (scheduler.problem_builder.with_published_history,
window `--window`). It prints a Markdown table, per month and mode: unmet sessions, the spread of
that month's load over capacity, and the spread of the cumulative load over the cumulative
capacity (max - min and standard deviation across the experts who could serve), which carry-over
should narrow while unmet stays where it was.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict

from bench.generate import generate_scenario, with_leave_in
from scheduler.calendar import parse_month
from scheduler.history import window_months
from scheduler.problem_builder import PublishedMonth, build_problem, month_capacity, with_published_history
from scheduler.scenario.schema import Scenario
from solver.candidates import enumerate_candidates
from solver.engine import solve
from solver.solution import Solution
from tests.solver.checker import violations

def _spread(ratios: list[float]) -> tuple[float, float]:
    """(max - min, population standard deviation) of load-over-capacity ratios."""
    if not ratios:
        return 0.0, 0.0
    return max(ratios) - min(ratios), statistics.pstdev(ratios)


def run_months(scenario: Scenario, months: list[str], seconds: float, workers: int, window: int, carry_over: bool, first: Solution | None = None) -> list[dict]:
    """Solve the months in order; per month its unmet sessions, wall time, violations and the loads and capacities behind the spreads.

    `first`, when given, is the first month's roster (it has nothing to carry over, so both modes share one solve)."""
    rosters: list[Solution] = []
    rows = []
    cumulative_load: dict[str, int] = defaultdict(int)
    cumulative_capacity: dict[str, int] = defaultdict(int)
    able: set[str] = set()
    for month in months:
        problem = build_problem(scenario, month)
        if carry_over and window:
            problem = with_published_history(problem, scenario, [PublishedMonth.of(roster) for roster in rosters[-window:]])
        candidates = enumerate_candidates(problem)
        able |= {expert_id for expert_id, indices in candidates.by_expert.items() if indices}
        started = time.monotonic()
        solution = first if first is not None and not rosters else solve(problem, time_limit=seconds, workers=workers)
        wall = solution.report.wall_seconds if solution is first else time.monotonic() - started
        rosters.append(solution)
        load = PublishedMonth.of(solution).sessions
        capacity = month_capacity(scenario, month)
        for expert_id in capacity:
            cumulative_load[expert_id] += load.get(expert_id, 0)
            cumulative_capacity[expert_id] += capacity[expert_id]
        rows.append(
            {
                "month": month,
                "unmet": solution.report.unmet_sessions,
                "wall": wall,
                "status": solution.report.status,
                "violations": len(violations(problem, solution)),
                "fairness": solution.report.objective_terms.get("fairness", 0),
                "month spread": _spread([load.get(e, 0) / capacity[e] for e in sorted(able) if capacity.get(e)]),
                "cumulative spread": _spread([cumulative_load[e] / cumulative_capacity[e] for e in sorted(able) if cumulative_capacity.get(e)]),
            }
        )
    return rows


def markdown(results: dict[str, list[dict]]) -> str:
    """One row per month and mode, then the total unmet per mode."""
    lines = [
        "| month | mode | unmet | month max-min | month std | cumulative max-min | cumulative std | fairness term | status | wall s | hard-rule violations |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    months = [row["month"] for row in next(iter(results.values()))]
    for index, month in enumerate(months):
        for mode, rows in results.items():
            row = rows[index]
            (month_range, month_std), (cumulative_range, cumulative_std) = row["month spread"], row["cumulative spread"]
            lines.append(
                f"| {month} | {mode} | {row['unmet']} | {month_range:.3f} | {month_std:.3f} | {cumulative_range:.3f} | {cumulative_std:.3f} | "
                f"{row['fairness']} | {row['status']} | {row['wall']:.1f} | {row['violations']} |"
            )
    totals = ", ".join(f"{mode} {sum(row['unmet'] for row in rows)}" for mode, rows in results.items())
    return "\n".join(lines) + f"\n\nunmet over the months: {totals}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.equity", description=__doc__.splitlines()[0])
    parser.add_argument("--townships", type=int, default=22)
    parser.add_argument("--experts", type=int, default=150)
    parser.add_argument("--load", type=float, default=0.6, help="demand as a share of usable capacity in the first month")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--months", default="2027-03,2027-04,2027-05", help="consecutive YYYY-MM months, comma-separated")
    parser.add_argument("--window", type=int, default=3, help="months carried over (ROTA_HISTORY_MONTHS)")
    parser.add_argument("--seconds", type=float, default=10.0, help="time limit per month")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    months = [month.strip() for month in args.months.split(",") if month.strip()]
    try:
        for month in months:
            parse_month(month)
        if not months or any(window_months(later, 1) != [earlier] for earlier, later in zip(months, months[1:])):
            raise ValueError(f"--months must be consecutive YYYY-MM months (got {args.months})")
        scenario = generate_scenario(args.townships, args.experts, args.load, seed=args.seed, month=months[0])
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for month in months[1:]:
        scenario = with_leave_in(scenario, month, seed=args.seed)
    print(
        f"county {args.townships} townships / {args.experts} experts @ {args.load:.0%}, months {', '.join(months)}, "
        f"window {args.window}, {args.seconds:g} s per month, {args.workers} workers",
        flush=True,
    )
    first = solve(build_problem(scenario, months[0]), time_limit=args.seconds, workers=args.workers)
    results = {
        "month alone": run_months(scenario, months, args.seconds, args.workers, args.window, carry_over=False, first=first),
        "carry-over": run_months(scenario, months, args.seconds, args.workers, args.window, carry_over=True, first=first),
    }
    print(markdown(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
