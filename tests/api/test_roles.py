"""Role boundaries: 401 without a valid token, 403 for a role or scope that does not fit, and no token kept in clear."""

from __future__ import annotations

from sqlalchemy import MetaData, select

from tests.api.conftest import LiveService


def assert_json_error(response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["detail"], body
    return body


def test_no_token_or_a_bad_one_is_401(service: LiveService):
    with service.client() as anonymous:
        response = anonymous.get("/experts")
        assert_json_error(response, 401)
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert_json_error(anonymous.get("/experts", headers={"Authorization": "Bearer not-a-token"}), 401)
        assert_json_error(anonymous.get("/experts", headers={"Authorization": "Basic dXNlcjpwYXNz"}), 401)
        assert_json_error(anonymous.get("/experts", headers={"Authorization": "Bearer"}), 401)
    with service.root_client() as anonymous:
        assert anonymous.get("/healthz").status_code == 200  # liveness needs no token


def test_revoked_token_is_401(service: LiveService):
    office = service.client(service.tokens["office"])
    created = office.post("/tokens", json={"role": "township", "township": "nanjing", "label": "院长"})
    assert created.status_code == 201, created.text
    township = service.client(created.json()["token"])
    assert township.get("/requests").status_code == 200
    assert office.delete(f"/tokens/{created.json()['id']}").status_code == 204
    assert_json_error(township.get("/requests"), 401)
    listed = {row["id"]: row for row in office.get("/tokens").json()}
    assert listed[created.json()["id"]]["revoked_at"] is not None and "token" not in listed[created.json()["id"]]


def test_expert_token_reaches_only_its_own_expert(service: LiveService):
    expert = service.client(service.token("expert", expert="E03"))
    assert expert.get("/experts/E03").status_code == 200
    assert expert.get("/experts/E03/unavailability").status_code == 200
    assert_json_error(expert.get("/experts/E04"), 403)
    assert_json_error(expert.get("/experts/E04/unavailability"), 403)  # never another expert's leave
    assert_json_error(expert.post("/experts/E04/unavailability", json={"first_day": "2027-05-10"}), 403)
    assert_json_error(expert.get("/experts"), 403)
    assert_json_error(expert.post("/rosters/2027-05/generate"), 403)
    assert_json_error(expert.post("/rosters/2027-05/publish"), 403)
    assert_json_error(expert.post("/tokens", json={"role": "office"}), 403)
    assert_json_error(expert.get("/requests"), 403)
    assert_json_error(expert.post("/feed-tokens", json={"scope": "expert", "key": "E04"}), 403)
    assert_json_error(expert.post("/feed-tokens", json={"scope": "community"}), 403)
    assert expert.post("/feed-tokens", json={"scope": "expert", "key": "E03"}).status_code == 201


def test_township_token_sees_only_its_own_requests(service: LiveService):
    office = service.client(service.tokens["office"])
    nanjing = service.client(service.token("township", township="nanjing"))
    other = service.client(service.token("township", township="pitou"))
    body = {"type": "clinic", "specialty": "cardio", "sessions": 1, "first_day": "2027-06-07", "last_day": "2027-06-11"}
    mine = nanjing.post("/requests", json=body)
    assert mine.status_code == 201, mine.text
    assert mine.json()["township"] == "nanjing" and mine.json()["state"] == "pending"
    request_id = mine.json()["id"]
    assert_json_error(nanjing.post("/requests", json={**body, "township": "pitou"}), 403)
    assert_json_error(other.get(f"/requests/{request_id}"), 403)
    assert_json_error(other.post(f"/requests/{request_id}/cancel"), 403)
    assert request_id not in [r["id"] for r in other.get("/requests").json()]
    assert all(r["township"] == "nanjing" for r in nanjing.get("/requests").json())
    assert request_id in [r["id"] for r in office.get("/requests").json()]
    assert_json_error(nanjing.post(f"/requests/{request_id}/decline", json={"reason": "no"}), 403)
    assert_json_error(nanjing.get("/townships/pitou"), 403)
    assert nanjing.get("/townships/nanjing").status_code == 200
    assert_json_error(nanjing.post("/feed-tokens", json={"scope": "township", "key": "pitou"}), 403)
    # June has no roster: the request waits, saying why; the township can withdraw it.
    cancelled = nanjing.post(f"/requests/{request_id}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"


def test_token_binding_is_checked(service: LiveService):
    office = service.client(service.tokens["office"])
    problems = assert_json_error(office.post("/tokens", json={"role": "township", "township": "nowhere"}), 422)["detail"]
    assert problems == [{"path": "township", "message": "unknown township 'nowhere'"}]
    problems = assert_json_error(office.post("/tokens", json={"role": "expert"}), 422)["detail"]
    assert problems[0]["path"] == "expert"
    problems = assert_json_error(office.post("/tokens", json={"role": "admin"}), 422)["detail"]
    assert problems[0]["path"] == "role"


def test_revoked_feed_token_stops_the_feed(service: LiveService):
    office = service.client(service.tokens["office"])
    created = office.post("/feed-tokens", json={"scope": "community"}).json()
    path = created["url"].removeprefix(service.base_url)
    with service.client() as anonymous:
        assert anonymous.get(path).status_code == 200
        assert office.delete(f"/feed-tokens/{created['id']}").status_code == 204
        assert_json_error(anonymous.get(path), 404)
        assert_json_error(anonymous.get("/feeds/" + "A" * 43 + ".ics"), 404)


def test_database_holds_no_token_in_clear(service: LiveService):
    office = service.client(service.tokens["office"])
    issued = [service.tokens["office"]]
    issued.append(office.post("/tokens", json={"role": "expert", "expert": "E04"}).json()["token"])
    issued.append(office.post("/feed-tokens", json={"scope": "department", "key": "internal"}).json()["token"])
    issued.append(office.post("/feed-tokens", json={"scope": "expert", "key": "E04"}).json()["token"])
    metadata = MetaData()
    metadata.reflect(service.engine)
    stored = []
    with service.engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(select(table)):
                stored.extend(str(value) for value in row if value is not None)
    dump = "\n".join(stored)
    for token in issued:
        assert token not in dump
        assert token[8:40] not in dump  # not even a part of it
    import hashlib

    assert hashlib.sha256(issued[1].encode()).hexdigest() in dump  # what is kept instead
