"""Dates and months within one range everywhere (issue 17 item 4), through the running service and its pages.

The range is `scheduler.scenario.fields` FIRST_DATE..LAST_DATE (2000-01-01..2100-12-31), the one place the
scenario, the API's models, the pages and the CLI take it from. A date or month outside it is a clean 422
naming the field (the API), a 4xx page naming the field in the page's language (the pages), never a 500 and
never a value accepted and failing later.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from scheduler.scenario.fields import FIRST_DATE, LAST_DATE
from tests.api.conftest import LiveService
from tests.console import run_rota

RANGE = f"must be a date from {FIRST_DATE.isoformat()} to {LAST_DATE.isoformat()}"
MONTH_RANGE = f"month must be YYYY-MM from {FIRST_DATE:%Y-%m} to {LAST_DATE:%Y-%m}"
FAR_MONTHS = ["0000-01", "9999-12", "1999-12", "2101-01"]


def field_errors(response) -> dict[str, str]:
    """The 422 body as {path: message}; fails on any other answer."""
    assert response.status_code == 422, (response.status_code, response.text[:500])
    return {problem["path"]: problem["message"] for problem in response.json()["detail"]}


def test_the_range_is_one_range():
    assert (FIRST_DATE.isoformat(), LAST_DATE.isoformat()) == ("2000-01-01", "2100-12-31")


# ---- the API ----

@pytest.mark.parametrize("first_day, last_day, field, shown", [
    ("2027-06-01", "9999-12-31", "last_day", "9999-12-31"),
    ("0001-01-01", "2027-06-02", "first_day", "0001-01-01"),
    ("1999-12-31", None, "first_day", "1999-12-31"),
    ("2101-01-01", None, "first_day", "2101-01-01"),
])
def test_leave_outside_the_range_is_422_naming_the_field(service: LiveService, first_day, last_day, field, shown):
    office = service.client(service.tokens["office"])
    body = {"first_day": first_day, **({"last_day": last_day} if last_day else {})}
    errors = field_errors(office.post("/experts/E04/unavailability", json=body))
    assert errors == {field: f"{RANGE} (got {shown})"}
    assert all(p.get("source") != "api" or p.get("to") != "9999-12-31" for p in office.get("/experts/E04/unavailability").json())


def test_a_request_for_december_9999_is_422_naming_the_field(service: LiveService):
    office = service.client(service.tokens["office"])
    body = {"township": "pitou", "type": "clinic", "specialty": "internal_med", "sessions": 1, "first_day": "9999-12-01", "last_day": "9999-12-31"}
    errors = field_errors(office.post("/requests", json=body))
    assert errors == {"first_day": f"{RANGE} (got 9999-12-01)", "last_day": f"{RANGE} (got 9999-12-31)"}
    assert not [r for r in office.get("/requests").json() if r["first_day"].startswith("9999")]


def test_a_closure_or_a_session_far_away_is_422_naming_the_field(service: LiveService):
    office = service.client(service.tokens["office"])
    errors = field_errors(office.post("/closures", json={"township": "pitou", "from": "0001-01-01", "to": "2027-06-01", "reason": "x"}))
    assert errors == {"from": f"{RANGE} (got 0001-01-01)"}
    errors = field_errors(office.post("/closures/reopen", json={"township": "pitou", "from": "2027-06-01", "to": "9999-12-31"}))
    assert errors == {"to": f"{RANGE} (got 9999-12-31)"}
    place = {"date": "9999-12-31", "half_day": "am", "township": "pitou", "type": "clinic", "specialty": "internal_med", "expert": "E02"}
    assert field_errors(office.post("/rosters/2027-06/assignments", json=place)) == {"date": f"{RANGE} (got 9999-12-31)"}
    assert field_errors(office.patch("/rosters/2027-06/assignments/any", json={"date": "0001-01-01"})) == {"date": f"{RANGE} (got 0001-01-01)"}


@pytest.mark.parametrize("month", FAR_MONTHS)
def test_every_month_in_a_path_or_query_is_bounded(service: LiveService, month):
    office = service.client(service.tokens["office"])
    answers = {
        "generate": office.post(f"/rosters/{month}/generate"),
        "roster": office.get(f"/rosters/{month}"),
        "versions": office.get(f"/rosters/{month}/versions"),
        "diff": office.get(f"/rosters/{month}/diff", params={"from": 1}),
        "publish": office.post(f"/rosters/{month}/publish"),
        "xlsx": office.get(f"/rosters/{month}.xlsx"),
        "swap": office.post(f"/rosters/{month}/swaps", json={"assignment_id": "x", "from_expert": "E01", "to_expert": "E02"}),
        "allowance": office.get(f"/allowance/{month}"),
        "requests": office.get("/requests", params={"month": month}),
        "swaps": office.get("/swaps", params={"month": month}),
        "events": office.get("/events", params={"month": month}),
        "closures": office.get("/closures", params={"month": month}),
    }
    with service.root_client(service.token("bureau")) as bureau:
        answers["province"] = bureau.get(f"/province/months/{month}")
    for name, response in answers.items():
        assert response.status_code == 422, (name, response.status_code, response.text[:300])
        assert MONTH_RANGE in response.text and month in response.text, (name, response.text[:300])


# ---- the pages ----

def _hidden_fields(page_text: str) -> dict[str, str]:
    """The hidden inputs of a page's forms (a CSRF token, where the page has one), to post as a browser would."""
    fields = {}
    for tag in re.findall(r"<input[^>]*type=\"hidden\"[^>]*>", page_text):
        name, value = re.search(r'name="([^"]*)"', tag), re.search(r'value="([^"]*)"', tag)
        if name:
            fields[name.group(1)] = html.unescape(value.group(1)) if value else ""
    return fields


