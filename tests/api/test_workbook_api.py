"""The office's workbook through the API on both engines: the template, export, import, and a bad cell that imports nothing."""

from __future__ import annotations

import io

import openpyxl

from tests.api.conftest import LiveService

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _book(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def _bytes(book: openpyxl.Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _content(book: openpyxl.Workbook) -> dict[str, list[tuple]]:
    return {sheet.title: [row for row in sheet.iter_rows(values_only=True) if any(v is not None for v in row)] for sheet in book}


def _cell(book: openpyxl.Workbook, sheet: str, key: str, header: str):
    rows = book[sheet]
    column = [c.value for c in rows[1]].index(header) + 1
    row = next(r for r in range(2, rows.max_row + 1) if rows.cell(r, 1).value == key)
    return rows.cell(row, column)


def test_the_template_has_a_sheet_per_kind_in_each_language(service: LiveService):
    office = service.client(service.tokens["office"])
    chinese = office.get("/workbook/template")
    assert chinese.status_code == 200 and chinese.headers["content-type"] == XLSX
    assert {"专家", "乡镇", "科室", "挂点", "需求", "日历"} <= set(_book(chinese.content).sheetnames)
    english = _book(office.get("/workbook/template", params={"lang": "en"}).content).sheetnames
    assert not any("\u4e00" <= ch <= "\u9fff" for name in english for ch in name)
    assert office.get("/workbook/template", params={"lang": "fr"}).status_code == 422
    assert service.client(service.token("township", township="pitou")).get("/workbook").status_code == 403


def test_export_edit_import_export_round_trip(service: LiveService):
    office = service.client(service.tokens["office"])
    exported = office.get("/workbook")
    assert exported.status_code == 200 and exported.headers["content-type"] == XLSX
    book = _book(exported.content)
    before = office.get("/experts/E02").json()["max_sessions"]
    _cell(book, "专家", "E02", "每月最多次数").value = before - 1
    imported = office.put("/workbook", content=_bytes(book), headers={"Content-Type": XLSX})
    assert imported.status_code == 200, imported.text
    assert office.get("/experts/E02").json()["max_sessions"] == before - 1
    assert _content(_book(office.get("/workbook").content)) == _content(book)  # export -> import -> export: the same content


def test_a_bad_cell_is_named_and_nothing_is_imported(service: LiveService):
    office = service.client(service.tokens["office"])
    book = _book(office.get("/workbook").content)
    before = office.get("/experts/E03").json()
    _cell(book, "专家", "E03", "职称").value = "教授"
    _cell(book, "专家", "E03", "每月最多次数").value = 1  # a good change in the same workbook: not applied either
    refused = office.put("/workbook", content=_bytes(book), headers={"Content-Type": XLSX})
    assert refused.status_code == 422, refused.text
    [problem] = refused.json()["detail"]
    assert problem["path"].startswith("专家!D") and "教授" in problem["message"] and "职称" in problem["message"]
    assert office.get("/experts/E03").json() == before
    english = office.put("/workbook", params={"lang": "en"}, content=_bytes(book), headers={"Content-Type": XLSX})
    assert english.status_code == 422 and "unknown title" in english.json()["detail"][0]["message"]
    garbage = office.put("/workbook", content=b"not a workbook", headers={"Content-Type": XLSX})
    assert garbage.status_code == 422 and garbage.json()["detail"]
