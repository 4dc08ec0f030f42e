"""Feed tokens never reach a log line: a real `rota serve` (uvicorn, the service's JSON logging) answers feed
requests at every place a feed path can take, and its whole output is searched for the token.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2

from config.logging import FeedTokenRedaction, JsonFormatter, redact_feed_tokens
from scheduler import auth, store
from scheduler.db import session_factory, transaction
from scheduler.migrate import migrate
from scheduler.scenario import load_scenario

REPO = Path(__file__).resolve().parents[2]
MINIMAL = REPO / "tests" / "scheduler" / "minimal.yaml"
ROTA = str(Path(sys.executable).with_name("rota"))  # the console script pip installed with the project


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:8]


def test_a_real_uvicorn_logs_feed_requests_without_their_tokens(tmp_path):
    url = f"sqlite:///{tmp_path / 'rota.sqlite3'}"
    factory = session_factory(migrate(url))
    with transaction(factory) as session:
        store.import_scenario(session, "minimal", load_scenario(MINIMAL))
        _, token = auth.create_feed_token(session, "minimal", "expert", "E01")
    factory.kw["bind"].dispose()

    port = free_port()
    environment = {**os.environ, "ROTA_DATABASE_URL": url, "ROTA_RUN_SCHEDULER": "false", "PYTHONUNBUFFERED": "1"}
    log_path = tmp_path / "serve.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [ROTA, "serve", "--port", str(port)], cwd=REPO, env=environment, stdout=log, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx2.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx2.HTTPError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)
        answers = {
            "/feeds/{token}.ics": httpx2.get(f"{base}/feeds/{token}.ics").status_code,
            "/feeds/{token}.ics?lang=en": httpx2.get(f"{base}/feeds/{token}.ics", params={"lang": "en"}).status_code,
            # The feed's own address, under its community's prefix.
            "/c/minimal/feeds/{token}.ics": httpx2.get(f"{base}/c/minimal/feeds/{token}.ics").status_code,
            "/feeds/{token}": httpx2.get(f"{base}/feeds/{token}").status_code,
        }
    finally:
        server.terminate()
        server.wait(20)
    assert answers["/c/minimal/feeds/{token}.ics"] == 200  # the feed itself works: the token is real
    assert answers["/feeds/{token}.ics"] == 308  # the old address sends phones on to it

    output = log_path.read_text()
    assert token not in output
    access = [json.loads(line) for line in output.splitlines() if line.startswith("{") and '"uvicorn.access"' in line]
    paths = [entry["message"] for entry in access]
    redacted = f"[redacted:{fingerprint(token)}]"
    for shown in (f"/feeds/{redacted}.ics ", f"/feeds/{redacted}.ics?lang=en ", f"/c/minimal/feeds/{redacted}.ics ", f"/feeds/{redacted} "):
        assert any(shown in message for message in paths), (shown, paths)
    assert any(f"/c/minimal/feeds/{redacted}.ics " in message and message.endswith("200") for message in paths)


def test_a_token_in_a_message_an_argument_an_extra_field_or_a_traceback_is_redacted():
    token = "AbC-_123xyz"
    try:
        raise LookupError(f"no feed at /feeds/{token}.ics")
    except LookupError:
        exc_info = sys.exc_info()
    record = logging.LogRecord("api", logging.ERROR, __file__, 1, "GET /c/t01/feeds/%s.ics failed, path %s", (token, f"/feeds/{token}.ics"), exc_info)
    record.path = f"/FEEDS/{token}.ICS"
    assert FeedTokenRedaction().filter(record)
    line = JsonFormatter().format(record)
    assert token not in line
    entry = json.loads(line)
    # The first argument alone is not a path; the template makes it one, so the finished message is what is redacted.
    shown = f"[redacted:{fingerprint(token)}]"
    assert entry["message"] == f"GET /c/t01/feeds/{shown}.ics failed, path /feeds/{shown}.ics"
    assert entry["path"] == f"/FEEDS/{shown}.ICS"
    assert f"no feed at /feeds/{shown}.ics" in entry["exception"]


def test_redaction_is_idempotent_and_leaves_other_paths_alone():
    once = redact_feed_tokens("GET /feeds/secret.ics HTTP/1.1")
    assert redact_feed_tokens(once) == once
    assert "secret" not in once
    for untouched in ("POST /feed-tokens HTTP/1.1", "GET /rosters/2027-01 HTTP/1.1", "GET /feeds/ HTTP/1.1"):
        assert redact_feed_tokens(untouched) == untouched


def test_a_login_link_in_a_path_is_redacted_too():
    line = redact_feed_tokens('127.0.0.1:5 - "POST /c/quannan/login/link/Secret_Link-123?lang=en HTTP/1.1" 303')
    assert "Secret_Link-123" not in line
    assert f"/login/link/[redacted:{fingerprint('Secret_Link-123')}]?lang=en" in line
    assert redact_feed_tokens("GET /c/quannan/login HTTP/1.1") == "GET /c/quannan/login HTTP/1.1"