@contextmanager
def _logged_in(service: LiveService, token: str) -> Iterator:
    """A client of the community's pages with the login cookie of `token`, as a browser after the login form."""
    with service.client() as client:
        login = client.get("/login")
        answer = client.post("/login", data={**_hidden_fields(login.text), "token": token}, follow_redirects=False)
        assert answer.status_code in (302, 303), answer.text[:300]
        yield client


def _errors_shown(page_text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page_text))


@pytest.mark.parametrize("lang, line", [
    ("zh-CN", "结束日期: 日期必须在2000-01-01至2100-12-31之间（现为9999-12-31）"),
    ("en", "To: must be a date from 2000-01-01 to 2100-12-31 (got 9999-12-31)"),
])
def test_the_leave_form_refuses_a_leave_ending_in_9999_naming_the_field(service: LiveService, lang, line):
    with _logged_in(service, service.token("expert", expert="E04")) as expert:
        form = expert.get("/expert", params={"lang": lang})
        assert form.status_code == 200
        answer = expert.post(f"/expert/leave?lang={lang}", data={**_hidden_fields(form.text), "first_day": "2027-06-01", "last_day": "9999-12-31"})
        leave = expert.get("/experts/E04/unavailability", headers={"Authorization": f"Bearer {service.tokens['office']}"}).json()
    assert answer.status_code == 422, answer.text[:500]
    assert line in _errors_shown(answer.text)
    assert not [p for p in leave if "9999" in str(p)]  # nothing was stored


def test_the_request_form_refuses_december_9999(service: LiveService):
    with _logged_in(service, service.token("township", township="pitou")) as township:
        form = township.get("/township")
        answer = township.post(
            "/township/requests",
            data={**_hidden_fields(form.text), "type": "clinic", "specialty": "internal_med", "sessions": "1", "first_day": "9999-12-01"},
        )
    assert answer.status_code == 422, answer.text[:500]
    assert "开始日期: 日期必须在2000-01-01至2100-12-31之间（现为9999-12-01）" in _errors_shown(answer.text)


@pytest.mark.parametrize("month", ["0000-01", "9999-12"])
def test_a_month_page_out_of_range_is_not_found_not_a_500(service: LiveService, month):
    with _logged_in(service, service.tokens["office"]) as office:
        for path in (f"/office/{month}", f"/office/{month}/report", f"/office/{month}/allowance", f"/office/{month}/versions"):
            answer = office.get(path)
            assert answer.status_code == 404, (path, answer.status_code)
        form = office.get("/office", follow_redirects=True)  # this month's page, whose forms carry any CSRF token
        assert form.status_code == 200
        posted = office.post(f"/office/{month}/generate", data=_hidden_fields(form.text))
        assert posted.status_code == 404, posted.status_code


# ---- the command line ----

MINIMAL = Path(__file__).parents[1] / "scheduler" / "minimal.yaml"


