"""The office's own tools in a real browser (headless Chromium, Playwright, a real uvicorn) at 375 px and 1280 px, zh-CN and en.

The office opens the year's calendar from its navigation and enters the 2027 make-up days; it downloads its
data as a workbook, breaks a cell, sees it named, fixes it and imports; it opens the allowance page of a
published month and downloads the sheet, which holds one row per expert who served. On the row-by-row data
pages it adds an expert and changes a township's rooms (a bad cell first: its message, nothing stored), and
the database holds the change; the rooms change is recorded as an event.
Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import io

import openpyxl
import pytest

from scheduler import store
from scheduler.db import make_engine, session_factory
from scheduler.events.kinds.township import TownshipChange
from scheduler.events.outbox import list_events
from tests.pages.conftest import BASE, COMMUNITY, MONTH
from tests.pages.test_browser import OVERFLOW_SCRIPT, browser, log_in, new_page, published, published_assignments, service, shot

__all__ = ["browser", "published", "service"]  # the fixtures, shared with the main browser test

# A phone in Chinese and a desk in English: both sizes and both languages, each page twice, not four times.
VIEWS = [pytest.param((375, 812), "zh-CN", id="phone-zh"), pytest.param((1280, 900), "en", id="desk-en")]
WORDS = {
    "zh-CN": {"calendar": "2027年工作日历", "saved": "已保存", "allowance": "下沉补助", "worked": "调休上班", "imported": "已导入"},
    "en": {"calendar": "Working calendar 2027", "saved": "Saved.", "allowance": "Down-rotation allowance", "worked": "Make-up working day", "imported": "Imported."},
}


# The row-by-row data pages: every size with every language.
EVERY_VIEW = [pytest.param(size, lang, id=f"{size[0]}-{lang}") for size in ((375, 812), (1280, 900)) for lang in ("zh-CN", "en")]
ROW_WORDS = {"zh-CN": {"saved": "已保存", "name": "姓名", "rooms": "诊室数"}, "en": {"saved": "Saved", "name": "Name", "rooms": "Rooms"}}


def stored_scenario(seeded):
    """The community's standing data as the database holds it now."""
    engine = make_engine(seeded.url)
    try:
        with session_factory(engine)() as session:
            return store.export_scenario(session, COMMUNITY)
    finally:
        engine.dispose()


def township_events(seeded, township: str) -> set[int]:
    """The ids of the events recorded for a township's rooms or ward (the event path of a standing-data edit)."""
    engine = make_engine(seeded.url)
    try:
        with session_factory(engine)() as session:
            return {e.id for e in list_events(session, COMMUNITY, limit=1000) if e.kind == TownshipChange.name and e.township == township}
    finally:
        engine.dispose()


def in_language(text: str, lang: str) -> bool:
    """True when `text` is in `lang` only: Chinese holds no English word, English no Chinese character."""
    has_han = any("\u4e00" <= ch <= "\u9fff" for ch in text)
    has_word = any(len(word) > 1 and word.isascii() and word.isalpha() for word in text.replace(":", " ").replace("：", " ").split())
    return (has_han and not has_word) if lang == "zh-CN" else (has_word and not has_han)


def fits(page) -> None:
    found = page.evaluate(OVERFLOW_SCRIPT)
    assert found["scrollWidth"] <= found["width"] and not found["out"], found


@pytest.mark.parametrize(("size", "lang"), VIEWS)
def test_office_enters_the_2027_make_up_days(service, browser, size, lang):
    base, seeded = service
    words = WORDS[lang]
    page = new_page(browser, base, *size)
    log_in(page, seeded.office_token)
    page.goto(f"{BASE}/office/{MONTH}?lang={lang}")
    page.click(f'nav a[href^="{BASE}/office/calendar"]')  # the office's navigation opens this year's calendar
    page.wait_for_load_state()
    while (shown := int(page.url.split("/office/calendar/")[1][:4])) != 2027:
        page.click("#next-year" if shown < 2027 else "#prev-year")
        page.wait_for_load_state()
    assert page.locator("h1").inner_text() == words["calendar"]
    fits(page)
    days_off = page.locator("#days_off").input_value()
    assert "2027-02-05" in days_off  # pre-filled with the package's estimate
    page.fill("#days_off", days_off + "\n2027-02-11")
    page.fill("#make_up_workdays", "2027-01-30\n2027-02-20")
    page.click("#save-calendar")
    page.wait_for_load_state()
    assert words["saved"] in page.locator("p.notice[role=status]").inner_text()
    for day in ("2027-01-30", "2027-02-20"):
        assert words["worked"] in page.locator(f'#calendar-days tr.make-up[data-date="{day}"]').inner_text()
    assert page.locator('#calendar-days tr.day-off[data-date="2027-02-11"]').count() == 1
    fits(page)
    shot(page, f"calendar-2027-{size[0]}-{lang}")
    page.context.close()


