"""The health bureau's (卫健委) view of one month across every community of the store.

Per community: whether the month is published (and which version), and, from its latest published
version, the office report's figures (`scheduler.reports.month_report`): coverage (sessions demanded
against assigned), unmet sessions with their reasons, link-visit compliance per committee member,
and load (sessions per expert against capacity). A draft is the office's business, not the
bureau's: a month without a published version shows its status and no figures.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from scheduler import i18n, store
from scheduler.labels import CommunityLabels
from scheduler.reason_text import reason_fields, with_reason_text
from scheduler.reports import MonthReport, month_report
from scheduler.requests import scheduled_extra_demand
from scheduler.roster_file import roster_json
from scheduler.scenario.schema import Scenario

PUBLICATION_STATUSES = ("published", "draft", "none")  # published: some version is; draft: only drafts; none: no roster yet


@dataclass(frozen=True)
class CommunityMonth:
    """One community's month as the bureau sees it; `report` and `document` are of the latest published version, or None."""

    code: str
    name: str
    month: str
    status: str  # one of PUBLICATION_STATUSES
    latest_version: int | None
    published_version: int | None
    published_at: dt.datetime | None
    scenario: Scenario
    labels: CommunityLabels
    extra_demand: dict
    document: dict[str, Any] | None
    report: MonthReport | None


def community_month(session: Session, community: store.CommunityRef, month: str) -> CommunityMonth:
    """The bureau's view of one community's month (figures from its latest published version)."""
    owner = store.get_community(session, community)
    versions = store.list_versions(session, owner.id, month)
    published = [v for v in versions if v.status == "published"]
    scenario = store.export_scenario(session, owner.id)
    extra = scheduled_extra_demand(session, owner.id, month)
    document = report = None
    if published:
        solution, number, status, _ = store.load_roster_version(session, owner.id, month, status="published")
        document = roster_json(owner.name, solution, version=number, status=status)
        report = month_report(document, scenario, extra)
    return CommunityMonth(
        code=owner.code,
        name=owner.name,
        month=month,
        status="published" if published else ("draft" if versions else "none"),
        latest_version=versions[-1].version if versions else None,
        published_version=published[-1].version if published else None,
        published_at=published[-1].published_at if published else None,
        scenario=scenario,
        labels=CommunityLabels.from_scenario(scenario),
        extra_demand=extra,
        document=document,
        report=report,
    )


def province_month(session: Session, month: str) -> list[CommunityMonth]:
    """Every community's month, by community code."""
    return [community_month(session, summary.id, month) for summary in store.list_communities(session)]


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _figures(view: CommunityMonth, lang: str) -> dict[str, Any]:
    report = view.report
    labels = view.labels
    assert report is not None and view.document is not None
    capacity = sum(row.capacity for row in report.load)
    rostered = [row for row in report.load if row.capacity]
    utilisations = [row.sessions / row.capacity for row in rostered]
    return {
        "coverage": {
            "demanded": report.demanded,
            "assigned": report.met,
            "unmet": report.unmet,
            "ratio": _ratio(min(report.met, report.demanded), report.demanded),
            "townships": [
                {"township": t.township, "name": labels.township(t.township), "demanded": t.demanded, "assigned": t.met, "unmet": t.unmet}
                for t in report.coverage
            ],
        },
        "unmet": with_reason_text({"unmet": [dict(row) for row in view.document.get("unmet") or []]}, lang, labels)["unmet"],
        "link_visits": {
            "links": report.links_total,
            "complied": report.links_complied,
            "members": [
                {
                    "member": member.member,
                    "name": labels.expert(member.member),
                    "links": len(member.links),
                    "complied": member.links_complied,
                    "townships": [
                        {
                            "township": link.township,
                            "required": link.required,
                            "visits": link.visits,
                            "visit_days": [day.isoformat() for day in link.visit_days],
                            "team_sizes": list(link.team_sizes),
                            "complied": link.complied,
                            **reason_fields(link.unmet_reason, lang, labels),
                        }
                        for link in member.links
                    ],
                }
                for member in report.members
            ],
        },
        "load": {
            "experts": len(report.load),
            "sessions": sum(row.sessions for row in report.load),
            "capacity": capacity,
            "utilisation": _ratio(sum(row.sessions for row in report.load), capacity),
            "max_utilisation": round(max(utilisations), 4) if utilisations else None,
            "min_utilisation": round(min(utilisations), 4) if utilisations else None,
            "over_capacity": [row.expert for row in report.load if row.over_capacity],
            "per_expert": [
                {"expert": row.expert, "department": row.department, "sessions": row.sessions, "capacity": row.capacity, "link_visits": row.link_visits}
                for row in report.load
            ],
        },
    }


def community_month_json(view: CommunityMonth, lang: str = i18n.DEFAULT_LANG) -> dict[str, Any]:
    """One community's month as JSON: publication, and the figures (null when nothing is published)."""
    figures = _figures(view, lang) if view.report is not None else {"coverage": None, "unmet": None, "link_visits": None, "load": None}
    return {
        "community": view.code,
        "name": view.name,
        "publication": {
            "status": view.status,
            "latest_version": view.latest_version,
            "published_version": view.published_version,
            "published_at": view.published_at.isoformat() if view.published_at else None,
        },
        **figures,
    }


def province_json(month: str, views: list[CommunityMonth], lang: str = i18n.DEFAULT_LANG) -> dict[str, Any]:
    """The month across every community, with province totals over the published ones."""
    reports = [view.report for view in views if view.report is not None]
    return {
        "month": month,
        "communities": [community_month_json(view, lang) for view in views],
        "totals": {
            "communities": len(views),
            "published": sum(1 for view in views if view.status == "published"),
            "draft_only": sum(1 for view in views if view.status == "draft"),
            "without_roster": sum(1 for view in views if view.status == "none"),
            "demanded": sum(report.demanded for report in reports),
            "assigned": sum(report.met for report in reports),
            "unmet": sum(report.unmet for report in reports),
            "links": sum(report.links_total for report in reports),
            "links_complied": sum(report.links_complied for report in reports),
        },
    }
