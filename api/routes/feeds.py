"""GET /feeds/{token}.ics: a subscriber's calendar (published rosters only), with ETag / Last-Modified and 304."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response

from api.deps import AppSettings, Factory
from scheduler import feeds, i18n
from scheduler.errors import FieldError, NotFound, ScenarioError
from scheduler.subscriptions import render_subscription

router = APIRouter(tags=["feeds"])


@router.get("/feeds/{token}.ics", response_class=Response, responses={200: {"content": {"text/calendar": {}}}, 304: {"description": "unchanged"}})
def calendar_feed(
    token: str,
    factory: Factory,
    settings: AppSettings,
    lang: Annotated[str | None, Query(max_length=20)] = None,
    if_none_match: Annotated[str | None, Header()] = None,
    if_modified_since: Annotated[str | None, Header()] = None,
) -> Response:
    """The iCalendar feed a token opens (no Authorization header needed: the token is the secret)."""
    try:
        language = i18n.parse_lang(lang or settings.language)
    except ValueError as error:
        raise ScenarioError([FieldError("lang", str(error))]) from None
    with factory() as session:
        rendered = render_subscription(session, token, lang=language, cancelled_days=settings.feed_cancelled_days)
    if rendered is None:
        raise NotFound("no such calendar feed (the link is wrong or was revoked)")
    headers = {
        "ETag": rendered.etag,
        "Last-Modified": feeds.http_date(rendered.last_modified),
        "Cache-Control": "private, max-age=300",
    }
    if feeds.not_modified(rendered.etag, rendered.last_modified, if_none_match, if_modified_since):
        return Response(status_code=304, headers=headers)
    return Response(rendered.body, media_type="text/calendar; charset=utf-8", headers=headers)