@pytest.mark.parametrize(("size", "lang"), VIEWS)
def test_office_downloads_the_allowance_sheet(published, browser, size, lang):
    base, seeded = published
    assignments, _ = published_assignments(seeded)
    served = {a.expert for a in assignments if a.type != "supervision"}
    page = new_page(browser, base, *size)
    log_in(page, seeded.office_token)
    page.goto(f"{BASE}/office/{MONTH}/allowance?lang={lang}")
    assert WORDS[lang]["allowance"] in page.locator("h1").inner_text()
    fits(page)
    shot(page, f"allowance-{size[0]}-{lang}")
    with page.expect_download() as download:
        page.click("#allowance-xlsx")
    assert download.value.suggested_filename == f"allowance-{MONTH}.xlsx"
    workbook = openpyxl.load_workbook(io.BytesIO(open(download.value.path(), "rb").read()), read_only=True)
    cells = {str(value) for row in workbook.active.iter_rows(values_only=True) for value in row if value is not None}
    assert served and served <= cells  # every expert who served has a row
    page.context.close()


@pytest.mark.parametrize(("size", "lang"), VIEWS)
def test_office_imports_a_workbook(service, browser, tmp_path, size, lang):
    base, seeded = service
    page = new_page(browser, base, *size)
    log_in(page, seeded.office_token)
    page.goto(f"{BASE}/office/data?lang={lang}")
    fits(page)
    with page.expect_download() as download:
        page.click("#download-workbook")
    assert download.value.suggested_filename.endswith(".xlsx")
    download.value.save_as(tmp_path / "current.xlsx")
    book = openpyxl.load_workbook(tmp_path / "current.xlsx")
    experts = book["专家" if lang == "zh-CN" else "Experts"]
    headers = [cell.value for cell in experts[1]]
    row = 2
    limit = experts.cell(row, headers.index("每月最多次数" if lang == "zh-CN" else "Max sessions a month") + 1)
    title = experts.cell(row, headers.index("职称" if lang == "zh-CN" else "Title") + 1)
    wanted, kept_title = int(limit.value) + 1, title.value
    limit.value, title.value = wanted, "教授"
    broken = tmp_path / f"broken-{lang}.xlsx"
    book.save(broken)
    page.set_input_files("#workbook", str(broken))
    page.click("#import-workbook")
    page.wait_for_load_state()
    assert "教授" in page.locator("section.errors").inner_text()
    title.value = kept_title
    fixed = tmp_path / f"fixed-{lang}.xlsx"
    book.save(fixed)
    page.set_input_files("#workbook", str(fixed))
    page.click("#import-workbook")
    page.wait_for_load_state()
    assert WORDS[lang]["imported"] in page.locator("p.notice[role=status]").inner_text()
    fits(page)
    shot(page, f"data-import-{size[0]}-{lang}")
    with page.expect_download() as again:
        page.click("#download-workbook")
    again.value.save_as(tmp_path / "after.xlsx")
    after = openpyxl.load_workbook(tmp_path / "after.xlsx")
    assert after[experts.title].cell(row, limit.column).value == wanted
    page.context.close()


def test_the_office_tools_fit_a_375_px_phone(service, browser):
    base, seeded = service
    page = new_page(browser, base, 375, 812)
    log_in(page, seeded.office_token)
    problems = {}
    for path in ("/office/data", "/office/data/experts", "/office/data/experts/2", "/office/data/demand/new", "/office/contacts",
                 f"/office/contacts/expert/{seeded.expert}", "/office/notices", "/office/calendar/2027"):
        page.goto(BASE + path)
        assert page.locator("h1").count() == 1, path
        found = page.evaluate(OVERFLOW_SCRIPT)
        if found["scrollWidth"] > found["width"] or found["out"]:
            problems[path] = found
        shot(page, "phone-" + path.strip("/").replace("/", "-"))
    page.context.close()
    assert not problems, problems


