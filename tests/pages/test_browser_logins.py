"""Logging in in a real browser (headless Chromium, Playwright, a real uvicorn) at 375 px and 1280 px, zh-CN and en.

An office user logs in with a name and a password (a wrong one first); the office makes a login link for a
township head, who opens it on a phone, logs in and files a request; the office makes one for an expert, who
logs in by it and subscribes to the calendar feed; a used link opens nothing the second time. One server and
one browser for the file (the fixtures of the main browser test); screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import pytest

from scheduler import office_users
from scheduler.db import make_engine, session_factory, transaction
from tests.pages.conftest import BASE, COMMUNITY
from tests.pages.test_browser import OVERFLOW_SCRIPT, TOWNSHIP, browser, log_in, new_page, service, shot

__all__ = ["browser", "service"]  # the fixtures, shared with the main browser test

VIEWS = [pytest.param((375, 812), "zh-CN", id="phone-zh"), pytest.param((1280, 900), "en", id="desk-en")]
WORDS = {
    "zh-CN": {"failed": "用户名或密码错误", "filed": "申请已提交", "spent": "此登录链接已使用", "links": "登录链接"},
    "en": {"failed": "Wrong name or password", "filed": "Request filed", "spent": "This login link has been used", "links": "Login links"},
}
USER, PASSWORD = "王医务", "correct horse battery"


@pytest.fixture(scope="module")
def office_user(service) -> str:
    """An office user in the served database (written beside the running server, as `rota user create` would)."""
    _, seeded = service
    engine = make_engine(seeded.url)
    try:
        with transaction(session_factory(engine)) as session:
            office_users.create_user(session, COMMUNITY, USER, PASSWORD)
    finally:
        engine.dispose()
    return USER


def fits(page) -> None:
    found = page.evaluate(OVERFLOW_SCRIPT)
    assert found["scrollWidth"] <= found["width"] and not found["out"], found


@pytest.fixture(scope="module")
def office(service, browser):
    """The office's browser, logged in once for the file (each test sets its own window size)."""
    base, seeded = service
    page = new_page(browser, base)
    log_in(page, seeded.office_token)
    yield page
    page.context.close()


def office_makes_a_link(page, person: str, size, lang: str) -> str:
    """The office opens its login links page from the navigation, makes a link for `person` and reads it off the page."""
    page.set_viewport_size({"width": size[0], "height": size[1]})
    page.goto(f"{BASE}/office/inbox?lang={lang}")
    page.click(f'nav a[href^="{BASE}/office/logins"]')
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == WORDS[lang]["links"]
    page.select_option("#person", person)
    page.click("#show-link")
    page.wait_for_load_state()
    assert page.locator("#new-link svg").count() == 1  # the QR code to scan from the office's screen
    url = page.locator("#link-url").inner_text()
    fits(page)
    if person.startswith("township:"):  # the page looks the same for an expert's link
        shot(page, f"login-link-made-{size[0]}-{lang}")
    return url


def link_is_spent(browser, base: str, url: str, size, lang: str, name: str = "") -> None:
    """Someone opens a used link: it says so and logs nobody in."""
    page = new_page(browser, base, *size)
    page.goto(url + f"?lang={lang}")
    assert WORDS[lang]["spent"] in page.inner_text("main")
    assert page.locator("#use-link").count() == 0
    assert not [c for c in page.context.cookies() if c["name"] == "rota_session"]  # no session for anyone
    if name:
        shot(page, f"login-link-spent-{name}-{size[0]}-{lang}")
    page.context.close()


@pytest.mark.parametrize(("size", "lang"), VIEWS)
def test_an_office_user_logs_in_with_name_and_password(service, browser, office_user, size, lang):
    base, _ = service
    page = new_page(browser, base, *size)
    page.goto(f"{BASE}/login?lang={lang}")
    fits(page)
    shot(page, f"login-{size[0]}-{lang}")
    page.fill("#name", office_user)
    page.fill("#password", "not the password")
    page.click("#user-login-button")
    page.wait_for_load_state()
    assert WORDS[lang]["failed"] in page.locator("#user-login [role=alert]").inner_text()
    assert page.locator("#name").input_value() == office_user  # the name is kept, the password is not
    page.fill("#password", PASSWORD)
    page.click("#user-login-button")
    page.wait_for_load_state()
    assert f"{BASE}/office" in page.url
    assert page.locator(f'nav a[href^="{BASE}/office/logins"]').count() == 1
    cookie = next(c for c in page.context.cookies() if c["name"] == "rota_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and PASSWORD not in cookie["value"]
    fits(page)
    shot(page, f"office-user-home-{size[0]}-{lang}")
    page.context.close()


@pytest.mark.parametrize(("size", "lang"), VIEWS)
def test_a_township_head_logs_in_by_link_and_files_a_request(service, browser, office, size, lang):
    base, _ = service
    url = office_makes_a_link(office, f"township:{TOWNSHIP}", size, lang)
    page = new_page(browser, base, *size)
    page.goto(url + f"?lang={lang}")
    fits(page)
    shot(page, f"login-link-township-{size[0]}-{lang}")
    page.click("#use-link")
    page.wait_for_load_state()
    assert f"{BASE}/township" in page.url, page.inner_text("main")
    page.select_option("#type", "clinic")
    page.select_option("#specialty", "internal_med")
    page.fill("#sessions", "1")
    page.fill("#first_day", "2027-01-18")
    page.fill("#last_day", "2027-01-29")
    page.fill("#note", "流感高发，门诊量大" if lang == "zh-CN" else "flu season")
    page.click("#submit-request")
    page.wait_for_load_state()
    assert WORDS[lang]["filed"] in page.locator("p.notice[role=status]").inner_text()
    fits(page)
    shot(page, f"township-by-link-request-filed-{size[0]}-{lang}")
    page.context.close()
    link_is_spent(browser, base, url, size, lang, "township")


@pytest.mark.parametrize(("size", "lang"), VIEWS)
def test_an_expert_logs_in_by_link_and_subscribes(service, browser, office, size, lang):
    base, seeded = service
    url = office_makes_a_link(office, f"expert:{seeded.expert}", size, lang)
    page = new_page(browser, base, *size)
    page.goto(url + f"?lang={lang}")
    page.click("#use-link")
    page.wait_for_load_state()
    assert f"{BASE}/expert" in page.url
    page.click("#create-feed")
    page.wait_for_load_state()
    assert page.locator("#feed svg").count() == 1 and page.locator("#feed-url").inner_text().endswith(".ics")
    fits(page)
    shot(page, f"expert-by-link-subscribed-{size[0]}-{lang}")
    page.context.close()
    link_is_spent(browser, base, url, size, lang)
