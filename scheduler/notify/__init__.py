"""Notices to experts, township heads and the office: an outbox table, email and group-robot channels, texts.

`outbox.enqueue_notice` records a notice once (by dedup key) in the caller's transaction;
`outbox.deliver_due` sends what is due, retrying with backoff; `outbox.notice_stats` shows how it stands.
"""

from scheduler.notify.channels import Channel, DeliveryError, EmailChannel, OutgoingNotice, WebhookChannel, channels_from_settings
from scheduler.notify.contacts import ContactInfo, get_contact, list_contacts, set_contact
from scheduler.notify.messages import NoticeText
from scheduler.notify.models import Contact, Notice
from scheduler.notify.outbox import (
    DeliveryReport,
    NoticeStats,
    deliver_due,
    enqueue_notice,
    list_notices,
    notice_key,
    notice_stats,
    notify_recipient,
    retry_notice,
)

__all__ = [
    "Channel", "Contact", "ContactInfo", "DeliveryError", "DeliveryReport", "EmailChannel", "Notice", "NoticeStats",
    "NoticeText", "OutgoingNotice", "WebhookChannel", "channels_from_settings", "deliver_due", "enqueue_notice",
    "get_contact", "list_contacts", "list_notices", "notice_key", "notice_stats", "notify_recipient", "retry_notice",
    "set_contact",
]
