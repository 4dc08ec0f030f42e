"""Standing data through the API: CRUD with 422 bodies naming the field, and scenario import / export."""

from __future__ import annotations

import yaml

from tests.api.conftest import COUNTY, LiveService

NEW_EXPERT = {"id": "E09", "name": "赵敏", "department": "internal", "title": "attending", "specialties": ["internal_med"], "max_sessions": 4}


def problems(response, status: int = 422) -> list[dict]:
    assert response.status_code == status, response.text
    return response.json()["detail"]


def test_expert_crud_with_errors_naming_the_field(service: LiveService):
    office = service.client(service.tokens["office"])
    assert problems(office.post("/experts", json={**NEW_EXPERT, "title": "professor"}))[0]["path"] == "title"
    [wrong_department] = problems(office.post("/experts", json={**NEW_EXPERT, "department": "surgery"}))
    assert wrong_department["path"] == "department" and "surgery" in wrong_department["message"]
    assert problems(office.post("/experts", json={**NEW_EXPERT, "specialties": ["cardo"]}))[0]["path"] == "specialties[0]"
    assert problems(office.post("/experts", json={**NEW_EXPERT, "max_sessions": -1}))[0]["path"] == "max_sessions"
    assert problems(office.post("/experts", json={**NEW_EXPERT, "hobby": "chess"}))[0] == {"path": "hobby", "message": "unknown field"}
    missing = {key: value for key, value in NEW_EXPERT.items() if key != "name"}
    assert problems(office.post("/experts", json=missing))[0] == {"path": "name", "message": "required field is missing"}

    created = office.post("/experts", json=NEW_EXPERT)
    assert created.status_code == 201, created.text
    assert office.post("/experts", json=NEW_EXPERT).status_code == 409
    assert office.get("/experts/E09").json()["name"] == "赵敏"
    changed = office.put("/experts/E09", json={**NEW_EXPERT, "max_sessions": 2})
    assert changed.status_code == 200 and office.get("/experts/E09").json()["max_sessions"] == 2
    assert problems(office.put("/experts/E09", json={**NEW_EXPERT, "id": "E10"}))[0]["path"] == "id"
    assert office.delete("/experts/E09").status_code == 204
    assert office.get("/experts/E09").status_code == 404


def test_links_demand_and_references(service: LiveService):
    office = service.client(service.tokens["office"])
    assert problems(office.post("/demand", json={"township": "nowhere", "type": "clinic", "specialty": "cardio", "sessions": 1}))[0]["path"] == "township"
    assert problems(office.post("/demand", json={"township": "pitou", "type": "surgery", "specialty": "cardio", "sessions": 1}))[0]["path"] == "type"
    assert problems(office.put("/links/E04", json={"townships": ["nowhere"]}))[0]["path"] == "townships[0]"
    # A township that demand points at cannot go: a conflict, with the reference named.
    refused = office.delete("/townships/pitou")
    assert refused.status_code == 409 and "pitou" in refused.json()["detail"]
    assert office.delete("/demand/99").status_code == 404


def test_unavailability_listing_and_scenario_round_trip(service: LiveService):
    office = service.client(service.tokens["office"])
    exported = office.get("/scenario", params={"format": "yaml"})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("application/yaml")
    document = yaml.safe_load(exported.text)
    assert document["format"] == "rota.scenario/1" and {e["id"] for e in document["experts"]} >= {"E01", "E02", "E03", "E04"}

    broken = office.put("/scenario", content=COUNTY.read_text(encoding="utf-8").replace("title: chief", "title: boss", 1), headers={"Content-Type": "application/yaml"})
    assert problems(broken)[0]["path"] == "experts[0].title"
    not_yaml = office.put("/scenario", content=b"format: [", headers={"Content-Type": "application/yaml"})
    assert "not valid YAML" in problems(not_yaml)[0]["message"]
    other_county = office.put("/scenario", content=COUNTY.read_text(encoding="utf-8").replace("测试县总医院", "别的县", 1))
    assert other_county.status_code == 409

    listed = office.get("/experts/E04/unavailability")
    assert listed.status_code == 200 and isinstance(listed.json(), list)
