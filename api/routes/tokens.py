"""A community's API tokens (its office only) and feed tokens (its office, or a township / expert for its own feed)."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import AppSettings, Factory, Forbidden, Member, Office, Tenant
from api.schemas import FeedTokenCreate, FeedTokenCreated, FeedTokenView, TokenCreate, TokenCreated, TokenView
from scheduler import auth
from scheduler.auth import FeedToken
from scheduler.db import transaction
from scheduler.subscriptions import feed_url
from scheduler.i18n import with_article

router = APIRouter(tags=["tokens"])


@router.post("/tokens", status_code=status.HTTP_201_CREATED, response_model=TokenCreated)
def create_token(body: TokenCreate, factory: Factory, tenant: Office) -> TokenCreated:
    """Issue a bearer token of this community; the token is in this answer only (the service keeps its hash)."""
    with transaction(factory) as session:
        token_id, token = auth.create_api_token(session, tenant.id, body.role, township=body.township, expert=body.expert, label=body.label)
    return TokenCreated(id=token_id, token=token, community=tenant.code, role=body.role, township=body.township, expert=body.expert)


@router.get("/tokens", response_model=list[TokenView])
def list_tokens(factory: Factory, tenant: Office) -> list[TokenView]:
    """This community's tokens (never another's, never the bureau's)."""
    with factory() as session:
        return [
            TokenView(id=row.id, role=row.role, township=row.township, expert=row.expert, label=row.label, created_at=row.created_at, revoked_at=row.revoked_at)
            for row in auth.list_api_tokens(session, tenant.id)
        ]


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(token_id: int, factory: Factory, tenant: Office) -> None:
    with transaction(factory) as session:
        auth.revoke_api_token(session, token_id, tenant.id)


def _may_hold_feed(tenant: Tenant, scope: str, key: str) -> bool:
    caller = tenant.caller
    if caller.is_office:
        return True
    if caller.role == "expert":
        return scope == "expert" and key == caller.expert
    if caller.role == "township":
        return scope == "township" and key == caller.township
    return False


def _feed_view(row: FeedToken) -> FeedTokenView:
    return FeedTokenView(id=row.id, scope=row.scope, key=row.scope_key, created_at=row.created_at, revoked_at=row.revoked_at)


@router.post("/feed-tokens", status_code=status.HTTP_201_CREATED, response_model=FeedTokenCreated)
def create_feed_token(body: FeedTokenCreate, factory: Factory, tenant: Member, settings: AppSettings) -> FeedTokenCreated:
    """A calendar URL for one scope of this community; an expert gets their own, a township its own, the office any."""
    if not _may_hold_feed(tenant, body.scope, body.key):
        raise Forbidden(f"{with_article(tenant.role)} token may not subscribe to the {body.scope} feed '{body.key}'")
    with transaction(factory) as session:
        feed_id, token = auth.create_feed_token(session, tenant.id, body.scope, body.key, created_by=tenant.caller.token_id)
    return FeedTokenCreated(id=feed_id, token=token, scope=body.scope, key=body.key, url=feed_url(settings.public_base_url, tenant.code, token))


@router.get("/feed-tokens", response_model=list[FeedTokenView])
def list_feed_tokens(factory: Factory, tenant: Member) -> list[FeedTokenView]:
    with factory() as session:
        rows = auth.list_feed_tokens(session, tenant.id)
    return [_feed_view(row) for row in rows if _may_hold_feed(tenant, row.scope, row.scope_key)]


@router.delete("/feed-tokens/{feed_token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_feed_token(feed_token_id: int, factory: Factory, tenant: Member) -> None:
    with transaction(factory) as session:
        row = auth.get_feed_token(session, tenant.id, feed_token_id)
        if not _may_hold_feed(tenant, row.scope, row.scope_key):
            raise Forbidden("this token may not revoke that feed")
        auth.revoke_feed_token(session, tenant.id, feed_token_id)
