"""A community's published history before a month: what cross-month fairness and continuity learn from.

Only the latest published version of each month of the window counts (drafts never do), and only
that community's. `scheduler.problem_builder.with_published_history` turns it into the solver's
prior loads and adds the townships to each expert's `previous_townships`.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from scheduler.calendar import parse_month
from scheduler.models import RosterAssignment, RosterVersion
from scheduler.problem_builder import PublishedMonth
from scheduler.store import CommunityRef, community_id_of


def window_months(month: str, count: int) -> list[str]:
    """The `count` months before `month` (YYYY-MM), the nearest first."""
    year, number = parse_month(month)
    months = []
    for _ in range(max(0, count)):
        year, number = (year - 1, 12) if number == 1 else (year, number - 1)
        months.append(f"{year:04d}-{number:02d}")
    return months


def published_history(session: Session, community: CommunityRef, month: str, count: int) -> tuple[PublishedMonth, ...]:
    """Per month of the window with a published roster, each expert's sessions and the townships of their demand sessions."""
    window = window_months(month, count)
    if not window:
        return ()
    owner = community_id_of(session, community)
    latest = (
        select(RosterVersion.month.label("month"), func.max(RosterVersion.version).label("version"))
        .where(RosterVersion.community_id == owner, RosterVersion.status == "published", RosterVersion.month.in_(window))
        .group_by(RosterVersion.month)
        .subquery()
    )
    published = sorted(session.scalars(select(latest.c.month)))
    rows = session.execute(
        select(RosterVersion.month, RosterAssignment.expert, RosterAssignment.township, RosterAssignment.type, func.count())
        .join(RosterAssignment, RosterAssignment.version_id == RosterVersion.id)
        .join(latest, and_(latest.c.month == RosterVersion.month, latest.c.version == RosterVersion.version))
        .where(RosterVersion.community_id == owner)
        .group_by(RosterVersion.month, RosterAssignment.expert, RosterAssignment.township, RosterAssignment.type)
    )
    counts: dict[str, list[tuple[str, str, str, int]]] = defaultdict(list)
    for row_month, expert, township, session_type, sessions in rows:
        counts[row_month].append((expert, township, session_type, sessions))
    return tuple(PublishedMonth.from_counts(published_month, counts[published_month]) for published_month in published)
