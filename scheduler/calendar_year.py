"""A year's official arrangement (State Council notice): days off and make-up working days (调休上班).

The office reads the notice once a year and enters it here; the days go into the community
calendar's `closed` and `extra_workdays` (the scenario file's own fields), so they apply to every
month of that year and every month is re-checked through the event path. The form is pre-filled
from the `holidays` package: its statutory days for any year, its make-up days where it carries
the year's notice (`last_announced_year`).

Only the difference from the package is stored: an entered day off that the package counts as a
working day becomes a `closed` date, an entered working day that the package counts as a day off
becomes an `extra_workdays` date. The year's other dates of both lists are replaced; other years
are kept as they were.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import holidays

from scheduler.calendar import last_announced_year
from scheduler.errors import ScenarioError
from scheduler.scenario.messages import coded
from scheduler.scenario.fields import FIRST_DATE, LAST_DATE
from scheduler.scenario.schema import CalendarSpec

__all__ = ["YearArrangement", "year_arrangement", "with_year", "year_bounds"]


@dataclass(frozen=True)
class YearArrangement:
    """What a year's calendar holds: the days off on working weekdays, the weekend days worked, and where they come from."""

    year: int
    announced: bool  # the package carries this year's notice (make-up days included)
    holiday_names: dict[dt.date, str]  # the package's statutory holidays, for the labels
    days_off: tuple[dt.date, ...]  # weekdays with no sessions: statutory holidays and closed days
    make_up_workdays: tuple[dt.date, ...]  # weekend days worked

    def as_json(self) -> dict:
        return {
            "year": self.year,
            "announced": self.announced,
            "days_off": [{"date": day.isoformat(), "name": self.holiday_names.get(day, "")} for day in self.days_off],
            "make_up_workdays": [day.isoformat() for day in self.make_up_workdays],
        }


def year_bounds() -> tuple[int, int]:
    """The years a calendar can be entered for: those whose every day lies in the accepted date range."""
    return FIRST_DATE.year, LAST_DATE.year


def _check_year(year: int) -> None:
    first, last = year_bounds()
    if not first <= year <= last:
        raise ScenarioError([coded("year", "year_range", first=first, last=last, got=year)])


def _year_days(year: int) -> list[dt.date]:
    start = dt.date(year, 1, 1)
    return [start + dt.timedelta(days=offset) for offset in range((dt.date(year + 1, 1, 1) - start).days)]


def _package_working(spec: CalendarSpec, year: int) -> tuple[set[dt.date], dict[dt.date, str]]:
    """The package's working days of the year (weekdays only when the calendar is not CN) and its holiday names."""
    days = _year_days(year)
    if spec.holidays != "CN":
        return {day for day in days if day.weekday() < 5}, {}
    language = "zh_CN" if "zh_CN" in holidays.China.supported_languages else None
    china = holidays.China(years=year, language=language) if language else holidays.China(years=year)
    return {day for day in days if china.is_working_day(day)}, {day: name for day, name in china.items() if day.year == year}


def year_arrangement(spec: CalendarSpec, year: int) -> YearArrangement:
    """The year's days off on weekdays and its weekend working days, under the community calendar as it is now."""
    _check_year(year)
    package_working, names = _package_working(spec, year)
    closed, extra = set(spec.closed), set(spec.extra_workdays)
    working = (package_working - closed) | {day for day in extra if day.year == year}
    days = _year_days(year)
    return YearArrangement(
        year=year,
        announced=spec.holidays == "CN" and year <= last_announced_year(),
        holiday_names=names,
        days_off=tuple(day for day in days if day.weekday() < 5 and day not in working),
        make_up_workdays=tuple(day for day in days if day.weekday() >= 5 and day in working),
    )


def _in_year(days: Iterable[dt.date], year: int, field: str) -> list[dt.date]:
    days = list(days)
    problems = [
        coded(f"{field}[{index}]", "date_not_in_year", day=day, year=year)
        for index, day in enumerate(days)
        if day.year != year
    ]
    if problems:
        raise ScenarioError(problems)
    return days


def with_year(spec: CalendarSpec, year: int, days_off: Iterable[dt.date], make_up_workdays: Iterable[dt.date]) -> CalendarSpec:
    """The community calendar with this year's arrangement replaced by the one entered; other years kept.

    A day both off and worked is refused (naming both entries), as the scenario file refuses it.
    """
    _check_year(year)
    days_off = _in_year(days_off, year, "days_off")
    make_up_workdays = _in_year(make_up_workdays, year, "make_up_workdays")
    off_at = {day: index for index, day in reversed(list(enumerate(days_off)))}
    clashes = [
        coded(f"make_up_workdays[{index}]", "off_and_worked", day=day, off_path=f"days_off[{off_at[day]}]")
        for index, day in enumerate(make_up_workdays)
        if day in off_at
    ]
    if clashes:
        raise ScenarioError(clashes)
    package_working, _ = _package_working(spec, year)
    wanted_off = set(days_off)
    working = {day for day in _year_days(year) if day.weekday() < 5 and day not in wanted_off} | set(make_up_workdays)
    closed_now, extra_now = package_working - working, working - package_working
    closed = sorted({day for day in spec.closed if day.year != year} | closed_now)
    extra = sorted({day for day in spec.extra_workdays if day.year != year} | extra_now)
    return CalendarSpec(holidays=spec.holidays, closed=closed, extra_workdays=extra)
