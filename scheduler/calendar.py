"""The working-day calendar: mainland China's statutory arrangement, minus `closed`, plus `extra_workdays`."""

from __future__ import annotations

import calendar as month_calendar
import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import holidays
from holidays.countries.china import ChinaStaticHolidays

from scheduler.scenario.fields import parse_month
from scheduler.scenario.schema import CalendarSpec

__all__ = ["MonthCalendar", "office_entered", "parse_month", "month_days", "month_calendar_for", "estimate_warning", "last_announced_year"]


@lru_cache(maxsize=1)
def last_announced_year() -> int:
    """The last year whose State Council arrangement (holidays and make-up days) the package carries."""
    years = set(getattr(ChinaStaticHolidays, "special_public_holidays", {}))
    years |= set(getattr(ChinaStaticHolidays, "special_workdays", {}) or {})
    return max(years) if years else 0


@dataclass(frozen=True)
class MonthCalendar:
    """The days of one month with what kind of day each is, and the warnings the office should read."""

    month: str
    working_days: tuple[dt.date, ...]
    holidays: dict[dt.date, str]  # statutory holidays (and closed days) with their names
    warnings: tuple[str, ...]

    def is_working_day(self, day: dt.date) -> bool:
        return day in self.working_days


def month_days(month: str) -> list[dt.date]:
    year, number = parse_month(month)
    return [dt.date(year, number, day) for day in range(1, month_calendar.monthrange(year, number)[1] + 1)]


def office_entered(spec: CalendarSpec, year: int) -> bool:
    """Whether the office has entered the year's arrangement: a year's notice always names make-up working days."""
    return any(day.year == year for day in spec.extra_workdays)


def estimate_warning(year: int) -> str:
    return (
        f"the China holiday calendar for {year} is an estimate: the holidays package carries the State Council "
        f"arrangement only up to {last_announced_year()}, so {year} has its statutory holidays but no make-up "
        f"working days (调休). Add the official days to the scenario's calendar.closed and calendar.extra_workdays."
    )


def month_calendar_for(spec: CalendarSpec, month: str) -> MonthCalendar:
    """Working days of a month under a scenario's calendar section, with an estimate warning when due."""
    days = month_days(month)
    year = days[0].year
    closed = set(spec.closed)
    extra = set(spec.extra_workdays)
    names: dict[dt.date, str] = {}
    warnings: list[str] = []
    if spec.holidays == "CN":
        china = holidays.China(years=year, language="zh_CN") if "zh_CN" in holidays.China.supported_languages else holidays.China(years=year)
        if year > last_announced_year() and not office_entered(spec, year):
            warnings.append(estimate_warning(year))
        working = [day for day in days if china.is_working_day(day)]
        names.update({day: name for day, name in china.items() if day in days})
    else:
        working = [day for day in days if day.weekday() < 5]
    for day in closed:
        names.setdefault(day, "停诊")
    working_days = sorted((set(working) - closed) | {day for day in extra if day in days})
    return MonthCalendar(month, tuple(working_days), names, tuple(warnings))
