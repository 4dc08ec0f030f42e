"""下沉补助 through the API, the CLI and the office page: figures equal an independent count of the published roster JSON."""

from __future__ import annotations

import csv
import io
import subprocess
from decimal import Decimal

from openpyxl import load_workbook

from scheduler.allowance import DEFAULT_RATES, ExpertInfo
from tests.api.conftest import LiveService
from tests.console import run_rota
from tests.api.test_end_to_end import run_job
from tests.scheduler.test_allowance import independent_count

SEPTEMBER = "2027-09"


def published_history(office) -> list[tuple[str, dict]]:
    """(published at, roster JSON) of every published version, as the API answers them."""
    versions = office.get(f"/rosters/{SEPTEMBER}/versions").json()
    return [
        (v["published_at"], office.get(f"/rosters/{SEPTEMBER}", params={"version": v["version"]}).json())
        for v in versions
        if v["status"] == "published"
    ]


def experts_of(office) -> list[ExpertInfo]:
    scenario = office.get("/scenario").json()
    departments = {d["code"]: d["name"] for d in scenario["departments"]}
    return [ExpertInfo(e["id"], e["name"], e["title"], departments.get(e["department"], e["department"])) for e in scenario["experts"]]


def figures_of_api(body: dict) -> dict[str, dict]:
    return {
        row["expert"]: {
            "types": row["sessions"], "days": row["days_down"], "townships": set(row["townships"]),
            "shared": row["shared_car_days"], "amount": Decimal(row["amount"]),
        }
        for row in body["experts"]
    }


def test_allowance_counts_published_sessions_only_on_every_surface(service: LiveService, tmp_path):
    office = service.client(service.tokens["office"])
    nothing = office.get(f"/allowance/{SEPTEMBER}")
    assert nothing.status_code == 200 and nothing.json()["experts"] == [], nothing.text  # nothing published: nothing to pay

    first = run_job(office, f"/rosters/{SEPTEMBER}/generate")["result"]["version"]
    assert office.post(f"/rosters/{SEPTEMBER}/publish", params={"version": first}).status_code == 200
    sessions = office.get(f"/rosters/{SEPTEMBER}").json()["assignments"]
    assert len(sessions) >= 3
    # An edit of the published month is published at once (its session was cancelled before its day: it does not
    # count); a new generation on top is a draft, and drafts never count.
    edited = office.delete(f"/rosters/{SEPTEMBER}/assignments/{sessions[0]['id']}")
    assert edited.status_code == 200, edited.text
    draft = run_job(office, f"/rosters/{SEPTEMBER}/generate")["result"]["version"]
    assert office.get(f"/rosters/{SEPTEMBER}", params={"version": draft}).json()["status"] == "draft"

    history = published_history(office)
    assert len(history) == 2
    expected = independent_count(history, experts_of(office), DEFAULT_RATES)
    body = office.get(f"/allowance/{SEPTEMBER}").json()
    assert figures_of_api(body) == expected
    assert sum(sum(f["types"].values()) for f in expected.values()) == len(sessions) - 1
    assert Decimal(body["total"]) == sum(f["amount"] for f in expected.values())

    sheet = office.get(f"/allowance/{SEPTEMBER}.xlsx")
    assert sheet.status_code == 200 and sheet.headers["content-type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(sheet.content)).worksheets[0].iter_rows(values_only=True))
    assert rows[1][0] == "编号" and rows[-1][0] == "合计"
    assert {r[0]: Decimal(str(r[15])) for r in rows[2:-1]} == {e: f["amount"] for e, f in expected.items()}
    english = list(csv.reader(io.StringIO(office.get(f"/allowance/{SEPTEMBER}.csv", params={"lang": "en"}).content.decode("utf-8-sig"))))
    assert english[0][0] == "Id" and {r[0]: Decimal(r[15]) for r in english[1:]} == {e: f["amount"] for e, f in expected.items()}

    # Every expert's pay is the office's and the bureau's business only.
    township = service.client(service.token("township", township="nanjing"))
    assert township.get(f"/allowance/{SEPTEMBER}").status_code == 403
    assert service.client(service.token("bureau")).get(f"/allowance/{SEPTEMBER}").status_code == 200
    assert office.get("/allowance/0000-01").status_code == 422
    assert office.get(f"/allowance/{SEPTEMBER}.xlsx", params={"lang": "fr"}).status_code == 422

    # The command line, on the same store, with a rate table of its own.
    rates = tmp_path / "rates.yaml"
    rates.write_text("per_day: 50\n", encoding="utf-8")
    out = tmp_path / "allowance.xlsx"
    done = rota(service, "allowance", "--month", SEPTEMBER, "--community", service.community, "--rates", str(rates), "--out", str(out))
    assert done.returncode == 0, done.stderr
    per_day = DEFAULT_RATES.model_copy(update={"per_day": Decimal(50)})
    rows = list(load_workbook(out).worksheets[0].iter_rows(values_only=True))
    assert {r[0]: Decimal(str(r[15])) for r in rows[2:-1]} == {e: f["amount"] for e, f in independent_count(history, experts_of(office), per_day).items()}
    table = rota(service, "allowance", "--month", SEPTEMBER, "--community", service.community)
    assert table.returncode == 0 and "合计" in table.stdout
    for arguments, fragment in (
        (("--month", "0000-01"), "0000-01"),
        (("--month", SEPTEMBER, "--out", str(tmp_path / "a.pdf")), "--out"),
        (("--month", SEPTEMBER, "--rates", str(tmp_path / "missing.yaml")), "missing.yaml"),
    ):
        bad = rota(service, "allowance", *arguments, "--community", service.community)
        assert bad.returncode == 2 and fragment in bad.stderr and "Traceback" not in bad.stderr, bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1


def rota(service: LiveService, *arguments: str) -> subprocess.CompletedProcess:
    return run_rota(*arguments, env={"ROTA_DATABASE_URL": service.database_url})
