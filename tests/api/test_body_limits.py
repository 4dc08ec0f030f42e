"""Request bodies against a real uvicorn: a credential and a size limit, both before the body is read (api/limits.py).

The requests are written on a raw socket, so a body can be as large as the test likes, announced by a
Content-Length or sent chunked, and the client stops sending as soon as the service answers.
"""

from __future__ import annotations

import asyncio
import json
import select
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI

from api.deps import CurrentCaller
from api.limits import BodyGuard
from tests.api.conftest import LiveService, start_service, stop_service

MIB = 1024 * 1024
BODY_LIMIT = 1 * MIB
SCENARIO_LIMIT = 3 * MIB


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    sent: int  # body bytes the client got to send before the answer

    def json(self):
        return json.loads(self.body)


def send_request(
    service: LiveService, method: str, path: str, body_size: int, *, headers: dict[str, str] | None = None,
    chunked: bool = False, filler: bytes = b"x", timeout: float = 120.0,
) -> Answer:
    """Send a request with a body of `body_size` bytes to a community address, stopping as soon as the service answers."""
    address = urlsplit(service.base_url)
    connection = socket.create_connection((address.hostname, address.port), timeout=timeout)
    lines = [f"{method} {address.path}{path} HTTP/1.1", f"Host: {address.netloc}"]
    lines += [f"{name}: {value}" for name, value in {"Content-Type": "application/json", **(headers or {})}.items()]
    lines.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {body_size}")
    connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    piece = filler * (256 * 1024 // len(filler))
    sent = 0
    pending = b""
    try:
        while sent < body_size or pending:
            readable, writable, _ = select.select([connection], [connection], [], timeout)
            if readable:
                break  # the service answered (or closed) before the whole body went
            if not pending:
                data = piece[: body_size - sent]
                sent += len(data)
                pending = (f"{len(data):x}\r\n".encode() + data + b"\r\n") if chunked else data
                if chunked and sent >= body_size:
                    pending += b"0\r\n\r\n"
            written = connection.send(pending)
            pending = pending[written:]
    except (BrokenPipeError, ConnectionResetError):
        pass  # it answered and closed while we were still sending
    return _read_answer(connection, sent)


def _read_answer(connection: socket.socket, sent: int) -> Answer:
    received = b""
    while b"\r\n\r\n" not in received:
        data = connection.recv(65536)
        if not data:
            raise AssertionError(f"the connection closed without an answer (sent {sent} body bytes)")
        received += data
    head, _, rest = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in header_lines)}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        data = connection.recv(65536)
        if not data:
            break
        rest += data
    connection.close()
    return Answer(int(status_line.split()[1]), headers, rest[:length], sent)


def resident_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    """The service on SQLite with small limits (1 MiB, 3 MiB for the scenario upload) and an office token."""
    workdir = tmp_path_factory.mktemp("limits")
    running = start_service(
        f"sqlite:///{workdir / 'rota.sqlite3'}", workdir, ROTA_RUN_SCHEDULER="false",
        ROTA_MAX_BODY_BYTES=str(BODY_LIMIT), ROTA_MAX_SCENARIO_BODY_BYTES=str(SCENARIO_LIMIT),
    )
    running.tokens["office"] = running.token("office")
    yield running
    stop_service(running)


def test_an_anonymous_200_mb_post_is_refused_before_its_body_is_read(limited: LiveService):
    with limited.root_client() as client:
        assert client.get("/healthz").status_code == 200
    before = resident_bytes(limited.process.pid)

    for chunked in (False, True):
        answer = send_request(limited, "POST", "/requests", 200 * MIB, chunked=chunked)
        assert answer.status == 401, answer
        assert answer.headers["www-authenticate"] == "Bearer"
        assert "bearer token" in answer.json()["detail"]
        assert answer.sent < 50 * MIB, f"the client sent {answer.sent} bytes before the answer"

    grown = resident_bytes(limited.process.pid) - before
    assert grown < 50 * MIB, f"the service grew by {grown / MIB:.0f} MiB"
    with limited.root_client() as client:
        assert client.get("/healthz").status_code == 200


def test_a_body_over_the_limit_with_a_valid_token_is_413(limited: LiveService):
    office = {"Authorization": f"Bearer {limited.tokens['office']}"}
    before = resident_bytes(limited.process.pid)

    announced = send_request(limited, "POST", "/requests", 200 * MIB, headers=office)
    assert announced.status == 413, announced
    assert f"at most {BODY_LIMIT}" in announced.json()["detail"]
    assert announced.sent < 50 * MIB

    # Chunked: nothing to check up front; reading stops once the count passes the limit.
    streamed = send_request(limited, "POST", "/requests", 200 * MIB, headers=office, chunked=True)
    assert streamed.status == 413, streamed
    assert streamed.json() == {"detail": "Content Too Large"}
    assert streamed.sent < 50 * MIB

    assert resident_bytes(limited.process.pid) - before < 50 * MIB


def test_a_body_within_the_limit_goes_through_to_the_route(limited: LiveService):
    office = {"Authorization": f"Bearer {limited.tokens['office']}"}
    # Not JSON at all: the route's own validation answers, so the body was read and parsed.
    for chunked in (False, True):
        answer = send_request(limited, "POST", "/requests", BODY_LIMIT - 10, headers=office, chunked=chunked)
        assert answer.status == 422, answer


def test_the_scenario_upload_has_its_own_larger_limit(limited: LiveService):
    office = {"Authorization": f"Bearer {limited.tokens['office']}"}
    # A YAML comment of 2 MiB: over the general limit, within the upload's; the scenario parser answers.
    within = send_request(limited, "PUT", "/scenario", 2 * MIB, headers={**office, "Content-Type": "application/yaml"}, filler=b"#")
    assert within.status == 422, within
    over = send_request(limited, "PUT", "/scenario", 4 * MIB, headers=office, filler=b"#")
    assert over.status == 413, over
    assert f"at most {SCENARIO_LIMIT}" in over.json()["detail"]


def test_a_public_route_is_not_asked_for_a_credential(limited: LiveService):
    # The login form needs no credential: an anonymous post reaches the page (not the guard's JSON 401); without the
    # login page's CSRF token the page's own check refuses it, with its page...
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    reached = send_request(limited, "POST", "/login", 7, headers=form, filler=b"token=x")
    assert reached.status == 403 and reached.headers["content-type"].startswith("text/html"), reached
    # ...and the size limit still holds there.
    over = send_request(limited, "POST", "/login", 2 * MIB, headers=form)
    assert over.status == 413, over


def test_the_guard_reads_the_route_table_at_start_up_not_on_the_first_request():
    # Reading the table walks every route's dependencies: ~1 s of CPU on a busy machine. On the first request with
    # a body it ran on the event loop and held /healthz for 0.6-1.7 s (tests/api/test_scenario_body.py saw it).
    app = FastAPI()

    @app.post("/private")
    def private(caller: CurrentCaller) -> None:
        return None

    guard = BodyGuard(app, routes_of=app, max_body_bytes=1024)
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[str] = []

    async def receive():
        return next(messages)

    async def send(message):
        sent.append(message["type"])

    asyncio.run(guard({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send))
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert guard._routes is not None  # built before any request
    assert [(context.path, needs_caller) for context, needs_caller in guard._routes] == [("/private", True)]
