"""Who hears about a roster change: the notices a diff calls for, only to the experts and township heads whose sessions changed.

A cancellation names its cause, the kind of the event that cancelled the session (its labels come
from the registry). Notices are enqueued under dedup keys (person, assignment id, kind, version), so
a retried event cannot tell anyone twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from config.settings import Settings
from scheduler.events.outbox import Event
from scheduler.events.registry import KINDS, kind_of
from scheduler.labels import CommunityLabels
from scheduler.models import RosterVersion
from scheduler.notify.messages import assignment_text, cancellation_text, change_text
from scheduler.notify.outbox import notify_recipient
from scheduler.store import export_scenario, load_roster_version
from solver.solution import Assignment, RosterDiff, diff_rosters


@dataclass(frozen=True)
class PlannedNotice:
    """Who is told what about one changed session."""

    recipient_kind: str  # expert | township
    recipient_id: str
    kind: str  # assignment | change | cancellation
    about: str  # the assignment id
    old: Assignment | None
    new: Assignment | None


@dataclass(frozen=True)
class RosterChange:
    """What happened to a month between an event's base version and the latest one."""

    version: int
    status: str
    diff: RosterDiff


def latest_version(session: Session, community_id: int, month: str) -> int | None:
    """The number of a community's latest version of the month (None without a roster)."""
    return session.scalar(select(func.max(RosterVersion.version)).where(RosterVersion.community_id == community_id, RosterVersion.month == month))


def roster_change(session: Session, community_id: int, month: str, base_version: int | None) -> RosterChange | None:
    """The diff from a base version to the community's latest of the month; None with no base or no newer version."""
    latest = latest_version(session, community_id, month)
    if base_version is None or latest is None or latest == base_version:
        return None
    after, _, status, _ = load_roster_version(session, community_id, month, latest)
    before, _, _, _ = load_roster_version(session, community_id, month, base_version)
    return RosterChange(latest, status, diff_rosters(before.assignments, after.assignments))


def roster_changes(session: Session, community_id: int, month: str, base_version: int | None) -> tuple[int, RosterDiff] | None:
    """The diff from a base version to the latest, when the latest is published; None if nothing to tell (a draft is the office's business)."""
    change = roster_change(session, community_id, month, base_version)
    if change is None or change.status != "published":
        return None
    return change.version, change.diff


def _place(assignment: Assignment) -> tuple:
    return (assignment.date, assignment.half_day, assignment.township, assignment.type, assignment.specialty)


def notices_for_diff(diff: RosterDiff) -> list[PlannedNotice]:
    """The notices a roster diff calls for: only the experts and township heads whose sessions changed.

    A township whose session keeps its day and kind but gets another expert (a removed and an added
    assignment in the same place) hears one "change", not a cancellation and a new booking.
    """
    planned: list[PlannedNotice] = []
    substitutes: dict[tuple, list[Assignment]] = {}
    for added in diff.added:
        substitutes.setdefault(_place(added), []).append(added)
    replaced: dict[str, Assignment] = {}  # added id -> the removed session it stands in for
    for removed in diff.removed:
        planned.append(PlannedNotice("expert", removed.expert, "cancellation", removed.id, removed, None))
        candidates = substitutes.get(_place(removed))
        if candidates:
            substitute = candidates.pop(0)
            replaced[substitute.id] = removed
            planned.append(PlannedNotice("township", removed.township, "change", substitute.id, removed, substitute))
        else:
            planned.append(PlannedNotice("township", removed.township, "cancellation", removed.id, removed, None))
    for added in diff.added:
        planned.append(PlannedNotice("expert", added.expert, "assignment", added.id, None, added))
        if added.id not in replaced:
            planned.append(PlannedNotice("township", added.township, "assignment", added.id, None, added))
    for before, after in diff.moved:
        if before.expert == after.expert:
            planned.append(PlannedNotice("expert", after.expert, "change", after.id, before, after))
        else:  # the old expert is free, the new one is booked: each hears only their part
            planned.append(PlannedNotice("expert", before.expert, "cancellation", before.id, before, None))
            planned.append(PlannedNotice("expert", after.expert, "assignment", after.id, None, after))
        if before.township == after.township:
            planned.append(PlannedNotice("township", after.township, "change", after.id, before, after))
        else:
            planned.append(PlannedNotice("township", before.township, "cancellation", before.id, before, None))
            planned.append(PlannedNotice("township", after.township, "assignment", after.id, None, after))
    return planned


def cause_of(assignment: Assignment, batch_events: Sequence[Event]) -> str:
    """Which event of a batch cancelled a session: the first whose kind says it did (a closure of its township that day, a leave of its expert), else the first."""
    for event in batch_events:
        kind = KINDS.get(event.kind)
        if kind is None:
            continue
        try:
            payload = kind.read(event.payload or {})
        except ValueError:
            continue
        if kind.cancelled(payload, assignment):
            return event.kind
    return batch_events[0].kind


def _reason(kind_name: str, language: str) -> str | None:
    kind = KINDS.get(kind_name)
    return kind.cancellation_reason(language) if kind is not None else None


def _text_for(planned: PlannedNotice, labels: CommunityLabels, reason_for: Callable[[Assignment], str]) -> Callable[[str], Any]:
    def text_for(language: str):
        if planned.kind == "assignment":
            return assignment_text(planned.new, labels, language, planned.recipient_kind)
        if planned.kind == "change":
            return change_text(planned.old, planned.new, labels, language, planned.recipient_kind)
        return cancellation_text(planned.old, labels, language, planned.recipient_kind, _reason(reason_for(planned.old), language))

    return text_for


def community_labels(session: Session, community_id: int) -> CommunityLabels:
    """The names a community's notices use (townships, experts, specialties)."""
    return CommunityLabels.from_scenario(export_scenario(session, community_id))


def enqueue_change_notices(
    session: Session, community_id: int, month: str, version: int, diff: RosterDiff, reason: str | Callable[[Assignment], str],
    settings: Settings, now: dt.datetime, labels: CommunityLabels | None = None,
) -> int:
    """Enqueue the notices of one published roster change of a community (deduplicated by person, session, kind, version); returns how many are new.

    `reason` is the event kind that caused the change, or a function giving it per cancelled session.
    """
    if not diff.changes:
        return 0
    if isinstance(reason, str):
        kind_of(reason)  # a reason is a registered kind
    reason_for = reason if callable(reason) else (lambda _assignment, kind=reason: kind)
    labels = labels or community_labels(session, community_id)
    created = 0
    for planned in notices_for_diff(diff):
        created += len(
            notify_recipient(
                session, community_id=community_id, recipient_kind=planned.recipient_kind, recipient_id=planned.recipient_id, kind=planned.kind,
                about=planned.about, version=version, text_for=_text_for(planned, labels, reason_for),
                default_webhook_url=settings.webhook_url, now=now,
            )
        )
    return created
