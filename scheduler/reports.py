"""A month's report, computed from a `rota.roster/1` document and the scenario it was solved from.

Pure computations (no database, no rendering): coverage per township (met against demanded, by type and
specialty), link-visit compliance per party-committee member, load per expert against capacity, and trips
per township. Every figure is a count over the roster document's own rows, so a reader can check it by hand.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from scheduler.reason_text import reason_from_row
from scheduler.roster_file import parse_roster
from scheduler.scenario.schema import Scenario
from solver.problem import DEMAND_TYPES, DemandKey
from solver.solution import Assignment, Reason

DemandTriple = tuple[str, str, str]  # (township, type, specialty)


@dataclass(frozen=True)
class CoverageRow:
    """One (type, specialty) a township asked for: sessions demanded, assigned (met) and reported unmet."""

    township: str
    type: str
    specialty: str
    demanded: int
    met: int
    unmet: int

    @property
    def short(self) -> int:
        return max(0, self.demanded - self.met)


@dataclass(frozen=True)
class TownshipCoverage:
    """A township's coverage rows and their totals."""

    township: str
    rows: tuple[CoverageRow, ...]

    @property
    def demanded(self) -> int:
        return sum(row.demanded for row in self.rows)

    @property
    def met(self) -> int:
        return sum(row.met for row in self.rows)

    @property
    def unmet(self) -> int:
        return sum(row.unmet for row in self.rows)

    @property
    def ratio(self) -> float | None:
        """Met over demanded (capped at 1), or None when the township asked for nothing."""
        return min(1.0, self.met / self.demanded) if self.demanded else None


@dataclass(frozen=True)
class LinkVisitRecord:
    """One link (member, township): the visits the roster holds, the team size each day, and why one is missing."""

    member: str
    township: str
    required: int
    visit_days: tuple[dt.date, ...]
    team_sizes: tuple[int, ...]  # other experts serving the township on each visit day
    team_min: int
    unmet_reason: Reason | None = None

    @property
    def visits(self) -> int:
        return len(self.visit_days)

    @property
    def complied(self) -> bool:
        return self.visits >= self.required and all(size >= self.team_min for size in self.team_sizes)


@dataclass(frozen=True)
class MemberCompliance:
    """A party-committee member's links and how many of them got their visits this month."""

    member: str
    links: tuple[LinkVisitRecord, ...]

    @property
    def links_complied(self) -> int:
        return sum(1 for link in self.links if link.complied)

    @property
    def complied(self) -> bool:
        return self.links_complied == len(self.links)


@dataclass(frozen=True)
class ExpertLoad:
    """An expert's sessions in the month (all types) against their `max_sessions`."""

    expert: str
    department: str
    capacity: int
    sessions_by_type: Mapping[str, int] = field(default_factory=dict)
    link_visits: int = 0

    @property
    def sessions(self) -> int:
        return sum(self.sessions_by_type.values())

    @property
    def utilisation(self) -> float | None:
        return self.sessions / self.capacity if self.capacity else None

    @property
    def over_capacity(self) -> bool:
        return self.sessions > self.capacity


@dataclass(frozen=True)
class DepartmentLoad:
    """A department's sessions against the summed capacity of its experts."""

    department: str
    sessions: int
    capacity: int
    experts: int


@dataclass(frozen=True)
class TownshipTrips:
    """Trips to a township: one car per (township, day), and the person-journeys in those cars."""

    township: str
    trip_days: tuple[dt.date, ...]
    sessions: int
    expert_journeys: int  # distinct (expert, day) pairs at this township
    experts: int  # distinct experts who came in the month
    travel_minutes: int  # one way

    @property
    def trips(self) -> int:
        return len(self.trip_days)

    @property
    def road_minutes(self) -> int:
        """Minutes of driving for all trips there and back."""
        return self.trips * 2 * self.travel_minutes


