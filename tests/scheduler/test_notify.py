"""Notices: outbox dedup, retries with backoff, crash recovery, and real receivers (aiosmtpd, an HTTP robot).

Every database test runs on SQLite and on PostgreSQL, migrated to head by the shared fixtures.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, inspect, select, update

from scheduler import store
from scheduler.db import Base, transaction
from scheduler.errors import Conflict, ScenarioError
from scheduler.labels import CommunityLabels
from scheduler.notify import channels as channels_module
from scheduler.notify.channels import DeliveryError, EmailChannel, OutgoingNotice, WebhookChannel, message_id_for
from scheduler.notify.contacts import delete_contact, get_contact, list_contacts, set_contact
from scheduler.notify.messages import (
    assignment_text,
    cancellation_text,
    change_text,
    digest_text,
    reminder_text,
    request_update_text,
)
from scheduler.notify.models import Notice
from scheduler.notify.outbox import (
    SENDING_LEASE,
    backoff_delay,
    deliver_due,
    enqueue_notice,
    list_notices,
    notice_key,
    notice_stats,
    notify_recipient,
    retry_notice,
)
from scheduler.scenario import load_scenario
from solver.solution import Assignment

REPO = Path(__file__).resolve().parents[2]
T0 = dt.datetime(2027, 1, 4, 1, 0, tzinfo=dt.UTC)

LABELS = CommunityLabels(
    community="全南县总医院",
    township_names={"t01": "城厢镇卫生院", "t02": "南迳镇卫生院"},
    specialty_names={"cardio": "心血管内科"},
    expert_names={"E007": "王芳"},
)
CLINIC = Assignment(dt.date(2027, 1, 5), "am", "t01", "clinic", "cardio", "E007", id="a1")


# --- engines -------------------------------------------------------------------------------------


COMMUNITY_ID = 1  # the first community of a fresh database, which `notify_db` imports


@pytest.fixture
def notify_db(session_factory):
    """Sessions on a database migrated to head (tests/conftest.py), once on SQLite and once on PostgreSQL, holding one community."""
    with transaction(session_factory) as session:
        assert store.import_scenario(session, "minimal", load_scenario(REPO / "tests" / "scheduler" / "minimal.yaml")) == COMMUNITY_ID
    return session_factory


def test_migrations_create_the_notice_tables_as_the_models_say(engine):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    ours = [d for d in differences if "notices" in repr(d) or "contacts" in repr(d)]
    assert ours == []
    assert {"notices", "contacts"} <= set(inspect(engine).get_table_names())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- receivers -----------------------------------------------------------------------------------


class MailInbox:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[MailInbox, int]]:
    inbox = MailInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


class Robot:
    """A tiny HTTP server playing a WeCom/DingTalk group robot; answers are set per test."""

    def __init__(self) -> None:
        self.posts: list[dict] = []
        self.status = 200
        self.answer: bytes = b'{"errcode":0,"errmsg":"ok"}'
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers["Content-Length"])
                robot.posts.append(json.loads(self.rfile.read(length)))
                self.send_response(robot.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(robot.answer)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cgi-bin/webhook/send?key=test"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def robot() -> Iterator[Robot]:
    receiver = Robot()
    try:
        yield receiver
    finally:
        receiver.close()


def enqueue_webhook(factory, key: str, url: str, now: dt.datetime = T0) -> bool:
    text = reminder_text(CLINIC, LABELS, "zh-CN", audience="township")
    with transaction(factory) as session:
        return enqueue_notice(
            session, key, community_id=COMMUNITY_ID, recipient_kind="township", recipient_id="t01", channel="webhook", address=url,
            kind="reminder", subject=text.subject, body=text.body, now=now,
        )


def only_notice(factory) -> Notice:
    with factory() as session:
        return session.scalars(select(Notice)).one()


# --- email ---------------------------------------------------------------------------------------


def test_email_reaches_a_real_smtp_server_in_chinese_with_a_stable_message_id(notify_db, smtp_server):
    inbox, port = smtp_server
    with transaction(notify_db) as session:
        set_contact(session, COMMUNITY_ID, "expert", "E007", email="wangfang@example.org")
        keys = notify_recipient(
            session, community_id=COMMUNITY_ID, recipient_kind="expert", recipient_id="E007", kind="assignment", about=CLINIC.id, version=1,
            text_for=lambda lang: assignment_text(CLINIC, LABELS, lang), now=T0,
        )
    assert keys == ["assignment:expert:E007:a1:v1:email"]

    report = deliver_due(notify_db, {"email": EmailChannel("127.0.0.1", port, sender="rota@hospital.example")}, now=T0)

    assert (report.sent, report.retrying, report.failed) == (1, 0, 0)
    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    assert inbox.recipients[0] == ["wangfang@example.org"]
    assert message["Subject"] == "【下沉排班】2027年1月5日 上午 城厢镇卫生院"
    assert message["Message-ID"] == message_id_for(keys[0], "hospital.example")
    body = message.get_content()
    assert "王芳医生，您好：" in body
    assert "2027年1月5日（星期二）上午 08:30–11:30 · 城厢镇卫生院 · 心血管内科 坐诊" in body
    assert "全南县总医院" in body
    notice = only_notice(notify_db)
    assert (notice.status, notice.attempts, notice.sent_at) == ("sent", 1, T0)


# the test server asks for AUTH on a plain connection on purpose (a local relay); aiosmtpd warns about that
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_smtp_login_is_used_when_a_user_is_set(notify_db):
    # aiosmtpd only offers AUTH when told to; plain-text auth without TLS is for the test only.
    from aiosmtpd.smtp import AuthResult

    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"secret", handled=False)

    inbox = MailInbox()
    port = free_port()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, authenticator=authenticator, auth_required=True, auth_require_tls=False
    )
    controller.start()
    try:
        enqueue_email(notify_db, "k-login")
        enqueue_email(notify_db, "k-bad-login")
        good = EmailChannel("127.0.0.1", port, user="rota", password="secret")
        assert deliver_due(notify_db, {"email": good}, now=T0, limit=1).sent == 1
        bad = EmailChannel("127.0.0.1", port, user="rota", password="wrong")
        report = deliver_due(notify_db, {"email": bad}, now=T0)
    finally:
        controller.stop()
    # smtplib tries each offered mechanism (PLAIN, then LOGIN) before giving up on the wrong password.
    assert logins[0] == (b"rota", b"secret") and set(logins[1:]) == {(b"rota", b"wrong")}
    assert len(inbox.messages) == 1
    assert report.retrying == 1 and "login failed" in report.errors[0]


@pytest.fixture
def tls_certificate(tmp_path) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1, made with the openssl command line."""
    cert, key = tmp_path / "smtp.crt", tmp_path / "smtp.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return str(cert), str(key)