@pytest.fixture(scope="module")
def cli(tmp_path_factory) -> dict:
    """A folder with an SQLite database holding the minimal county, and a solved October 2026 as a previous roster."""
    folder = tmp_path_factory.mktemp("cli-dates")
    env = {"ROTA_DATABASE_URL": f"sqlite:///{folder / 'rota.sqlite3'}", "ROTA_SOLVER_TIME_LIMIT": "2"}
    for arguments in (("import", str(MINIMAL)), ("solve", str(MINIMAL), "--month", "2026-10", "--out", "previous.json", "--time-limit", "2")):
        done = run_rota(*arguments, env=env, cwd=folder)
        assert done.returncode == 0, done.stderr
    previous = json.loads((folder / "previous.json").read_text(encoding="utf-8"))
    for name, change in (("far_date", ("date", "0001-01-01")), ("other_month", ("date", "2026-11-02"))):
        edited = json.loads(json.dumps(previous))
        edited["assignments"][0][change[0]] = change[1]
        (folder / f"{name}.json").write_text(json.dumps(edited), encoding="utf-8")
    closed_year_one = MINIMAL.read_text(encoding="utf-8").replace("closed: [2026-10-09]", "closed: [0001-01-01]")
    (folder / "closed_year_one.yaml").write_text(closed_year_one, encoding="utf-8")
    return {"folder": folder, "env": env}


@pytest.mark.parametrize("arguments, line", [
    (("solve", str(MINIMAL), "--month", "0000-01", "--out", "r.json"), "error: month must be YYYY-MM from 2000-01 to 2100-12 (got '0000-01')"),
    (("replan", str(MINIMAL), "--month", "9999-12", "--previous", "previous.json", "--out", "r.json"),
     "error: month must be YYYY-MM from 2000-01 to 2100-12 (got '9999-12')"),
    (("replan", str(MINIMAL), "--month", "2026-10", "--previous", "far_date.json", "--out", "r.json"),
     "error: assignments[0].date: must be a date from 2000-01-01 to 2100-12-31 (got 0001-01-01)"),
    (("replan", str(MINIMAL), "--month", "2026-10", "--previous", "other_month.json", "--out", "r.json"),
     "error: assignments[0].date: 2026-11-02 is not in 2026-10"),
    (("validate", "closed_year_one.yaml"), "error: calendar.closed[0]: must be a date from 2000-01-01 to 2100-12-31 (got 0001-01-01)"),
    (("allowance", "--month", "0000-01"), "error: month must be YYYY-MM from 2000-01 to 2100-12 (got '0000-01')"),
    (("close", "pitou", "--from", "0001-01-01", "--to", "2027-01-02"), "error: --from: must be a date from 2000-01-01 to 2100-12-31 (got 0001-01-01)"),
    (("reopen", "pitou", "--from", "2027-01-01", "--to", "9999-12-31"), "error: --to: must be a date from 2000-01-01 to 2100-12-31 (got 9999-12-31)"),
])
def test_the_command_line_refuses_far_dates_with_exit_2_and_one_line(cli, arguments, line):
    done = run_rota(*arguments, env=cli["env"], cwd=cli["folder"])
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    problems = [text for text in done.stderr.strip().splitlines() if text.startswith("error")]
    assert problems == [line], done.stderr


@pytest.mark.parametrize("month", ["2000-01", "2100-12"])
def test_pages_at_the_edges_of_the_range_answer(service: LiveService, month):
    """The first and the last month of the range: their pages link past the edge, and must not fetch past it."""
    for token, paths in (
        (service.tokens["office"], (f"/office/{month}", f"/office/{month}/report", f"/office/{month}/allowance")),
        (service.token("expert", expert="E04"), (f"/expert?month={month}",)),
        (service.token("township", township="pitou"), (f"/township?month={month}",)),
    ):
        with _logged_in(service, token) as client:
            for path in paths:
                answer = client.get(path)
                assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
    with service.root_client() as root:
        login = root.get("/login")
        root.post("/login", data={**_hidden_fields(login.text), "token": service.token("bureau")}, follow_redirects=False)
        answer = root.get(f"/province/{month}")
        assert answer.status_code == 200, (answer.status_code, answer.text[:300])
    office = service.client(service.tokens["office"])
    assert office.get(f"/rosters/{month}").status_code == 404  # in range, no roster yet: not found, not refused
