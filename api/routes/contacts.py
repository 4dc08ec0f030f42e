"""The office's contact book and the notices sent from it.

`GET /contacts` lists every expert and township centre (and the office) with where notices reach them;
`PUT /contacts/{kind}/{id}` sets one (email and/or robot webhook, language), `DELETE` removes it.
`GET /notices` lists the notices, newest first, by status or recipient; `POST /notices/{id}/retry`
re-queues a failed one. All for the community's office.
"""

# No `from __future__ import annotations`: the generated routes need their body models as real objects.

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response

from api.deps import Factory, Office
from api.schemas import ContactBody, ContactView
from scheduler import contact_book, notify
from scheduler.notify.outbox import NoticeView
from scheduler.db import transaction

router = APIRouter(tags=["notifications"])
Kind = Annotated[Literal["expert", "township", "office"], Path()]
RecipientId = Annotated[str, Path(min_length=1, max_length=64)]


def _view(found: contact_book.Recipient) -> ContactView:
    contact = found.contact
    return ContactView(kind=found.kind, id=found.id, name=found.name, email=contact.email if contact else None,
                       webhook_url=contact.webhook_url if contact else None, language=contact.language if contact else None)


@router.get("/contacts", response_model=list[ContactView])
def list_contacts(factory: Factory, tenant: Office) -> list[ContactView]:
    """Every recipient of the community with their contact (`language` null: none entered, no notices reach them)."""
    with factory() as session:
        return [_view(found) for found in contact_book.recipients(session, tenant.id)]


@router.get("/contacts/{kind}/{recipient}", response_model=ContactView)
def get_contact(kind: Kind, recipient: RecipientId, factory: Factory, tenant: Office) -> ContactView:
    with factory() as session:
        return _view(contact_book.recipient(session, tenant.id, kind, recipient))


@router.put("/contacts/{kind}/{recipient}", response_model=ContactView)
def set_contact(kind: Kind, recipient: RecipientId, body: ContactBody, factory: Factory, tenant: Office) -> ContactView:
    """Set where one recipient's notices go (422 naming a bad field; 404 for someone the community does not have)."""
    with transaction(factory) as session:
        contact_book.save_contact(session, tenant.id, kind, recipient, email=body.email, webhook_url=body.webhook_url, language=body.language)
        return _view(contact_book.recipient(session, tenant.id, kind, recipient))


@router.delete("/contacts/{kind}/{recipient}", status_code=204)
def delete_contact(kind: Kind, recipient: RecipientId, factory: Factory, tenant: Office) -> Response:
    with transaction(factory) as session:
        contact_book.remove_contact(session, tenant.id, kind, recipient)
    return Response(status_code=204)


@router.get("/notices", response_model=list[NoticeView])
def list_notices(
    factory: Factory,
    tenant: Office,
    status: Annotated[Literal["queued", "sending", "sent", "failed"] | None, Query()] = None,
    recipient_kind: Annotated[Literal["expert", "township", "office"] | None, Query()] = None,
    recipient_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[NoticeView]:
    """The community's notices, newest first (filtered by status and recipient when given)."""
    with factory() as session:
        found = notify.list_notices(session, status, recipient_kind, recipient_id, limit, community_id=tenant.id)
    return found


@router.post("/notices/{notice_id}/retry", response_model=NoticeView)
def retry_notice(notice_id: Annotated[int, Path(ge=1, le=2**62)], factory: Factory, tenant: Office) -> NoticeView:
    """Re-queue a failed notice with a fresh attempt budget (409 for a notice that did not fail)."""
    with transaction(factory) as session:
        return notify.retry_notice(session, notice_id, community_id=tenant.id)
