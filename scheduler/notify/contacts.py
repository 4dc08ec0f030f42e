"""Contact addresses of a community's experts and township heads: set and read by its office, used to address notices."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.errors import FieldError, ScenarioError
from scheduler.i18n import parse_lang
from scheduler.notify.models import LANGUAGES, RECIPIENT_KINDS, Contact

# Deliberately loose: one @, no spaces, a dot in the domain; the SMTP server has the last word.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class ContactInfo:
    """Where one recipient is reached and in which language."""

    recipient_kind: str
    ref_id: str
    email: str | None
    webhook_url: str | None
    language: str


def _info(contact: Contact) -> ContactInfo:
    return ContactInfo(contact.recipient_kind, contact.ref_id, contact.email, contact.webhook_url, contact.language)


def validate_contact(recipient_kind: str, ref_id: str, email: str | None, webhook_url: str | None, language: str) -> list[FieldError]:
    """Every problem with a contact's fields, each naming its field."""
    problems: list[FieldError] = []
    if recipient_kind not in RECIPIENT_KINDS:
        problems.append(FieldError("kind", f"must be one of {', '.join(RECIPIENT_KINDS)} (got {recipient_kind!r})"))
    if not ref_id or not ref_id.strip():
        problems.append(FieldError("id", "must not be empty"))
    if email and not _EMAIL.match(email):
        problems.append(FieldError("email", f"is not an email address (got {email!r})"))
    if webhook_url and not webhook_url.startswith(("http://", "https://")):
        problems.append(FieldError("webhook_url", f"must start with http:// or https:// (got {webhook_url!r})"))
    if language not in LANGUAGES:
        problems.append(FieldError("language", f"must be one of {', '.join(LANGUAGES)} (got {language!r})"))
    return problems


def _one(community_id: int, recipient_kind: str, ref_id: str):
    return select(Contact).where(Contact.community_id == community_id, Contact.recipient_kind == recipient_kind, Contact.ref_id == ref_id)


def set_contact(
    session: Session,
    community_id: int,
    recipient_kind: str,
    ref_id: str,
    email: str | None = None,
    webhook_url: str | None = None,
    language: str = "zh-CN",
) -> ContactInfo:
    """Create or replace the contact of a community's expert, township or office; ScenarioError names any bad field."""
    email = (email or "").strip() or None
    webhook_url = (webhook_url or "").strip() or None
    try:
        language = parse_lang(language)  # accept zh, zh-cn, en-US ... and store the canonical name
    except ValueError:
        pass  # validate_contact names the field
    problems = validate_contact(recipient_kind, ref_id, email, webhook_url, language)
    if problems:
        raise ScenarioError(problems)
    contact = session.scalar(_one(community_id, recipient_kind, ref_id))
    if contact is None:
        contact = Contact(community_id=community_id, recipient_kind=recipient_kind, ref_id=ref_id)
        session.add(contact)
    contact.email = email
    contact.webhook_url = webhook_url
    contact.language = language
    session.flush()
    return _info(contact)


def get_contact(session: Session, community_id: int, recipient_kind: str, ref_id: str) -> ContactInfo | None:
    """The contact of one recipient of a community, or None when its office has not entered one."""
    contact = session.scalar(_one(community_id, recipient_kind, ref_id))
    return _info(contact) if contact else None


def list_contacts(session: Session, community_id: int, recipient_kind: str | None = None) -> list[ContactInfo]:
    """A community's contacts (of one kind, if given), ordered by kind and id."""
    query = select(Contact).where(Contact.community_id == community_id).order_by(Contact.recipient_kind, Contact.ref_id)
    if recipient_kind is not None:
        query = query.where(Contact.recipient_kind == recipient_kind)
    return [_info(contact) for contact in session.scalars(query)]


def delete_contact(session: Session, community_id: int, recipient_kind: str, ref_id: str) -> bool:
    """Remove a community's contact; True if there was one."""
    contact = session.scalar(_one(community_id, recipient_kind, ref_id))
    if contact is None:
        return False
    session.delete(contact)
    session.flush()
    return True
