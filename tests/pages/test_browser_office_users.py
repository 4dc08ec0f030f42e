"""The office's users in a real browser (headless Chromium, Playwright, a real uvicorn) at 375 px and 1280 px, zh-CN and en.

The office opens its users page from the navigation and adds a user (a taken name refused first, in the page's
language); the user logs in with that name and password in a browser of their own; the office sets them a new
password, which logs that browser out, and the user logs in with the new one; the office disables the user,
whose open page ends at once and whose next login is refused; the office enables the user again, who logs in
with the same password. Every page fits the window (no sideways scroll);
screenshots go to tests/artifacts/. One server and one browser for the file (the main browser test's fixtures).
"""

from __future__ import annotations

import pytest

from tests.pages.conftest import BASE
from tests.pages.test_browser import OVERFLOW_SCRIPT, browser, log_in, new_page, service, shot

__all__ = ["browser", "service"]  # the fixtures, shared with the main browser test

VIEWS = [pytest.param((375, 812), "zh-CN", id="phone-zh"), pytest.param((1280, 900), "en", id="desk-en")]
WORDS = {
    "zh-CN": {
        "title": "医务科账号", "added": "已新增账号", "taken": "已有名为", "password_set": "已为", "disabled": "已停用账号",
        "state_disabled": "已停用", "enabled": "已重新启用账号", "state_active": "启用", "failed": "用户名或密码错误", "last_login": "最近登录",
    },
    "en": {
        "title": "Office users", "added": "added: they can log in now", "taken": "There is already a user named", "password_set": "A new password is set",
        "disabled": "is disabled", "state_disabled": "disabled", "enabled": "is enabled again", "state_active": "active",
        "failed": "Wrong name or password", "last_login": "last login",
    },
}
USERS = {"zh-CN": "周医务", "en": "Zhou Min"}
FIRST, SECOND = "first passphrase 1", "second passphrase 2"


def fits(page) -> None:
    found = page.evaluate(OVERFLOW_SCRIPT)
    assert found["scrollWidth"] <= found["width"] and not found["out"], found


def user_logs_in(page, name: str, password: str, lang: str) -> None:
    page.goto(f"{BASE}/login?lang={lang}")
    page.fill("#name", name)
    page.fill("#password", password)
    page.click("#user-login-button")
    page.wait_for_load_state()


def user_card(page, name: str):
    return page.locator(f'li.office-user[data-name="{name}"]')


@pytest.mark.parametrize(("size", "lang"), VIEWS)
def test_the_office_adds_a_user_who_logs_in_is_disabled_then_enabled(service, browser, size, lang):
    base, seeded = service
    words, name, width = WORDS[lang], USERS[lang], size[0]

    office = new_page(browser, base, *size)
    log_in(office, seeded.office_token)
    office.goto(f"{BASE}/office/inbox?lang={lang}")
    office.click(f'nav a[href^="{BASE}/office/users"]')
    office.wait_for_load_state()
    assert office.locator("h1").inner_text() == words["title"]
    fits(office)
    office.fill("#new-user-name", name)
    office.fill("#new-user-password", FIRST)
    office.click("#add-user-button")
    office.wait_for_load_state()
    assert words["added"] in office.locator("p.notice[role=status]").inner_text()
    assert user_card(office, name).get_attribute("data-state") == "active"
    fits(office)
    shot(office, f"office-users-added-{width}-{lang}")
    office.fill("#new-user-name", name)  # the same name again: refused, said in the page's language
    office.fill("#new-user-password", FIRST)
    office.click("#add-user-button")
    office.wait_for_load_state()
    assert words["taken"] in office.locator("section.errors[role=alert]").inner_text()
    assert office.locator("#new-user-name").input_value() == name
    fits(office)
    shot(office, f"office-users-name-taken-{width}-{lang}")

    user = new_page(browser, base, *size)
    user_logs_in(user, name, FIRST, lang)
    assert f"{BASE}/office" in user.url and "/login" not in user.url
    assert user.locator(f'nav a[href^="{BASE}/office/users"]').count() == 1
    shot(user, f"office-user-logged-in-{width}-{lang}")

    office.goto(f"{BASE}/office/users?lang={lang}")
    assert words["last_login"] in user_card(office, name).inner_text()
    user_card(office, name).locator("input[type=password]").fill(SECOND)
    user_card(office, name).locator(".set-password-button").click()
    office.wait_for_load_state()
    assert words["password_set"] in office.locator("p.notice[role=status]").inner_text()
    user.goto(f"{BASE}/office/inbox?lang={lang}")
    assert "/login" in user.url  # the new password ended the user's session
    user_logs_in(user, name, FIRST, lang)
    assert words["failed"] in user.locator("#user-login [role=alert]").inner_text()
    user_logs_in(user, name, SECOND, lang)
    assert f"{BASE}/office" in user.url and "/login" not in user.url

    office.goto(f"{BASE}/office/users?lang={lang}")
    user_card(office, name).locator(".disable-user-button").click()
    office.wait_for_load_state()
    assert words["disabled"] in office.locator("p.notice[role=status]").inner_text()
    card = user_card(office, name)
    assert card.get_attribute("data-state") == "disabled" and words["state_disabled"] in card.inner_text()
    assert card.locator("form").count() == 1 and card.locator(".enable-user-button").count() == 1  # only enabling is left
    fits(office)
    shot(office, f"office-users-disabled-{width}-{lang}")

    user.goto(f"{BASE}/office/inbox?lang={lang}")
    assert "/login" in user.url  # logged out at once
    user_logs_in(user, name, SECOND, lang)
    assert words["failed"] in user.locator("#user-login [role=alert]").inner_text()
    fits(user)
    shot(user, f"office-user-disabled-login-refused-{width}-{lang}")
    user.goto(f"{BASE}/office/users?lang={lang}")
    assert "/login" in user.url  # still nobody

    office.goto(f"{BASE}/office/users?lang={lang}")
    user_card(office, name).locator(".enable-user-button").click()
    office.wait_for_load_state()
    assert words["enabled"] in office.locator("p.notice[role=status]").inner_text()
    card = user_card(office, name)
    assert card.get_attribute("data-state") == "active" and card.locator(".user-state").inner_text() == words["state_active"]
    assert card.locator(".disable-user-button").count() == 1 and card.locator(".enable-user-button").count() == 0
    fits(office)
    shot(office, f"office-users-enabled-{width}-{lang}")
    user_logs_in(user, name, SECOND, lang)  # the password from before the disabling
    assert f"{BASE}/office" in user.url and "/login" not in user.url
    user.goto(f"{BASE}/office/users?lang={lang}")
    assert user.locator("h1").inner_text() == words["title"]
    assert "/login" not in user.url
    user.context.close()
    office.context.close()
