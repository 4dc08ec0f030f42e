"""The pages through the real app (TestClient): login cookie, roles, forms with errors that name the field, downloads."""

from __future__ import annotations

import io
import re
import time

from openpyxl import load_workbook

from scheduler import store
from scheduler.db import make_engine, session_factory
from scheduler.reports import month_report
from tests.pages.conftest import BASE, COMMUNITY, MONTH
from tests.pages.forms import log_in




def test_login_sets_an_httponly_cookie_and_sends_each_role_home(client, seeded):
    assert client.get("/office", follow_redirects=False).headers["location"] == f"{BASE}/login"
    page = client.get("/login")
    assert page.status_code == 200 and "请输入医务科发放的访问令牌" in page.text and '<html lang="zh-CN">' in page.text
    assert f'action="{BASE}/login"' in page.text
    wrong = log_in(client, "rota_not-a-token")
    assert wrong.status_code == 401 and "令牌无效" in wrong.text
    for token, home in ((seeded.office_token, "/office"), (seeded.township_token, "/township"), (seeded.expert_token, "/expert")):
        answer = log_in(client, token)
        assert answer.status_code == 303 and answer.headers["location"] == BASE + home
        cookie = answer.headers["set-cookie"]
        assert "rota_session=" in cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower() and token not in cookie
    client.post("/logout")
    assert client.get("/expert", follow_redirects=False).status_code == 303


def test_roles_see_only_their_pages(client, seeded):
    log_in(client, seeded.township_token)
    assert client.get(f"/office/{MONTH}").status_code == 403
    assert client.get("/expert").status_code == 403
    assert client.get("/township").status_code == 200
    log_in(client, seeded.expert_token)
    assert client.get("/office/inbox").status_code == 403
    assert client.get(f"/office/{MONTH}/report").status_code == 403


def test_office_month_page_shows_the_published_grid_and_the_excel(client, seeded, solved_month):
    log_in(client, seeded.office_token)
    page = client.get(f"/office/{MONTH}")
    assert page.status_code == 200
    assert 'data-version="1" data-status="published"' in page.text
    assert page.text.count('class="slot ') == len(solved_month.document["assignments"])
    assert client.get("/office/2027-13").status_code == 404
    assert client.get(f"/office/{MONTH}?version=9").status_code == 404
    filtered = client.get(f"/office/{MONTH}", params={"township": "t02"})
    assert filtered.text.count('<tr data-township="') == 1
    workbook = client.get(f"/office/{MONTH}/roster.xlsx")
    assert workbook.status_code == 200 and workbook.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert load_workbook(io.BytesIO(workbook.content)).sheetnames == ["排班表", "未满足需求"]
    english = client.get(f"/office/{MONTH}?lang=en")
    assert '<html lang="en">' in english.text and "Unmet demand" in english.text


def test_report_and_print_pages_match_the_report(client, seeded, solved_month):
    log_in(client, seeded.office_token)
    report = month_report(solved_month.document, solved_month.scenario)
    page = client.get(f"/office/{MONTH}/report")
    assert page.status_code == 200
    assert f"共{report.sessions}次安排；需求{report.demanded}次，已排{report.met}次，缺{report.unmet}次" in page.text
    printable = client.get(f"/office/{MONTH}/report/print")
    assert printable.status_code == 200 and printable.text.count("<svg") == 4 and "@media print" not in printable.text
    assert client.get("http://testserver/static/rota.css").text.count("@media print") == 1


def test_a_township_request_with_bad_fields_is_answered_naming_them(client, seeded):
    log_in(client, seeded.township_token)
    answer = client.post("/township/requests", data={"type": "clinic", "specialty": "cardio", "sessions": "0", "first_day": "2027-01-20", "last_day": "2027-01-10"})
    assert answer.status_code == 422
    assert "次数" in answer.text and "结束日期" in answer.text
    assert 'value="2027-01-20"' in answer.text  # the form keeps what was typed
    answer = client.post("/township/requests", data={"type": "clinic", "specialty": "cardio", "sessions": "1", "first_day": "not a date"})
    assert answer.status_code == 422 and "开始日期" in answer.text


