"""Feeds rendered once per change and served from memory: the real app (TestClient) over the seeded sample county."""

from __future__ import annotations

import dataclasses

from scheduler import auth, store
from scheduler.db import make_engine, session_factory, transaction
from scheduler.feed_cache import CachedFeed, FeedCache
from tests.pages.conftest import BASE, COMMUNITY, MONTH, client, seeded, solved_month  # noqa: F401  (the fixtures)


def _feed_token(seeded, scope: str, key: str = "") -> tuple[int, str]:
    with transaction(session_factory(make_engine(seeded.url))) as session:
        return auth.create_feed_token(session, COMMUNITY, scope, key)


def test_a_feed_is_rendered_once_and_then_served_from_memory(client, seeded):
    cache: FeedCache = client.app.state.feed_cache
    _, token = _feed_token(seeded, "expert", seeded.expert)
    _, same_scope = _feed_token(seeded, "expert", seeded.expert)
    first = client.get(f"/feeds/{token}.ics")
    assert first.status_code == 200 and first.content.startswith(b"BEGIN:VCALENDAR")
    renders = cache.renders
    again = client.get(f"/feeds/{token}.ics")
    other_link = client.get(f"/feeds/{same_scope}.ics")
    assert again.content == first.content == other_link.content and cache.renders == renders  # one render for the scope
    # The fast path answers as the route does: validators, 304, the security headers.
    assert again.headers["etag"] == first.headers["etag"] and again.headers["x-frame-options"] == "DENY"
    unchanged = client.get(f"/feeds/{token}.ics", headers={"If-None-Match": first.headers["etag"]})
    assert unchanged.status_code == 304 and unchanged.content == b""
    english = client.get(f"/feeds/{token}.ics?lang=en")
    assert english.status_code == 200 and english.content != first.content and cache.renders == renders + 1


def test_a_change_reaches_the_feed_at_once_and_a_revoked_link_stops(client, seeded, solved_month):
    feed_id, token = _feed_token(seeded, "community")
    before = client.get(f"/feeds/{token}.ics")
    assert before.status_code == 200
    factory = session_factory(make_engine(seeded.url))
    with transaction(factory) as session:  # another process's change: only the state tells
        number = store.save_roster_version(session, COMMUNITY, dataclasses.replace(solved_month.solution, assignments=solved_month.solution.assignments[:-3]), status="draft", cause="test")
        store.publish(session, COMMUNITY, MONTH, number)
    client.app.state.feed_cache.expire()  # as ROTA_FEED_FRESH_SECONDS passing would
    after = client.get(f"/feeds/{token}.ics")
    assert after.status_code == 200 and after.content != before.content and after.headers["etag"] != before.headers["etag"]

    # Revoked through this process's own API: the fast path stops at once, without waiting for the fresh window.
    revoked = client.delete(f"/feed-tokens/{feed_id}", headers={"Authorization": f"Bearer {seeded.office_token}"})
    assert revoked.status_code in (200, 204), revoked.text
    assert client.get(f"/feeds/{token}.ics").status_code == 404


def test_the_cache_keeps_to_its_byte_bound():
    cache = FeedCache(max_bytes=1024 * 1024, fresh_seconds=5)
    feed = CachedFeed(b"x" * 400_000, '"e"', None, "")  # type: ignore[arg-type]
    for key in range(4):
        cache.keep(key, feed)
        cache.checked(("c", str(key), ""), key, now=100.0)
    assert cache.rendered(0) is None and cache.rendered(1) is None and cache.rendered(3) is feed  # oldest dropped first
    assert cache.fresh(("c", "3", ""), now=104.0) is feed
    # Stale: the first asker checks again, the others meanwhile get the kept bytes; a check that never ends is retried.
    assert cache.fresh(("c", "3", ""), now=106.0) is None and cache.fresh(("c", "3", ""), now=106.1) is feed
    assert cache.fresh(("c", "3", ""), now=117.0) is None
    cache.checked(("c", "3", ""), 3, now=117.5)
    assert cache.fresh(("c", "3", ""), now=118.0) is feed
    cache.expire()
    assert cache.fresh(("c", "3", ""), now=118.1) is None
