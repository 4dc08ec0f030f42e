"""The `rota.scenario/1` file format as typed pydantic models (spec/scenario.md, field by field).

Structure and ranges live here; references between lists are checked in `references.py`; the field types
shared with the API and the workbook (ids, bounded dates) in `fields.py`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt, StrictStr, field_validator, model_validator

from scheduler.scenario.fields import Id, IsoDate
from scheduler.scenario.messages import custom_error

FORMAT = "rota.scenario/1"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TITLES = ("attending", "associate_chief", "chief")  # in rising seniority
SESSION_TYPES = ("clinic", "teaching", "ward_round")
HALF_DAYS = ("am", "pm")

_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _clock(value: object) -> str:
    if isinstance(value, str) and _CLOCK.match(value):
        return value
    raise custom_error("clock", got=value)


ClockTime = Annotated[str, BeforeValidator(_clock)]
# Every number and text must be storable: a 32-bit integer column, and no NUL (PostgreSQL text refuses it).
LARGEST = 2_147_483_647


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise custom_error("nul")
    return value


PlainText = Annotated[StrictStr, AfterValidator(_no_nul)]
Text = Annotated[StrictStr, Field(min_length=1), AfterValidator(_no_nul)]
NonNegative = Annotated[StrictInt, Field(ge=0, le=LARGEST)]
Positive = Annotated[StrictInt, Field(ge=1, le=LARGEST)]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Title = Literal["chief", "associate_chief", "attending"]
HalfDay = Literal["am", "pm"]
SessionType = Literal["clinic", "teaching", "ward_round"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Community(Strict):
    name: Text
    timezone: Text

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except Exception:
            raise custom_error("time_zone", got=value) from None
        return value


class CalendarSpec(Strict):
    holidays: Literal["CN", "none"]
    closed: list[IsoDate] = []
    extra_workdays: list[IsoDate] = []

    @model_validator(mode="after")
    def _closed_or_worked(self) -> "CalendarSpec":
        # A date both closed and worked is a contradiction the office must resolve, not one we pick a side of.
        closed = {day: index for index, day in reversed(list(enumerate(self.closed)))}
        for index, day in enumerate(self.extra_workdays):
            if day in closed:
                raise custom_error(
                    "closed_and_worked", day=day, closed_path=f"closed[{closed[day]}]", extra_path=f"extra_workdays[{index}]"
                )
        return self


class Window(Strict):
    start: ClockTime
    end: ClockTime

    @model_validator(mode="after")
    def _start_before_end(self) -> "Window":
        if self.start >= self.end:
            raise custom_error("start_after_end", start=self.start, end=self.end)
        return self


class HalfDays(Strict):
    am: Window = Window(start="08:30", end="11:30")
    pm: Window = Window(start="14:30", end="17:00")

    @model_validator(mode="after")
    def _morning_first(self) -> "HalfDays":
        if self.am.end > self.pm.start:
            raise custom_error("morning_after_afternoon", am_end=self.am.end, pm_start=self.pm.start)
        return self


class Specialty(Strict):
    code: Id
    name: Text


class Department(Strict):
    code: Id
    name: Text
    min_on_site: NonNegative = 0


class Township(Strict):
    id: Id
    name: Text
    travel_minutes: NonNegative
    rooms: Positive = 1
    inpatient_ward: StrictBool = False
    preferred_weekdays: list[Weekday] = []


class Unavailability(Strict):
    """Either an inclusive range of whole days (`from`/`to`) or one date, optionally one half of it."""

    from_: IsoDate | None = Field(default=None, alias="from")
    to: IsoDate | None = None
    date: IsoDate | None = None
    half_day: HalfDay | None = None
    reason: PlainText | None = None

    @model_validator(mode="after")
    def _one_shape(self) -> "Unavailability":
        ranged = self.from_ is not None or self.to is not None
        if ranged and self.date is not None:
            raise custom_error("range_and_date")
        if ranged:
            if self.from_ is None or self.to is None:
                raise custom_error("range_needs_both")
            if self.half_day is not None:
                raise custom_error("half_day_with_range")
            if self.from_ > self.to:
                raise custom_error("from_after_to", start=self.from_, end=self.to)
        elif self.date is None:
            raise custom_error("needs_a_date")
        return self

    @property
    def first_day(self) -> dt.date:
        return self.from_ if self.from_ is not None else self.date  # type: ignore[return-value]

    @property
    def last_day(self) -> dt.date:
        return self.to if self.to is not None else self.date  # type: ignore[return-value]


class Expert(Strict):
    id: Id
    name: Text
    department: Id
    title: Title
    specialties: list[Id]
    max_sessions: NonNegative
    avoid_weekdays: list[Weekday] = []
    unavailable: list[Unavailability] = []
    previous_townships: list[Id] = []


class Link(Strict):
    member: Id
    townships: Annotated[list[Id], Field(min_length=1)]


class DemandRow(Strict):
    township: Id
    type: SessionType
    specialty: Id
    sessions: Positive


class Weights(Strict):
    link: NonNegative = 5000
    unmet: NonNegative = 1000
    fairness: NonNegative = 10
    spread: NonNegative = 5
    trips: NonNegative = 3
    continuity: NonNegative = 2
    preference: NonNegative = 1


class Rules(Strict):
    teaching_min_title: Title = "associate_chief"
    ward_round_half_days: Annotated[list[HalfDay], Field(min_length=1)] = ["am"]
    link_visits_per_month: NonNegative = 1
    link_team_min: NonNegative = 2
    weights: Weights = Weights()


class Scenario(Strict):
    format: Literal["rota.scenario/1"]
    community: Community
    calendar: CalendarSpec
    half_days: HalfDays = HalfDays()
    specialties: list[Specialty]
    departments: list[Department]
    townships: list[Township]
    experts: list[Expert]
    links: list[Link] = []
    demand: list[DemandRow] = []
    rules: Rules = Rules()

    def to_document(self) -> dict:
        """The scenario as a plain dict ready for YAML or JSON, in the spec's key order."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)
