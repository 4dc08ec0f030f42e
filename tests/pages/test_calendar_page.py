"""The office's calendar-year page through the real app (TestClient): pre-filled, entered, named problems, both languages."""

from __future__ import annotations

import re

from scheduler import events, store
from scheduler.db import make_engine, session_factory
from tests.pages.conftest import BASE, COMMUNITY, MONTH
from tests.pages.test_page_routes import log_in


def _textarea(page: str, name: str) -> str:
    found = re.search(rf'<textarea id="{name}" name="{name}"[^>]*>(.*?)</textarea>', page, re.S)
    assert found, name
    return found.group(1)


def test_the_estimate_warning_leads_to_the_year_page(client, seeded):
    log_in(client, seeded.office_token)
    month = client.get(f"/office/{MONTH}")
    assert month.status_code == 200 and "是估算" in month.text
    assert f'href="{BASE}/office/calendar/2027" class="calendar-year-link"' in month.text
    assert f'href="{BASE}/office/calendar"' in month.text  # the office's navigation


def test_the_office_enters_the_2027_notice(client, seeded):
    log_in(client, seeded.office_token)
    page = client.get("/office/calendar/2027")
    assert page.status_code == 200 and "2027年工作日历" in page.text and "尚未收录" in page.text
    days_off, worked = _textarea(page.text, "days_off"), _textarea(page.text, "make_up_workdays")
    # The sample scenario's own closed Monday and the package's estimate are pre-filled; no make-up day is known.
    assert "2027-01-04\n" in days_off and "2027-02-05 农历除夕" in days_off and worked.split() == []

    factory = session_factory(make_engine(seeded.url))
    wrong = client.post("/office/calendar/2027", data={"days_off": "2027-02-05\n2027-02-30 元宵", "make_up_workdays": ""})
    assert wrong.status_code == 422 and "第2行" in wrong.text and "2027-02-30" in wrong.text
    both = client.post("/office/calendar/2027", data={"days_off": "2027-02-08", "make_up_workdays": "2027-02-08"})
    assert both.status_code == 422 and "既是放假日" in both.text
    with factory() as session:
        assert events.list_events(session, COMMUNITY) == []  # nothing stored

    entered = days_off + "\n2027-02-11 春节调休"
    saved = client.post("/office/calendar/2027", data={"days_off": entered, "make_up_workdays": "2027-01-30\n2027-02-20"}, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"].endswith("/office/calendar/2027?saved=1")
    after = client.get("/office/calendar/2027?saved=1")
    assert "已保存" in after.text and 'class="day-off" data-date="2027-02-11"' in after.text
    assert 'class="make-up" data-date="2027-01-30"' in after.text and "已由医务科按国务院通知录入" in after.text
    assert "是估算" not in client.get(f"/office/{MONTH}").text  # the month's warning is answered
    with factory() as session:
        calendar = store.export_scenario(session, COMMUNITY).calendar
        assert any(e.kind == "calendar" for e in events.list_events(session, COMMUNITY))
    assert {d.isoformat() for d in calendar.closed} >= {"2027-01-04", "2027-02-11"}
    assert {d.isoformat() for d in calendar.extra_workdays} >= {"2027-01-30", "2027-02-20"}


def test_the_page_in_english_and_for_others(client, seeded):
    log_in(client, seeded.office_token)
    english = client.get("/office/calendar/2026?lang=en")
    assert english.status_code == 200 and "Working calendar 2026" in english.text and "Pre-filled from the State Council" in english.text
    assert not re.search(r"[\u4e00-\u9fff]", _textarea(english.text, "make_up_workdays") + english.text.split("<main")[-1].split("<textarea")[0])
    assert client.get("/office/calendar/1999").status_code == 404
    client.post(f"{BASE}/logout")
    log_in(client, seeded.township_token)
    assert client.get("/office/calendar/2027").status_code == 403
