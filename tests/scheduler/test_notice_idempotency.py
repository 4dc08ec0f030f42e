"""A notice that a crash makes go out twice reaches its reader once where the channel allows it.

Webhook: a real HTTP receiver that dedupes by the `Idempotency-Key` header; the sending replica is SIGKILLed
after the receiver accepted the post and before the outbox recorded `sent`; the next replica re-sends after the
sending lease, with the same key, and the receiver delivers it once. SMTP, which has no such key: the outbox
records `sent` on the server's 250 to DATA, before QUIT (bench/notice_window.py measures what is left).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from event_harness import COMMUNITY, MINIMAL, WorkerProcess, free_port, set_clock, wait_for
from sqlalchemy import create_engine, select

from scheduler import store
from scheduler.scenario import load_scenario
from scheduler.db import transaction
from scheduler.notify.channels import IDEMPOTENCY_HEADER, EmailChannel, idempotency_key
from scheduler.notify.models import Notice
from scheduler.notify.outbox import SENDING_LEASE, deliver_due, enqueue_notice

T0 = dt.datetime(2026, 10, 5, 9, 0, tzinfo=dt.UTC)


class DedupingReceiver:
    """A robot-like HTTP receiver that delivers each Idempotency-Key once; it can hold its first answer back."""

    def __init__(self, hold_first_answer: bool = False) -> None:
        self.posts: list[tuple[str | None, dict]] = []
        self.delivered: list[dict] = []
        self.accepted = threading.Event()
        self.release = threading.Event()
        self.hold_first_answer = hold_first_answer
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                key = self.headers.get(IDEMPOTENCY_HEADER)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with receiver.lock:
                    receiver.posts.append((key, body))
                    first_time = key is None or all(seen != key for seen, _ in receiver.posts[:-1])
                    if first_time:
                        receiver.delivered.append(body)  # accepted: it is in the group now
                    hold = receiver.hold_first_answer and len(receiver.posts) == 1
                if hold:
                    receiver.accepted.set()
                    receiver.release.wait(60)  # the sender is killed meanwhile
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b'{"errcode":0,"errmsg":"ok"}')
                except OSError:
                    pass  # the sender is gone

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cgi-bin/webhook/send?key=test"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[DedupingReceiver]:
    running = DedupingReceiver(hold_first_answer=True)
    yield running
    running.close()


def test_a_sender_killed_after_the_webhook_accepted_leads_to_one_delivery(database_url, session_factory, receiver, smtp, tmp_path):
    key = "reminder:township:nanjing:s1:reminder:P1D:v1:webhook"
    with transaction(session_factory) as session:
        community_id = store.import_scenario(session, COMMUNITY, load_scenario(MINIMAL))
        enqueue_notice(session, key, community_id=community_id, recipient_kind="township", recipient_id="nanjing", channel="webhook", address=receiver.url,
                       kind="reminder", subject="明日提醒", body="专家明天到院", now=T0)
    clock_file = tmp_path / "clock"
    set_clock(clock_file, T0)

    first = WorkerProcess(database_url, clock_file, smtp.port, tmp_path / "first.log")
    try:
        assert receiver.accepted.wait(60), first.output()
        first.kill()  # after the receiver accepted, before the outbox heard back
    finally:
        first.stop()
    receiver.release.set()
    with session_factory() as session:
        assert session.scalars(select(Notice.status)).one() == "sending"

    set_clock(clock_file, T0 + SENDING_LEASE + dt.timedelta(seconds=1))
    second = WorkerProcess(database_url, clock_file, smtp.port, tmp_path / "second.log")
    try:
        def recorded_sent() -> bool:
            with session_factory() as session:
                return session.scalars(select(Notice.status)).one() == "sent"

        wait_for(recorded_sent, 60, "the next replica to re-send and record the notice")
    finally:
        second.stop()

    assert [sent_key for sent_key, _ in receiver.posts] == [idempotency_key(key)] * 2  # the same key both times
    assert len(receiver.delivered) == 1
    assert receiver.delivered[0] == {"msgtype": "text", "text": {"content": "明日提醒\n专家明天到院"}}  # the robots' own format
    with session_factory() as session:
        notice = session.scalars(select(Notice)).one()
        assert (notice.attempts, notice.interrupted) == (2, 1)


def test_idempotency_keys_follow_the_dedup_key():
    assert idempotency_key("a") == idempotency_key("a") != idempotency_key("b")
    assert idempotency_key("提醒:专家:E01").isascii()


def test_email_is_recorded_sent_on_the_servers_250_before_quit(session_factory, database_url):
    """A crash after the 250 can make a duplicate only until `sent` commits: that commit comes before QUIT, not after."""
    status_at_quit: list[str] = []
    engine = create_engine(session_factory.kw["bind"].url)

    class Inbox:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            return "250 OK"

        async def handle_QUIT(self, server, session, envelope):  # noqa: N802
            with engine.connect() as connection:
                status_at_quit.append(connection.execute(select(Notice.status)).scalar_one())
            return "221 Bye"

    port = free_port()
    server = Controller(Inbox(), hostname="127.0.0.1", port=port)
    server.start()
    try:
        with transaction(session_factory) as session:
            community_id = store.import_scenario(session, COMMUNITY, load_scenario(MINIMAL))
            enqueue_notice(session, "k-quit", community_id=community_id, recipient_kind="expert", recipient_id="E01", channel="email",
                           address="e01@hospital.example", kind="reminder", subject="s", body="b", now=T0)
        report = deliver_due(session_factory, {"email": EmailChannel("127.0.0.1", port)}, now=T0)
    finally:
        server.stop()
        engine.dispose()
    assert report.sent == 1
    assert status_at_quit == ["sent"]
