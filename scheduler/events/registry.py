"""The event kinds: one registry the outbox and the worker know kinds through, and nothing else.

A kind is one module in `scheduler/events/kinds/`: a subclass of `EventKind` with its typed payload
(a pydantic model), its labels in zh-CN and English, and the hooks the worker calls, registered with
`@register`. The outbox validates a payload against its kind when the event is recorded; the worker
asks the kind whether it is absorbed by the month's re-plan, what to do before it, whether the change
can let coverage rise (a re-plan is then worth trying even when the published roster still keeps
every rule), which cancelled sessions it caused, and how to say what it changed.

Standing-data kinds also know how to find their changes between two versions of a community's
scenario (`detect`), so an edit of any shape (one item through the API, a whole file through
`PUT /scenario` or `rota import`) records exactly the events its changes call for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy.orm import Session, sessionmaker

from config.settings import Settings
from scheduler.i18n import DEFAULT_LANG, parse_lang, with_article
from scheduler.labels import CommunityLabels
from scheduler.scenario.schema import Scenario
from solver.solution import Assignment


class Payload(BaseModel):
    """The base of every kind's payload: JSON-ready fields, nothing unknown."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Detected:
    """One change a standing-data kind found between two scenarios: the event to record."""

    payload: Payload
    township: str | None = None  # the lane's township, when the change is one township's


class EventKind:
    """One kind of event; subclass it in its own module under kinds/ and decorate it with `@register`."""

    name: ClassVar[str]
    payload_type: ClassVar[type[Payload]]
    labels: ClassVar[Mapping[str, str]]  # what the kind is called, per language
    cancellation_reasons: ClassVar[Mapping[str, str]]  # why a session it cancelled went, in a notice, per language
    replans: ClassVar[bool] = True  # absorbed by the month's minimal-change re-plan (and batched with its month mates)

    def read(self, payload: Mapping[str, Any]) -> Payload:
        """The typed payload of a stored event (ValueError naming the field when it does not fit)."""
        try:
            return self.payload_type.model_validate(dict(payload))
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "payload"
            raise ValueError(f"{with_article(self.name)} event's payload: {where}: {first['msg']}") from None

    def months(self, payload: Payload) -> list[str] | None:
        """The months the change touches; None means every month from the current one that has a roster."""
        return None

    def township(self, payload: Payload) -> str | None:
        """The township whose lane the event runs in (None: the community's month lane)."""
        return None

    def apply(self, factory: sessionmaker[Session], community_id: int, payload: Payload) -> dict[str, Any]:
        """A step of its own before the month's re-plan (a swap's exchange); returns what to add to the outcome."""
        return {}

    def settle(self, factory: sessionmaker[Session], community_id: int, payload: Payload) -> dict[str, Any]:
        """The whole handling of a kind that is not absorbed by a re-plan (`replans = False`); returns the outcome."""
        raise NotImplementedError(f"event kind {self.name} has no handler of its own")

    def extra_notices(
        self, session: Session, community_id: int, payload: Payload, outcome: dict[str, Any], settings: Settings, now: dt.datetime, labels: CommunityLabels
    ) -> int:
        """Notices of the kind's own beyond the roster diff's (a request's answer to its township); returns how many are new."""
        return 0

    def may_raise_coverage(self, payload: Payload) -> bool:
        """Whether the change can let a roster cover more (more rooms, demand, capacity), so a re-plan is worth trying."""
        return False

    def cancelled(self, payload: Payload, assignment: Assignment) -> bool:
        """Whether this change is why the session was cancelled (the notice names the reason)."""
        return False

    def summary(self, payload: Payload, lang: str = DEFAULT_LANG) -> str:
        """What the change was, in a few words of the language (the office's event list)."""
        return ""

    @classmethod
    def detect(cls, before: Scenario, after: Scenario) -> list[Detected]:
        """The changes of this kind between two versions of a community's standing data (standing-data kinds only)."""
        return []

    def label(self, lang: str = DEFAULT_LANG) -> str:
        """The kind's name in the language."""
        return self.labels[parse_lang(lang)]

    def cancellation_reason(self, lang: str = DEFAULT_LANG) -> str:
        """Why a session this kind cancelled went, as a notice says it."""
        return self.cancellation_reasons[parse_lang(lang)]


KINDS: dict[str, EventKind] = {}


def register(kind: type[EventKind]) -> type[EventKind]:
    """Class decorator: add a kind to the registry under its `name` (once)."""
    if kind.name in KINDS:
        raise ValueError(f"event kind {kind.name!r} is registered twice")
    KINDS[kind.name] = kind()
    return kind


def kind_of(name: str) -> EventKind:
    """The registered kind called `name`; ValueError listing the kinds otherwise."""
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(f"event kind must be one of {', '.join(KINDS)} (got {name!r})") from None


def kind_label(name: str, lang: str = DEFAULT_LANG) -> str:
    """A kind's name in the language, or the raw name of a kind this installation does not know."""
    kind = KINDS.get(name)
    return kind.label(lang) if kind is not None else name


def event_summary(name: str, payload: Mapping[str, Any], lang: str = DEFAULT_LANG) -> str:
    """What a stored event changed, in the language ("" when its payload no longer reads)."""
    kind = KINDS.get(name)
    if kind is None:
        return ""
    try:
        return kind.summary(kind.read(payload), lang)
    except ValueError:
        return ""


def months_of_dates(days: list[dt.date]) -> list[str]:
    """The YYYY-MM months a list of dates falls in, in order."""
    return sorted({f"{day.year:04d}-{day.month:02d}" for day in days})


def zh(lang: str) -> bool:
    """Whether the language is Chinese (the kinds word their summaries in two languages)."""
    return parse_lang(lang) == "zh-CN"
