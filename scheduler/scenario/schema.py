"""The `rota.scenario/1` file format as typed pydantic models (spec/scenario.md, field by field).

Structure and ranges live here; references between lists are checked in `references.py`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, StrictBool, StrictInt, StrictStr, field_validator, model_validator

FORMAT = "rota.scenario/1"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TITLES = ("attending", "associate_chief", "chief")  # in rising seniority
SESSION_TYPES = ("clinic", "teaching", "ward_round")
HALF_DAYS = ("am", "pm")

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _iso_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        raise ValueError(f"must be a date YYYY-MM-DD, not a date and time ({value.isoformat()})")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"'{value}' is not a real date") from None
    raise ValueError(f"must be a date YYYY-MM-DD (got {value!r})")


def _clock(value: object) -> str:
    if isinstance(value, str) and _CLOCK.match(value):
        return value
    raise ValueError(f"must be a time HH:MM in quotes (got {value!r})")


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date), PlainSerializer(lambda d: d.isoformat(), return_type=str)]
ClockTime = Annotated[str, BeforeValidator(_clock)]
# Every number and text must be storable: a 32-bit integer column, and no NUL (PostgreSQL text refuses it).
LARGEST = 2_147_483_647


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    return value


PlainText = Annotated[StrictStr, AfterValidator(_no_nul)]
Id = Annotated[StrictStr, Field(min_length=1), AfterValidator(_no_nul)]
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
            raise ValueError(f"unknown IANA time zone '{value}'") from None
        return value


class CalendarSpec(Strict):
    holidays: Literal["CN", "none"]
    closed: list[IsoDate] = []
    extra_workdays: list[IsoDate] = []


class Window(Strict):
    start: ClockTime
    end: ClockTime

    @model_validator(mode="after")
    def _start_before_end(self) -> "Window":
        if self.start >= self.end:
            raise ValueError(f"start {self.start} must be before end {self.end}")
        return self


class HalfDays(Strict):
    am: Window = Window(start="08:30", end="11:30")
    pm: Window = Window(start="14:30", end="17:00")

    @model_validator(mode="after")
    def _morning_first(self) -> "HalfDays":
        if self.am.end > self.pm.start:
            raise ValueError(f"the morning must end ({self.am.end}) before the afternoon starts ({self.pm.start})")
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
            raise ValueError("give either from/to (a range) or date (one day), not both")
        if ranged:
            if self.from_ is None or self.to is None:
                raise ValueError("a range needs both 'from' and 'to'")
            if self.half_day is not None:
                raise ValueError("half_day goes with date, not with a from/to range")
            if self.from_ > self.to:
                raise ValueError(f"'from' {self.from_.isoformat()} is after 'to' {self.to.isoformat()}")
        elif self.date is None:
            raise ValueError("needs either from/to (a range) or date")
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
