"""Benchmark of a province's month: many generated counties drafted by `rota province generate` on 1 and on 2 workers.

`python -m bench.province [--counties 100] [--time-limit 10] [--workers 1 2] [--database-url URL]`

Generates `--counties` scenarios of 9 to 26 townships (seeded; experts ~15 per township, load 0.9),
imports them into a fresh PostgreSQL database, and for each worker count starts that many
`rota worker --concurrency 1` processes on RabbitMQ (ROTA_BROKER_URL, default the local one) and runs
`rota province generate`, timing the whole month; between runs the drafts are deleted. The table
gives the wall time, how many counties ended at their proven coverage floor (unmet == bound), and
the worst excess. A projection for 16 and 64 cores follows, labelled as such: solves are independent,
so the wall time divides by the workers until the broker or the database is the limit (not measured).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import delete, select

from bench.databases import drop_postgres, fresh_postgres
from bench.generate import generate_scenario
from scheduler import store
from scheduler.db import make_engine, session_factory, transaction
from scheduler.migrate import migrate
from scheduler.models import JobRow, RosterVersion

REPO = Path(__file__).resolve().parent.parent
MONTH = "2027-03"


def _counties(count: int, seed: int) -> list[tuple[str, object]]:
    pick = random.Random(seed)
    counties = []
    for index in range(count):
        townships = pick.randint(9, 26)
        scenario = generate_scenario(townships=townships, experts=townships * 15, load=0.9, seed=seed + index, month=MONTH)
        counties.append((f"county{index:03d}", scenario))
    return counties


def _outcome(factory) -> tuple[int, int, int]:
    """(drafts, counties at their floor, worst unmet above the floor)."""
    drafts = at_floor = worst = 0
    with factory() as session:
        for report in session.scalars(select(RosterVersion.solver_report).where(RosterVersion.month == MONTH)):
            drafts += 1
            parsed = store.report_from_document(report)
            excess = parsed.unmet_sessions - (parsed.unmet_bound if parsed.unmet_bound is not None else parsed.unmet_sessions)
            at_floor += excess == 0
            worst = max(worst, excess)
    return drafts, at_floor, worst


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.province", description=__doc__.splitlines()[0])
    parser.add_argument("--counties", type=int, default=100)
    parser.add_argument("--time-limit", type=float, default=10.0, help="ROTA_SOLVER_TIME_LIMIT of each solve")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args(argv)

    admin_url = os.environ.get("ROTA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    url, dropped = (args.database_url, None) if args.database_url else fresh_postgres(admin_url, "rota_bench_province")
    queue = f"rota-bench-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "ROTA_DATABASE_URL": url, "PYTHONPATH": str(REPO), "ROTA_SOLVER_TIME_LIMIT": str(args.time_limit),
           "ROTA_SOLVER_WORKERS": "1", "ROTA_BROKER_URL": os.environ.get("ROTA_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//"),
           "ROTA_TASK_QUEUE": queue}
    folder = Path(tempfile.mkdtemp(prefix="bench-province-"))
    rows = []
    try:
        engine = make_engine(url)
        migrate(engine)
        factory = session_factory(engine)
        started = time.monotonic()
        counties = _counties(args.counties, args.seed)
        with transaction(factory) as session:
            for code, scenario in counties:
                store.import_scenario(session, code, scenario)
        print(f"{len(counties)} counties generated and imported in {time.monotonic() - started:.0f} s; "
              f"{sum(len(s.townships) for _, s in counties)} townships, {sum(len(s.experts) for _, s in counties)} experts")
        for workers in args.workers:
            with transaction(factory) as session:
                session.execute(delete(RosterVersion).where(RosterVersion.month == MONTH))
                session.execute(delete(JobRow))
            processes = [
                subprocess.Popen([sys.executable, "-m", "api.cli", "worker", "--concurrency", "1"], env=env, start_new_session=True,
                                 stdout=(folder / f"worker-{workers}-{n}.log").open("wb"), stderr=subprocess.STDOUT)
                for n in range(workers)
            ]
            try:
                time.sleep(5)  # the workers connect to the broker
                began = time.monotonic()
                done = subprocess.run([sys.executable, "-m", "api.cli", "province", "generate", "--month", MONTH], env=env,
                                      capture_output=True, text=True)
                wall = time.monotonic() - began
            finally:
                for process in processes:
                    os.killpg(process.pid, signal.SIGTERM)
                for process in processes:
                    try:
                        process.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        os.killpg(process.pid, signal.SIGKILL)
            drafts, at_floor, worst = _outcome(factory)
            rows.append((workers, wall, drafts, at_floor, worst, done.returncode))
        engine.dispose()
    finally:
        if dropped:
            drop_postgres(admin_url, dropped)

    print(f"\nprovince month {MONTH}: {args.counties} counties, {args.time_limit:g} s solver limit, 1 CP-SAT worker per solve")
    print(f"{'workers':>7} {'wall s':>8} {'drafts':>7} {'at floor':>9} {'worst excess':>13} {'exit':>5}")
    for workers, wall, drafts, at_floor, worst, code in rows:
        print(f"{workers:>7} {wall:>8.0f} {drafts:>7} {at_floor:>9} {worst:>13} {code:>5}")
    if rows:
        per_solve = rows[0][1] / max(1, args.counties) * rows[0][0]
        print("\nprojection (not measured): solves are independent, so the wall time is about counties x seconds per solve / workers")
        for cores in (16, 64):
            print(f"  {cores} cores ({cores} workers of 1 CP-SAT thread): ~{args.counties * per_solve / cores:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
