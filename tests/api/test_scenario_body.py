"""PUT /scenario with a hostile file (issue 17 item 2): refused within 10 s while /healthz keeps answering within 1 s.

The body is read in a child process with a time limit (scheduler.scenario.bounded), off the event loop, so a
"billion laughs" document costs the service nothing but that child. The prober counts a failed or timed-out
/healthz as a stall, so a service that stops answering cannot pass by ending the probe early.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx2
import pytest

from tests.api.conftest import LiveService

BROKEN = Path(__file__).parents[1] / "scheduler" / "broken"
MINIMAL = Path(__file__).parents[1] / "scheduler" / "minimal.yaml"
HEALTHZ_STALL = 99.0  # the latency recorded for a /healthz that failed or timed out
BOUND_SECONDS = 10
HEALTHZ_SECONDS = 1.0


def heavy_but_small() -> bytes:
    """1.9 MB (under the 2 MB limit) of 160,000 dates and one unknown field: seconds of parsing, then refused."""
    text = MINIMAL.read_text(encoding="utf-8")
    text = text.replace("  closed: [2026-10-09]\n", "  closed: [" + ", ".join(["2026-10-09"] * 160_000) + "]\n")
    return (text + "not_a_field: 1\n").encode("utf-8")


def ten_megabytes() -> bytes:
    """A valid-looking scenario of 10 MB (110,000 experts): refused by its size, never parsed."""
    text = MINIMAL.read_text(encoding="utf-8")
    expert = "  - {id: X%06d, name: 专家%d, department: internal, title: attending, specialties: [internal_med], max_sessions: 4}\n"
    head, tail = text.split("links:\n")
    body = (head + "".join(expert % (n, n) for n in range(110_000)) + "links:\n" + tail).encode("utf-8")
    assert len(body) > 10_000_000
    return body


BODIES = {"heavy": heavy_but_small, "ten_megabytes": ten_megabytes}


@pytest.mark.parametrize("name, fragment", [
    ("bomb_classic.yaml", "holds more than 500,000 values"),
    ("bomb_in_expert.yaml", "experts[1].specialties[5][7]"),
    ("bomb_in_list.yaml", "calendar.closed[5][7]"),
    ("bomb_top_level_value.yaml", "holds more than 500,000 values"),
    ("alias_recursive.yaml", "a YAML alias refers to a value that holds the alias itself"),
    ("date_year_9999.yaml", "experts[0].unavailable[0].to"),
    ("date_year_one.yaml", "(got 0001-01-01)"),
    ("ten_megabytes", "more than the 2.0 MB a scenario may be"),
    # Seconds of parsing (on the event loop it held /healthz for seconds): refused for its unknown field, or on a
    # machine busy with other work by the parse's time limit (5 s); either way refused, within the bound.
    ("heavy", ("not_a_field", "took more than 5 s to read and was given up")),
])
def test_a_hostile_scenario_body_is_refused_quickly_and_healthz_answers_throughout(service: LiveService, name, fragment):
    body = BODIES[name]() if name in BODIES else (BROKEN / name).read_bytes()
    latencies: list[float] = []
    stop = threading.Event()

    def probe() -> None:
        with httpx2.Client(timeout=5) as client:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    ok = client.get(f"{service.root_url}/healthz").status_code == 200
                except httpx2.HTTPError:
                    ok = False
                latencies.append(time.monotonic() - started if ok else HEALTHZ_STALL)
                time.sleep(0.05)

    prober = threading.Thread(target=probe)
    prober.start()
    try:
        time.sleep(0.3)
        office = service.client(service.tokens["office"])
        started = time.monotonic()
        answer = office.put("/scenario", content=body, headers={"Content-Type": "application/yaml"})
        seconds = time.monotonic() - started
        time.sleep(0.3)
    finally:
        stop.set()
        prober.join(timeout=10)
    assert not prober.is_alive()
    assert answer.status_code == 422, answer.text[:300]
    assert any(part in answer.text for part in ((fragment,) if isinstance(fragment, str) else fragment)), answer.text[:300]
    assert len(answer.text) < 2000
    assert seconds < BOUND_SECONDS, seconds
    assert len(latencies) >= 5 and max(latencies) < HEALTHZ_SECONDS, (len(latencies), max(latencies))
