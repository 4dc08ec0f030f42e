"""The wire: request and response bodies of the API that are not already `rota.scenario/1` or `rota.roster/1`."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from scheduler.scenario.fields import Month
from scheduler.scenario.schema import HalfDay, IsoDate, SessionType

Code = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[^\x00]*$")]
Note = Annotated[str, StringConstraints(max_length=2000, pattern=r"^[^\x00]*$")]
# Every month in a path or a query: `YYYY-MM` within the one date range (scheduler.scenario.fields), else a 422 naming it.
MonthPath = Annotated[Month, Path(description="YYYY-MM, from 2000-01 to 2100-12")]
MonthQuery = Annotated[Month | None, Query(description="YYYY-MM, from 2000-01 to 2100-12")]


class Wire(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProblemDetail(Wire):
    """One thing wrong with a request: where (`experts[2].id`, `month`, `lang`; "" for the whole body) and what."""

    path: str = Field(description="where: a field path such as `experts[2].id`, `month` or `lang`; empty for the whole body")
    message: str = Field(description="what is wrong there")


class RuleBreakView(Wire):
    """A hard rule that a roster change would break (a 409): the rule and why, in the reader's language and as data."""

    rule: str = Field(description="the rule's id, as the model names it (`monthly session limit`)")
    rule_text: str = Field(description="the rule's name in the reader's language")
    message: str = Field(description="where and why, in the reader's language")
    reason_code: str = Field(description="solver.solution.ReasonCode of the break")
    reason_params: dict[str, Any] = Field(default_factory=dict, description="the reason's parameters (ids, ISO dates)")


class ErrorBody(BaseModel):
    """Every 4xx and 5xx answer of the API: `detail` says what was wrong.

    A 422 (a request the service cannot read: a field of the body, the path or the query, or a scenario) lists
    every problem as `{path, message}`; every other error has one sentence. A 409 from a hard rule adds `rules`,
    a 409 of a roster write that lost a race adds `current_version` (the month's latest version, to reload).
    """

    model_config = ConfigDict(extra="forbid")

    detail: str | list[ProblemDetail] = Field(description="one sentence, or (422) every problem with its path")
    rules: list[RuleBreakView] | None = Field(default=None, description="409: the hard rules the change would break")
    current_version: int | None = Field(default=None, description="409: the month's latest roster version")


class TokenCreate(Wire):
    role: Literal["office", "township", "expert"]
    township: Code | None = None
    expert: Code | None = None
    label: Note = ""


class TokenCreated(BaseModel):
    id: int
    token: str
    community: str
    role: str
    township: str | None
    expert: str | None


class TokenView(BaseModel):
    id: int
    role: str
    township: str | None
    expert: str | None
    label: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None


class FeedTokenCreate(Wire):
    scope: Literal["expert", "township", "department", "community"]
    key: Annotated[str, StringConstraints(max_length=100, pattern=r"^[^\x00]*$")] = ""


class FeedTokenCreated(BaseModel):
    id: int
    token: str
    scope: str
    key: str
    url: str


class FeedTokenView(BaseModel):
    id: int
    scope: str
    key: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None


class JobView(BaseModel):
    id: str
    kind: str
    community: str | None = None
    month: str | None
    state: str
    result: Any = None  # {"version": N} once the job saved a version
    result_version: int | None = None
    error: str | None = None
    attempts: int = 0  # 2 = its first worker was lost and it was retried
    worker: str | None = None
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None


class LinkBody(Wire):
    townships: Annotated[list[Code], Field(min_length=1, max_length=100)]


class DemandBody(Wire):
    township: Code
    type: SessionType
    specialty: Code
    sessions: Annotated[int, Field(ge=1, le=2_147_483_647)]


class LeaveBody(Wire):
    first_day: IsoDate
    last_day: IsoDate | None = None
    half_day: HalfDay | None = None
    reason: Note = ""


class LeaveFiled(BaseModel):
    expert: str
    unavailability_id: int | None = None
    event: int | None = None
    job: str | None = None
    months: list[str]


class UnavailabilityView(BaseModel):
    id: int
    source: str
    from_: dt.date | None = Field(default=None, serialization_alias="from")
    to: dt.date | None = None
    date: dt.date | None = None
    half_day: str | None = None
    reason: str | None = None


class RequestBody(Wire):
    township: Code | None = None  # a township token may leave it out: its own township
    type: SessionType
    specialty: Code
    sessions: Annotated[int, Field(ge=1, le=31)]
    first_day: IsoDate
    last_day: IsoDate | None = None
    note: Note = ""


class RequestView(BaseModel):
    id: int
    township: str
    type: str
    specialty: str
    sessions: int
    first_day: dt.date
    last_day: dt.date
    month: str
    note: str
    state: str
    reason: str  # why pending or declined, in the reader's language (?lang= / Accept-Language, zh-CN by default)
    reason_code: str | None = None  # solver.solution.ReasonCode; null for the office's own words (a declined request)
    reason_params: dict[str, Any] = Field(default_factory=dict)
    assignment_ids: list[str]
    roster_version: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


class DeclineBody(Wire):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=2000, pattern=r"^[^\x00]*$")]


