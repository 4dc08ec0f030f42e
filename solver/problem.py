"""The solver's input: one month of one county, as plain frozen data (no file formats, no database)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal, NamedTuple

HalfDay = Literal["am", "pm"]
SessionType = Literal["clinic", "teaching", "ward_round", "supervision"]
HALF_DAYS: tuple[str, ...] = ("am", "pm")  # a working day's half-days, in order
DEMAND_TYPES: tuple[str, ...] = ("clinic", "teaching", "ward_round")
TITLE_RANK = {"attending": 0, "associate_chief": 1, "chief": 2}


def week_of(day: dt.date) -> tuple[int, int]:
    """The ISO (year, week) a day falls in: the week that spread, its bounds and the week neighbourhoods count by."""
    return day.isocalendar()[:2]


class Slot(NamedTuple):
    """One working half-day of the month (a tuple: hashing it is cheap, and it sorts by day then am/pm)."""

    day: dt.date
    half_day: str  # "am" | "pm"

    def __str__(self) -> str:
        return f"{self.day.isoformat()} {self.half_day}"


@dataclass(frozen=True)
class Expert:
    id: str
    department: str
    title: str
    specialties: frozenset[str]
    max_sessions: int
    name: str = ""
    avoid_weekdays: frozenset[int] = frozenset()  # 0 = Monday
    blocked: dict[Slot, str] = field(default_factory=dict, hash=False, compare=False)  # slot -> reason
    previous_townships: frozenset[str] = frozenset()

    def available(self, slot: Slot) -> bool:
        return slot not in self.blocked

    @property
    def rostered(self) -> bool:
        """Whether the expert takes sessions this month at all (rule 4 with max_sessions 0: not rostered)."""
        return self.max_sessions > 0


@dataclass(frozen=True)
class Township:
    id: str
    rooms: int
    inpatient_ward: bool
    name: str = ""
    travel_minutes: int = 0
    preferred_weekdays: frozenset[int] = frozenset()
    closed_days: frozenset[dt.date] = frozenset()  # closures that hit this township only (flood, outbreak)

    @property
    def car_day_capacity(self) -> int:
        """The sessions one car-day to the township can hold: every room in each half-day (supervisions aside)."""
        return len(HALF_DAYS) * self.rooms


@dataclass(frozen=True)
class Department:
    code: str
    min_on_site: int
    name: str = ""


class DemandKey(NamedTuple):
    """What a township asks for: a session type in a specialty."""

    township: str
    type: str
    specialty: str


@dataclass(frozen=True)
class Link:
    """A party-committee member's link to one township (挂点)."""

    member: str
    township: str


@dataclass(frozen=True)
class Weights:
    link: int = 5000
    unmet: int = 1000
    fairness: int = 10
    spread: int = 5
    trips: int = 3
    continuity: int = 2
    preference: int = 1


@dataclass(frozen=True)
class Rules:
    teaching_min_title: str = "associate_chief"
    ward_round_half_days: frozenset[str] = frozenset({"am"})
    link_visits_per_month: int = 1
    link_team_min: int = 2
    weights: Weights = Weights()


class Pin(NamedTuple):
    """An assignment the office pinned: every solve of the month keeps it (expert, slot, township, demand row; no row for supervision)."""

    expert: str
    slot: Slot
    township: str
    key: DemandKey | None


@dataclass(frozen=True)
class Requirement:
    """At least `sessions` sessions of one demand row on the given days (a request the office forced onto a day)."""

    key: DemandKey
    days: frozenset[dt.date]
    sessions: int
    half_day: str | None = None  # only that half-day when given


class PriorLoad(NamedTuple):
    """An expert's published load over the months before this one (the carry-over window):
    the sessions they served and the sessions they could fairly have been asked for (their capacity)."""

    sessions: int
    capacity: int


@dataclass(frozen=True)
class Problem:
    """A month to roster: working slots, people, places, demand, links and rules."""

    month: str
    slots: tuple[Slot, ...]
    experts: tuple[Expert, ...]
    townships: tuple[Township, ...]
    departments: tuple[Department, ...]
    demand: dict[DemandKey, int] = field(hash=False, compare=False)  # sessions wanted, rows already summed
    links: tuple[Link, ...] = ()
    rules: Rules = Rules()
    specialty_names: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    pins: tuple[Pin, ...] = ()  # the office's pinned assignments (hard: kept by every solve)
    requirements: tuple[Requirement, ...] = ()  # the office's forced requests (hard)
    # Cross-month equity: per expert id, the load of the previous months that fairness carries over (soft only).
    prior_loads: Mapping[str, PriorLoad] = field(default_factory=dict, hash=False, compare=False)

    def expert(self, expert_id: str) -> Expert:
        return self._experts_by_id[expert_id]

    def township(self, township_id: str) -> Township:
        return self._townships_by_id[township_id]

    def has_expert(self, expert_id: str) -> bool:
        return expert_id in self._experts_by_id

    def has_township(self, township_id: str) -> bool:
        return township_id in self._townships_by_id

    def department(self, code: str) -> Department:
        return self._departments_by_code[code]

    # Indexes built on first use (cached_property writes the instance dict, so a frozen dataclass allows it).
    @cached_property
    def _experts_by_id(self) -> dict[str, Expert]:
        return {expert.id: expert for expert in self.experts}

    @cached_property
    def _townships_by_id(self) -> dict[str, Township]:
        return {township.id: township for township in self.townships}

    @cached_property
    def _departments_by_code(self) -> dict[str, Department]:
        return {department.code: department for department in self.departments}

    @cached_property
    def slot_set(self) -> frozenset[Slot]:
        return frozenset(self.slots)

    @cached_property
    def days(self) -> tuple[dt.date, ...]:
        return tuple(sorted({slot.day for slot in self.slots}))

    def slot_open_at(self, slot: Slot, township: Township) -> bool:
        return slot.day not in township.closed_days
