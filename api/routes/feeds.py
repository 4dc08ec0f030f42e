"""GET /c/{community}/feeds/{token}.ics: a subscriber's calendar (published rosters only), with ETag / Last-Modified and 304.

The bytes come from the process's feed cache (rendered once per change; `scheduler.subscriptions.cached_subscription`);
an address checked moments ago is answered before routing by `api.feed_fastpath`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import RedirectResponse

from api.deps import AppSettings, CommunityCode, Factory
from scheduler import feeds, i18n
from scheduler.auth import feed_token_community
from scheduler.errors import FieldError, NotFound, ScenarioError
from api.feed_fastpath import feed_address
from scheduler.subscriptions import cached_subscription

router = APIRouter(tags=["feeds"])
global_router = APIRouter(tags=["feeds"])


@router.get("/feeds/{token}.ics", response_class=Response, responses={200: {"content": {"text/calendar": {}}}, 304: {"description": "unchanged"}})
def calendar_feed(
    request: Request,
    community: CommunityCode,
    token: str,
    factory: Factory,
    settings: AppSettings,
    lang: Annotated[str | None, Query(max_length=20)] = None,
    if_none_match: Annotated[str | None, Header()] = None,
    if_modified_since: Annotated[str | None, Header()] = None,
) -> Response:
    """The iCalendar feed a token of this community opens (no Authorization header needed: the token is the secret)."""
    try:
        language = i18n.parse_lang(lang or settings.language)
    except ValueError as error:
        raise ScenarioError([FieldError("lang", str(error))]) from None
    address = feed_address(community, token, request.scope.get("query_string", b""))
    with factory() as session:
        rendered = cached_subscription(session, community, token, request.app.state.feed_cache, address, lang=language,
                                       cancelled_days=settings.feed_cancelled_days)
    if rendered is None:
        raise NotFound("no such calendar feed (the link is wrong or was revoked)")
    headers = {"ETag": rendered.etag, "Last-Modified": rendered.last_modified_header, "Cache-Control": "private, max-age=300"}
    if feeds.not_modified(rendered.etag, rendered.last_modified, if_none_match, if_modified_since):
        return Response(status_code=304, headers=headers)
    return Response(rendered.body, media_type="text/calendar; charset=utf-8", headers=headers)


@global_router.get("/feeds/{token}.ics", status_code=308, response_class=RedirectResponse, responses={308: {"description": "the feed's address in its community"}})
def feed_before_communities(token: str, request: Request, factory: Factory) -> RedirectResponse:
    """A feed link handed out before communities existed: redirected (308) to its address under its community, so subscribed phones keep working."""
    with factory() as session:
        community = feed_token_community(session, token)
    if community is None:
        raise NotFound("no such calendar feed (the link is wrong or was revoked)")
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(f"/c/{community}/feeds/{token}.ics{query}", status_code=308)
