"""No request the OpenAPI schema allows makes the service answer 500: schemathesis against a real uvicorn.

A service of its own (SQLite), since the generated requests delete and overwrite standing data; every
community address is the county the service holds (unknown communities are covered by the tenancy tests).
Examples are bounded (ROTA_SCHEMATHESIS_EXAMPLES, default 6 per operation) to keep the run short.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.api.conftest import COMMUNITY, LiveService, start_service, stop_service

EXAMPLES = int(os.environ.get("ROTA_SCHEMATHESIS_EXAMPLES", "6"))


@pytest.fixture(scope="module")
def fuzzed_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    workdir = tmp_path_factory.mktemp("service-fuzzed")
    running = start_service(f"sqlite:///{workdir / 'rota.sqlite3'}", workdir)
    running.tokens["office"] = running.token("office")
    yield running
    stop_service(running)


def test_no_request_the_schema_allows_makes_a_500(fuzzed_service: LiveService):
    schema = schemathesis.openapi.from_url(f"{fuzzed_service.root_url}/openapi.json")
    headers = {"Authorization": f"Bearer {fuzzed_service.tokens['office']}"}
    failures: list[str] = []
    operations = 0

    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
        def exercise(case) -> None:
            if case.path_parameters and "community" in case.path_parameters:
                # The county the service holds: a generated code would only ever meet "no such community".
                case.path_parameters["community"] = COMMUNITY
            response = case.call(headers=headers, timeout=60)
            where = f"{case.method} {case.formatted_path}"
            if response.status_code >= 500:
                failures.append(f"{where} -> {response.status_code}: {response.text[:300]}")
            elif response.status_code >= 400:
                content_type = response.headers.get("content-type") or ""
                content_type = content_type[0] if isinstance(content_type, list) else content_type  # schemathesis lists header values
                if not content_type.startswith("application/json") or not response.json().get("detail"):
                    failures.append(f"{where} -> {response.status_code} without a JSON detail: {response.text[:200]}")

        exercise()

    assert operations >= 30
    assert not failures, "\n".join(sorted(set(failures))[:20])
