"""Calendar subscriptions: from a feed token to the iCalendar bytes of the published rosters it may see.

A feed token belongs to one community and names a scope in it (an expert, a township, a department,
the whole community); the history of each month's *published* versions goes through `scheduler.feeds`
(drafts never reach a phone). A token opens its feed only at its own community's address.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import feeds, i18n, store
from scheduler.auth import FeedToken, resolve_feed_token
from scheduler.feed_cache import CachedFeed, FeedCache, feed_state
from scheduler.labels import CommunityLabels
from scheduler.models import Department, Expert, RosterVersion

# Months whose last day is further back than this are left out of feeds (the phone keeps its copy).
PAST_MONTHS_KEPT = dt.timedelta(days=62)


@dataclass(frozen=True)
class RenderedFeed:
    """A feed's bytes and the validators a conditional GET compares."""

    body: bytes
    etag: str
    last_modified: dt.datetime


def feed_url(base_url: str, community: str, token: str) -> str:
    """The public address of a community's calendar feed (the token in it is the secret)."""
    return f"{base_url.rstrip('/')}/c/{community}/feeds/{token}.ics"


def scope_of(session: Session, subscription: FeedToken) -> feeds.FeedScope:
    """The feeds.FeedScope a subscription stands for (a department resolves to its experts)."""
    if subscription.scope == "expert":
        return feeds.expert_scope(subscription.scope_key)
    if subscription.scope == "township":
        return feeds.township_scope(subscription.scope_key)
    if subscription.scope == "department":
        expert_ids = session.scalars(
            select(Expert.code).join(Expert.department).where(Expert.community_id == subscription.community_id, Department.code == subscription.scope_key)
        )
        return feeds.department_scope(subscription.scope_key, list(expert_ids))
    return feeds.community_scope()


def published_histories(session: Session, community: store.CommunityRef, now: dt.datetime) -> list[list[feeds.PublishedVersion]]:
    """Per month of the community still worth showing, its published versions oldest first."""
    owner = store.community_id_of(session, community)
    months = session.scalars(
        select(RosterVersion.month).where(RosterVersion.community_id == owner, RosterVersion.status == "published").distinct().order_by(RosterVersion.month)
    ).all()
    histories = []
    for month in months:
        first_of_next = _month_end(month) + dt.timedelta(days=1)
        if dt.datetime.combine(first_of_next, dt.time(), tzinfo=dt.timezone.utc) + PAST_MONTHS_KEPT < now:
            continue
        history = []
        for summary in store.list_versions(session, owner, month):
            if summary.status != "published" or summary.published_at is None:
                continue
            solution, _, _, _ = store.load_roster_version(session, owner, month, summary.version)
            history.append(feeds.PublishedVersion(summary.published_at, solution.assignments))
        history.sort(key=lambda version: version.published_at)
        if history:
            histories.append(history)
    return histories


def _month_end(month: str) -> dt.date:
    year, number = (int(part) for part in month.split("-"))
    return dt.date(year + (number == 12), number % 12 + 1, 1) - dt.timedelta(days=1)


def render_subscription(
    session: Session, community: store.CommunityRef, token: str, *, now: dt.datetime | None = None, lang: str | None = None,
    cancelled_days: int = feeds.CANCELLED_DAYS,
) -> RenderedFeed | None:
    """The feed a token opens in a community, rendered; None when the token is unknown, revoked or another community's."""
    subscription = resolve_feed_token(session, community, token)
    if subscription is None:
        return None
    now = now or dt.datetime.now(dt.timezone.utc)
    lang = i18n.parse_lang(lang)
    scope = scope_of(session, subscription)
    labels = CommunityLabels.from_scenario(store.export_scenario(session, subscription.community_id))
    histories = published_histories(session, subscription.community_id, now)
    entries = feeds.feed_entries_across_months(scope, histories, now, cancelled_days)
    body = feeds.render_feed(entries, feeds.calendar_name(scope, labels, lang), labels, lang, with_expert_names=scope.kind != "expert")
    first_publication = min((history[0].published_at for history in histories), default=subscription.created_at)
    if first_publication.tzinfo is None:
        first_publication = first_publication.replace(tzinfo=dt.timezone.utc)
    return RenderedFeed(body, feeds.feed_etag(body), feeds.feed_last_modified(entries, first_publication))


def cached_subscription(
    session: Session, community: store.CommunityRef, token: str, cache: FeedCache, address: tuple, *, now: dt.datetime | None = None,
    lang: str | None = None, cancelled_days: int = feeds.CANCELLED_DAYS,
) -> CachedFeed | None:
    """The feed a token opens, from `cache` when the community's feed state is unchanged, else rendered once and kept.

    Always looks the token up (a revoked link answers None) and reads the state (two small queries);
    renders only when what the feed shows has changed since it was last rendered.
    """
    subscription = resolve_feed_token(session, community, token)
    if subscription is None:
        cache.forget(address)
        return None
    now = now or dt.datetime.now(dt.timezone.utc)
    lang = i18n.parse_lang(lang)
    state = feed_state(session, subscription.community_id, now.date())
    render_key = (subscription.community_id, subscription.scope, subscription.scope_key, lang, cancelled_days, state)
    found = cache.rendered(render_key)
    if found is None:
        with cache.render_lock(render_key):
            found = cache.rendered(render_key)  # rendered by the request this one waited for
            if found is None:
                rendered = render_subscription(session, community, token, now=now, lang=lang, cancelled_days=cancelled_days)
                if rendered is None:
                    return None
                found = CachedFeed(rendered.body, rendered.etag, rendered.last_modified, feeds.http_date(rendered.last_modified))
                cache.keep(render_key, found)
    cache.checked(address, render_key)
    return found
