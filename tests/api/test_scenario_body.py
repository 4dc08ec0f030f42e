"""PUT /scenario with a hostile file (issue 17 item 2): refused within 10 s while /healthz keeps answering within 1 s.

The body is read in a child process with a time limit (scheduler.scenario.bounded), off the event loop, so a
"billion laughs" document costs the service nothing but that child.
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


def heavy_but_small() -> bytes:
    """1.9 MB (under the 2 MB limit) of 160,000 dates and one unknown field: seconds of parsing, then refused."""
    text = MINIMAL.read_text(encoding="utf-8")
    text = text.replace("  closed: [2026-10-09]\n", "  closed: [" + ", ".join(["2026-10-09"] * 160_000) + "]\n")
    return (text + "not_a_field: 1\n").encode("utf-8")


@pytest.mark.parametrize("name, fragment", [
    ("bomb_classic.yaml", "holds more than 500,000 values"),
    ("bomb_in_expert.yaml", "holds more than 500,000 values"),
    ("heavy", "not_a_field"),  # parsed on the event loop, this one held /healthz for seconds
])
def test_a_hostile_scenario_body_is_refused_quickly_and_healthz_answers_throughout(service: LiveService, name, fragment):
    latencies: list[float] = []
    stop = threading.Event()

    def probe() -> None:
        with httpx2.Client(timeout=5) as client:
            while not stop.is_set():
                started = time.monotonic()
                answer = client.get(f"{service.root_url}/healthz")
                latencies.append(time.monotonic() - started if answer.status_code == 200 else 99.0)
                time.sleep(0.05)

    prober = threading.Thread(target=probe)
    prober.start()
    try:
        time.sleep(0.3)
        office = service.client(service.tokens["office"])
        started = time.monotonic()
        body = heavy_but_small() if name == "heavy" else (BROKEN / name).read_bytes()
        answer = office.put("/scenario", content=body, headers={"Content-Type": "application/yaml"})
        seconds = time.monotonic() - started
        time.sleep(0.3)
    finally:
        stop.set()
        prober.join(timeout=10)
    assert answer.status_code == 422, answer.text[:300]
    assert fragment in answer.text and len(answer.text) < 2000
    assert seconds < 10, seconds
    assert len(latencies) >= 5 and max(latencies) < 1.0, (len(latencies), max(latencies))
