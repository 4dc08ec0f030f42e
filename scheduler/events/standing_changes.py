"""Standing-data edits as events: compare the stored scenario with the new one and record one event per change found.

Every kind that knows how to find its changes (`EventKind.detect`) is asked, in registry order, so an edit of
one item and an import of a whole file record the same events for the same change, in the edit's transaction.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from scheduler.events.outbox import record
from scheduler.events.registry import KINDS
from scheduler.scenario.schema import Scenario


def record_standing_changes(session: Session, community_id: int, before: Scenario, after: Scenario) -> list[int]:
    """Record the events a change of a community's standing data from `before` to `after` calls for; returns their ids."""
    recorded: list[int] = []
    for kind in KINDS.values():
        for detected in kind.detect(before, after):
            recorded.append(record(session, community_id, detected.payload, township=detected.township))
    return recorded
