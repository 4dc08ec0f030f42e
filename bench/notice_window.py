"""How long a crash can make an email notice go twice: the time from the SMTP server's 250 to DATA to the
outbox's commit of `sent`, measured with a real aiosmtpd server on SQLite and PostgreSQL.

`python -m bench.notice_window [--sends 60] [--quit-delay-ms 50] [--postgres postgresql://postgres@127.0.0.1:5432/test]`

Two orders are measured in the same run: the outbox's (the channel reports the 250 and `sent` is committed
before QUIT) and the earlier one (recorded once the channel returned, after QUIT and its 221), the latter
emulated by a channel that does not report the acceptance. A server that is slow to answer QUIT
(`--quit-delay-ms`) shows what the earlier order added on a real network.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import socket
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, event, make_url, text

from config.settings import SAMPLE_SCENARIO
from scheduler import store
from scheduler.db import make_engine, session_factory, transaction
from scheduler.migrate import migrate
from scheduler.notify.channels import EmailChannel, OutgoingNotice
from scheduler.notify.outbox import deliver_due, enqueue_notice
from scheduler.scenario import load_scenario


class TimedInbox:
    """Accepts every message and notes when it said 250 (perf_counter, this process's clock)."""

    def __init__(self, quit_delay: float) -> None:
        self.quit_delay = quit_delay
        self.accepted_at: list[float] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.accepted_at.append(time.perf_counter())
        return "250 OK"

    async def handle_QUIT(self, server, session, envelope):  # noqa: N802
        if self.quit_delay:
            await asyncio.sleep(self.quit_delay)
        return "221 Bye"


class RecordsAfterQuit(EmailChannel):
    """The earlier order: it does not report the 250, so the outbox records `sent` once QUIT is done."""

    def send(self, notice: OutgoingNotice, accepted=None) -> None:
        super().send(notice, None)


def measure(url: str, channel_class: type[EmailChannel], sends: int, quit_delay: float) -> list[float]:
    """Send `sends` notices one by one; return each one's window (ms) from the 250 to the commit of `sent`."""
    engine = migrate(make_engine(url))
    factory = session_factory(engine)
    committed_at: list[float] = []
    event.listen(factory, "after_commit", lambda _session: committed_at.append(time.perf_counter()))
    inbox = TimedInbox(quit_delay)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    channel = channel_class("127.0.0.1", port, sender="rota@hospital.example")
    now = dt.datetime.now(dt.UTC)
    windows = []
    with transaction(factory) as session:
        community_id = store.import_scenario(session, "bench", load_scenario(SAMPLE_SCENARIO))
    try:
        for number in range(sends):
            with transaction(factory) as session:
                enqueue_notice(session, f"bench:{uuid.uuid4().hex}:{number}", community_id=community_id, recipient_kind="expert", recipient_id="E01",
                               channel="email", address="e01@hospital.example", kind="reminder", subject="提醒", body="明天出诊",
                               now=now)
            committed_at.clear()
            inbox.accepted_at.clear()
            report = deliver_due(factory, {"email": channel}, now=now, limit=1)
            assert report.sent == 1, report
            accepted = inbox.accepted_at[0]
            windows.append((min(t for t in committed_at if t > accepted) - accepted) * 1000)
    finally:
        controller.stop()
        engine.dispose()
    return windows


def fresh_postgres(server_url: str) -> tuple[str, Callable[[], None]]:
    admin = create_engine(server_url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    name = f"rota_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(server_url).set(database=name).render_as_string(hide_password=False), drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sends", type=int, default=60)
    parser.add_argument("--quit-delay-ms", type=float, default=50.0)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    load = Path("/proc/loadavg").read_text().split()[0]
    print(f"duplicate window = SMTP 250 to DATA -> commit of `sent`; {args.sends} sends each; load {load}")
    print(f"{'engine':<11} {'server QUIT':<12} {'order':<22} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}")
    with tempfile.TemporaryDirectory() as folder:
        postgres_url, drop = fresh_postgres(args.postgres)
        try:
            for engine_name, url in (("sqlite", f"sqlite:///{Path(folder) / 'bench.sqlite3'}"), ("postgresql", postgres_url)):
                for quit_delay in (0.0, args.quit_delay_ms / 1000):
                    for order, channel_class in (("sent on the 250", EmailChannel), ("sent after QUIT (old)", RecordsAfterQuit)):
                        windows = sorted(measure(url, channel_class, args.sends, quit_delay))
                        p95 = windows[max(0, int(len(windows) * 0.95) - 1)]
                        quit_label = "at once" if not quit_delay else f"+{quit_delay * 1000:.0f} ms"
                        print(f"{engine_name:<11} {quit_label:<12} {order:<22} {statistics.median(windows):>10.2f} {p95:>8.2f} {windows[-1]:>8.2f}")
        finally:
            drop()


if __name__ == "__main__":
    main()