class SessionBody(Wire):
    date: IsoDate
    half_day: HalfDay
    township: Code
    type: Literal["clinic", "teaching", "ward_round", "supervision"]
    specialty: Code | None = None
    expert: Code


class MoveBody(Wire):
    date: IsoDate | None = None
    half_day: HalfDay | None = None
    township: Code | None = None
    expert: Code | None = None


class EditResult(BaseModel):
    version: int
    assignment: dict[str, Any] | None = None


class JobAccepted(BaseModel):
    job: str
    month: str | None
    status_url: str


ExpertCode = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00]*$")]
AssignmentId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\x00]*$")]


class SwapBody(Wire):
    """A proposal: the proposer's session goes to `to_expert`; optionally `give_back_id` comes back."""

    assignment_id: AssignmentId
    to_expert: ExpertCode
    from_expert: ExpertCode | None = None  # the office names it; an expert token proposes for itself
    give_back_id: AssignmentId | None = None


class SwapView(BaseModel):
    id: int
    month: str
    assignment_id: str
    from_expert: str
    to_expert: str
    give_back_id: str | None
    state: str
    needs_approval: bool
    reason: str = Field(description="why it was declined, in the reader's language (\"\" while it is not)")
    reason_code: str | None = Field(default=None, description="solver.solution.ReasonCode; null for the office's own words")
    reason_params: dict[str, Any] = Field(default_factory=dict)
    roster_version: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


class ClosureBody(Wire):
    """A township closed from one day to another (停诊), inclusive; `to` left out = one day."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    township: Code
    from_: IsoDate = Field(alias="from")
    to: IsoDate | None = None
    reason: Annotated[str, StringConstraints(max_length=500, pattern=r"^[^\x00]*$")] = ""


class ReopenBody(Wire):
    """Closed days of a township opened again, from one day to another (inclusive)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    township: Code
    from_: IsoDate = Field(alias="from")
    to: IsoDate | None = None


class ClosureFiledView(BaseModel):
    event: int | None
    township: str
    dates: list[dt.date]
    months: list[str]


class ClosureDayView(BaseModel):
    id: int
    township: str
    date: dt.date
    reason: str


class EventOut(BaseModel):
    """One event as the office reads it: what changed and what the worker did with it (per month: the check, the new version, the diff)."""

    id: int
    kind: str
    label: str
    summary: str
    month: str | None
    township: str | None
    status: str
    attempts: int
    last_error: str | None
    created_at: dt.datetime
    processed_at: dt.datetime | None
    payload: dict[str, Any]
    outcome: dict[str, Any] | None
    actor: str = "system"  # who recorded it (a token's label, `token #id`, `cli`, `system`)
    actor_role: str = "system"


class CalendarYearBody(Wire):
    """A year's official arrangement from the State Council notice: the days off (放假) and the make-up working days (调休上班)."""

    days_off: list[IsoDate] = Field(default=[], max_length=366)
    make_up_workdays: list[IsoDate] = Field(default=[], max_length=366)


class DayOffView(BaseModel):
    date: dt.date
    name: str  # the statutory holiday's name where the calendar package knows it, else ""


class CalendarYearView(BaseModel):
    """A year's working-day arrangement as the community calendar holds it: weekdays off and weekend days worked."""

    year: int
    announced: bool  # the calendar package carries this year's notice; False = an estimate until the office enters it
    days_off: list[DayOffView]
    make_up_workdays: list[dt.date]
    events: list[int] = []


class ContactBody(Wire):
    """Where a recipient's notices go: an email address, a robot webhook (企业微信/钉钉), or both; and their language."""

    email: Annotated[str, StringConstraints(max_length=320)] | None = None
    webhook_url: Annotated[str, StringConstraints(max_length=1000)] | None = None
    language: Literal["zh-CN", "en"] = "zh-CN"


class ContactView(BaseModel):
    kind: Literal["expert", "township", "office"]
    id: str
    name: str
    email: str | None
    webhook_url: str | None
    language: str | None  # None: no contact entered, so no notices reach them



# A name or password longer than this is refused before the rules read it; within it, the rules answer (422, naming the field).
OFFICE_USER_FIELD_MAX = 2000


class OfficeUserCreate(Wire):
    """A new office user: a login name (1-64 characters, unique in the community) and a password (8-1024 characters)."""

    name: Annotated[str, StringConstraints(max_length=OFFICE_USER_FIELD_MAX)] = Field(description="the login name; trimmed, 1-64 printable characters")
    password: Annotated[str, StringConstraints(max_length=OFFICE_USER_FIELD_MAX)] = Field(description="8-1024 characters; kept only as an argon2 hash")


class OfficeUserPassword(Wire):
    """A new password for an office user (8-1024 characters); their open page sessions end."""

    password: Annotated[str, StringConstraints(max_length=OFFICE_USER_FIELD_MAX)] = Field(description="8-1024 characters; kept only as an argon2 hash")


class OfficeUserOut(BaseModel):
    """An office user as the API shows one: never the password or its hash."""

    id: int
    name: str
    created_at: dt.datetime
    disabled: bool
    disabled_at: dt.datetime | None
    last_login_at: dt.datetime | None = Field(description="the start of their newest page session; null: never logged in")