def test_starttls_is_used_when_asked_and_a_server_requiring_it_refuses_plain_text(notify_db, tls_certificate):
    cert, key = tls_certificate
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    inbox = MailInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=server_context, require_starttls=True)
    controller.start()
    try:
        enqueue_email(notify_db, "k-plain")
        plain = deliver_due(notify_db, {"email": EmailChannel("127.0.0.1", port)}, now=T0)
        client_context = ssl.create_default_context(cafile=cert)
        secure = EmailChannel("127.0.0.1", port, starttls=True, ssl_context=client_context)
        later = T0 + dt.timedelta(minutes=1)
        encrypted = deliver_due(notify_db, {"email": secure}, now=later)
    finally:
        controller.stop()
    assert plain.retrying == 1 and "530" in plain.errors[0]  # "Must issue a STARTTLS command first"
    assert encrypted.sent == 1
    assert len(inbox.messages) == 1 and inbox.messages[0]["Subject"].startswith("【下沉提醒】")


def enqueue_email(factory, key: str, address: str = "wangfang@example.org", now: dt.datetime = T0) -> bool:
    text = reminder_text(CLINIC, LABELS, "zh-CN")
    with transaction(factory) as session:
        return enqueue_notice(
            session, key, community_id=COMMUNITY_ID, recipient_kind="expert", recipient_id="E007", channel="email", address=address,
            kind="reminder", subject=text.subject, body=text.body, now=now,
        )


