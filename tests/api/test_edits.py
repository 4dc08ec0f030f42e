"""The office's manual edits (assign, move, remove one session): checked against every hard rule, refused naming it."""

from __future__ import annotations

import datetime as dt
import re

from tests.api.conftest import LiveService
from tests.api.test_end_to_end import run_job

APRIL = "2027-04"


def rules_of(response) -> list[str]:
    """The rules a 409 names; its words are Chinese (the service's language), each break with its code and parameters."""
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["detail"].startswith("改动违反硬性规则：") and not re.search(r"[A-Za-z]{4,}", body["detail"].replace("cardio", "")), body
    for rule in body["rules"]:
        assert rule["reason_code"] and rule["message"] and rule["rule_text"] != rule["rule"], rule
    return [r["rule"] for r in body["rules"]]


def test_manual_edits_are_checked_against_the_hard_rules(service: LiveService):
    office = service.client(service.tokens["office"])
    version = run_job(office, f"/rosters/{APRIL}/generate")["result"]["version"]
    roster = office.get(f"/rosters/{APRIL}").json()
    cardio = [a for a in roster["assignments"] if a["specialty"] == "cardio"]
    assert len(cardio) == 2 and {a["expert"] for a in cardio} == {"E01"}
    first, second = cardio
    taken = {(a["date"], a["half_day"]) for a in roster["assignments"] if a["expert"] == "E01"}
    free_day = next(
        day.isoformat()
        for day in (dt.date(2027, 4, 12) + dt.timedelta(days=n) for n in range(10))
        if day.weekday() < 5 and (day.isoformat(), "am") not in taken and (day.isoformat(), "pm") not in taken
    )
    place = {"date": free_day, "half_day": "am", "township": "nanjing", "type": "clinic", "specialty": "cardio", "expert": "E03"}

    assert rules_of(office.post(f"/rosters/{APRIL}/assignments", json=place)) == ["specialty"]  # E03 is no cardiologist
    english = office.post(f"/rosters/{APRIL}/assignments", json=place, headers={"Accept-Language": "en"}).json()
    assert english["detail"].startswith("the edit breaks a hard rule: specialty: E03 at nanjing on ")
    assert english["rules"][0]["reason_code"] == "LACKS_THE_SPECIALTY" and english["rules"][0]["reason_params"]["expert"] == "E03"
    assert "does not hold the specialty cardio" in english["rules"][0]["message"]
    assert rules_of(office.post(f"/rosters/{APRIL}/assignments", json={**place, "expert": "E01"})) == ["demand cap"]
    assert rules_of(office.post(f"/rosters/{APRIL}/assignments", json={**place, "type": "ward_round", "specialty": "internal_med"})) == [
        "demand cap"
    ]
    assert rules_of(office.patch(f"/rosters/{APRIL}/assignments/{first['id']}", json={"date": "2027-04-10"})) == ["working days only"]  # a Saturday
    assert rules_of(office.patch(f"/rosters/{APRIL}/assignments/{first['id']}", json={"date": second["date"], "half_day": second["half_day"]})) == [
        "one place per half-day"
    ]
    assert rules_of(office.patch(f"/rosters/{APRIL}/assignments/{first['id']}", json={"township": "pitou"})) == ["demand cap"]

    # Nothing was saved by the refused edits.
    assert office.get(f"/rosters/{APRIL}").json()["version"] == version

    moved = office.patch(f"/rosters/{APRIL}/assignments/{first['id']}", json={"date": free_day, "half_day": "pm"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["version"] == version + 1
    assert moved.json()["assignment"] == {**first, "date": free_day, "half_day": "pm"}  # same id: calendars update it

    removed = office.delete(f"/rosters/{APRIL}/assignments/{second['id']}")
    assert removed.status_code == 200 and removed.json()["version"] == version + 2
    latest = office.get(f"/rosters/{APRIL}").json()
    assert second["id"] not in {a["id"] for a in latest["assignments"]}
    assert sum(u["sessions"] for u in latest["unmet"] if u["specialty"] == "cardio") == 1  # the removed session is unmet now

    added = office.post(f"/rosters/{APRIL}/assignments", json={**place, "expert": "E01", "date": second["date"], "half_day": second["half_day"]})
    assert added.status_code == 201, added.text
    assert office.get(f"/rosters/{APRIL}").json()["unmet"] == []

    missing = office.delete(f"/rosters/{APRIL}/assignments/nope")
    assert missing.status_code == 404 and "nope" in missing.json()["detail"]
    outside = office.post(f"/rosters/{APRIL}/assignments", json={**place, "date": "2027-05-03"})
    assert outside.status_code == 422 and outside.json()["detail"] == [{"path": "date", "message": "2027-05-03 is not in 2027-04"}]

    old = office.get(f"/rosters/{APRIL}", params={"version": version}).json()
    assert old["version"] == version and {a["id"] for a in old["assignments"]} == {a["id"] for a in roster["assignments"]}
    assert office.get(f"/rosters/{APRIL}", params={"version": 999}).status_code == 404


def test_month_path_outside_the_date_range_is_422_naming_the_month(service: LiveService):
    office = service.client(service.tokens["office"])
    for month in ("0000-01", "9999-12", "2027-13"):
        response = office.get(f"/rosters/{month}")
        assert response.status_code == 422, response.text
        assert "month" in response.text, response.text
        generate = office.post(f"/rosters/{month}/generate")
        assert generate.status_code == 422, generate.text
