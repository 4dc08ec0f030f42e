"""The office's standing-data page through the real app (TestClient): download, edit in openpyxl, upload; a bad cell imports nothing."""

from __future__ import annotations

import io

import openpyxl

from scheduler import events, store
from scheduler.db import make_engine, session_factory
from tests.pages.conftest import BASE, COMMUNITY
from tests.pages.test_page_routes import log_in

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _expert_cell(book, expert: str, header: str):
    sheet = book["专家"]
    column = [c.value for c in sheet[1]].index(header) + 1
    row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == expert)
    return sheet.cell(row, column)


def _expert(factory, expert_id: str):
    with factory() as session:
        return next(e for e in store.export_scenario(session, COMMUNITY).experts if e.id == expert_id)


def _upload(client, book, lang: str = "zh-CN"):
    out = io.BytesIO()
    book.save(out)
    return client.post(f"/office/data/import?lang={lang}", files={"workbook": ("county.xlsx", out.getvalue(), XLSX)}, follow_redirects=False)


def test_the_office_edits_its_data_in_excel(client, seeded):
    log_in(client, seeded.office_token)
    page = client.get("/office/data")
    assert page.status_code == 200 and "基础数据" in page.text and 'enctype="multipart/form-data"' in page.text
    assert f'href="{BASE}/office/data"' in client.get("/office/closures").text  # in the office's navigation
    template = client.get("/office/data/template.xlsx")
    assert template.status_code == 200 and {"专家", "乡镇", "需求", "日历"} <= set(openpyxl.load_workbook(io.BytesIO(template.content)).sheetnames)

    book = openpyxl.load_workbook(io.BytesIO(client.get("/office/data/workbook.xlsx").content))
    factory = session_factory(make_engine(seeded.url))
    with factory() as session:
        expert = next(e for e in store.export_scenario(session, COMMUNITY).experts if e.max_sessions > 1)
    _expert_cell(book, expert.id, "职称").value = "教授"
    _expert_cell(book, expert.id, "每月最多次数").value = expert.max_sessions - 1
    refused = _upload(client, book)
    assert refused.status_code == 422 and "专家!D" in refused.text and "教授" in refused.text
    english = _upload(client, book, "en")
    assert english.status_code == 422 and "unknown title" in english.text
    assert "请选择要上传的工作簿" in client.post("/office/data/import?lang=zh-CN", files={"workbook": ("empty.xlsx", b"", XLSX)}).text
    assert _expert(factory, expert.id).max_sessions == expert.max_sessions  # nothing imported
    with factory() as session:
        assert events.list_events(session, COMMUNITY) == []

    _expert_cell(book, expert.id, "职称").value = "主治医师"
    done = _upload(client, book)
    assert done.status_code == 303 and "/office/data?imported=1" in done.headers["location"]
    assert "已导入" in client.get("/office/data?imported=1").text
    changed = _expert(factory, expert.id)
    assert changed.max_sessions == expert.max_sessions - 1 and changed.title == "attending"
    with factory() as session:
        assert any(e.kind == "expert" for e in events.list_events(session, COMMUNITY))


def test_only_the_office_has_the_page(client, seeded):
    log_in(client, seeded.township_token)
    assert client.get("/office/data").status_code == 403
    assert client.get("/office/data/workbook.xlsx").status_code == 403


def _row_of(page_text: str, key: str) -> int:
    import re

    found = re.search(rf'<tr data-row="(\d+)" data-key="{re.escape(key)}">', page_text)
    assert found, key
    return int(found.group(1))


def test_the_office_edits_one_expert_and_adds_a_township_on_pages(client, seeded):
    log_in(client, seeded.office_token)
    factory = session_factory(make_engine(seeded.url))
    experts = client.get("/office/data/experts")
    assert experts.status_code == 200 and "专家" in experts.text and "主任医师" in experts.text
    with factory() as session:
        expert = next(e for e in store.export_scenario(session, COMMUNITY).experts if e.max_sessions > 1)
    number = _row_of(experts.text, expert.id)
    form = client.get(f"/office/data/experts/{number}")
    assert form.status_code == 200 and f'value="{expert.id}"' in form.text and 'name="max_sessions"' in form.text

    fields = {"first_cell": expert.id, "id": expert.id, "name": expert.name, "department": expert.department, "title": "教授",
              "specialties": "、".join(expert.specialties), "max_sessions": str(expert.max_sessions - 1)}
    wrong = client.post(f"/office/data/experts/{number}", data=fields)
    assert wrong.status_code == 422 and "职称：" in wrong.text and "教授" in wrong.text  # the workbook's own message, on the field
    assert _expert(factory, expert.id).max_sessions == expert.max_sessions
    saved = client.post(f"/office/data/experts/{number}", data={**fields, "title": "主治医师"}, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    assert _expert(factory, expert.id).max_sessions == expert.max_sessions - 1
    moved = client.post(f"/office/data/experts/{number}", data={**fields, "first_cell": "E999", "title": "主治医师"})
    assert moved.status_code == 409 and "已被他人修改" in moved.text

    added = client.post("/office/data/townships/new", data={"id": "t99", "name": "新镇卫生院", "travel_minutes": "30", "rooms": "2"}, follow_redirects=False)
    assert added.status_code == 303, added.text
    townships = client.get("/office/data/townships?done=saved")
    assert "已保存" in townships.text and "新镇卫生院" in townships.text
    with factory() as session:
        assert any(t.id == "t99" and t.rooms == 2 for t in store.export_scenario(session, COMMUNITY).townships)
        demanded = store.export_scenario(session, COMMUNITY).demand[0].township
    # A township that demand points at cannot go: the demand row is named, nothing deleted.
    refused = client.post(f"/office/data/townships/{_row_of(townships.text, demanded)}/delete", data={"first_cell": demanded})
    assert refused.status_code == 422 and "需求!" in refused.text
    gone = client.post(f"/office/data/townships/{_row_of(townships.text, 't99')}/delete", data={"first_cell": "t99"}, follow_redirects=False)
    assert gone.status_code == 303
    with factory() as session:
        assert not any(t.id == "t99" for t in store.export_scenario(session, COMMUNITY).townships)
    assert client.get("/office/data/nothing").status_code == 404
    assert client.get("/office/data/experts/1").status_code == 404
