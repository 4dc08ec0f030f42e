"""Rendered calendar feeds kept in memory: a feed is rendered once per change of what it shows, then its bytes are served.

Two maps, both bounded:

- **renders**, keyed by what a feed shows: the community, the scope (expert, township, department,
  community) and its key, the language, the cancelled-days window and the community's *feed state*
  (`feed_state`: its published versions, its latest event, its standing data's last change, and the
  day). Every token of the same scope shares one render. Bounded by total bytes, least recently used
  dropped first.
- **tokens**, keyed by the address asked for (community code, token, `?lang=`): which render it
  opened and when that was last checked against the database. Within `fresh_seconds` of a check a
  request is answered from memory without touching the database (`api.feed_fastpath`); after it the
  route looks the token up again (a revoked link stops working) and compares the state, re-rendering
  only when it moved; while that one check runs, the address's other requests get the kept bytes.

So a published change reaches a phone within `fresh_seconds` plus its own polling interval, and a
revoked link stops within `fresh_seconds`: a few seconds against the 15 minutes phones poll at.
The cache is per process; each server process renders a changed feed once.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Hashable

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.auth import FeedToken
from scheduler.events.outbox import Event
from scheduler.models import Community, RosterVersion

__all__ = ["CachedFeed", "FeedCache", "feed_state", "expire_on_commit"]

# Rows whose change can change a feed: a commit in this process that wrote one ends every fresh check at once.
FEED_ROWS = (RosterVersion, Event, Community, FeedToken)
REVALIDATE_SECONDS = 10.0  # a check that takes longer than this is tried again by the next request


@dataclass(frozen=True)
class CachedFeed:
    """A rendered feed: its bytes and the validators a conditional GET compares (pre-formatted)."""

    body: bytes
    etag: str
    last_modified: dt.datetime
    last_modified_header: str


def feed_state(session: Session, community_id: int, today: dt.date) -> tuple:
    """What every feed of a community depends on, read in two small queries: a change of any part re-renders.

    Published versions (each publication and withdrawal changes the count, the newest id or the latest
    publication time), the community's latest event (leave, closures, standing-data edits: the labels a
    feed shows), its settings' last change, and the day (cancelled sessions leave a feed after some days).
    """
    published = session.execute(
        select(func.count(RosterVersion.id), func.max(RosterVersion.id), func.max(RosterVersion.published_at)).where(
            RosterVersion.community_id == community_id, RosterVersion.status == "published"
        )
    ).one()
    latest_event = session.scalar(select(func.max(Event.id)).where(Event.community_id == community_id))
    settings_changed = session.scalar(select(Community.updated_at).where(Community.id == community_id))
    return (tuple(published), latest_event, settings_changed, today)


class FeedCache:
    """The two bounded maps of the module docstring; safe to share between a process's threads."""

    def __init__(self, *, max_bytes: int = 64 * 1024 * 1024, max_tokens: int = 200_000, fresh_seconds: float = 5.0) -> None:
        self.max_bytes = max_bytes
        self.max_tokens = max_tokens
        self.fresh_seconds = fresh_seconds
        self._renders: OrderedDict[Hashable, CachedFeed] = OrderedDict()
        # address -> (render key, when last checked, when a check began that has not ended yet)
        self._tokens: OrderedDict[Hashable, tuple[Hashable, float, float | None]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._rendering: dict[Hashable, threading.Lock] = {}
        self.renders = 0  # how many feeds were rendered (for the benchmark and tests)

    # -- the fast path: no database ------------------------------------------------------------

    def fresh(self, address: Hashable, now: float | None = None) -> CachedFeed | None:
        """The feed an address opened, if it may be answered without the database; None sends the request to the route.

        Checked within `fresh_seconds`: the kept feed. Older: the first request goes to the route to check
        again, and while that check runs (up to `REVALIDATE_SECONDS`) the others get the kept feed, so
        a hundred phones asking at once cost one check, not a hundred.
        """
        now = time.monotonic() if now is None else now
        with self._lock:
            held = self._tokens.get(address)
            if held is None:
                return None
            render_key, checked_at, checking_since = held
            if now - checked_at > self.fresh_seconds:
                if checking_since is not None and now - checking_since < REVALIDATE_SECONDS:
                    return self._renders.get(render_key)
                self._tokens[address] = (render_key, checked_at, now)
                return None
            return self._renders.get(render_key)

    # -- the route: after a database check -----------------------------------------------------

    def rendered(self, render_key: Hashable) -> CachedFeed | None:
        with self._lock:
            found = self._renders.get(render_key)
            if found is not None:
                self._renders.move_to_end(render_key)
            return found

    def render_lock(self, render_key: Hashable) -> threading.Lock:
        """One lock per render: requests that miss together wait for one render instead of each rendering."""
        with self._lock:
            if len(self._rendering) > 10_000:
                self._rendering = {key: lock for key, lock in self._rendering.items() if lock.locked()}
            return self._rendering.setdefault(render_key, threading.Lock())

    def keep(self, render_key: Hashable, feed: CachedFeed) -> None:
        """Keep a new render (dropping the least recently used beyond `max_bytes`)."""
        with self._lock:
            old = self._renders.pop(render_key, None)
            if old is not None:
                self._bytes -= len(old.body)
            self._renders[render_key] = feed
            self._bytes += len(feed.body)
            self.renders += 1
            while self._bytes > self.max_bytes and len(self._renders) > 1:
                _, dropped = self._renders.popitem(last=False)
                self._bytes -= len(dropped.body)

    def checked(self, address: Hashable, render_key: Hashable, now: float | None = None) -> None:
        """Record that an address was checked against the database just now and opens `render_key`."""
        now = time.monotonic() if now is None else now
        with self._lock:
            self._tokens[address] = (render_key, now, None)
            self._tokens.move_to_end(address)
            while len(self._tokens) > self.max_tokens:
                self._tokens.popitem(last=False)

    def expire(self) -> None:
        """End every fresh check: the next request of each address goes to the route (the renders stay)."""
        with self._lock:
            for address, (render_key, _, _) in self._tokens.items():
                self._tokens[address] = (render_key, float("-inf"), None)

    def forget(self, address: Hashable) -> None:
        """An address that no longer opens a feed (unknown or revoked token)."""
        with self._lock:
            self._tokens.pop(address, None)


def expire_on_commit(factory: sessionmaker, cache: FeedCache) -> None:
    """Expire `cache`'s fresh checks when a session of `factory` commits a change to a row a feed depends on.

    So a change made by this process (a publication, a revoked link) reaches its own feeds at once;
    another process's change reaches them within `fresh_seconds`.
    """

    @event.listens_for(factory, "after_flush")
    def _note(session: Session, _context: object) -> None:
        if any(isinstance(row, FEED_ROWS) for rows in (session.new, session.dirty, session.deleted) for row in rows):
            session.info["feed_rows_changed"] = True

    @event.listens_for(factory, "after_commit")
    def _expire(session: Session) -> None:
        if session.info.pop("feed_rows_changed", False):
            cache.expire()

    @event.listens_for(factory, "after_rollback")
    def _drop(session: Session) -> None:
        session.info.pop("feed_rows_changed", None)