def test_a_township_request_is_stored_and_listed_with_its_state(client, seeded):
    log_in(client, seeded.township_token)
    answer = client.post("/township/requests", data={"type": "clinic", "specialty": "internal_med", "sessions": "1", "first_day": "2027-01-18", "last_day": "2027-01-22", "note": "流感"}, follow_redirects=False)
    assert answer.status_code == 303
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        page = client.get(f"/township?month={MONTH}")
        state = re.search(r'data-state="(\w+)"', page.text).group(1)
        if state == "scheduled":
            break
        time.sleep(0.3)
    assert state == "scheduled", page.text
    assert "已排班" in page.text


def test_expert_feed_link_and_qr_code(client, seeded):
    log_in(client, seeded.expert_token)
    page = client.get(f"/expert?month={MONTH}")
    assert page.status_code == 200 and "我的下沉安排" in page.text and 'class="session' in page.text
    created = client.post("/expert/feed")
    url = re.search(r'id="feed-url">([^<]+)<', created.text).group(1)
    assert url.startswith(f"http://testserver{BASE}/feeds/") and url.endswith(".ics")
    assert '<svg' in created.text and 'class="segno"' in created.text and created.headers["cache-control"] == "no-store"
    feed = client.get(url)
    assert feed.status_code == 200 and "BEGIN:VCALENDAR" in feed.text


def test_expert_leave_form_names_bad_fields(client, seeded):
    log_in(client, seeded.expert_token)
    answer = client.post("/expert/leave", data={"first_day": "2027-01-12", "last_day": "2027-01-11"})
    assert answer.status_code == 422 and "结束日期" in answer.text


def test_office_declines_and_approves_pending_requests(client, seeded):
    engine = make_engine(seeded.url)
    factory = session_factory(engine)
    log_in(client, seeded.township_token)
    # A paediatric teaching session nobody can give stays pending with the reason.
    client.post("/township/requests", data={"type": "teaching", "specialty": "paeds", "sessions": "1", "first_day": "2027-01-11"})
    with factory() as session:
        from scheduler import requests

        row = requests.list_requests(session, COMMUNITY)[0]
    log_in(client, seeded.office_token)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and f'data-request="{row.id}"' not in client.get("/office/inbox").text:
        time.sleep(0.3)
    inbox = client.get("/office/inbox")
    assert f'data-request="{row.id}"' in inbox.text
    approved = client.post(f"/office/requests/{row.id}/approve")
    assert approved.status_code == 200 and "待处理" in approved.text
    declined = client.post(f"/office/requests/{row.id}/decline", data={"reason": "本月无儿科专家"})
    assert declined.status_code == 200 and f'data-request="{row.id}"' not in declined.text
    with factory() as session:
        assert requests.get_request(session, COMMUNITY, row.id).state == "declined"
        assert store.list_versions(session, COMMUNITY, MONTH)[-1].version >= 1
    engine.dispose()


def test_failed_events_are_listed_and_can_be_retried(client, seeded):
    from scheduler.events import Event
    from scheduler.notify.models import utc_now

    engine = make_engine(seeded.url)
    factory = session_factory(engine)
    with factory() as session, session.begin():
        now = utc_now()
        event = Event(community_id=store.community_id_of(session, COMMUNITY), kind="request", payload={"request_id": 99999}, month=MONTH, status="failed", attempts=5,
                      last_error="no extra-session request with id 99999", created_at=now, next_attempt_at=now)
        session.add(event)
        session.flush()
        event_id = event.id
    log_in(client, seeded.office_token)
    inbox = client.get("/office/inbox")
    assert f'data-event="{event_id}"' in inbox.text and "no extra-session request with id 99999" in inbox.text
    assert client.post(f"/office/events/{event_id}/retry", follow_redirects=False).status_code == 303
    with factory() as session:
        # Back in the queue with a fresh budget: it cannot be failed again before its attempts run out.
        assert session.get(Event, event_id).status in ("pending", "processing")
    again = client.post(f"/office/events/{event_id}/retry")
    assert again.status_code == 409 and "only a failed event" in again.text
    engine.dispose()


