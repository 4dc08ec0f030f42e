"""Look-alike ids, keys given twice and a day both closed and worked, through the running service (issue 17 item 10).

The loader's and the standing edits' own tests are tests/scheduler/test_ids.py; here the same refusals reach the
office as a 422 whose body names the field, on SQLite and on PostgreSQL, and nothing is stored.
"""

from __future__ import annotations

from tests.api.conftest import COUNTY, LiveService

ONLY = "must hold only letters, digits, '-' and '_'"


def field_errors(response) -> list[dict]:
    assert response.status_code == 422, (response.status_code, response.text[:500])
    return response.json()["detail"]


def test_a_township_beside_its_look_alike_is_refused(service: LiveService):
    office = service.client(service.tokens["office"])
    before = office.get("/townships").json()
    body = {"id": "nanjing\u200b", "name": "假南迳", "travel_minutes": 30}
    assert field_errors(office.post("/townships", json=body)) == [
        {"path": "id", "message": f"{ONLY} (found invisible character U+200B ZERO WIDTH SPACE at character 8)"}
    ]
    for bad, fragment in (("../../etc/passwd", "U+002E FULL STOP at character 1"), (" ", "a space at character 1"), ("t\n1", "control character U+000A")):
        (problem,) = field_errors(office.post("/townships", json={**body, "id": bad}))
        assert problem["path"] == "id" and fragment in problem["message"], problem
    (problem,) = field_errors(office.post("/townships", json={**body, "id": "t" * 10_000}))
    assert problem == {"path": "id", "message": "must be at most 64 characters (got 10000)"}
    assert office.get("/townships").json() == before


def test_references_with_invisible_characters_are_refused(service: LiveService):
    office = service.client(service.tokens["office"])
    demand = {"township": "pitou\u202e", "type": "clinic", "specialty": "internal_med", "sessions": 1}
    problems = field_errors(office.post("/demand", json=demand))
    assert {p["path"] for p in problems} == {"township"}
    assert all("\u202e" not in p["message"] for p in problems)
    assert any("U+202E RIGHT-TO-LEFT OVERRIDE" in p["message"] for p in problems)


def test_a_calendar_day_both_closed_and_worked_is_refused(service: LiveService):
    office = service.client(service.tokens["office"])
    before = office.get("/calendar").json()
    calendar = {"holidays": "CN", "closed": ["2027-06-07", "2027-06-12"], "extra_workdays": ["2027-06-12"]}
    problems = field_errors(office.put("/calendar", json=calendar))
    assert [p["message"] for p in problems] == [
        "2027-06-12 is both closed (closed[1]) and an extra workday (extra_workdays[0]): a date is either closed or worked"
    ]
    assert office.get("/calendar").json() == before


def test_a_scenario_body_with_a_key_twice_is_refused_naming_it(service: LiveService):
    office = service.client(service.tokens["office"])
    text = COUNTY.read_text(encoding="utf-8")
    assert "  name: 测试县总医院\n" in text
    doubled = text.replace("  name: 测试县总医院\n", "  name: 测试县总医院\n  name: 别的县\n", 1)
    answer = office.put("/scenario", content=doubled.encode("utf-8"), headers={"Content-Type": "application/yaml"})
    (problem,) = field_errors(answer)
    assert problem["path"] == "community.name"
    assert problem["message"].startswith("duplicate key 'name' (lines ")
    look_alike = text.replace("{id: E04,", '{id: "E04\\u200b",', 1)
    (problem,) = field_errors(office.put("/scenario", content=look_alike.encode("utf-8"), headers={"Content-Type": "application/yaml"}))
    assert problem["path"] == "experts[3].id" and "U+200B ZERO WIDTH SPACE" in problem["message"]
