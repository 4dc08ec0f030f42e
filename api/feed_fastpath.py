"""The calendar feed's fast path: a feed checked within the last few seconds is answered from memory, before routing.

Phones poll their feed every 15 minutes or so, and a province's phones ask for tens of feeds a second.
This pure ASGI middleware answers `GET`/`HEAD /c/{community}/feeds/{token}.ics` from the process's
`scheduler.feed_cache.FeedCache` when the same address was checked against the database within
`ROTA_FEED_FRESH_SECONDS` (200 with the kept bytes, or 304 when the phone's `If-None-Match` /
`If-Modified-Since` still holds); anything else goes on to the route, which looks the token up,
compares the community's feed state and renders only when it changed (`scheduler.subscriptions`).
It sits inside the other middlewares, so its answers get the same security headers and access log.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

from scheduler import feeds
from scheduler.feed_cache import CachedFeed, FeedCache

FEED_PATH = re.compile(r"/c/([^/]{1,64})/feeds/([^/]{1,200})\.ics")
CACHE_CONTROL = b"private, max-age=300"


def feed_address(community: str, token: str, query_string: bytes) -> tuple[str, str, str]:
    """The cache's key for an address: community, token and the `?lang=` asked for (the rest of the query does not matter)."""
    lang = parse_qs(query_string.decode("latin-1")).get("lang", [""])[0] if query_string else ""
    return community, token, lang


def feed_headers(feed: CachedFeed) -> list[tuple[bytes, bytes]]:
    return [(b"etag", feed.etag.encode()), (b"last-modified", feed.last_modified_header.encode()), (b"cache-control", CACHE_CONTROL)]


class FeedFastPath:
    """ASGI middleware: answer a recently checked feed address from memory (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, cache: FeedCache) -> None:
        self.app = app
        self.cache = cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        matched = FEED_PATH.fullmatch(scope["path"])
        feed = self.cache.fresh(feed_address(*matched.groups(), scope.get("query_string", b""))) if matched else None
        if feed is None:
            await self.app(scope, receive, send)
            return
        asked = {name: value for name, value in scope["headers"] if name in (b"if-none-match", b"if-modified-since")}
        none_match, modified_since = asked.get(b"if-none-match"), asked.get(b"if-modified-since")
        unchanged = feeds.not_modified(feed.etag, feed.last_modified, none_match.decode("latin-1") if none_match else None,
                                       modified_since.decode("latin-1") if modified_since else None)
        headers = feed_headers(feed)
        if unchanged:
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        headers += [(b"content-type", b"text/calendar; charset=utf-8"), (b"content-length", str(len(feed.body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else feed.body})
