"""A service replica for the crash and takeover tests: leader election, and while leading the timed jobs and the
event worker, with a clock the test controls through a file. Run by tests/scheduler/event_harness.py.

--pause-in-replan before|after makes the first re-plan stop (and print a marker) before or after it saves its
version, so the test can SIGKILL the process at a known point of an event.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
import time
from pathlib import Path

from config.settings import get_settings
from scheduler import flows, leader
from scheduler.db import make_engine, session_factory
from scheduler.migrate import migrate
from scheduler.notify.channels import EmailChannel, WebhookChannel


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clock-file", type=Path, required=True)
    parser.add_argument("--smtp-port", type=int, required=True)
    parser.add_argument("--pause-in-replan", choices=["before", "after"])
    parser.add_argument("--sweep-seconds", type=float, default=1.0)
    options = parser.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    def clock() -> dt.datetime:
        text = options.clock_file.read_text().strip() if options.clock_file.exists() else ""
        return dt.datetime.fromisoformat(text) if text else dt.datetime.now(dt.UTC)

    if options.pause_in_replan:
        real_replan = flows.replan

        def paused_replan(factory, community, month, *, cause, **replan_options):
            if options.pause_in_replan == "before":
                print("MARK replan-started", flush=True)
                time.sleep(600)
            result = real_replan(factory, community, month, cause=cause, **replan_options)
            print(f"MARK replan-saved {result[0] if result else None}", flush=True)
            time.sleep(600)
            return result

        flows.replan = paused_replan

    real_start = leader.ActiveRoles.start

    def announced_start(self) -> None:
        real_start(self)
        print("MARK leader", flush=True)

    leader.ActiveRoles.start = announced_start
    real_stop = leader.ActiveRoles.stop

    def announced_stop(self) -> None:
        print("MARK deposed", flush=True)
        real_stop(self)

    leader.ActiveRoles.stop = announced_stop

    settings = get_settings()
    engine = migrate(make_engine(settings.database_url))
    factory = session_factory(engine)
    channels = {"email": EmailChannel("127.0.0.1", options.smtp_port, sender="rota@hospital.example", timeout=30), "webhook": WebhookChannel()}
    print("MARK started", flush=True)
    leader.run_until_stopped(factory, settings, channels=channels, clock=clock, sweep_seconds=options.sweep_seconds)


if __name__ == "__main__":
    main()
