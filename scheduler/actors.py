"""Who acts: the office user, token or "system" behind a roster version, an event or a standing-data edit.

A request's actor is noted once, where the caller is resolved (`api.deps.resolve_tenant`), into a
per-request box that the service's middleware opens (`request_actor_box`); everything the request
writes reads it back with `current_actor()`. Background work (the event worker, timed jobs) has no
box and acts as "system"; the command line acts as `cli` (`acting_as`). The work of the service itself
(a solve job in a Celery worker or the API's threads, the event worker, the timed jobs) is marked
`@as_system`: it acts as "system" whatever context its thread was started from, so a job a request
queued never borrows the requester's name.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import ParamSpec, TypeVar


@dataclass(frozen=True)
class Actor:
    """Who acted: a display name (token label, `token #id`, `cli`, `system`) and a role."""

    name: str
    role: str
    token_id: int | None = None

    def __str__(self) -> str:
        return self.name if self.role == self.name else f"{self.name} ({self.role})"


SYSTEM = Actor("system", "system")
CLI = Actor("cli", "cli")


class _Box:
    """A mutable holder shared by every copy of one request's context (threads copy the context, not the box)."""

    __slots__ = ("actor",)

    def __init__(self) -> None:
        self.actor: Actor | None = None


_box: contextvars.ContextVar[_Box | None] = contextvars.ContextVar("rota_actor_box", default=None)
_fixed: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("rota_actor", default=None)


def current_actor() -> Actor:
    """The actor of the work in progress: `acting_as`'s, else the request's, else SYSTEM."""
    fixed = _fixed.get()
    if fixed is not None:
        return fixed
    box = _box.get()
    if box is not None and box.actor is not None:
        return box.actor
    return SYSTEM


@contextlib.contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    """Run a block as `actor` (the command line, a test)."""
    token = _fixed.set(actor)
    try:
        yield actor
    finally:
        _fixed.reset(token)


P = ParamSpec("P")
R = TypeVar("R")


def as_system(work: Callable[P, R]) -> Callable[P, R]:
    """Decorator: the function's writes are the service's own (SYSTEM), whoever's context it runs in."""

    @functools.wraps(work)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with acting_as(SYSTEM):
            return work(*args, **kwargs)

    return run


def note_request_actor(actor: Actor) -> None:
    """Record the actor of the request in progress (a no-op outside a request's box)."""
    box = _box.get()
    if box is not None:
        box.actor = actor


class request_actor_box:
    """Pure ASGI middleware: each HTTP request gets its own actor box (so threads it spawns see its actor)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = _box.set(_Box())
        try:
            await self.app(scope, receive, send)
        finally:
            _box.reset(token)
