"""Shared parts of the events, jobs and leader tests: real receivers (aiosmtpd, an HTTP robot), a published
roster of the minimal scenario, and worker subprocesses that can be SIGKILLed.

Imported by the test modules next to it (pytest puts this folder on sys.path).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from aiosmtpd.controller import Controller

from scheduler import flows, store
from scheduler.db import transaction
from scheduler.notify.contacts import set_contact
from scheduler.scenario import load_scenario
from tests.solved import fresh_solves_reused

HERE = Path(__file__).resolve().parent
MINIMAL = HERE / "minimal.yaml"
MONTH = "2026-10"
COMMUNITY = "minimal"  # the code the minimal scenario is imported under
WORKER_SCRIPT = HERE / "rota_worker_process.py"
REPO_ROOT = HERE.parent.parent
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
EXPERTS = ("E01", "E02", "E03")
TOWNSHIPS = ("nanjing", "pitou")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MailInbox:
    """An aiosmtpd handler that keeps every message it accepts; it can hold one message back (see `hold_at`)."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.lock = threading.Lock()
        self.delay = 0.0
        self.hold_at: int | None = None  # the (1-based) delivery attempt to hold until `release` is set
        self.holding = threading.Event()
        self.release = threading.Event()
        self.attempts = 0

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.attempts += 1
            attempt = self.attempts
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.hold_at is not None and attempt == self.hold_at:
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            # The sender died before we answered: a real server that has not said 250 has not accepted it.
            return "451 sender went away, not accepted"
        with self.lock:
            self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    @staticmethod
    def key_of(message: email.message.EmailMessage) -> str:
        # A long header comes back folded; a dedup key has no whitespace of its own.
        return "".join(str(message["X-Rota-Notice"]).split())

    def keys(self) -> list[str]:
        with self.lock:
            return [self.key_of(message) for message in self.messages]

    def by_kind(self, kind: str) -> list[email.message.EmailMessage]:
        with self.lock:
            return [m for m in self.messages if self.key_of(m).startswith(kind + ":")]

    def duplicates(self) -> dict[str, int]:
        return {key: count for key, count in Counter(self.keys()).items() if count > 1}


class SmtpServer:
    """A real SMTP server on localhost in a thread."""

    def __init__(self) -> None:
        self.inbox = MailInbox()
        self.port = free_port()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def close(self) -> None:
        self.controller.stop()


class Robot:
    """A real HTTP receiver playing a WeCom/DingTalk group robot."""

    def __init__(self) -> None:
        self.posts: list[dict] = []
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers["Content-Length"])
                robot.posts.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"errcode":0,"errmsg":"ok"}')

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cgi-bin/webhook/send?key=test"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def texts(self) -> list[str]:
        return [post["text"]["content"] for post in self.posts]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def expert_address(expert: str) -> str:
    return f"{expert.lower()}@hospital.example"


def seed_published_roster(factory, robot_url: str | None = None, time_limit: float = 3.0) -> int:
    """Import the minimal scenario, give every expert an email and every township head the robot, generate and publish October.

    The generation goes through flows.generate, its solve done once per test process (tests/solved.py)."""
    with transaction(factory) as session:
        community_id = store.import_scenario(session, COMMUNITY, load_scenario(MINIMAL))
        for expert in EXPERTS:
            set_contact(session, community_id, "expert", expert, email=expert_address(expert))
        for township in TOWNSHIPS:
            set_contact(session, community_id, "township", township, webhook_url=robot_url)
    with fresh_solves_reused():
        version = flows.generate(factory, COMMUNITY, MONTH, time_limit=time_limit)
    return flows.publish(factory, COMMUNITY, MONTH, version)


def latest_roster(factory):
    with factory() as session:
        solution, version, status, _ = store.load_roster_version(session, COMMUNITY, MONTH)
    return solution, version, status


def wait_for(condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


class WorkerProcess:
    """`rota_worker_process.py` in a subprocess: leader election plus the leader's roles, with a clock read from a file."""

    def __init__(self, database_url: str, clock_file: Path, smtp_port: int, log_path: Path, env: dict[str, str] | None = None, args: list[str] | None = None) -> None:
        self.log_path = log_path
        environment = {
            **os.environ, "ROTA_DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1", "ROTA_SOLVER_TIME_LIMIT": "2",
            "ROTA_WEBHOOK_URL": "", **(env or {}),
        }
        self.log = open(log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, str(WORKER_SCRIPT), "--clock-file", str(clock_file), "--smtp-port", str(smtp_port), *(args or [])],
            cwd=REPO_ROOT, env=environment, stdout=self.log, stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def says(self, marker: str) -> bool:
        return marker in self.output()

    def kill(self) -> None:
        """SIGKILL: no clean-up, no finally blocks, the connection just drops."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


def set_clock(clock_file: Path, moment: dt.datetime) -> None:
    clock_file.write_text(moment.isoformat())


def channels_for(smtp: SmtpServer) -> dict:
    """Both real channels: email to the test SMTP server, the webhook to each contact's robot URL."""
    from scheduler.notify.channels import EmailChannel, WebhookChannel

    return {"email": EmailChannel("127.0.0.1", smtp.port, sender="rota@hospital.example"), "webhook": WebhookChannel()}
