"""The field types every input reuses: ids, dates and months within a sane range, and a bounded way to show a value.

One place for each rule, so the scenario file, the workbook import, the API's request models and the CLI
accept and refuse the same things with the same words:

- **Ids** (codes of specialties and departments, ids of townships and experts, and every reference to
  them): 1-64 characters, each a letter (any script) or a digit, `-` or `_`, starting with a letter or a
  digit; read in Unicode NFC, so a composed and a decomposed `é` are the same id. Refused: spaces, dots,
  slashes, control and invisible characters (zero-width space, right-to-left override) and compatibility
  characters such as full-width `Ｅ０１` (an id must be its own NFKC form), so two ids that look the same
  are the same id.
- **Dates** `YYYY-MM-DD` from FIRST_DATE to LAST_DATE (2000-01-01 to 2100-12-31); **months** `YYYY-MM`
  in the same years. A date outside them is a typo (0001-01-01, 9999-12-31), and the calendar library and
  the store cannot work with it.
Each refusal is a coded error (`messages.py`), so it reads the same in English and in Chinese.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer, StrictStr
from pydantic_core import PydanticCustomError

from scheduler.errors import ScenarioError
from scheduler.scenario.messages import CodedFieldError, custom_error
from scheduler.scenario.shown import shown

FIRST_DATE = dt.date(2000, 1, 1)
LAST_DATE = dt.date(2100, 12, 31)
ID_MAX_LENGTH = 64

_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")


# ---- ids ----

def nfc(value: str) -> str:
    """The NFC form of a text: how every id is compared and stored."""
    return unicodedata.normalize("NFC", value)


def _id_character_ok(character: str) -> bool:
    return character.isalpha() or character.isdecimal() or character in "-_"


def id_problem(value: str) -> tuple[str, dict[str, Any]] | None:
    """What is wrong with `value` (already NFC) as an id, as a message code and its parameters; None for a good id."""
    if not value:
        return "not_empty", {}
    if len(value) > ID_MAX_LENGTH:
        return "id_too_long", {"max": ID_MAX_LENGTH, "length": len(value)}
    for position, character in enumerate(value, start=1):
        if not _id_character_ok(character):
            return "id_character", {"character": _character(character), "position": position}
    if not (value[0].isalpha() or value[0].isdecimal()):
        return "id_start", {"got": value}
    folded = unicodedata.normalize("NFKC", value)
    if folded != value:
        return "id_compatibility", {"fixed": folded, "got": value}
    return None


def _character(character: str) -> tuple[str, str, str, str]:
    # (kind, code point, Unicode name, the character): rendered per language by messages.render
    category = unicodedata.category(character)
    kind = {"Cc": "control", "Cf": "invisible", "Zs": "space", "Zl": "invisible", "Zp": "invisible"}.get(category, "other")
    return kind, f"U+{ord(character):04X}", unicodedata.name(character, ""), character if kind == "other" else ""


def _valid_id(value: str) -> str:
    value = nfc(value)
    problem = id_problem(value)
    if problem:
        code, params = problem
        raise custom_error(code, **params)
    return value


Id = Annotated[StrictStr, AfterValidator(_valid_id)]
"""An id or a code, or a reference to one (see the module docstring for the pattern)."""


# ---- dates and months ----

def _in_range(day: dt.date) -> dt.date:
    if not FIRST_DATE <= day <= LAST_DATE:
        raise custom_error("date_range", first=FIRST_DATE, last=LAST_DATE, got=day)
    return day


def _iso_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        raise custom_error("date_and_time", got=value)
    if isinstance(value, dt.date):
        return _in_range(value)
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise custom_error("date_not_real", got=value) from None
        return _in_range(day)
    raise custom_error("date_format", got=value)


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date), PlainSerializer(lambda d: d.isoformat(), return_type=str)]
"""A date `YYYY-MM-DD` (or a date object) from FIRST_DATE to LAST_DATE; serialised as ISO text."""


def date_problems(**dates: object) -> list[CodedFieldError]:
    """The problems of the named dates (None ones skipped) as dates within the range, each naming its field."""
    problems: list[CodedFieldError] = []
    for path, value in dates.items():
        if value is not None:
            try:
                checked_date(value, path)
            except ScenarioError as error:
                problems.extend(error.problems)  # type: ignore[arg-type]
    return problems


def checked_date(value: object, path: str) -> dt.date:
    """`value` (text or a date) as a date from FIRST_DATE to LAST_DATE, else a ScenarioError naming `path` (renderable in zh-CN).

    For what does not come through a pydantic model: a page's form field, a flow's argument.
    """
    try:
        return _iso_date(value)
    except PydanticCustomError as error:
        raise ScenarioError([CodedFieldError(path, error.message(), error.type, tuple((error.context or {}).items()))]) from None


def _month_problem(month: object) -> tuple[int, int] | None:
    match = _MONTH.match(month) if isinstance(month, str) else None
    year, number = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
    if not match or not 1 <= number <= 12 or not FIRST_DATE.year <= year <= LAST_DATE.year:
        return None
    return year, number


def parse_month(month: str) -> tuple[int, int]:
    """`YYYY-MM` within FIRST_DATE..LAST_DATE as (year, month); raise ValueError with a readable message otherwise."""
    parsed = _month_problem(month)
    if parsed is None:
        raise ValueError(
            f"month must be YYYY-MM from {FIRST_DATE:%Y-%m} to {LAST_DATE:%Y-%m} (got {shown(month)})"
        )
    return parsed


def _month_text(value: object) -> str:
    if _month_problem(value) is None:
        raise custom_error("month_range", first=f"{FIRST_DATE:%Y-%m}", last=f"{LAST_DATE:%Y-%m}", got=value if isinstance(value, str) else shown(value))
    return value  # type: ignore[return-value]


Month = Annotated[str, BeforeValidator(_month_text), Field(examples=["2027-01"], json_schema_extra={"pattern": r"^\d{4}-(0[1-9]|1[0-2])$"})]
"""A month `YYYY-MM` within the date range: the one type of every month in a scenario, a request model, a path or a query."""
