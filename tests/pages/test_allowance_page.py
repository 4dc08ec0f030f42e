"""The office's allowance page: the month's published sessions per expert, and its downloads, in zh-CN and en."""

from __future__ import annotations

import csv
import io
from collections import Counter

from openpyxl import load_workbook

from tests.pages.conftest import MONTH
from tests.pages.forms import log_in


def test_the_allowance_page_lists_what_each_expert_served_and_downloads_it(client, seeded, solved_month):
    served = Counter(a["expert"] for a in solved_month.document["assignments"])
    log_in(client, seeded.office_token)
    page = client.get(f"/office/{MONTH}/allowance")
    assert page.status_code == 200 and "下沉补助" in page.text and "下载Excel表" in page.text
    assert page.text.count('<tr data-expert="') == len(served)
    assert f'<tr data-expert="{seeded.expert}">' in page.text
    english = client.get(f"/office/{MONTH}/allowance", params={"lang": "en"})
    assert "Down-rotation allowance" in english.text and "下沉补助" not in english.text.split("<main>")[1]

    sheet = load_workbook(io.BytesIO(client.get(f"/office/{MONTH}/allowance.xlsx", params={"lang": "zh-CN"}).content)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert sheet.title == "下沉补助" and {r[0]: r[8] for r in rows[2:-1]} == dict(served)
    table = list(csv.reader(io.StringIO(client.get(f"/office/{MONTH}/allowance.csv", params={"lang": "en"}).content.decode("utf-8-sig"))))
    assert table[0][8] == "Sessions" and {r[0]: int(r[8]) for r in table[1:]} == dict(served)

    assert client.get("/office/2027-13/allowance").status_code == 404
    log_in(client, seeded.township_token)
    assert client.get(f"/office/{MONTH}/allowance").status_code == 403
    assert client.get(f"/office/{MONTH}/allowance.xlsx").status_code == 403