@dataclass(frozen=True)
class MonthReport:
    """Everything the committee report shows for one roster version."""

    community: str
    month: str
    version: int
    status: str
    coverage: tuple[TownshipCoverage, ...]
    members: tuple[MemberCompliance, ...]
    load: tuple[ExpertLoad, ...]
    departments: tuple[DepartmentLoad, ...]
    trips: tuple[TownshipTrips, ...]
    sessions: int  # every assignment, supervision included

    @property
    def demanded(self) -> int:
        return sum(township.demanded for township in self.coverage)

    @property
    def met(self) -> int:
        return sum(township.met for township in self.coverage)

    @property
    def unmet(self) -> int:
        return sum(township.unmet for township in self.coverage)

    @property
    def links_total(self) -> int:
        return sum(len(member.links) for member in self.members)

    @property
    def links_complied(self) -> int:
        return sum(member.links_complied for member in self.members)

    @property
    def total_trips(self) -> int:
        return sum(township.trips for township in self.trips)


def _ordered(known: list[str], seen: list[str]) -> list[str]:
    """The scenario's order first, then ids only the roster mentions (so nothing in the roster is dropped)."""
    order = list(dict.fromkeys(known))
    for item in seen:
        if item not in order:
            order.append(item)
    return order


def coverage_by_township(
    assignments: tuple[Assignment, ...],
    unmet_rows: list[dict[str, Any]],
    scenario: Scenario,
    extra_demand: Mapping[DemandTriple | DemandKey, int] | None = None,
) -> tuple[TownshipCoverage, ...]:
    """Demanded (scenario demand plus any extra, e.g. approved requests), met and unmet sessions per township and (type, specialty)."""
    demanded: Counter[DemandTriple] = Counter()
    for row in scenario.demand:
        demanded[(row.township, row.type, row.specialty)] += row.sessions
    for key, sessions in (extra_demand or {}).items():
        # Accepts DemandKey (scheduler.requests.scheduled_extra_demand) as well as plain triples.
        triple = (key.township, key.type, key.specialty) if isinstance(key, DemandKey) else tuple(key)
        demanded[triple] += sessions
    met: Counter[DemandTriple] = Counter(
        (a.township, a.type, a.specialty) for a in assignments if a.type in DEMAND_TYPES and a.specialty is not None
    )
    unmet: Counter[DemandTriple] = Counter()
    for row in unmet_rows:
        if row.get("type") in DEMAND_TYPES and row.get("specialty") is not None:
            unmet[(row["township"], row["type"], row["specialty"])] += int(row.get("sessions", 0))
    keys = set(demanded) | set(met) | set(unmet)
    townships = _ordered([t.id for t in scenario.townships], sorted({key[0] for key in keys}))
    type_rank = {name: index for index, name in enumerate(DEMAND_TYPES)}
    specialty_rank = {s.code: index for index, s in enumerate(scenario.specialties)}
    result = []
    for township in townships:
        own = sorted((key for key in keys if key[0] == township), key=lambda k: (type_rank.get(k[1], 99), specialty_rank.get(k[2], 999), k[2]))
        result.append(TownshipCoverage(township, tuple(CoverageRow(t, kind, sp, demanded[(t, kind, sp)], met[(t, kind, sp)], unmet[(t, kind, sp)]) for t, kind, sp in own)))
    return tuple(result)


def link_compliance(assignments: tuple[Assignment, ...], unmet_rows: list[dict[str, Any]], scenario: Scenario) -> tuple[MemberCompliance, ...]:
    """Per committee member, each linked township's visit days, team size on those days, and the reason a visit is missing."""
    experts_on_day: dict[tuple[str, dt.date], set[str]] = defaultdict(set)
    for a in assignments:
        experts_on_day[(a.township, a.date)].add(a.expert)
    visit_days: dict[tuple[str, str], list[dt.date]] = defaultdict(list)
    for a in assignments:
        if a.link_visit:
            visit_days[(a.expert, a.township)].append(a.date)
    reasons: dict[tuple[str, str], Reason] = {}
    for row in unmet_rows:
        if row.get("member"):
            reasons.setdefault((row["member"], row["township"]), reason_from_row(row))
    required = scenario.rules.link_visits_per_month
    team_min = scenario.rules.link_team_min
    members: dict[str, list[LinkVisitRecord]] = {}
    for link in scenario.links:
        records = members.setdefault(link.member, [])
        for township in link.townships:
            days = tuple(sorted(visit_days.get((link.member, township), [])))
            records.append(
                LinkVisitRecord(
                    member=link.member,
                    township=township,
                    required=required,
                    visit_days=days,
                    team_sizes=tuple(len(experts_on_day[(township, day)] - {link.member}) for day in days),
                    team_min=team_min,
                    unmet_reason=reasons.get((link.member, township)),
                )
            )
    return tuple(MemberCompliance(member, tuple(records)) for member, records in members.items())