def test_a_failed_request_event_offers_to_decline_its_request(client, seeded):
    import datetime as dt

    from scheduler.events import Event
    from scheduler.notify.models import utc_now
    from scheduler import requests

    engine = make_engine(seeded.url)
    factory = session_factory(engine)
    with factory() as session, session.begin():
        # Stored without an event of its own, so only the failed event below points at it.
        row = requests.create_request(session, COMMUNITY, "t02", "clinic", "cardio", 1, dt.date(2027, 1, 12))
        now = utc_now()
        session.add(Event(community_id=row.community_id, kind="request", payload={"request_id": row.id}, month=MONTH, township="t02", status="failed", attempts=5,
                          last_error="boom", created_at=now, next_attempt_at=now))
        request_id = row.id
    log_in(client, seeded.office_token)
    grid = client.get(f"/office/{MONTH}")
    assert 'id="inbox-counts"' in grid.text and "1个加诊申请，1个失败事件" in grid.text
    inbox = client.get("/office/inbox")
    assert inbox.text.count(f'action="{BASE}/office/requests/{request_id}/decline"') == 2  # in the requests list and on the failed event
    assert "加诊申请" in inbox.text
    client.post(f"/office/requests/{request_id}/decline", data={"reason": "本月心内科已满"})
    with factory() as session:
        assert requests.get_request(session, COMMUNITY, request_id).state == "declined"
    engine.dispose()


def test_versions_page_shows_the_diff_between_versions(client, seeded, solved_month):
    import dataclasses

    engine = make_engine(seeded.url)
    factory = session_factory(engine)
    first, second = solved_month.solution.assignments[:2]
    moved = dataclasses.replace(first, half_day="pm" if first.half_day == "am" else "am")
    changed = dataclasses.replace(solved_month.solution, assignments=(moved, *solved_month.solution.assignments[2:]))
    with factory() as session, session.begin():
        store.save_roster_version(session, COMMUNITY, changed, status="draft", cause="office edit")
    engine.dispose()
    log_in(client, seeded.office_token)
    page = client.get(f"/office/{MONTH}/versions")
    assert page.status_code == 200 and "第1版 → 第2版的变化" in page.text
    assert page.text.count('<li class="moved">') == 1 and page.text.count('<li class="removed">') == 1
    assert "office edit" in page.text
    assert client.get(f"/office/{MONTH}/versions?before=1&after=7").status_code == 404
    # The grid shows the latest version (a draft now) with its publish button.
    grid = client.get(f"/office/{MONTH}")
    assert 'data-version="2" data-status="draft"' in grid.text and 'id="publish"' in grid.text


def test_every_answer_forbids_framing_and_limits_sources(client, seeded):
    """Login page, a logged-in page, a redirect and an API error all carry the security headers."""
    answers = [client.get("/login"), client.get("/office", follow_redirects=False)]
    log_in(client, seeded.office_token)
    answers.append(client.get("/office"))
    answers.append(client.get("/healthz"))
    for answer in answers:
        assert answer.headers["x-frame-options"] == "DENY"
        policy = answer.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy and "form-action 'self'" in policy
        assert answer.headers["referrer-policy"] == "same-origin"
        assert answer.headers["x-content-type-options"] == "nosniff"


def test_five_failed_logins_are_throttled_even_for_a_good_token(client, seeded):
    for _ in range(5):
        assert log_in(client, "rota_not-a-token").status_code == 401
    assert log_in(client, seeded.office_token).status_code == 429
