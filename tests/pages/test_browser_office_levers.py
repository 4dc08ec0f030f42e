"""The office's levers and trails on a 375 px phone, in a real browser (headless Chromium, Playwright, a real uvicorn).

One server and one browser for the file (the fixtures of tests/pages/test_browser.py), the sample county's
January (the page tests' solved month) published once. The tests run in this order and build on each other, as an office's morning would:
the office gives a township a group robot (the robot refuses: a real HTTP receiver answering 400) and an
expert an email; pins a session and unpins it; restores an earlier version, whose notices then reach the
notices page (the robot's refusal shown with its error, and sent again on request); reads the audit trail
filtered by kind; closes a township (a bad date refused first) and sees on the month page what the
closure did, then reopens it. Each test fills the
form, submits, sees the result, checks the page fits the phone (no horizontal scroll) and saves a
screenshot to tests/artifacts/.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from scheduler import flows, store
from scheduler.db import make_engine, session_factory, transaction
from tests.pages.conftest import BASE, COMMUNITY, MONTH
from tests.pages.test_browser import OVERFLOW_SCRIPT, browser, log_in, new_page, published_assignments, reload_until, service, shot

__all__ = ["browser", "service"]  # the fixtures, shared with the main browser test

PHONE = (375, 812)
TOWNSHIP = "t01"  # the township head of the seeded tokens; the robot the office sets for it refuses


class RefusingRobot:
    """A real HTTP receiver playing a group robot whose key was revoked: every post is answered 400, and kept."""

    def __init__(self) -> None:
        self.posts: list[dict] = []
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                robot.posts.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                body = b'{"errcode":93000,"errmsg":"invalid webhook url"}'
                self.send_response(400)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cgi-bin/webhook/send?key=revoked"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def robot() -> Iterator[RefusingRobot]:
    receiver = RefusingRobot()
    yield receiver
    receiver.close()


@pytest.fixture(scope="module")
def published(service, solved_month):
    """The service's county with January published as version 1: the page tests' solved month (solved once per run),
    stored directly (generating through the page is test_browser.py's test, and costs this file a solve)."""
    base, seeded = service
    engine = make_engine(seeded.url)
    try:
        with transaction(session_factory(engine)) as session:
            store.publish(session, COMMUNITY, MONTH, store.save_roster_version(session, COMMUNITY, solved_month.solution, status="draft", cause="test"))
    finally:
        engine.dispose()
    return base, seeded


@pytest.fixture(scope="module")
def office(published, browser):
    """A phone-sized page logged in as the office, for the whole file (one session, as a person keeps their phone)."""
    base, seeded = published
    page = new_page(browser, base, *PHONE)
    log_in(page, seeded.office_token)
    yield page, seeded
    page.context.close()


def dropped_session(seeded):
    """The session of t01 the office's edit will drop before the revert: a clinic on a day without a link visit there
    (so dropping it breaks no rule). Its expert is the one the office gives an email."""
    assignments, _ = published_assignments(seeded)
    visits = {a.date for a in assignments if a.township == TOWNSHIP and a.type == "supervision"}
    return next(a for a in sorted(assignments, key=lambda a: (a.date, a.half_day, a.expert)) if a.township == TOWNSHIP and a.type == "clinic" and a.date not in visits)


def fits(page) -> None:
    found = page.evaluate(OVERFLOW_SCRIPT)
    assert found["scrollWidth"] <= found["width"] and not found["out"], (page.url, found)


def status_line(page) -> str:
    return page.locator("p.notice[role=status]").inner_text()


def test_office_sets_contacts_on_a_phone(office, robot):
    page, seeded = office
    expert = dropped_session(seeded).expert
    page.goto(f"{BASE}/office/{MONTH}")
    page.click(f'nav a[href="{BASE}/office/contacts"]')  # from the office's navigation
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "联系人"
    fits(page)

    page.click(f'#contacts tr[data-kind="township"][data-id="{TOWNSHIP}"] a.edit-contact')
    page.wait_for_load_state()
    page.fill("#webhook_url", "ftp://robot.example/send")  # a URL the browser takes, the service does not
    page.click("#save-contact")
    page.wait_for_load_state()
    assert "群机器人地址必须以 http:// 或 https:// 开头" in page.locator(".errors").inner_text()
    assert page.locator("#webhook_url").input_value() == "ftp://robot.example/send"  # what was typed is kept
    fits(page)
    page.fill("#webhook_url", robot.url)
    page.click("#save-contact")
    page.wait_for_load_state()
    assert status_line(page) == "联系人已保存。"
    assert page.locator(f'#contacts tr[data-kind="township"][data-id="{TOWNSHIP}"]').inner_text().count("已设置") == 1

    page.click(f'#contacts tr[data-kind="expert"][data-id="{expert}"] a.edit-contact')
    page.wait_for_load_state()
    page.fill("#email", "zhuanjia@hospital.example")
    page.select_option("#language", "en")
    page.click("#save-contact")
    page.wait_for_load_state()
    row = page.locator(f'#contacts tr[data-kind="expert"][data-id="{expert}"]').inner_text()
    assert "zhuanjia@hospital.example" in row and "英文" in row
    fits(page)
    shot(page, "phone-office-contacts-saved")


def test_office_pins_a_session_and_unpins_it_on_a_phone(office):
    page, _ = office
    page.goto(f"{BASE}/office/{MONTH}")
    page.click(f'a[href="{BASE}/office/{MONTH}/pins"]')  # from the office's navigation
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().endswith("锁定排班") and page.locator("#no-pins").count() == 1
    fits(page)
    card = page.locator("#sessions .card.session").first
    chosen = card.get_attribute("data-assignment")
    card.locator("input[name=note]").fill("院长要求")
    card.locator(".pin-button").click()
    page.wait_for_load_state()
    assert status_line(page) == "已锁定该排班。"
    pinned = page.locator(f'#pinned .card.pin[data-assignment="{chosen}"]')
    assert pinned.count() == 1 and "院长要求" in pinned.inner_text() and "office" in pinned.inner_text()
    assert page.locator(f'#sessions .card.session[data-assignment="{chosen}"]').count() == 0
    fits(page)
    shot(page, "phone-office-pinned")

    pinned.locator("button").click()
    page.wait_for_load_state()
    assert status_line(page) == "已解除锁定。" and page.locator("#no-pins").count() == 1
    assert page.locator(f'#sessions .card.session[data-assignment="{chosen}"]').count() == 1
    fits(page)


def test_office_restores_an_earlier_version_on_a_phone(office):
    page, seeded = office
    factory = session_factory(make_engine(seeded.url))
    assignments, version = published_assignments(seeded)
    # A newer published version to go back from: the office's edit drops one of t01's sessions.
    flows.publish(factory, COMMUNITY, MONTH, flows.remove_session(factory, COMMUNITY, MONTH, dropped_session(seeded).id))
    _, edited = published_assignments(seeded)
    assert edited == version + 1

    page.goto(f"{BASE}/office/{MONTH}/versions")
    fits(page)
    assert page.locator(f"#revert-{edited}").count() == 0  # the latest has nothing to restore
    page.click(f"#revert-{version}")
    page.wait_for_load_state()
    assert status_line(page) == f"已恢复：第 {version} 版的排班已另存为第 {edited + 1} 版并发布，改动 1 处，通知正在发送。"
    restored, number = published_assignments(seeded)
    assert number == edited + 1
    assert sorted(a.content for a in restored) == sorted(a.content for a in assignments)
    assert page.locator("#versions tbody tr").count() == edited + 1
    fits(page)
    shot(page, "phone-office-versions-reverted")


def test_office_sees_the_refused_notice_and_sends_it_again_on_a_phone(office, robot):
    page, seeded = office
    expert = dropped_session(seeded).expert  # published v1 = the restored version: the same session again
    failed = f'#notices li.notice-row[data-status="failed"]'
    reload_until(page, f"{BASE}/office/notices", lambda p: p.locator(failed).count() >= 1, seconds=60)  # the worker tells of the revert
    assert robot.posts, "the notice went to the township's robot"
    row = page.locator(failed).first
    text = row.inner_text()
    assert f"卫生院 {TOWNSHIP}" in text and "群机器人" in text and "发送失败" in text and "HTTP 400" in text, text
    # The expert's email waits: the service has no SMTP server (and the email is in English, the expert's language).
    queued = page.locator('#notices li.notice-row[data-status="queued"]').all_inner_texts()
    assert [t for t in queued if f"专家 {expert}" in t and "邮件" in t], queued
    fits(page)
    shot(page, "phone-office-notices")

    row.locator("button.retry-notice").click()
    page.wait_for_load_state()
    assert status_line(page) == "已重新排队发送。"
    page.click('#notice-filters a[data-status="sent"]')
    page.wait_for_load_state()
    assert page.locator("#notice-filters a.current").get_attribute("data-status") == "sent"
    assert page.locator(f'#notices li.notice-row:not([data-status="sent"])').count() == 0
    fits(page)


def test_office_reads_the_audit_trail_filtered_on_a_phone(office):
    page, _ = office
    page.goto(f"{BASE}/office/{MONTH}")
    page.click(f'a[href="{BASE}/office/audit"]')  # from the office's navigation
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "操作记录"
    fits(page)
    for kind, word, count in (("revert", "恢复", 1), ("pin", "锁定", 1), ("unpin", "解除锁定", 1)):
        page.select_option("#audit-filters select[name=kind]", kind)
        page.fill("#audit-filters input[name=month]", MONTH)
        page.click("#audit-filters button[type=submit]")
        page.wait_for_load_state()
        entries = page.locator("#audit li.audit-entry")
        assert entries.count() == count, (kind, page.inner_text("main"))
        assert word in entries.first.inner_text() and "office（医务科）" in entries.first.inner_text(), entries.first.inner_text()
    fits(page)
    shot(page, "phone-office-audit-filtered")
    page.fill("#audit-filters input[name=actor]", "nobody")
    page.click("#audit-filters button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#audit-empty").count() == 1


def test_office_closes_a_township_on_a_phone_and_sees_what_it_did(office):
    page, seeded = office
    assignments, version = published_assignments(seeded)
    target = next(a for a in sorted(assignments, key=lambda a: a.date) if a.township == "t02" and a.type != "supervision")
    day = target.date.isoformat()
    page.goto(f"{BASE}/office/{MONTH}")
    page.click(f'a[href="{BASE}/office/closures"]')  # from the office's navigation
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "卫生院停诊"
    fits(page)

    page.select_option("#township", "t02")
    page.fill("#from", day)
    page.fill("#to", "2027-01-01")  # before the first day: refused, named, nothing stored
    page.fill("#reason", "洪水")
    page.click("#submit-closure")
    page.wait_for_load_state()
    assert "结束日期无效" in page.locator(".errors").inner_text()
    assert page.locator("#from").input_value() == day
    page.fill("#to", "")
    page.click("#submit-closure")
    page.wait_for_load_state()
    assert "停诊已登记" in status_line(page)
    assert page.locator(f'#closed-days li[data-township="t02"][data-date="{day}"]').count() == 1
    fits(page)
    shot(page, "phone-office-closure-filed")

    reload_until(
        page, f"{BASE}/office/{MONTH}",
        lambda p: p.locator('#month-events li[data-kind="closure"][data-status="done"]').count() == 1, seconds=90,
    )
    after, new_version = published_assignments(seeded)
    assert new_version > version
    assert not [a for a in after if a.township == "t02" and a.date == target.date]
    done = page.locator('#month-events li[data-kind="closure"]').inner_text()
    assert f"t02 停诊 {day}（洪水）" in done and f"第{new_version}版（已发布）" in done
    assert page.locator(f'#roster-grid tr[data-township="t02"] td[data-date="{day}"] .slot').count() == 0
    fits(page)
    shot(page, "phone-office-month-after-closure")

    page.goto(f"{BASE}/office/closures")
    page.locator(f'#closed-days li[data-date="{day}"] button').click()
    page.wait_for_load_state()
    assert "已恢复开诊" in status_line(page)
    assert page.locator(f'#closed-days li[data-date="{day}"]').count() == 0
    fits(page)
    page.goto(f"{BASE}/office/closures?lang=en")
    assert page.locator("h1").inner_text() == "Township closures"
    page.goto(f"{BASE}/office/closures?lang=zh-CN")
