"""The office's contact book: every expert and township centre of a community (and the office) with where notices reach them.

The notices go to the contacts (scheduler.notify.contacts); this module lists the people who can have
one, by the standing data, and refuses a contact for somebody the community does not have.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from scheduler import store
from scheduler.errors import NotFound
from scheduler.notify.contacts import ContactInfo, delete_contact, get_contact, list_contacts, set_contact

__all__ = ["Recipient", "recipients", "recipient", "save_contact", "remove_contact", "OFFICE_ID"]

OFFICE_ID = "office"  # the community's medical affairs office is one recipient


@dataclass(frozen=True)
class Recipient:
    """Someone notices can reach: an expert, a township centre or the office, with their contact if entered."""

    kind: str
    id: str
    name: str
    contact: ContactInfo | None


def recipients(session: Session, community: store.CommunityRef) -> list[Recipient]:
    """Every expert and township centre of the community and the office, in the standing data's order."""
    community_id = store.community_id_of(session, community)
    scenario = store.export_scenario(session, community_id)
    known = {(c.recipient_kind, c.ref_id): c for c in list_contacts(session, community_id)}
    people = [("office", OFFICE_ID, scenario.community.name)]
    people += [("expert", e.id, e.name) for e in scenario.experts]
    people += [("township", t.id, t.name) for t in scenario.townships]
    return [Recipient(kind, ref, name, known.get((kind, ref))) for kind, ref, name in people]


def recipient(session: Session, community: store.CommunityRef, kind: str, ref_id: str) -> Recipient:
    """One recipient of the community; NotFound when the community has no such expert or township."""
    for found in recipients(session, community):
        if found.kind == kind and found.id == ref_id:
            return found
    raise NotFound(f"the community has no {kind} '{ref_id}'")


def save_contact(session: Session, community: store.CommunityRef, kind: str, ref_id: str, *, email: str | None,
                 webhook_url: str | None, language: str) -> ContactInfo:
    """Set a recipient's contact (NotFound for an unknown recipient; ScenarioError naming a bad field)."""
    recipient(session, community, kind, ref_id)
    return set_contact(session, store.community_id_of(session, community), kind, ref_id, email=email, webhook_url=webhook_url, language=language)


def remove_contact(session: Session, community: store.CommunityRef, kind: str, ref_id: str) -> None:
    community_id = store.community_id_of(session, community)
    if get_contact(session, community_id, kind, ref_id) is None:
        raise NotFound(f"{kind} '{ref_id}' has no contact")
    delete_contact(session, community_id, kind, ref_id)
