"""Revert (恢复旧版本): save an earlier version's assignments as a new, published version of the month.

The earlier assignments are checked against today's standing data and the month's pins by the same
write as every edit (`flows.save_edited_roster`): a clash is answered (409, every broken rule
named), never saved. Days up to today stay as the latest version has them: history is not
rewritten. A "revert" event is recorded in the same transaction with the latest version as its
base, so the event worker sends the notices of the diff (to exactly the people whose sessions
changed) through the one notice path.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from scheduler import flows, store
from scheduler.audit import record_audit
from scheduler.errors import Conflict, NotFound
from scheduler.store import CommunityRef
from solver.solution import diff_rosters

EVENT_KIND = "revert"


def record_lever_event(session: Session, community: CommunityRef, kind: str, payload: dict, month: str, base: int, township: str | None = None) -> int | None:
    """Record a lever's event with the version it changed as its base: the worker's diff base -> latest tells the people concerned."""
    if not flows.has_event_outbox():
        return None
    from scheduler.events import Event, record_event

    owner = store.community_id_of(session, community)
    event_id = record_event(session, owner, kind, payload, month=month, township=township)
    session.get(Event, event_id).base_versions = {month: base}
    session.flush()
    return event_id


def revert_to(factory: flows.Factory, community: CommunityRef, month: str, version: int, *, today: dt.date | None = None) -> tuple[int, int]:
    """Save version `version`'s assignments (from tomorrow on) as the month's new published version; return (new version, changes)."""
    return flows.rebasing(community, lambda: _revert_once(factory, community, month, version, today))


def _revert_once(factory: flows.Factory, community: CommunityRef, month: str, version: int, today: dt.date | None) -> tuple[int, int]:
    with factory() as session:
        try:
            earlier, _, _, _ = store.load_roster_version(session, community, month, version)
        except NotFound:
            raise NotFound(f"the roster for {month} has no version {version}") from None
        before, latest, _, _ = store.load_roster_version(session, community, month)
    if version == latest:
        raise Conflict(f"version {version} is already the latest version of {month}: nothing to revert")
    today = today or flows._today(factory, community)
    kept_past = [a for a in before.assignments if a.date <= today]
    restored = [a for a in earlier.assignments if a.date > today]
    edited = kept_past + restored
    changes = diff_rosters(before.assignments, edited).changes

    def after_save(session: Session, number: int) -> None:
        store.publish(session, community, month, number)
        event_id = record_lever_event(session, community, EVENT_KIND, {"month": month, "version": version, "new_version": number}, month, latest)
        record_audit(
            session, community, "revert", f"revert {month} to version {version} (as version {number})", month=month,
            before={"version": latest}, after={"version": number, "restored": version, "changes": changes}, version=number, event_id=event_id,
        )

    number = flows.save_edited_roster(
        factory, community, month, latest, edited, before, "published", f"revert to version {version}", after_save=after_save
    )
    return number, changes
