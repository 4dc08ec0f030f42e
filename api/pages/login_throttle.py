"""Login throttling: after MAX_FAILURES failed page logins from one client address within WINDOW_SECONDS, answer 429.

Kept per app (on app.state) in memory: each replica throttles on its own, which bounds guessing without a shared store.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque

from fastapi import Request

MAX_FAILURES = 5
WINDOW_SECONDS = 300


class LoginThrottle:
    """Failure times per key (the client address), forgetting those older than the window."""

    def __init__(self) -> None:
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures[key]
        while times and now - times[0] > WINDOW_SECONDS:
            times.popleft()
        return times

    def blocked(self, key: str) -> bool:
        return len(self._recent(key, time.monotonic())) >= MAX_FAILURES

    def failed(self, key: str) -> None:
        self._recent(key, time.monotonic()).append(time.monotonic())


def throttle_for(request: Request) -> tuple[LoginThrottle, str]:
    """The app's throttle and this request's key."""
    state = request.app.state
    if not hasattr(state, "login_throttle"):
        state.login_throttle = LoginThrottle()
    return state.login_throttle, request.client.host if request.client else "-"
