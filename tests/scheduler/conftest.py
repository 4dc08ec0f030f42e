"""Fixtures of the event and job tests: a real SMTP server and a real group-robot receiver."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from event_harness import Robot, SmtpServer


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    yield server
    server.close()


@pytest.fixture
def robot() -> Iterator[Robot]:
    receiver = Robot()
    yield receiver
    receiver.close()
