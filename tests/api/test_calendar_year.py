"""A year's official arrangement through the API: pre-filled from the holidays package, entered by the office, applied to the year."""

from __future__ import annotations

import datetime as dt

import holidays

from tests.api.conftest import LiveService


def _year(year: int) -> list[dt.date]:
    start = dt.date(year, 1, 1)
    return [start + dt.timedelta(days=offset) for offset in range((dt.date(year + 1, 1, 1) - start).days)]


def test_a_year_the_package_knows_comes_with_its_make_up_days(service: LiveService):
    office = service.client(service.tokens["office"])
    answer = office.get("/calendar/2026")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    china = holidays.China(years=2026)
    weekend_worked = [day.isoformat() for day in _year(2026) if day.weekday() >= 5 and china.is_working_day(day)]
    assert body["announced"] is True and body["make_up_workdays"] == weekend_worked and weekend_worked
    weekday_off = {day.isoformat() for day in _year(2026) if day.weekday() < 5 and not china.is_working_day(day)}
    assert {row["date"] for row in body["days_off"]} == weekday_off
    assert any(row["name"] for row in body["days_off"])  # the statutory days are named


def test_the_office_enters_2027_and_every_month_of_it_follows(service: LiveService):
    office = service.client(service.tokens["office"])
    year_before = office.get("/calendar/2026").json()
    estimate = office.get("/calendar/2027").json()
    assert estimate["announced"] is False and estimate["make_up_workdays"] == []
    # The notice as the office might read it: Spring Festival 5-11 Feb off, Saturdays 30 Jan and 20 Feb worked;
    # 9 Jun (an estimated Dragon Boat day) is not a day off after all.
    days_off = sorted({row["date"] for row in estimate["days_off"]} - {"2027-06-09"} | {"2027-02-11"})
    entered = office.put("/calendar/2027", json={"days_off": days_off, "make_up_workdays": ["2027-01-30", "2027-02-20"]})
    assert entered.status_code == 200, entered.text
    assert entered.json()["make_up_workdays"] == ["2027-01-30", "2027-02-20"]
    again = office.get("/calendar/2027").json()
    assert [row["date"] for row in again["days_off"]] == days_off and again["make_up_workdays"] == ["2027-01-30", "2027-02-20"]
    # Stored as the scenario file's own fields, as the difference from the package.
    stored = office.get("/calendar").json()
    assert "2027-02-11" in stored["closed"] and {"2027-01-30", "2027-02-20", "2027-06-09"} <= set(stored["extra_workdays"])
    # Another year is left as it was.
    assert office.get("/calendar/2026").json() == year_before
    assert not any(day.startswith("2026") for day in stored["closed"] + stored["extra_workdays"])


def test_a_wrong_year_or_day_is_named(service: LiveService):
    office = service.client(service.tokens["office"])
    other_year = office.put("/calendar/2027", json={"days_off": ["2026-10-01"], "make_up_workdays": []})
    assert other_year.status_code == 422 and other_year.json()["detail"][0]["path"] == "days_off[0]"
    both = office.put("/calendar/2027", json={"days_off": ["2027-02-08"], "make_up_workdays": ["2027-01-30", "2027-02-08"]})
    assert both.status_code == 422 and both.json()["detail"][0]["path"] == "make_up_workdays[1]"
    assert "2027-02-08" in both.json()["detail"][0]["message"]
    assert office.get("/calendar/1999").status_code == 422
    assert office.put("/calendar/2027", json={"days_off": ["2027-13-01"]}).status_code == 422
    township = service.client(service.token("township", township="pitou"))
    assert township.get("/calendar/2027").status_code == 403