def test_smtp_server_down_is_recorded_and_retried_not_raised(notify_db):
    enqueue_email(notify_db, "reminder:expert:E007:a1:v1:email")
    closed_port = free_port()  # nothing listens here

    report = deliver_due(notify_db, {"email": EmailChannel("127.0.0.1", closed_port, timeout=2)}, now=T0)

    assert (report.sent, report.retrying, report.failed) == (0, 1, 0)
    notice = only_notice(notify_db)
    assert notice.status == "queued" and notice.attempts == 1
    assert "unreachable" in notice.last_error
    assert notice.next_attempt_at == T0 + dt.timedelta(seconds=30)


def test_smtp_refused_recipient_fails_at_once(notify_db):
    class Refusing(MailInbox):
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            return "550 no such user here"

    port = free_port()
    controller = Controller(Refusing(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        enqueue_email(notify_db, "k-refused", address="nobody@example.org")
        report = deliver_due(notify_db, {"email": EmailChannel("127.0.0.1", port)}, now=T0, max_attempts=5)
    finally:
        controller.stop()
    assert report.failed == 1
    notice = only_notice(notify_db)
    assert notice.status == "failed" and notice.attempts == 1 and "nobody@example.org" in notice.last_error


# --- webhook -------------------------------------------------------------------------------------


def test_webhook_posts_robot_text_json(notify_db, robot):
    with transaction(notify_db) as session:
        keys = notify_recipient(
            session, community_id=COMMUNITY_ID, recipient_kind="township", recipient_id="t01", kind="reminder", about=CLINIC.id, version=2,
            text_for=lambda lang: reminder_text(CLINIC, LABELS, lang, audience="township"),
            default_webhook_url=robot.url, now=T0,
        )
    assert keys == ["reminder:township:t01:a1:v2:webhook"]

    report = deliver_due(notify_db, {"webhook": WebhookChannel()}, now=T0)

    assert report.sent == 1
    assert len(robot.posts) == 1
    post = robot.posts[0]
    assert set(post) == {"msgtype", "text"} and post["msgtype"] == "text"
    content = post["text"]["content"]
    assert content.startswith("【下沉提醒】2027年1月5日 上午 城厢镇卫生院\n城厢镇卫生院负责同志，您好：")
    assert "提醒：专家即将到院" in content and "王芳" in content


def test_webhook_robot_errcode_is_a_failure(notify_db, robot):
    robot.answer = '{"errcode":93000,"errmsg":"invalid webhook url"}'.encode()
    enqueue_webhook(notify_db, "k-errcode", robot.url)

    report = deliver_due(notify_db, {"webhook": WebhookChannel()}, now=T0)

    assert (report.sent, report.retrying) == (0, 1)
    notice = only_notice(notify_db)
    assert notice.status == "queued" and "errcode 93000" in notice.last_error


def test_receiver_answering_500_is_retried_with_backoff_then_failed(notify_db, robot):
    robot.status = 500
    robot.answer = b"internal error"
    enqueue_webhook(notify_db, "k-500", robot.url)
    webhook = {"webhook": WebhookChannel()}

    def deliver(at: dt.datetime):
        return deliver_due(notify_db, webhook, now=at, max_attempts=3)

    assert deliver(T0).retrying == 1
    notice = only_notice(notify_db)
    assert (notice.status, notice.attempts, notice.next_attempt_at) == ("queued", 1, T0 + dt.timedelta(seconds=30))
    assert "HTTP 500" in notice.last_error

    # Not due yet: nothing is sent.
    assert deliver(T0 + dt.timedelta(seconds=29)).retrying == 0
    assert len(robot.posts) == 1

    second = T0 + dt.timedelta(seconds=30)
    assert deliver(second).retrying == 1
    notice = only_notice(notify_db)
    assert (notice.attempts, notice.next_attempt_at) == (2, second + dt.timedelta(seconds=60))
    with notify_db() as session:
        stats = notice_stats(session)
    assert stats.retrying == 1 and stats.by_status["queued"] == 1 and stats.oldest_queued_at == T0

    third = second + dt.timedelta(seconds=60)
    assert deliver(third).failed == 1
    notice = only_notice(notify_db)
    assert (notice.status, notice.attempts) == ("failed", 3)
    assert len(robot.posts) == 3
    assert deliver(third + dt.timedelta(hours=5)).failed == 0  # a failed notice is not tried again
    assert len(robot.posts) == 3

    with notify_db() as session:
        stats = notice_stats(session)
        failed = list_notices(session, status="failed")
    assert stats.by_status == {"queued": 0, "sending": 0, "sent": 0, "failed": 1}
    assert stats.by_channel == {("webhook", "failed"): 1}
    assert [n.dedup_key for n in stats.recent_failures] == ["k-500"]
    assert "HTTP 500" in stats.recent_failures[0].last_error
    assert [n.id for n in failed] == [notice.id]

    # The office re-queues it by hand once the robot works again.
    robot.status = 200
    robot.answer = b'{"errcode":0}'
    with transaction(notify_db) as session:
        assert retry_notice(session, notice.id, now=third).status == "queued"
    assert deliver(third).sent == 1
    with transaction(notify_db) as session, pytest.raises(Conflict):
        retry_notice(session, notice.id)


def test_backoff_doubles_from_30_seconds_up_to_an_hour():
    assert [backoff_delay(n).total_seconds() for n in range(1, 10)] == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_a_4xx_answer_fails_at_once_but_429_is_retried(notify_db, robot):
    robot.status = 404
    enqueue_webhook(notify_db, "k-404", robot.url)
    assert deliver_due(notify_db, {"webhook": WebhookChannel()}, now=T0).failed == 1
    robot.status = 429
    enqueue_webhook(notify_db, "k-429", robot.url)
    assert deliver_due(notify_db, {"webhook": WebhookChannel()}, now=T0).retrying == 1


# --- exactly once --------------------------------------------------------------------------------


def test_same_key_twice_is_one_notice_and_one_email(notify_db, smtp_server):
    inbox, port = smtp_server
    key = notice_key("reminder", "expert", "E007", CLINIC.id, 3, "email")
    assert enqueue_email(notify_db, key) is True
    assert enqueue_email(notify_db, key) is False
    with notify_db() as session:
        assert session.scalar(select(func.count()).select_from(Notice)) == 1

    channel = {"email": EmailChannel("127.0.0.1", port)}
    assert deliver_due(notify_db, channel, now=T0).sent == 1
    assert deliver_due(notify_db, channel, now=T0 + dt.timedelta(hours=1)).sent == 0
    # A restarted job enqueues the same notice again after it was sent: still nothing new.
    assert enqueue_email(notify_db, key) is False
    assert deliver_due(notify_db, channel, now=T0 + dt.timedelta(hours=2)).sent == 0
    assert len(inbox.messages) == 1


def test_duplicate_enqueue_does_not_spoil_the_callers_transaction(notify_db):
    enqueue_email(notify_db, "k-dup")
    with transaction(notify_db) as session:
        assert enqueue_notice(
            session, "k-dup", community_id=COMMUNITY_ID, recipient_kind="expert", recipient_id="E007", channel="email",
            address="a@example.org", kind="reminder", subject="s", body="b", now=T0,
        ) is False
        set_contact(session, COMMUNITY_ID, "expert", "E007", email="later@example.org")  # the same transaction goes on
    with notify_db() as session:
        assert get_contact(session, COMMUNITY_ID, "expert", "E007").email == "later@example.org"


def test_concurrent_workers_send_each_notice_once(notify_db, robot):
    for number in range(12):
        enqueue_webhook(notify_db, f"k-{number}", robot.url)
    reports = []

    class SlowWebhook(WebhookChannel):
        def send(self, notice: OutgoingNotice, accepted=None) -> None:
            time.sleep(0.02)  # let the workers overlap
            super().send(notice, accepted)

    def worker() -> None:
        reports.append(deliver_due(notify_db, {"webhook": SlowWebhook()}, now=T0))

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(r.sent for r in reports) == 12
    assert len(robot.posts) == 12
    with notify_db() as session:
        assert notice_stats(session).by_status["sent"] == 12


def test_a_notice_left_sending_by_a_dead_worker_is_resent_once_after_the_lease(notify_db, robot):
    enqueue_webhook(notify_db, "k-crash", robot.url)
    # A worker claimed it at T0 and died before recording the outcome.
    with transaction(notify_db) as session:
        session.execute(update(Notice).values(status="sending", claim_token="dead", claimed_at=T0, attempts=1))

    assert deliver_due(notify_db, {"webhook": WebhookChannel()}, now=T0 + SENDING_LEASE / 2).sent == 0
    assert robot.posts == []
    assert deliver_due(notify_db, {"webhook": WebhookChannel()}, now=T0 + SENDING_LEASE).sent == 1
    notice = only_notice(notify_db)
    assert (notice.status, notice.attempts, notice.interrupted) == ("sent", 2, 1)
    assert len(robot.posts) == 1


KILLED_WORKER = """
import datetime as dt, os, sys
from scheduler.db import make_engine, session_factory
from scheduler.notify.channels import EmailChannel
from scheduler.notify.outbox import deliver_due

class DiesAfterTheServerAccepted(EmailChannel):
    def send(self, notice, accepted=None):
        super().send(notice, accepted=lambda: os._exit(17))  # killed on the 250, before it can record `sent`

channel = DiesAfterTheServerAccepted("127.0.0.1", int(sys.argv[2]))
deliver_due(session_factory(make_engine(sys.argv[1])), {"email": channel}, now=dt.datetime.fromisoformat(sys.argv[3]))
"""


def test_a_worker_killed_after_the_smtp_accept_leads_to_one_resend_with_the_same_message_id(engine, notify_db, smtp_server):
    """The documented at-least-once window, end to end: a real process dies between SMTP 250 and the commit."""
    inbox, port = smtp_server
    enqueue_email(notify_db, "k-killed")
    url = engine.url.render_as_string(hide_password=False)
    worker = subprocess.run(
        [sys.executable, "-c", KILLED_WORKER, url, str(port), T0.isoformat()],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert worker.returncode == 17, worker.stderr
    assert len(inbox.messages) == 1
    assert only_notice(notify_db).status == "sending"

    # Before the lease runs out nobody touches it; after, it is sent once more and recorded.
    channel = {"email": EmailChannel("127.0.0.1", port)}
    assert deliver_due(notify_db, channel, now=T0 + SENDING_LEASE - dt.timedelta(seconds=1)).sent == 0
    assert deliver_due(notify_db, channel, now=T0 + SENDING_LEASE).sent == 1
    assert deliver_due(notify_db, channel, now=T0 + 3 * SENDING_LEASE).sent == 0
    notice = only_notice(notify_db)
    assert (notice.status, notice.attempts, notice.interrupted) == ("sent", 2, 1)
    assert len(inbox.messages) == 2
    assert inbox.messages[0]["Message-ID"] == inbox.messages[1]["Message-ID"] == message_id_for("k-killed", "localhost")


def test_a_notice_interrupted_twice_is_failed_not_resent(notify_db, robot):
    enqueue_webhook(notify_db, "k-crash-twice", robot.url)
    with transaction(notify_db) as session:
        session.execute(update(Notice).values(status="sending", claim_token="dead", claimed_at=T0, attempts=2, interrupted=1))

    report = deliver_due(notify_db, {"webhook": WebhookChannel()}, now=T0 + 2 * SENDING_LEASE)

    assert (report.sent, report.failed) == (0, 1)
    assert robot.posts == []
    notice = only_notice(notify_db)
    assert notice.status == "failed" and "interrupted twice" in notice.last_error


def test_a_late_outcome_from_a_worker_whose_claim_was_taken_over_is_ignored(notify_db, robot):
    enqueue_webhook(notify_db, "k-late", robot.url)

    class StallingWebhook(WebhookChannel):
        """While this worker 'stalls', the lease expires and another worker re-sends and records `sent`."""

        def send(self, notice: OutgoingNotice, accepted=None) -> None:
            deliver_due(notify_db, {"webhook": WebhookChannel()}, now=T0 + SENDING_LEASE)
            raise DeliveryError("timed out after the other worker succeeded")

    deliver_due(notify_db, {"webhook": StallingWebhook()}, now=T0)

    notice = only_notice(notify_db)
    assert notice.status == "sent" and notice.last_error is None


def test_notices_for_an_unconfigured_channel_wait(notify_db, robot):
    enqueue_email(notify_db, "k-email-waits")
    assert deliver_due(notify_db, {"webhook": WebhookChannel()}, now=T0).sent == 0
    assert only_notice(notify_db).status == "queued"


def test_an_unexpected_channel_error_is_recorded_not_raised(notify_db):
    class Broken:
        name = "webhook"

        def send(self, notice: OutgoingNotice, accepted=None) -> None:
            raise RuntimeError("bug in a channel")

    enqueue_webhook(notify_db, "k-broken", "http://127.0.0.1:9/")
    report = deliver_due(notify_db, {"webhook": Broken()}, now=T0)
    assert report.retrying == 1
    assert "unexpected RuntimeError: bug in a channel" in only_notice(notify_db).last_error


def test_bad_enqueue_names_the_field(notify_db):
    with transaction(notify_db) as session, pytest.raises(ScenarioError) as raised:
        enqueue_notice(
            session, "k", community_id=COMMUNITY_ID, recipient_kind="mayor", recipient_id="x", channel="pigeon", address="",
            kind="reminder", subject="s", body="b",
        )
    assert {p.path for p in raised.value.problems} == {"recipient_kind", "channel"}


def test_long_keys_stay_unique_within_the_column():
    first = notice_key("digest", "office", "office", "x" * 400, 1, "email")
    second = notice_key("digest", "office", "office", "x" * 399 + "y", 1, "email")
    assert len(first) <= 255 and len(second) <= 255 and first != second


# --- contacts ------------------------------------------------------------------------------------


def test_contacts_are_set_replaced_listed_and_deleted(notify_db):
    with transaction(notify_db) as session:
        set_contact(session, COMMUNITY_ID, "expert", "E007", email="wangfang@example.org")
        set_contact(session, COMMUNITY_ID, "township", "t01", webhook_url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc")
        set_contact(session, COMMUNITY_ID, "expert", "E007", email="fang.wang@example.org", language="en-US")
    with transaction(notify_db) as session:
        expert = get_contact(session, COMMUNITY_ID, "expert", "E007")
        assert (expert.email, expert.webhook_url, expert.language) == ("fang.wang@example.org", None, "en")
        assert [c.ref_id for c in list_contacts(session, COMMUNITY_ID)] == ["E007", "t01"]
        assert [c.ref_id for c in list_contacts(session, COMMUNITY_ID, "township")] == ["t01"]
        assert delete_contact(session, COMMUNITY_ID, "township", "t01") is True
        assert get_contact(session, COMMUNITY_ID, "township", "t01") is None


def test_bad_contact_names_each_field(notify_db):
    with transaction(notify_db) as session, pytest.raises(ScenarioError) as raised:
        set_contact(session, COMMUNITY_ID, "nurse", "", email="not-an-address", webhook_url="ftp://x", language="fr")
    assert [p.path for p in raised.value.problems] == ["kind", "id", "email", "webhook_url", "language"]


def test_english_contact_gets_english_text_on_both_channels(notify_db):
    with transaction(notify_db) as session:
        set_contact(session, COMMUNITY_ID, "expert", "E007", email="fang@example.org", webhook_url="https://robot.example/send", language="en")
        keys = notify_recipient(
            session, community_id=COMMUNITY_ID, recipient_kind="expert", recipient_id="E007", kind="cancellation", about="a1", version=4,
            text_for=lambda lang: cancellation_text(CLINIC, LABELS, lang, reason="township closed (flood)"), now=T0,
        )
        notices = session.scalars(select(Notice).order_by(Notice.channel)).all()
    assert keys == ["cancellation:expert:E007:a1:v4:email", "cancellation:expert:E007:a1:v4:webhook"]
    assert [n.language for n in notices] == ["en", "en"]
    assert notices[0].subject == "[Cancelled] 2027-01-05 morning 城厢镇卫生院"
    assert "Reason: township closed (flood)" in notices[0].body


def test_a_recipient_without_contact_or_robot_gets_nothing(notify_db):
    with transaction(notify_db) as session:
        keys = notify_recipient(
            session, community_id=COMMUNITY_ID, recipient_kind="expert", recipient_id="E999", kind="reminder", about="a1", version=1,
            text_for=lambda lang: reminder_text(CLINIC, LABELS, lang),
        )
    assert keys == []


# --- texts ---------------------------------------------------------------------------------------


def test_texts_of_each_kind():
    moved = Assignment(dt.date(2027, 1, 7), "pm", "t02", "clinic", "cardio", "E007", id="a1")
    change = change_text(CLINIC, moved, LABELS)
    assert change.subject == "【排班变更】2027年1月7日 下午 南迳镇卫生院"
    assert "原安排：2027年1月5日（星期二）上午" in change.body and "新安排：2027年1月7日（星期四）下午" in change.body

    visit = Assignment(dt.date(2027, 1, 5), "am", "t01", "supervision", None, "E007", link_visit=True, id="v1")
    reminder = reminder_text(visit, LABELS)
    assert "城厢镇卫生院 · 挂点督导（挂点）" in reminder.body and "本次为挂点报到" in reminder.body

    digest = digest_text(dt.date(2027, 1, 5), ["王芳 请假 1月5日"], LABELS)
    assert digest.subject == "【排班日报】全南县总医院 2027年1月5日"
    assert "今日排班变动（共1条）：\n- 王芳 请假 1月5日" in digest.body
    assert digest_text(dt.date(2027, 1, 5), [], LABELS, "en").body.startswith("No rota changes today.")

    approved = request_update_text("t02", "心血管内科 坐诊 1次", "approved", LABELS, assignment=moved)
    assert approved.subject == "【加诊申请】南迳镇卫生院 已批准"
    assert "南迳镇卫生院负责同志，您好：" in approved.body and "心血管内科 坐诊 · 王芳" in approved.body
    rejected = request_update_text("t02", "paeds clinic x1", "rejected", LABELS, "en", reason="no paediatrician free")
    assert rejected.subject == "[Extra session request] 南迳镇卫生院: could not be scheduled"
    with pytest.raises(ValueError):
        request_update_text("t02", "x", "maybe", LABELS)


def test_channels_from_settings_needs_an_smtp_host():
    from config.settings import Settings

    assert set(channels_module.channels_from_settings(Settings(smtp_host=""))) == {"webhook"}
    configured = channels_module.channels_from_settings(Settings(smtp_host="mail.example", smtp_port=587, smtp_starttls=True))
    assert configured["email"].starttls is True and configured["email"].port == 587
