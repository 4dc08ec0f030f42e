"""What a page reads from the store for one month: the scenario, a roster version as its JSON document, closures."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from scheduler import store
from scheduler.calendar import MonthCalendar, month_calendar_for
from scheduler.errors import NotFound
from scheduler.labels import CommunityLabels
from scheduler.roster_file import roster_json
from scheduler.scenario.schema import Scenario


@dataclass(frozen=True)
class MonthData:
    """One month as the pages see it; `document` is None when the month has no (matching) version."""

    month: str
    scenario: Scenario
    labels: CommunityLabels
    calendar: MonthCalendar
    closures: dict[str, frozenset[dt.date]]
    document: dict[str, Any] | None
    versions: list[store.RosterVersionSummary] = field(default_factory=list)

    @property
    def version(self) -> int | None:
        return self.document["version"] if self.document else None

    @property
    def status(self) -> str | None:
        return self.document["status"] if self.document else None


def roster_document(
    session: Session, community: store.CommunityRef, month: str, version: int | None = None, *, status: str | None = None
) -> dict[str, Any] | None:
    """A community's stored version (the latest, or the latest of a status) as a `rota.roster/1` document, or None."""
    try:
        solution, number, found_status, _ = store.load_roster_version(session, community, month, version, status=status)
    except NotFound:
        return None
    return roster_json(store.get_community(session, community).name, solution, version=number, status=found_status)


def load_month(
    session: Session, community: store.CommunityRef, month: str, version: int | None = None, *, status: str | None = None, with_versions: bool = False
) -> MonthData:
    """The scenario, calendar, closures and roster document of a community's month (NotFound when there is no such community)."""
    scenario = store.export_scenario(session, community)
    return MonthData(
        month=month,
        scenario=scenario,
        labels=CommunityLabels.from_scenario(scenario),
        calendar=month_calendar_for(scenario.calendar, month),
        closures=store.closures_for_month(session, community, month),
        document=roster_document(session, community, month, version, status=status),
        versions=store.list_versions(session, community, month) if with_versions else [],
    )
