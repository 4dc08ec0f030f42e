"""The OpenAPI document says what the service answers: one error model on every operation, `Allow` on every 405.

The document is read from the running service (`/openapi.json`), and the errors are real answers of it: each
body is read with the model the document names (`ErrorBody`, extra fields refused), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
import socket

import httpx2
import pytest
from fastapi import APIRouter

from api.app import COMMUNITY_PREFIX, create_app
from api.deps import Office
from api.schemas import ErrorBody
from config.settings import Settings
from tests.api.conftest import LiveService

ERROR_REF = "#/components/schemas/ErrorBody"
EVERY_OPERATION = ("400", "404", "405", "409", "413", "422", "500")
AUTHENTICATED = ("401", "403")
PUBLIC = {("get", "/healthz"), ("get", "/metrics"), ("get", "/c/{community}/feeds/{token}.ics"), ("get", "/feeds/{token}.ics")}
METHODS = ("get", "put", "post", "delete", "patch")
# A value for each path parameter that reaches the route (the answer is a 405 before anything is looked up).
SAMPLE = {"month": "2027-03", "community": "county", "token": "x" * 20}


def _document(service: LiveService) -> dict:
    with service.root_client() as client:
        response = client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def _operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def _announce_a_large_body(service: LiveService, path: str, token: str) -> tuple[int, dict[str, str], bytes]:
    """A POST that announces 50 MB and sends none of it: the answer comes before the body is read."""
    host, port = service.root_url.removeprefix("http://").split(":")
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {50 * 1024 * 1024}\r\n\r\n")
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(head.encode())
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer.split(b"\r\n\r\n", 1)[1]) < _length(answer):
            chunk = connection.recv(65536)
            if not chunk:
                break
            answer += chunk
    status_line, *header_lines = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, value in (line.split(":", 1) for line in header_lines)}
    return int(status_line.split()[1]), headers, answer.split(b"\r\n\r\n", 1)[1]


def _length(answer: bytes) -> int:
    found = re.search(rb"(?i)content-length:\s*(\d+)", answer)
    return int(found.group(1)) if found else 0


def _error(response: httpx2.Response, status: int) -> ErrorBody:
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/json"), response.headers
    return ErrorBody.model_validate(response.json())  # the document's model, extra fields refused


def test_every_operation_documents_the_errors_it_answers_with_one_model(service: LiveService):
    document = _document(service)
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    assert '"loc"' not in str(document).replace("'", '"')
    assert set(schemas["ErrorBody"]["properties"]) == {"detail", "rules", "current_version"}
    assert schemas["ErrorBody"]["additionalProperties"] is False
    assert set(schemas["ProblemDetail"]["properties"]) == {"path", "message"}
    operations = list(_operations(document))
    assert len(operations) >= 70
    for path, method, operation in operations:
        responses = operation["responses"]
        expected = EVERY_OPERATION if (method, path) in PUBLIC else EVERY_OPERATION + AUTHENTICATED
        for status in expected:
            assert status in responses, (method, path, status)
            assert responses[status]["content"]["application/json"]["schema"] == {"$ref": ERROR_REF}, (method, path, status)
            assert responses[status]["description"], (method, path, status)
        assert responses["405"]["headers"]["Allow"]["required"] is True
        if (method, path) in PUBLIC:
            assert not set(AUTHENTICATED) & set(responses), (method, path)
            assert "security" not in operation, (method, path)
        else:
            assert responses["401"]["headers"]["WWW-Authenticate"]["required"] is True
            assert operation["security"] == [{"bearer": []}], (method, path)
        assert any(status.startswith("2") or status.startswith("3") for status in responses), (method, path)
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": document["components"]["securitySchemes"]["bearer"]["description"],
    }


def test_the_answers_are_the_documented_error_model(service: LiveService):
    office = service.client(service.tokens["office"])
    township = service.client(service.token("township", township="nanjing"))
    anonymous = service.client()

    # 422: every problem with its path, whether the path, the query or the body is wrong.
    month = _error(office.get("/rosters/2027-13"), 422)
    assert [problem.path for problem in month.detail] == ["month"]
    body = _error(office.post("/experts", json={"id": "E99", "title": "professor", "surprise": 1}), 422)
    assert isinstance(body.detail, list) and {"surprise"} <= {problem.path for problem in body.detail}
    assert all(problem.message for problem in body.detail)
    query = _error(office.get("/rosters/2027-03", params={"version": "0"}), 422)
    assert [problem.path for problem in query.detail] == ["version"]
    # 401 with WWW-Authenticate, 403, 404, 409: one sentence.
    unauthorized = anonymous.get("/experts")
    assert isinstance(_error(unauthorized, 401).detail, str) and unauthorized.headers["www-authenticate"] == "Bearer"
    assert isinstance(_error(township.post("/experts", json={}), 403).detail, str)
    assert "nobody" in _error(office.get("/experts/nobody"), 404).detail
    elsewhere = service.client(service.tokens["office"], community="no-such-county")
    assert isinstance(_error(elsewhere.get("/experts"), 404).detail, str)
    assert "already exists" in _error(office.post("/specialties", json={"code": "cardio", "name": "心血管内科"}), 409).detail
    # 413 (before the body is read) and 405 (below).
    status, headers, too_large = _announce_a_large_body(service, "/c/county/experts", service.tokens["office"])
    assert status == 413 and headers["content-type"].startswith("application/json")
    assert "too large" in ErrorBody.model_validate_json(too_large).detail
    assert isinstance(_error(office.request("PATCH", "/experts"), 405).detail, str)


def test_a_405_names_exactly_the_methods_of_its_path(service: LiveService):
    document = _document(service)
    checked = 0
    with service.root_client(service.tokens["office"]) as client:
        for template, item in document["paths"].items():
            declared = {method.upper() for method in item if method in METHODS}
            url = re.sub(r"{(\w+)}", lambda found: SAMPLE.get(found.group(1), "1"), template)
            expected = declared  # FastAPI's routes answer HEAD only where they say so: none does
            for method in ["OPTIONS", "HEAD", *(m.upper() for m in METHODS if m.upper() not in declared)]:
                response = client.request(method, url)
                assert response.status_code == 405, (method, url, response.status_code, response.text[:200])
                allow = {value.strip() for value in response.headers["allow"].split(",")}
                assert allow == expected, (method, template, response.headers["allow"])
                checked += 1
    assert checked >= 150


@pytest.mark.parametrize("path", ["/closures/reopen"])
def test_a_literal_path_is_not_taken_for_an_id_of_its_sibling(service: LiveService, path: str):
    """`DELETE /closures/{closure_id}` takes integer ids only: `/closures/reopen` is the reopen path, POST only."""
    response = service.client(service.tokens["office"]).delete(path)
    assert _error(response, 405) and response.headers["allow"] == "POST"


def test_a_route_added_later_in_a_file_of_its_own_gets_the_same_errors():
    """The document is rewritten for every route, not per route: a new router needs no declarations."""
    app = create_app()
    before = app.openapi()
    assert "HTTPValidationError" not in before["components"]["schemas"]
    router = APIRouter()

    @router.get("/later/{number}")
    def later(number: int, tenant: Office) -> dict[str, int]:
        return {"number": number}

    @router.get("/later-public")
    def later_public() -> dict[str, str]:
        return {}

    app.include_router(router, prefix=COMMUNITY_PREFIX)
    document = app.openapi()
    added = document["paths"]["/c/{community}/later/{number}"]["get"]
    assert set(EVERY_OPERATION + AUTHENTICATED) <= set(added["responses"]) and added["security"] == [{"bearer": []}]
    assert added["responses"]["422"]["content"]["application/json"]["schema"] == {"$ref": ERROR_REF}
    public = document["paths"]["/c/{community}/later-public"]["get"]
    assert not set(AUTHENTICATED) & set(public["responses"]) and "security" not in public
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert document["paths"]["/healthz"]["get"]["responses"]["405"]["headers"]["Allow"]["required"] is True


def test_the_operation_summaries_read_as_english():
    """Generated summaries ("Create an expert", "Delete a township") take the article their noun needs, and plurals stay whole."""
    document = create_app(Settings(database_url="sqlite://", run_scheduler=False)).openapi()  # no lifespan: nothing is opened
    summaries = {operation.get("summary", "") for _path, _method, operation in _operations(document)}
    assert {"Create an expert", "Create a township", "Create a specialty", "Delete a department", "Create or replace an expert"} <= summaries
    for summary in summaries:
        assert not re.search(r"\ba [aeiou]|\ban [^aeiou\W]|specialtie\b|\bno any\b", summary, re.I), summary
