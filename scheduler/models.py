"""The store's tables: each community's standing data (what a scenario file holds) and its roster versions.

One database holds many communities (tenants). A community is addressed by its `code` (unique; letters,
digits, `-` and `_`, as in `/c/{code}/...`); its name is display text and need not be unique. Every row
of standing data and every roster version carries its community, and codes of experts, townships,
specialties and departments are unique per community only. Rows that hang off another row (an expert's
specialties and unavailability, a township's closures, a version's assignments) belong to the community
of the row they hang off.

Rows keep the file's order in a `position` column so that an export reproduces the file's lists.
Roster versions are immutable history: a change is a new version with a full copy of its
assignments; only `status` and `published_at` of a version row ever change (see `guard_roster_history`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    inspect,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from scheduler.db import Base
from scheduler.errors import Conflict


def utc_now() -> dt.datetime:
    """Now, in UTC, as a timezone-aware datetime (what every timestamp column stores)."""
    return dt.datetime.now(dt.UTC)


class Community(Base):
    """One county medical community (a tenant): the scenario's `community`, `calendar`, `half_days` and `rules`.

    `code` is the community's address (`/c/{code}/...`) and the key an import upserts by; the
    display `name` need not be unique (two counties may both have a "人民医院总医院").
    """

    __tablename__ = "communities"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String)
    timezone: Mapped[str] = mapped_column(String)
    holidays: Mapped[str] = mapped_column(String)  # CN | none
    closed_dates: Mapped[list[str]] = mapped_column(JSON, default=list)  # ISO dates
    extra_workdays: Mapped[list[str]] = mapped_column(JSON, default=list)  # ISO dates
    # Small nested settings read and written whole: JSON keeps them one column each.
    half_days: Mapped[dict[str, Any]] = mapped_column(JSON)
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now, onupdate=utc_now)

    specialties: Mapped[list[Specialty]] = relationship(back_populates="community", order_by="Specialty.position", cascade="all, delete-orphan")
    departments: Mapped[list[Department]] = relationship(back_populates="community", order_by="Department.position", cascade="all, delete-orphan")
    townships: Mapped[list[Township]] = relationship(back_populates="community", order_by="Township.position", cascade="all, delete-orphan")
    experts: Mapped[list[Expert]] = relationship(back_populates="community", order_by="Expert.position", cascade="all, delete-orphan")
    links: Mapped[list[LinkRow]] = relationship(back_populates="community", order_by=lambda: [LinkRow.link_position, LinkRow.position], cascade="all, delete-orphan")
    demand: Mapped[list[DemandRow]] = relationship(back_populates="community", order_by="DemandRow.position", cascade="all, delete-orphan")


class Specialty(Base):
    __tablename__ = "specialties"
    __table_args__ = (UniqueConstraint("community_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String)
    name: Mapped[str] = mapped_column(String)
    position: Mapped[int] = mapped_column(Integer)

    community: Mapped[Community] = relationship(back_populates="specialties")


class Department(Base):
    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("community_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String)
    name: Mapped[str] = mapped_column(String)
    min_on_site: Mapped[int] = mapped_column(Integer, default=0)
    position: Mapped[int] = mapped_column(Integer)

    community: Mapped[Community] = relationship(back_populates="departments")


class Township(Base):
    """A township health centre (分院); `code` is the scenario's township `id`."""

    __tablename__ = "townships"
    __table_args__ = (UniqueConstraint("community_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String)
    name: Mapped[str] = mapped_column(String)
    travel_minutes: Mapped[int] = mapped_column(Integer)
    rooms: Mapped[int] = mapped_column(Integer, default=1)
    inpatient_ward: Mapped[bool] = mapped_column(Boolean, default=False)
    preferred_weekdays: Mapped[list[str]] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(Integer)

    community: Mapped[Community] = relationship(back_populates="townships")
    closures: Mapped[list[TownshipClosure]] = relationship(back_populates="township", cascade="all, delete-orphan", passive_deletes=True)


class Expert(Base):
    """A county specialist (or a non-clinical committee member); `code` is the scenario's expert `id`."""

    __tablename__ = "experts"
    __table_args__ = (UniqueConstraint("community_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String)
    name: Mapped[str] = mapped_column(String)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    title: Mapped[str] = mapped_column(String)
    max_sessions: Mapped[int] = mapped_column(Integer)
    avoid_weekdays: Mapped[list[str]] = mapped_column(JSON, default=list)
    previous_townships: Mapped[list[str]] = mapped_column(JSON, default=list)  # township codes, for continuity only
    position: Mapped[int] = mapped_column(Integer)

    community: Mapped[Community] = relationship(back_populates="experts")
    department: Mapped[Department] = relationship()
    specialty_links: Mapped[list[ExpertSpecialty]] = relationship(
        back_populates="expert", order_by="ExpertSpecialty.position", cascade="all, delete-orphan", passive_deletes=True
    )
    unavailable: Mapped[list[ExpertUnavailability]] = relationship(
        back_populates="expert", order_by=lambda: [ExpertUnavailability.source.desc(), ExpertUnavailability.position, ExpertUnavailability.id],
        cascade="all, delete-orphan", passive_deletes=True,
    )

    @property
    def specialty_codes(self) -> list[str]:
        return [link.specialty.code for link in self.specialty_links]


class ExpertSpecialty(Base):
    """An expert holds a specialty (a table, not JSON, so "who holds cardio" is one query)."""

    __tablename__ = "expert_specialties"

    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id", ondelete="CASCADE"), primary_key=True)
    specialty_id: Mapped[int] = mapped_column(ForeignKey("specialties.id", ondelete="CASCADE"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer)

    expert: Mapped[Expert] = relationship(back_populates="specialty_links")
    specialty: Mapped[Specialty] = relationship()


SCENARIO_SOURCE = "scenario"


class ExpertUnavailability(Base):
    """A period an expert cannot serve: an inclusive range of whole days, or one date (optionally one half).

    `source` says who owns the row: "scenario" rows are replaced on every import; rows written
    by events (a leave request, say) use another source and survive a re-import.
    """

    __tablename__ = "expert_unavailability"

    id: Mapped[int] = mapped_column(primary_key=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id", ondelete="CASCADE"), index=True)
    from_date: Mapped[dt.date | None] = mapped_column(Date)
    to_date: Mapped[dt.date | None] = mapped_column(Date)
    date: Mapped[dt.date | None] = mapped_column(Date)
    half_day: Mapped[str | None] = mapped_column(String)
    reason: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String, default=SCENARIO_SOURCE)
    position: Mapped[int] = mapped_column(Integer, default=0)

    expert: Mapped[Expert] = relationship(back_populates="unavailable")


class LinkRow(Base):
    """One (member, township) link (挂点); `link_position` is the index of its `links[]` entry in the file."""

    __tablename__ = "links"
    __table_args__ = (UniqueConstraint("member_id", "township_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("experts.id", ondelete="CASCADE"), index=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("townships.id", ondelete="CASCADE"), index=True)
    link_position: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)  # index within that entry's `townships`

    community: Mapped[Community] = relationship(back_populates="links")
    member: Mapped[Expert] = relationship()
    township: Mapped[Township] = relationship()


class DemandRow(Base):
    """One `demand[]` row as written: two rows for the same key stay two rows (they add up when solving)."""

    __tablename__ = "demand_rows"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("townships.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String)
    specialty_id: Mapped[int] = mapped_column(ForeignKey("specialties.id", ondelete="CASCADE"), index=True)
    sessions: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)

    community: Mapped[Community] = relationship(back_populates="demand")
    township: Mapped[Township] = relationship()
    specialty: Mapped[Specialty] = relationship()


class TownshipClosure(Base):
    """A day a township centre is closed (flood, outbreak): written by closure events, not by imports."""

    __tablename__ = "township_closures"
    __table_args__ = (UniqueConstraint("township_id", "date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("townships.id", ondelete="CASCADE"), index=True)
    date: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)

    township: Mapped[Township] = relationship(back_populates="closures")


class RosterVersion(Base):
    """One version of one month's roster; immutable except for publication (`status`, `published_at`).

    Publication is recorded on the version row itself rather than in a table of its own: a
    version is published at most once, so two columns say all there is, and "the live roster"
    is one query (the highest published version).
    """

    __tablename__ = "roster_versions"
    __table_args__ = (UniqueConstraint("community_id", "month", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String)  # draft | published
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    solver_report: Mapped[dict[str, Any]] = mapped_column(JSON)
    cause: Mapped[str] = mapped_column(Text, default="")  # why this version exists: "generated", "leave E07 ...", ...
    actor: Mapped[str] = mapped_column(Text, default="system")  # who made it: a token label, "token #3", "cli", "system"
    actor_role: Mapped[str] = mapped_column(String(16), default="system")

    community: Mapped[Community] = relationship()
    assignments: Mapped[list[RosterAssignment]] = relationship(
        back_populates="roster_version", order_by="RosterAssignment.position", cascade="all, delete-orphan", passive_deletes=True
    )
    unmet: Mapped[list[RosterUnmet]] = relationship(
        back_populates="roster_version", order_by="RosterUnmet.position", cascade="all, delete-orphan", passive_deletes=True
    )


class RosterAssignment(Base):
    """One assignment of one version; codes (not foreign keys) so history outlives a deleted township or expert."""

    __tablename__ = "roster_assignments"
    __table_args__ = (UniqueConstraint("version_id", "assignment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("roster_versions.id", ondelete="CASCADE"), index=True)
    assignment_id: Mapped[str] = mapped_column(String, index=True)  # stable across versions (calendar UIDs)
    date: Mapped[dt.date] = mapped_column(Date)
    half_day: Mapped[str] = mapped_column(String(2))
    township: Mapped[str] = mapped_column(String)
    type: Mapped[str] = mapped_column(String)
    specialty: Mapped[str | None] = mapped_column(String)
    expert: Mapped[str] = mapped_column(String, index=True)
    link_visit: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer)

    roster_version: Mapped[RosterVersion] = relationship(back_populates="assignments")


class RosterUnmet(Base):
    """Demanded sessions (or a link visit) a version could not assign, with the reason."""

    __tablename__ = "roster_unmet"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("roster_versions.id", ondelete="CASCADE"), index=True)
    township: Mapped[str] = mapped_column(String)
    type: Mapped[str] = mapped_column(String)
    specialty: Mapped[str | None] = mapped_column(String)
    member: Mapped[str | None] = mapped_column(String)
    sessions: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text, default="")  # the English sentence (as in the roster file)
    reason_code: Mapped[str | None] = mapped_column(String(40))  # solver.solution.ReasonCode; NULL for rows from before codes
    reason_params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    position: Mapped[int] = mapped_column(Integer)

    roster_version: Mapped[RosterVersion] = relationship(back_populates="unmet")


_PUBLICATION_FIELDS = {"status", "published_at"}


@event.listens_for(Session, "before_flush")
def guard_roster_history(session: Session, _context, _instances) -> None:
    """Refuse any flush that would rewrite history: an edited or deleted assignment, unmet row or version."""
    for instance in session.dirty:
        if isinstance(instance, (RosterAssignment, RosterUnmet)) and session.is_modified(instance, include_collections=False):
            raise Conflict("roster versions are immutable: save a new version instead of editing an assignment")
        if isinstance(instance, RosterVersion):
            state = inspect(instance)
            changed = {attr.key for attr in state.attrs if attr.history.has_changes()}
            changed -= {"assignments", "unmet", "community", "roster_version"}
            if changed - _PUBLICATION_FIELDS:
                raise Conflict(f"roster versions are immutable (tried to change {', '.join(sorted(changed - _PUBLICATION_FIELDS))})")
    for instance in session.new:
        if isinstance(instance, (RosterAssignment, RosterUnmet)):
            owner = instance.roster_version
            if owner is not None and inspect(owner).persistent:
                raise Conflict("roster versions are immutable: a saved version gets no new rows")
    for instance in session.deleted:
        if isinstance(instance, (RosterVersion, RosterAssignment, RosterUnmet)):
            raise Conflict("roster versions are immutable: versions and their rows are never deleted")


class JobRow(Base):
    """One background job (generate, replan, settle) of a community, kept in the database so any process can answer for it.

    `result_version` is written in the same transaction as the roster version the job saved, so a
    job re-run after a killed worker sees it done and saves no second version.
    """

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # uuid4 hex
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # generate | replan | settle
    month: Mapped[str | None] = mapped_column(String(7))
    args: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default="queued")  # queued | running | done | failed
    result_version: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    # a failure its waiting caller tells apart by type, as data (scheduler.tasks.failures): a solve refused by hard rules
    failure: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