@pytest.mark.parametrize(("size", "lang"), EVERY_VIEW)
def test_office_adds_an_expert(service, browser, size, lang):
    base, seeded = service
    words, new_id = ROW_WORDS[lang], f"H{size[0]}{lang[:2].upper()}"
    page = new_page(browser, base, *size)
    log_in(page, seeded.office_token)
    kept = {"department": "nephro", "title": {"zh-CN": "主治医师", "en": "attending physician"}[lang], "specialties": "nephro"}
    page.goto(f"{BASE}/office/data/experts?lang={lang}")
    page.click("#add-row")
    page.wait_for_load_state()
    assert page.locator('#row-form input[name="csrf_token"]').input_value()
    fits(page)
    page.fill("#field-id", new_id)  # the bad case first: no name
    for key, value in {**kept, "max_sessions": "4"}.items():
        page.fill(f"#field-{key}", value)
    page.click("#save-row")
    page.wait_for_load_state()
    error = page.locator("section.errors").inner_text()
    assert words["name"] in error and in_language(error, lang), error
    assert new_id not in {expert.id for expert in stored_scenario(seeded).experts}  # nothing saved
    assert page.locator("#field-id").input_value() == new_id  # the form keeps what was typed
    fits(page)
    shot(page, f"data-expert-error-{size[0]}-{lang}")
    page.fill("#field-name", f"新专家{new_id}")
    page.click("#save-row")
    page.wait_for_load_state()
    assert words["saved"] in page.locator("p.notice[role=status]").inner_text()
    assert page.locator(f'#data-rows tr[data-key="{new_id}"]').inner_text().count(f"新专家{new_id}") == 1
    fits(page)
    shot(page, f"data-expert-added-{size[0]}-{lang}")
    added = {expert.id: expert for expert in stored_scenario(seeded).experts}[new_id]
    assert (added.name, added.max_sessions) == (f"新专家{new_id}", 4)
    page.context.close()


@pytest.mark.parametrize(("size", "lang"), EVERY_VIEW)
def test_office_edits_a_townships_rooms(service, browser, size, lang):
    base, seeded = service
    words = ROW_WORDS[lang]
    page = new_page(browser, base, *size)
    log_in(page, seeded.office_token)
    page.goto(f"{BASE}/office/data/townships?lang={lang}")
    fits(page)
    row = page.locator('#data-rows tr[data-key="t02"]')
    row.locator("a.edit-row").click()
    page.wait_for_load_state()
    fits(page)
    before = int(page.locator("#field-rooms").input_value())
    events_before = township_events(seeded, "t02")
    page.fill("#field-rooms", "-1")  # the bad case: no township has fewer than one room
    page.click("#save-row")
    page.wait_for_load_state()
    error = page.locator("section.errors").inner_text()
    assert words["rooms"] in error and in_language(error, lang), error
    assert {t.id: t.rooms for t in stored_scenario(seeded).townships}["t02"] == before  # nothing saved
    assert township_events(seeded, "t02") == events_before  # and no event
    shot(page, f"data-rooms-error-{size[0]}-{lang}")
    wanted = before + 1
    page.fill("#field-rooms", str(wanted))
    page.click("#save-row")
    page.wait_for_load_state()
    assert words["saved"] in page.locator("p.notice[role=status]").inner_text()
    headers = page.locator("#data-rows thead th").all_inner_texts()
    cells = row.locator("td").all_inner_texts()
    assert cells[headers.index(words["rooms"])] == str(wanted)
    fits(page)
    shot(page, f"data-rooms-saved-{size[0]}-{lang}")
    assert {t.id: t.rooms for t in stored_scenario(seeded).townships}["t02"] == wanted
    assert len(township_events(seeded, "t02") - events_before) == 1  # the edit went through the event path (no re-plan awaited here)
    page.context.close()
