"""`rota worker` whose "today" is ROTA_TEST_TODAY (YYYY-MM-DD): a re-plan keeps today and the days before as they were.

Run by tests/scheduler/test_celery.py for a re-plan that meets the frozen past of a month two months ahead
(today is real everywhere else; the pool's processes fork from this one and keep the date). The arguments
are `rota worker`'s.
"""

from __future__ import annotations

import datetime as dt
import os
import sys

from scheduler import flows


def main() -> None:
    today = dt.date.fromisoformat(os.environ["ROTA_TEST_TODAY"])
    flows._today = lambda factory, community: today
    from api.cli import main as rota

    rota(["worker", *sys.argv[1:]])


if __name__ == "__main__":
    main()
