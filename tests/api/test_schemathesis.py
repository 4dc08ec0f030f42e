"""Schemathesis against a real uvicorn: the service answers what its OpenAPI document says, and never a 500.

This is CI's schemathesis step (CI runs the suite): the `st run` command line, in a subprocess, with the response
checks (status code, content type, body schema, response headers, no server error) and the two about methods
(an undeclared method is a 405 whose `Allow` names the path's methods; OPTIONS lists exactly those), with an
office, a township head's and an expert's token, and the health bureau's for the reads. Zero failures, or the
test fails with schemathesis's report.

Deterministic: `--generation-deterministic` (the same cases every run), one worker, no example database.
Bounded: the coverage phase (valid and invalid boundary values of every field, undeclared methods, a fixed
set) runs with the office's token, the fuzzing phase (ROTA_SCHEMATHESIS_EXAMPLES random cases per operation,
default 4) with each other token. A longer run: ROTA_SCHEMATHESIS_EXAMPLES=25
ROTA_SCHEMATHESIS_OFFICE_PHASES=coverage,fuzzing (that is how the 201 of `PUT /specialties/{key}` was found).

A service of its own (SQLite), since the generated requests delete and overwrite standing data; every
community address is the county the service holds (unknown communities are covered by the tenancy tests).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.conftest import COMMUNITY, MONTH, LiveService, start_service, stop_service, wait_for

HOOKS = Path(__file__).with_name("schemathesis_hooks.py")
EXAMPLES = int(os.environ.get("ROTA_SCHEMATHESIS_EXAMPLES", "4"))
RESPONSE_CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "unsupported_method",
    "allow_header_conformance",
)
# Who calls, with which phases and which fixed path parameters (besides the community). The coverage phase does
# not depend on the caller and costs the most; a township head and an expert read the published month (so their
# 200s, the roster as each may see it, are checked against the document too).
# The health bureau reads (GET) only: its runs are the reads, the province's month among them.
CALLERS: dict[str, tuple[tuple[str, ...], dict[str, str], tuple[str, ...]]] = {
    "office": (tuple(os.environ.get("ROTA_SCHEMATHESIS_OFFICE_PHASES", "coverage").split(",")), {}, ()),
    "township": (("fuzzing",), {"month": MONTH}, ()),
    "expert": (("fuzzing",), {"month": MONTH}, ()),
    "bureau": (("fuzzing",), {"month": MONTH}, ("--include-method", "GET")),
}


@pytest.fixture(scope="module")
def fuzzed_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    workdir = tmp_path_factory.mktemp("service-fuzzed")
    # the generated cases ask for many solves (nine generates of one month within a second in the coverage phase) and
    # check the answers' shape, not the rosters: a one-second solve keeps the service's work, not its quality
    running = start_service(f"sqlite:///{workdir / 'rota.sqlite3'}", workdir, ROTA_SOLVER_TIME_LIMIT="1")
    running.tokens["office"] = running.token("office")
    running.tokens["township"] = running.token("township", township="nanjing")
    running.tokens["expert"] = running.token("expert", expert="E01")
    running.tokens["bureau"] = running.token("bureau")
    with running.client(running.tokens["office"]) as office:  # a published month, as a county would have
        job = office.post(f"/rosters/{MONTH}/generate").json()["job"]
        wait_for(lambda: office.get(f"/jobs/{job}").json()["state"] == "done", what=f"job {job}")
        assert office.post(f"/rosters/{MONTH}/publish").status_code == 200
    yield running
    stop_service(running)


def run_schemathesis(
    service: LiveService, role: str, phases: tuple[str, ...], fixed: dict[str, str], extra: tuple[str, ...], workdir: Path
) -> subprocess.CompletedProcess[str]:
    config = workdir / "schemathesis.toml"
    # The county the service holds: a generated code would only ever meet "no such community".
    parameters = {"community": COMMUNITY, **fixed}
    config.write_text("[parameters]\n" + "".join(f'{name} = "{value}"\n' for name, value in parameters.items()), encoding="utf-8")
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "--no-color",
        "run", f"{service.root_url}/openapi.json",
        "--header", f"Authorization: Bearer {service.tokens[role]}",
        "--checks", ",".join(RESPONSE_CHECKS),
        "--phases", ",".join(phases),
        "--max-examples", str(EXAMPLES),
        "--generation-deterministic",
        "--workers", "1", "--request-timeout", "60", *extra,
    ]
    environment = {**os.environ, "COLUMNS": "160", "SCHEMATHESIS_HOOKS": str(HOOKS)}
    return subprocess.run(command, cwd=workdir, env=environment, capture_output=True, text=True, timeout=300)


# The office's coverage run is the CI step; the other callers' fuzzing runs with the slow tests (scripts/test --slow).
@pytest.mark.parametrize("role", [role if role == "office" else pytest.param(role, marks=pytest.mark.slow) for role in CALLERS])
def test_the_service_answers_what_its_openapi_document_says(fuzzed_service: LiveService, role: str, tmp_path: Path):
    phases, fixed, extra = CALLERS[role]
    run = run_schemathesis(fuzzed_service, role, phases, fixed, extra, tmp_path)
    report = run.stdout + run.stderr
    assert run.returncode == 0, f"schemathesis ({role}) found failures (exit {run.returncode}):\n{report[-12000:]}"
    tested = re.search(r"Tested: (\d+)", report)
    generated = re.search(r"(\d+) generated", report)
    assert tested and generated, report[-3000:]
    operations = 30 if "--include-method" in extra else 70  # every operation of the API (or every read), not a few
    assert int(tested.group(1)) >= operations, report[-3000:]
    assert int(generated.group(1)) >= operations * min(EXAMPLES, 2), report[-3000:]
    assert "passed" in report and "failure" not in report.split("SUMMARY", 1)[-1].lower(), report[-3000:]
    # Not a pass by 401s: the caller's token still opens the API after everything the run sent.
    with fuzzed_service.client(fuzzed_service.tokens[role]) as client:
        assert client.get(f"/rosters/{MONTH}").status_code == 200
    if role == "bureau":
        with fuzzed_service.root_client(fuzzed_service.tokens[role]) as client:
            assert client.get(f"/province/months/{MONTH}").status_code == 200
