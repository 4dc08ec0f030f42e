"""The office users page (`/office/users`) through the real app, on SQLite and PostgreSQL.

The office adds a user (refusals worded in Chinese or English, never mixed, the typed name kept), the user logs
in, gets a new password, is disabled (logged out at once, refused at the next login), is enabled again (logs in
with the old password); an office user cannot
disable themselves; a township head or an expert gets the 403 page, a visitor the login page; a form without the
CSRF token is refused; the audit page shows each change with its actor.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from api.app import create_app
from config.settings import Settings
from scheduler import office_users
from scheduler.db import make_engine, session_factory, transaction
from tests.pages.conftest import BASE, COMMUNITY, ServiceDatabase, seed_database
from tests.pages.forms import PageClient, form_token, log_in

PASSWORD = "correct horse battery"
HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def seeded_db(database_url: str, engine) -> ServiceDatabase:  # `engine`: migrated and empty; no roster needed
    return seed_database(database_url, None, "t01", "E010")


@pytest.fixture
def factory(seeded_db: ServiceDatabase):
    engine = make_engine(seeded_db.url)
    yield session_factory(engine)
    engine.dispose()


def new_client(seeded_db: ServiceDatabase) -> PageClient:
    return PageClient(create_app(Settings(database_url=seeded_db.url, solver_time_limit=2, run_scheduler=False)), base_url=f"http://testserver{BASE}")


@pytest.fixture
def office(seeded_db: ServiceDatabase) -> Iterator[PageClient]:
    with new_client(seeded_db) as client:
        log_in(client, seeded_db.office_token)
        yield client


def user_login(client: PageClient, name: str, password: str):
    page = client.get("/login")
    return client.post("/login", data={"name": name, "password": password, "csrf_token": form_token(page.text) or ""}, follow_redirects=False)


def user_id(factory, name: str) -> int:
    with factory() as session:
        return next(u.id for u in office_users.list_users(session, COMMUNITY) if u.name == name)


def main_of(html: str) -> str:
    return html[html.index("<main>"):html.index("</main>")]


def errors_of(html: str) -> str:
    found = re.search(r'<section class="errors" role="alert">(.*?)</section>', html, re.DOTALL)
    return found.group(1) if found else ""


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_the_office_adds_a_user_who_then_logs_in(office, seeded_db, factory, lang):
    page = office.get(f"/office/users?lang={lang}")
    assert page.status_code == 200 and f'<html lang="{lang}">' in page.text
    assert f'href="{BASE}/office/users?lang={lang}"' in page.text  # in the office navigation
    assert ("还没有账号" if lang == "zh-CN" else "No users yet") in page.text

    short = office.post(f"/office/users?lang={lang}", data={"name": "王医务", "password": "short"})
    assert short.status_code == 422
    assert errors_of(short.text).count("<li>") == 1
    assert ("密码至少 8 个字符。" if lang == "zh-CN" else "Password: at least 8 characters") in errors_of(short.text)
    assert 'value="王医务"' in short.text and 'value="short"' not in short.text  # the name is kept, the password is not
    nameless = office.post(f"/office/users?lang={lang}", data={"name": " ", "password": PASSWORD})
    assert ("请填写用户名。" if lang == "zh-CN" else "Name: a user needs a name") in errors_of(nameless.text)

    added = office.post(f"/office/users?lang={lang}", data={"name": "王医务", "password": PASSWORD}, follow_redirects=False)
    assert added.status_code == 303 and added.headers["location"].startswith(f"{BASE}/office/users?done=added&user=")
    shown = office.get(added.headers["location"].removeprefix(BASE))
    assert ("已新增账号“王医务”" if lang == "zh-CN" else "User 王医务 added") in shown.text
    assert 'data-name="王医务" data-state="active"' in shown.text
    assert ("从未登录" if lang == "zh-CN" else "never logged in") in shown.text
    taken = office.post(f"/office/users?lang={lang}", data={"name": "王医务", "password": PASSWORD})
    assert taken.status_code == 409 and ("已有名为“王医务”的账号" if lang == "zh-CN" else "There is already a user named 王医务") in taken.text
    if lang == "en":  # the English page holds no Chinese but the names the office typed
        assert not HAN.search(errors_of(short.text)) and not HAN.search(main_of(shown.text).replace("王医务", ""))

    with new_client(seeded_db) as browser:
        assert user_login(browser, "王医务", PASSWORD).status_code == 303
        assert browser.get("/office/users").status_code == 200
    listed = office.get(f"/office/users?lang={lang}").text
    assert ("最近登录" if lang == "zh-CN" else "last login") in listed


def test_a_disabled_user_is_logged_out_at_once_and_cannot_log_in(office, seeded_db, factory):
    office.get("/office/users")
    office.post("/office/users", data={"name": "李医务", "password": PASSWORD})
    target = user_id(factory, "李医务")
    with new_client(seeded_db) as browser:
        assert user_login(browser, "李医务", PASSWORD).status_code == 303
        assert browser.get("/office/inbox", follow_redirects=False).status_code == 200
        office.get("/office/users")
        disabled = office.post(f"/office/users/{target}/disable", follow_redirects=False)
        assert disabled.status_code == 303
        assert "已停用账号“李医务”" in office.get(disabled.headers["location"].removeprefix(BASE)).text
        assert browser.get("/office/inbox", follow_redirects=False).headers["location"] == f"{BASE}/login"  # the session ended
        refused = user_login(browser, "李医务", PASSWORD)
        assert refused.status_code == 401 and "用户名或密码错误，或账号已停用" in refused.text
    listed = office.get("/office/users").text
    assert 'data-name="李医务" data-state="disabled"' in listed
    assert f'/office/users/{target}/disable' not in listed and f'/office/users/{target}/password' not in listed
    assert f'action="{BASE}/office/users/{target}/enable"' in listed and "重新启用此账号" in listed


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_a_disabled_user_enabled_again_logs_in_with_the_old_password(office, seeded_db, factory, lang):
    office.get("/office/users")
    office.post("/office/users", data={"name": "李医务", "password": PASSWORD})
    target = user_id(factory, "李医务")
    office.get("/office/users")
    office.post(f"/office/users/{target}/disable")
    forged = office.post(f"/office/users/{target}/enable", data={"csrf_token": "0" * 64})
    assert forged.status_code == 403
    with factory() as session:
        assert office_users.get_user(session, COMMUNITY, target).disabled  # the forged form changed nothing
    page = office.get(f"/office/users?lang={lang}")
    assert ("重新启用此账号" if lang == "zh-CN" else "Enable this account again") in page.text
    enabled = office.post(f"/office/users/{target}/enable?lang={lang}", follow_redirects=False)
    assert enabled.status_code == 303 and enabled.headers["location"] == f"{BASE}/office/users?done=enabled&user={target}&lang={lang}"
    shown = office.get(enabled.headers["location"].removeprefix(BASE)).text
    assert ("已重新启用账号“李医务”，可以用原密码登录了。" if lang == "zh-CN" else "User 李医务 is enabled again") in shown
    assert 'data-name="李医务" data-state="active"' in shown
    assert f'/office/users/{target}/disable' in shown and f'/office/users/{target}/enable' not in shown
    if lang == "en":
        assert not HAN.search(main_of(shown).replace("李医务", ""))
    again = office.post(f"/office/users/{target}/enable", follow_redirects=False)  # an active user: no change
    assert again.status_code == 303
    with new_client(seeded_db) as browser:
        assert user_login(browser, "李医务", PASSWORD).status_code == 303
        assert browser.get("/office/inbox", follow_redirects=False).status_code == 200


def test_a_new_password_keeps_the_asking_browser_and_ends_the_others(seeded_db, factory):
    with transaction(factory) as session:
        office_users.create_user(session, COMMUNITY, "王医务", PASSWORD)
    target = user_id(factory, "王医务")
    with new_client(seeded_db) as own, new_client(seeded_db) as elsewhere:
        user_login(own, "王医务", PASSWORD)
        user_login(elsewhere, "王医务", PASSWORD)
        page = own.get("/office/users?lang=en")
        assert "(you)" in page.text and f"/office/users/{target}/disable" not in page.text  # no button to lock oneself out
        refused = own.post(f"/office/users/{target}/disable?lang=en")  # posted anyway
        assert refused.status_code == 409 and "You cannot disable the account you are using" in refused.text
        short = own.post(f"/office/users/{target}/password?lang=en", data={"password": "short"})
        assert short.status_code == 422 and "Password: at least 8 characters" in short.text
        changed = own.post(f"/office/users/{target}/password?lang=en", data={"password": "a brand new passphrase"}, follow_redirects=False)
        assert changed.status_code == 303
        assert "A new password is set for 王医务" in own.get(changed.headers["location"].removeprefix(BASE)).text  # still logged in here
        assert elsewhere.get("/office/inbox", follow_redirects=False).status_code == 303  # logged out there
    with new_client(seeded_db) as browser:
        assert user_login(browser, "王医务", PASSWORD).status_code == 401
        assert user_login(browser, "王医务", "a brand new passphrase").status_code == 303


def test_only_the_office_of_the_community_reaches_the_page(seeded_db, factory):
    with new_client(seeded_db) as client:
        assert client.get("/office/users", follow_redirects=False).headers["location"] == f"{BASE}/login"
        for token in (seeded_db.township_token, seeded_db.expert_token):
            log_in(client, token)
            assert client.get("/office/users").status_code == 403
            assert client.post("/office/users", data={"name": "越权", "password": PASSWORD}).status_code == 403
        log_in(client, seeded_db.office_token)
        client.get("/office/users")
        forged = client.post("/office/users", data={"name": "越权", "password": PASSWORD, "csrf_token": "0" * 64})
        assert forged.status_code == 403 and "请求被拒绝" in forged.text
        assert client.post("/office/users/2147483647/disable").status_code == 404
        assert client.post("/office/users/2147483647/enable").status_code == 404
    with factory() as session:
        assert office_users.list_users(session, COMMUNITY) == []


def test_the_audit_page_shows_each_change_with_its_actor(office, factory):
    office.get("/office/users")
    office.post("/office/users", data={"name": "王医务", "password": PASSWORD})
    target = user_id(factory, "王医务")
    office.get("/office/users")
    office.post(f"/office/users/{target}/password", data={"password": "a brand new passphrase"})
    office.get("/office/users")
    office.post(f"/office/users/{target}/disable")
    office.get("/office/users")
    office.post(f"/office/users/{target}/enable")
    trail = office.get("/office/audit?kind=user").text
    assert [m for m in re.findall(r"<strong>账号</strong> · ([^<]*)</p>", trail)] == [
        "重新启用账号“王医务”", "停用账号“王医务”", "为“王医务”设置新密码", "新增账号“王医务”",
    ]
    assert trail.count("office（医务科）") >= 4  # the seeded office token's label, as the actor
    english = office.get("/office/audit?kind=user&lang=en").text
    assert "added user 王医务" in english and "disabled user 王医务" in english and "enabled user 王医务" in english
    assert "passphrase" not in trail + english
