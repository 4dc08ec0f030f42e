"""Events under load: 200 events queued at once for one month of the 26-township county, all processed, every
roster version checked by the independent hard-rule checker (tests/solver/checker.py).

    python -m bench.events_load [--events 200] [--database-url URL] [--time-limit 20] [--out bench/RESULTS_events.md]

Leaves (one to three days), township closures (one day) and extra-session requests are recorded the way
the service records them (store the change and the outbox event in one transaction), all before the
worker starts; then `process_pending` runs until the outbox is empty. Each time a version is saved, the
month's problem is rebuilt from the standing data at that moment and the version is checked against it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import random
import tempfile
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from bench.generate import generate_scenario
from config.settings import get_settings
from scheduler import events, flows, store
from scheduler.db import session_factory, transaction
from scheduler.events import Event
from scheduler.migrate import migrate
from scheduler.models import RosterVersion
from scheduler.notify.contacts import set_contact
from scheduler.notify.models import Notice

MONTH = "2027-03"
COMMUNITY = "bench"  # the code the generated county is imported under


def queue_events(factory, scenario, roster, count: int, rng: random.Random, with_requests: bool = True) -> Counter:
    """Record `count` events at once (leave, closures, extra-session requests); returns how many of each kind."""
    days = sorted({a.date for a in roster.assignments})
    busy = sorted({a.expert for a in roster.assignments})
    kinds: Counter = Counter()
    demand_keys = sorted({(row.township, row.type, row.specialty) for row in scenario.demand if row.type == "clinic"})
    with transaction(factory) as session:
        for index in range(count):
            roll = rng.random()
            if roll < 0.6:
                first = rng.choice(days)
                last = min(first + dt.timedelta(days=rng.choice((0, 0, 1, 2))), days[-1])
                flows.file_leave(session, COMMUNITY, rng.choice(busy), first, last, reason="病假" if index % 2 else "进修")
                kinds["leave"] += 1
            elif roll < 0.75 or not with_requests:
                township = rng.choice(scenario.townships).id
                flows.close_township(session, COMMUNITY, township, [rng.choice(days)], reason="停电检修")
                kinds["closure"] += 1
            else:
                township, kind, specialty = rng.choice(demand_keys)
                first = rng.choice(days[: max(1, len(days) - 5)])
                flows.request_extra_session(session, COMMUNITY, township, kind, specialty, 1, first, first + dt.timedelta(days=4), "慢病复诊积压")
                kinds["request"] += 1
    return kinds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.events_load", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--townships", type=int, default=26)
    parser.add_argument("--experts", type=int, default=400)
    parser.add_argument("--load", type=float, default=0.6)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file in a temporary folder")
    parser.add_argument("--time-limit", type=float, default=None, help="seconds per solve (default ROTA_SOLVER_TIME_LIMIT)")
    parser.add_argument("--no-requests", action="store_true", help="only leave and closure events")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("RESULTS_events.md"))
    options = parser.parse_args(argv)
    from tests.solver.checker import violations  # the independent checker, not the solver's own rules

    folder = tempfile.mkdtemp(prefix="rota-events-load-")
    url = options.database_url or f"sqlite:///{folder}/rota.sqlite3"
    factory = session_factory(migrate(url))
    scenario = generate_scenario(options.townships, options.experts, options.load, options.seed, MONTH)
    with transaction(factory) as session:
        community_id = store.import_scenario(session, COMMUNITY, scenario)
        for expert in scenario.experts:
            set_contact(session, community_id, "expert", expert.id, email=f"{expert.id.lower()}@hospital.example")
        for township in scenario.townships:
            set_contact(session, community_id, "township", township.id, webhook_url="http://127.0.0.1:9/robot")
    started = time.monotonic()
    version = flows.generate(factory, COMMUNITY, MONTH, time_limit=options.time_limit)
    flows.publish(factory, COMMUNITY, MONTH, version)
    generate_seconds = time.monotonic() - started
    with factory() as session:
        roster, *_ = store.load_roster_version(session, COMMUNITY, MONTH)
    print(f"generated and published {MONTH} v{version}: {len(roster.assignments)} sessions in {generate_seconds:.1f} s", flush=True)

    kinds = queue_events(factory, scenario, roster, options.events, random.Random(options.seed), not options.no_requests)
    print(f"queued {sum(kinds.values())} events: {dict(kinds)}", flush=True)

    checked: list[tuple[int, int]] = []  # (version, violations)

    def check_latest(community: str, month: str) -> None:
        with factory() as session:
            solution, number, _status, _ = store.load_roster_version(session, community, month)
            problem, _ = flows.month_problem(session, community, month)
        found = violations(problem, solution)
        checked.append((number, len(found)))
        print(f"  v{number}: {len(solution.assignments)} sessions, {len(found)} hard-rule violations", flush=True)
        for line in found[:5]:
            print(f"    {line}")

    started = time.monotonic()
    passes = 0
    while True:
        handled = events.process_pending(factory, limit=options.events, on_roster_change=check_latest)
        passes += 1
        with factory() as session:
            waiting = events.pending_count(session)
        if waiting == 0:
            break
        if handled == 0:
            time.sleep(1)  # only retries are left, waiting for their backoff
    process_seconds = time.monotonic() - started

    with factory() as session:
        statuses = Counter(dict(session.execute(select(Event.status, func.count()).group_by(Event.status)).all()))
        versions = session.scalar(select(func.count()).select_from(RosterVersion).where(RosterVersion.month == MONTH))
        notices = session.scalar(select(func.count()).select_from(Notice))
        failures = [(e.id, e.kind, (e.last_error or "").splitlines()[0]) for e in session.scalars(select(Event).where(Event.status == "failed"))]
    request_states = Counter()
    from scheduler.requests import list_requests

    with factory() as session:
        request_states.update(r.state for r in list_requests(session, COMMUNITY, month=MONTH))
    invalid = [number for number, count in checked if count]
    settings = get_settings()
    lines = [
        "# Events under load",
        "",
        f"Run {dt.datetime.now().strftime('%Y-%m-%d %H:%M')} with `python -m bench.events_load --events {options.events}"
        f"{' --no-requests' if options.no_requests else ''}`"
        f" on {'PostgreSQL' if url.startswith('postgresql') else 'SQLite'};"
        f" solver time limit {options.time_limit or settings.solver_time_limit:g} s, {settings.solver_workers} workers;"
        f" Python {platform.python_version()}, {platform.machine()}.",
        "",
        f"County: {options.townships} townships, {options.experts} experts, demand {options.load:.0%} of usable capacity,"
        f" month {MONTH}: {len(roster.assignments)} sessions published (v{version}, generated in {generate_seconds:.1f} s).",
        "",
        "| events queued | leave | closure | request | processed (done) | failed | worker passes | roster versions made | notices enqueued | versions checked | versions with hard-rule violations | processing wall time s | s per event |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        f"| {sum(kinds.values())} | {kinds['leave']} | {kinds['closure']} | {kinds['request']} | {statuses['done']} | {statuses['failed']} |"
        f" {passes} | {versions - 1} | {notices} | {len(checked)} | {len(invalid)} | {process_seconds:.1f} | {process_seconds / max(1, sum(kinds.values())):.2f} |",
        "",
        f"Extra-session requests afterwards: {dict(request_states)} (pending = could not be placed without moving others; the reason is stored).",
        "",
        "Re-plan events (leave, closure) that are due together share one minimal-change re-plan of the month;",
        "each request is settled on its own (insertion without moving anyone). Every version saved was checked",
        "against the month's problem rebuilt from the standing data at that moment.",
    ]
    if failures:
        lines += ["", "Failed events:", *(f"- #{event_id} {kind}: {error}" for event_id, kind, error in failures)]
    options.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0 if not invalid and statuses["failed"] == 0 and statuses["done"] == sum(kinds.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
