"""Working days: the State Council arrangement (via holidays), minus `closed`, plus `extra_workdays`."""

from __future__ import annotations

import datetime as dt

import pytest

from scheduler.calendar import last_announced_year, month_calendar_for, parse_month
from scheduler.scenario.schema import CalendarSpec

CN = CalendarSpec(holidays="CN")


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def test_national_day_2026():
    october = month_calendar_for(CN, "2026-10")
    for number in range(1, 8):
        assert not october.is_working_day(dt.date(2026, 10, number)), f"2026-10-0{number} is a National Day holiday"
    assert october.is_working_day(day("2026-10-08"))
    assert october.is_working_day(day("2026-10-09"))
    assert day("2026-10-10").weekday() == 5 and october.is_working_day(day("2026-10-10"))  # make-up Saturday
    assert not october.is_working_day(day("2026-10-11"))  # an ordinary Sunday
    assert october.warnings == ()
    assert day("2026-10-01") in october.holidays
    september = month_calendar_for(CN, "2026-09")
    assert day("2026-09-20").weekday() == 6 and september.is_working_day(day("2026-09-20"))  # make-up Sunday
    assert not september.is_working_day(day("2026-09-19"))


def test_spring_festival_2026():
    february = month_calendar_for(CN, "2026-02")
    for number in range(15, 24):
        assert not february.is_working_day(dt.date(2026, 2, number)), f"2026-02-{number} is off for the Spring Festival"
    assert february.is_working_day(day("2026-02-13"))
    assert day("2026-02-14").weekday() == 5 and february.is_working_day(day("2026-02-14"))
    assert february.is_working_day(day("2026-02-24"))
    assert day("2026-02-28").weekday() == 5 and february.is_working_day(day("2026-02-28"))
    assert not february.is_working_day(day("2026-02-21"))  # an ordinary Saturday inside the break


def test_a_year_after_the_last_notice_gets_the_estimate_warning():
    assert last_announced_year() == 2026
    january = month_calendar_for(CN, "2027-01")
    assert len(january.warnings) == 1
    warning = january.warnings[0]
    assert "2027" in warning and "closed" in warning and "extra_workdays" in warning
    assert not january.is_working_day(day("2027-01-01"))  # statutory New Year's Day is still known
    assert month_calendar_for(CalendarSpec(holidays="none"), "2027-01").warnings == ()


def test_closed_and_extra_workdays_are_applied():
    spec = CalendarSpec(holidays="CN", closed=[day("2027-01-04"), day("2027-02-01")], extra_workdays=[day("2027-01-09"), day("2027-02-06")])
    january = month_calendar_for(spec, "2027-01")
    plain = month_calendar_for(CN, "2027-01")
    assert plain.is_working_day(day("2027-01-04")) and not january.is_working_day(day("2027-01-04"))
    assert not plain.is_working_day(day("2027-01-09")) and january.is_working_day(day("2027-01-09"))
    assert january.holidays[day("2027-01-04")] == "停诊"
    assert len(january.working_days) == len(plain.working_days)  # one day closed, one day added; other months' dates ignored
    assert all(d.month == 1 for d in january.working_days)
    assert list(january.working_days) == sorted(january.working_days)


def test_holidays_none_is_monday_to_friday():
    october = month_calendar_for(CalendarSpec(holidays="none"), "2026-10")
    assert len(october.working_days) == 22
    assert all(d.weekday() < 5 for d in october.working_days)
    assert october.is_working_day(day("2026-10-01"))  # National Day is an ordinary Thursday without CN
    assert not october.is_working_day(day("2026-10-10"))
    with_extra = month_calendar_for(CalendarSpec(holidays="none", extra_workdays=[day("2026-10-10")], closed=[day("2026-10-01")]), "2026-10")
    assert with_extra.is_working_day(day("2026-10-10")) and not with_extra.is_working_day(day("2026-10-01"))


@pytest.mark.parametrize("month", ["2026-13", "2026-1x", "26-01", "2026", "", "2026-00"])
def test_bad_month_is_a_readable_error(month):
    with pytest.raises(ValueError, match="month must be YYYY-MM"):
        parse_month(month)
