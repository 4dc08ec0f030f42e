"""The year's arrangement as the difference from the package: what the office enters is what every month of the year works."""

from __future__ import annotations

import datetime as dt

import pytest

from scheduler.calendar import month_calendar_for
from scheduler.calendar_year import with_year, year_arrangement
from scheduler.errors import ScenarioError
from scheduler.scenario.schema import CalendarSpec

D = dt.date.fromisoformat


def test_entered_days_decide_the_working_days_of_each_month():
    spec = CalendarSpec(holidays="CN", closed=[D("2026-12-31"), D("2027-03-03")], extra_workdays=[])
    entered = with_year(spec, 2027, [D("2027-02-05"), D("2027-02-11"), D("2027-03-03")], [D("2027-02-20")])
    february = month_calendar_for(entered, "2027-02")
    assert D("2027-02-20") in february.working_days  # a Saturday worked
    assert D("2027-02-11") not in february.working_days  # a bridging Thursday off
    assert D("2027-02-09") in february.working_days  # the package's estimate, not in the notice: worked
    assert D("2027-03-03") not in month_calendar_for(entered, "2027-03").working_days  # an office closed day kept
    assert D("2026-12-31") in entered.closed  # another year untouched
    arrangement = year_arrangement(entered, 2027)
    assert arrangement.days_off == (D("2027-02-05"), D("2027-02-11"), D("2027-03-03"))
    assert arrangement.make_up_workdays == (D("2027-02-20"),)


def test_a_weekend_the_package_works_but_the_office_does_not_is_closed():
    spec = CalendarSpec(holidays="CN")
    known = year_arrangement(spec, 2026)
    dropped = known.make_up_workdays[0]
    entered = with_year(spec, 2026, known.days_off, known.make_up_workdays[1:])
    assert dropped in entered.closed and year_arrangement(entered, 2026).make_up_workdays == known.make_up_workdays[1:]


def test_a_day_both_off_and_worked_is_refused():
    with pytest.raises(ScenarioError) as refused:
        with_year(CalendarSpec(holidays="CN"), 2027, [D("2027-02-06")], [D("2027-02-06")])
    assert [p.path for p in refused.value.problems] == ["make_up_workdays[0]"]
    assert "放假日" in refused.value.problems[0].message_in("zh-CN")


def test_the_estimate_warning_ends_once_the_year_is_entered():
    spec = CalendarSpec(holidays="CN")
    assert month_calendar_for(spec, "2027-05").warnings
    entered = with_year(spec, 2027, year_arrangement(spec, 2027).days_off, [D("2027-02-20")])
    assert not month_calendar_for(entered, "2027-05").warnings and month_calendar_for(entered, "2028-05").warnings