def load_per_expert(assignments: tuple[Assignment, ...], scenario: Scenario) -> tuple[ExpertLoad, ...]:
    """Sessions per expert by type, link visits and capacity, for every rostered expert and anyone the roster names."""
    by_type: dict[str, Counter[str]] = defaultdict(Counter)
    visits: Counter[str] = Counter()
    for a in assignments:
        by_type[a.expert][a.type] += 1
        visits[a.expert] += a.link_visit
    known = {e.id: e for e in scenario.experts}
    result = []
    for expert_id in _ordered([e.id for e in scenario.experts], sorted(by_type)):
        expert = known.get(expert_id)
        if expert is not None and expert.max_sessions == 0 and expert_id not in by_type:
            continue  # not rostered this month and not in the roster: nothing to report
        result.append(
            ExpertLoad(
                expert=expert_id,
                department=expert.department if expert else "",
                capacity=expert.max_sessions if expert else 0,
                sessions_by_type=dict(by_type.get(expert_id, {})),
                link_visits=visits[expert_id],
            )
        )
    return tuple(result)


def load_per_department(load: tuple[ExpertLoad, ...], scenario: Scenario) -> tuple[DepartmentLoad, ...]:
    """Sessions and capacity summed over each department's experts, in the scenario's department order."""
    sessions: Counter[str] = Counter()
    capacity: Counter[str] = Counter()
    experts: Counter[str] = Counter()
    for row in load:
        sessions[row.department] += row.sessions
        capacity[row.department] += row.capacity
        experts[row.department] += 1
    order = _ordered([d.code for d in scenario.departments], sorted(experts))
    return tuple(DepartmentLoad(code, sessions[code], capacity[code], experts[code]) for code in order if experts[code])


def trips_per_township(assignments: tuple[Assignment, ...], scenario: Scenario) -> tuple[TownshipTrips, ...]:
    """Distinct trip days, sessions and person-journeys per township (every township of the scenario, even with none)."""
    days: dict[str, set[dt.date]] = defaultdict(set)
    journeys: dict[str, set[tuple[str, dt.date]]] = defaultdict(set)
    sessions: Counter[str] = Counter()
    for a in assignments:
        days[a.township].add(a.date)
        journeys[a.township].add((a.expert, a.date))
        sessions[a.township] += 1
    minutes = {t.id: t.travel_minutes for t in scenario.townships}
    return tuple(
        TownshipTrips(
            township=township,
            trip_days=tuple(sorted(days[township])),
            sessions=sessions[township],
            expert_journeys=len(journeys[township]),
            experts=len({expert for expert, _ in journeys[township]}),
            travel_minutes=minutes.get(township, 0),
        )
        for township in _ordered([t.id for t in scenario.townships], sorted(days))
    )


def month_report(roster_document: dict[str, Any], scenario: Scenario, extra_demand: Mapping[DemandTriple | DemandKey, int] | None = None) -> MonthReport:
    """The full report of one roster version (a `rota.roster/1` document) against the scenario it was solved from."""
    solution, version, status = parse_roster(roster_document)
    unmet_rows = [row for row in roster_document.get("unmet") or [] if isinstance(row, dict)]
    load = load_per_expert(solution.assignments, scenario)
    return MonthReport(
        community=str(roster_document.get("community") or scenario.community.name),
        month=solution.month,
        version=version,
        status=status,
        coverage=coverage_by_township(solution.assignments, unmet_rows, scenario, extra_demand),
        members=link_compliance(solution.assignments, unmet_rows, scenario),
        load=load,
        departments=load_per_department(load, scenario),
        trips=trips_per_township(solution.assignments, scenario),
        sessions=len(solution.assignments),
    )
