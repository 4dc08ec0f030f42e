"""Swap routes: who may propose, answer and approve (the exchange itself is tested in tests/scheduler/test_swaps.py)."""

from __future__ import annotations

from tests.api.conftest import LiveService
from tests.api.test_roles import assert_json_error


def test_swap_routes_keep_to_their_roles(service: LiveService):
    office = service.client(service.tokens["office"])
    expert = service.client(service.token("expert", expert="E03"))
    township = service.client(service.token("township", township="nanjing"))

    assert_json_error(township.post("/rosters/2027-05/swaps", json={"assignment_id": "x", "to_expert": "E01"}), 403)
    assert_json_error(township.get("/swaps"), 403)
    assert_json_error(expert.post("/swaps/1/approve"), 403)  # the office approves
    assert_json_error(expert.post("/swaps/1/reject", json={"reason": "no"}), 403)
    # the office must name the proposer; an unknown session is a 422 naming the field
    assert_json_error(office.post("/rosters/2027-05/swaps", json={"assignment_id": "x", "to_expert": "E01"}), 422)
    body = assert_json_error(expert.post("/rosters/2099-01/swaps", json={"assignment_id": "nope", "to_expert": "E01"}), 422)
    assert any(problem["path"] == "month" for problem in body["detail"])
    assert_json_error(office.post("/swaps/999999/accept"), 404)
    assert expert.get("/swaps").status_code == 200
