"""A real login, on SQLite and PostgreSQL: office users by name and argon2 password, township heads and experts by one-time link.

Office users log in on the login form (throttled per address and per name); a disabled user's sessions end.
The office makes a login link on its page, shown once with a QR code or sent to the person's contact; the
link opens a page session with that person's role and scope, once, until it expires; revoking it ends the
session. Drafts are the office's: a township head or an expert sees published versions only, on the pages
and in the API. Migration 0011 goes down to 0010 and back up.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import inspect, select, update

from api.app import create_app
from config.settings import Settings
from scheduler import auth, login_links, office_users, store
from scheduler.db import make_engine, session_factory, transaction
from scheduler.migrate import current_revision, downgrade, head_revision, migrate
from scheduler.notify.contacts import set_contact
from scheduler.notify.models import Notice
from tests.pages.conftest import BASE, COMMUNITY, MONTH, ServiceDatabase, SolvedMonth, seed_database
from tests.pages.forms import PageClient, form_token

TOWNSHIP = "t01"
EXPERT = "E010"
PASSWORD = "correct horse battery"


@pytest.fixture
def seeded_db(database_url: str, engine, solved_month: SolvedMonth) -> ServiceDatabase:  # `engine`: migrated and empty
    return seed_database(database_url, solved_month, TOWNSHIP, EXPERT)


@pytest.fixture
def factory(seeded_db: ServiceDatabase):
    engine = make_engine(seeded_db.url)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def client(seeded_db: ServiceDatabase) -> Iterator[PageClient]:
    app = create_app(Settings(database_url=seeded_db.url, solver_time_limit=2, run_scheduler=False))
    with PageClient(app, base_url=f"http://testserver{BASE}") as test_client:
        yield test_client


def new_client(seeded_db: ServiceDatabase) -> PageClient:
    return PageClient(create_app(Settings(database_url=seeded_db.url, solver_time_limit=2, run_scheduler=False)), base_url=f"http://testserver{BASE}")


def add_user(factory, name: str = "王医务", password: str = PASSWORD) -> int:
    with transaction(factory) as session:
        return office_users.create_user(session, COMMUNITY, name, password)


def user_login(client: PageClient, name: str, password: str, path: str = "/login", **extra: str):
    page = client.get(path)
    answer = client.post(path, data={"name": name, "password": password, "csrf_token": form_token(page.text) or "", **extra}, follow_redirects=False)
    return answer


def logged_in_at(client: PageClient, path: str) -> bool:
    answer = client.get(path, follow_redirects=False)
    assert answer.status_code in (200, 303), answer.status_code
    return answer.status_code == 200


# --- office users --------------------------------------------------------------------------------


def test_an_office_user_logs_in_with_name_and_password_stored_as_argon2(client, factory):
    user_id = add_user(factory)
    with factory() as session:
        row = session.get(auth.OfficeUser, user_id)
    assert row.password_hash.startswith("$argon2id$") and PASSWORD not in row.password_hash
    answer = user_login(client, "王医务", PASSWORD)
    assert answer.status_code == 303 and answer.headers["location"] == f"{BASE}/office"
    assert PASSWORD not in answer.headers.get("set-cookie", "")
    assert logged_in_at(client, "/office/inbox")
    [session_row] = [r for r in _sessions(factory) if r.user_id == user_id]
    assert session_row.api_token_id is None and session_row.login_link_id is None


def test_the_global_login_page_takes_the_community_code(seeded_db, factory):
    add_user(factory)
    app = create_app(Settings(database_url=seeded_db.url, solver_time_limit=2, run_scheduler=False))
    with PageClient(app) as client:
        assert 'name="community"' in client.get("/login").text
        assert user_login(client, "王医务", PASSWORD, community="nowhere").status_code == 401
        answer = user_login(client, "王医务", PASSWORD, community=COMMUNITY)
        assert answer.status_code == 303 and answer.headers["location"] == f"{BASE}/office"


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_a_wrong_password_is_refused_and_five_failures_block_the_name(client, factory, lang):
    add_user(factory)
    wrong = user_login(client, "王医务", "not the password", path=f"/login?lang={lang}")
    assert wrong.status_code == 401
    assert ("用户名或密码错误" if lang == "zh-CN" else "Wrong name or password") in wrong.text
    assert user_login(client, "无此人", PASSWORD).status_code == 401  # an unknown name answers the same
    for _ in range(3):
        user_login(client, "王医务", "still not it")
    blocked = user_login(client, "王医务", PASSWORD, path=f"/login?lang={lang}")
    assert blocked.status_code == 429  # even the right password, until the window passes
    assert ("5 分钟后再试" if lang == "zh-CN" else "try again in 5 minutes") in blocked.text


def test_disabling_a_user_ends_their_sessions(client, factory):
    add_user(factory)
    user_login(client, "王医务", PASSWORD)
    assert logged_in_at(client, "/office/inbox")
    with transaction(factory) as session:
        office_users.disable_user(session, COMMUNITY, "王医务")
    assert not logged_in_at(client, "/office/inbox")
    assert user_login(client, "王医务", PASSWORD).status_code == 401


def test_user_names_and_passwords_are_checked(factory):
    add_user(factory)
    with pytest.raises(Exception, match="already has a user"), transaction(factory) as session:
        office_users.create_user(session, COMMUNITY, " 王医务 ", PASSWORD)
    for name, password, field in (("", PASSWORD, "name"), ("x" * 65, PASSWORD, "name"), ("李\x07", PASSWORD, "name"), ("李", "short", "password")):
        with pytest.raises(office_users.ScenarioError) as refused, transaction(factory) as session:
            office_users.create_user(session, COMMUNITY, name, password)
        assert refused.value.problems[0].path == field
    with factory() as session:
        assert office_users.log_in_user(session, COMMUNITY, "王医务", PASSWORD) is not None
        assert office_users.log_in_user(session, COMMUNITY, "王医务", PASSWORD + "x" * 2000) is None  # too long: never a prefix match
        assert office_users.log_in_user(session, "nowhere", "王医务", PASSWORD) is None


# --- login links ---------------------------------------------------------------------------------


def office_client(seeded_db: ServiceDatabase) -> PageClient:
    office = new_client(seeded_db)
    office.__enter__()
    from tests.pages.forms import log_in

    assert log_in(office, seeded_db.office_token).status_code == 303
    return office


def make_link(office: PageClient, person: str, deliver: str = "show", lang: str = "zh-CN"):
    office.get(f"/office/logins?lang={lang}")
    return office.post(f"/office/logins?lang={lang}", data={"person": person, "deliver": deliver})


def shown_link(answer) -> str:
    found = re.search(r'id="link-url">([^<]+)<', answer.text)
    assert found, answer.text[:2000]
    return found.group(1)


def use_link(client: PageClient, url: str):
    """Open a link's page and press its button; a spent link's page has none, so the post carries the login page's token (a replayed click)."""
    path = url.split(BASE, 1)[1]
    page = client.get(path)
    token = form_token(page.text) or form_token(client.get("/login").text) or ""
    return page, client.post(path, data={"csrf_token": token}, follow_redirects=False)


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_a_township_head_logs_in_once_by_a_link_the_office_made(seeded_db, factory, lang):
    office = office_client(seeded_db)
    try:
        made = make_link(office, f"township:{TOWNSHIP}", lang=lang)
        assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
        assert "<svg" in made.text  # the QR code
        url = shown_link(made)
        assert re.fullmatch(rf"http://testserver{BASE}/login/link/[A-Za-z0-9_-]{{43}}", url)
        with factory() as session:
            [row] = session.scalars(select(auth.LoginLink)).all()
        assert row.token_sha256 == auth.token_digest(url.rsplit("/", 1)[1]) and row.role == "township" and row.township == TOWNSHIP
        assert dt.timedelta(hours=71) < row.expires_at - row.created_at <= dt.timedelta(hours=72)
        assert f'data-link="{row.id}"' in office.get("/office/logins").text  # listed while unused
    finally:
        office.__exit__(None, None, None)
    with new_client(seeded_db) as head:
        page, answer = use_link(head, url + f"?lang={lang}")
        assert page.status_code == 200 and ("确认登录" if lang == "zh-CN" else "Log me in") in page.text
        assert answer.status_code == 303 and answer.headers["location"].startswith(f"{BASE}/township")
        assert logged_in_at(head, "/township")
        assert head.get("/office/inbox").status_code == 403  # a township head's scope, not the office's
        assert head.get("/expert").status_code == 403
    with new_client(seeded_db) as second:
        page, again = use_link(second, url + f"?lang={lang}")
        assert page.status_code == 410 and again.status_code == 410
        assert ("已使用、已过期" if lang == "zh-CN" else "has been used") in again.text
        assert not logged_in_at(second, "/township")


def test_an_expired_link_opens_nothing_and_a_revoked_one_ends_its_session(seeded_db, factory):
    with transaction(factory) as session:
        _, old = login_links.create_login_link(session, COMMUNITY, "expert", EXPERT)
        link, fresh = login_links.create_login_link(session, COMMUNITY, "expert", EXPERT)
        session.execute(update(auth.LoginLink).where(auth.LoginLink.token_sha256 == auth.token_digest(old)).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
        link_id = link.id
    with new_client(seeded_db) as expert:
        assert use_link(expert, f"http://testserver{BASE}/login/link/{old}")[1].status_code == 410
        assert use_link(expert, f"http://testserver{BASE}/login/link/not-a-link")[1].status_code == 410
        assert use_link(expert, f"http://testserver{BASE}/login/link/{fresh}")[1].status_code == 303
        assert logged_in_at(expert, "/expert")
        with transaction(factory) as session:
            login_links.revoke_login_link(session, COMMUNITY, link_id)
        assert not logged_in_at(expert, "/expert")


def test_two_redemptions_of_one_link_open_one_session(factory):
    with transaction(factory) as session:
        _, raw = login_links.create_login_link(session, COMMUNITY, "township", TOWNSHIP)
    with factory() as first, factory() as second:
        assert login_links.live_link(first, COMMUNITY, raw) is not None and login_links.live_link(second, COMMUNITY, raw) is not None
        winner = login_links.redeem_login_link(first, COMMUNITY, raw)
        first.commit()
        loser = login_links.redeem_login_link(second, COMMUNITY, raw)
        second.commit()
    assert winner is not None and winner.role == "township" and winner.township == TOWNSHIP and loser is None


def test_the_office_sends_a_link_to_the_persons_contact(seeded_db, factory):
    with transaction(factory) as session:
        set_contact(session, store.community_id_of(session, COMMUNITY), "expert", EXPERT, email="e010@example.org", language="en")
    office = office_client(seeded_db)
    try:
        sent = make_link(office, f"expert:{EXPERT}", deliver="send")
        assert sent.status_code == 200 and "已发送" in sent.text and 'id="link-url"' not in sent.text
        missing = make_link(office, f"township:{TOWNSHIP}", deliver="send")  # no contact entered
        assert missing.status_code == 400 and "还没有联系方式" in missing.text
        assert make_link(office, "expert:NOBODY").status_code == 400
    finally:
        office.__exit__(None, None, None)
    with factory() as session:
        [notice] = session.scalars(select(Notice).where(Notice.kind == "login_link")).all()
        links = session.scalars(select(auth.LoginLink)).all()
    assert len(links) == 1 and links[0].expert == EXPERT  # the unsendable one was not made
    assert notice.address == "e010@example.org" and notice.language == "en" and notice.subject.startswith("[Login link]")
    url = re.search(r"http://\S+/login/link/\S+", notice.body).group(0)
    with new_client(seeded_db) as expert:
        assert use_link(expert, url)[1].status_code == 303 and logged_in_at(expert, "/expert")


def test_a_link_of_one_community_opens_nothing_in_another(seeded_db, factory):
    with transaction(factory) as session:
        store.import_scenario(session, "other", store.export_scenario(session, COMMUNITY))
        _, raw = login_links.create_login_link(session, "other", "township", TOWNSHIP)
    with new_client(seeded_db) as head:
        assert use_link(head, f"http://testserver{BASE}/login/link/{raw}")[1].status_code == 410


# --- drafts are the office's ---------------------------------------------------------------------


def test_township_heads_and_experts_see_published_versions_only(seeded_db, factory, solved_month):
    # A draft (version 2) that drops every session of the township and the expert: they must not see it.
    draft = dataclasses.replace(
        solved_month.solution, assignments=tuple(a for a in solved_month.solution.assignments if a.township != TOWNSHIP and a.expert != EXPERT),
    )
    with transaction(factory) as session:
        assert store.save_roster_version(session, COMMUNITY, draft, status="draft", cause="test") == 2
    published_here = sum(1 for a in solved_month.solution.assignments if a.township == TOWNSHIP)
    published_mine = sum(1 for a in solved_month.solution.assignments if a.expert == EXPERT)
    assert published_here and published_mine
    with new_client(seeded_db) as api:
        for token, field, key, count in ((seeded_db.township_token, "township", TOWNSHIP, published_here), (seeded_db.expert_token, "expert", EXPERT, published_mine)):
            headers = {"Authorization": f"Bearer {token}"}
            latest = api.get(f"/rosters/{MONTH}", headers=headers).json()
            assert latest["version"] == 1 and latest["status"] == "published"
            assert len(latest["assignments"]) == count and all(a[field] == key for a in latest["assignments"])
            assert api.get(f"/rosters/{MONTH}?version=2", headers=headers).status_code == 404
        office = api.get(f"/rosters/{MONTH}", headers={"Authorization": f"Bearer {seeded_db.office_token}"}).json()
        assert office["version"] == 2 and office["status"] == "draft"
    with transaction(factory) as session:
        _, township_link = login_links.create_login_link(session, COMMUNITY, "township", TOWNSHIP)
        _, expert_link = login_links.create_login_link(session, COMMUNITY, "expert", EXPERT)
    for raw, path, count in ((township_link, "/township", published_here), (expert_link, "/expert", published_mine)):
        with new_client(seeded_db) as person:
            assert use_link(person, f"http://testserver{BASE}/login/link/{raw}")[1].status_code == 303
            html = person.get(f"{path}?month={MONTH}").text
            assert len(re.findall(r'<li class="session', html)) == count


# --- the migration -------------------------------------------------------------------------------


def test_migration_0011_goes_down_and_up(engine):
    assert current_revision(engine) == head_revision()
    downgrade(engine, "0010_reason_codes")
    tables = set(inspect(engine).get_table_names())
    assert "office_users" not in tables and "login_links" not in tables
    assert {column["name"] for column in inspect(engine).get_columns("page_sessions")} == {"id", "session_sha256", "api_token_id", "created_at", "expires_at", "revoked_at"}
    migrate(engine)
    assert {"office_users", "login_links"} <= set(inspect(engine).get_table_names())


def _sessions(factory) -> list[auth.PageSession]:
    with factory() as session:
        return list(session.scalars(select(auth.PageSession)))


def test_a_link_session_cookie_is_httponly_lax_and_secure_over_https(seeded_db, factory):
    from http.cookies import SimpleCookie

    with transaction(factory) as session:
        _, raw = login_links.create_login_link(session, COMMUNITY, "expert", EXPERT)
    app = create_app(Settings(database_url=seeded_db.url, solver_time_limit=2, run_scheduler=False, link_session_hours=48))
    with PageClient(app, base_url=f"https://testserver{BASE}") as client:
        _, answer = use_link(client, f"https://testserver{BASE}/login/link/{raw}")
    assert answer.status_code == 303
    cookies = SimpleCookie()
    for header in answer.headers.get_list("set-cookie"):
        cookies.load(header)
    morsel = cookies["rota_session"]
    assert morsel["httponly"] and morsel["secure"] and morsel["samesite"].lower() == "lax" and int(morsel["max-age"]) == 48 * 3600
    assert raw not in morsel.value


def test_the_office_revokes_a_used_link_on_its_page_and_the_session_ends(seeded_db, factory):
    office = office_client(seeded_db)
    try:
        url = shown_link(make_link(office, f"expert:{EXPERT}"))
        listed = office.get("/office/logins").text
        [link_id] = re.findall(r'data-link="(\d+)" data-in-use="false"', listed)
        with new_client(seeded_db) as expert:
            assert use_link(expert, url)[1].status_code == 303 and logged_in_at(expert, "/expert")
            listed = office.get("/office/logins").text
            assert f'data-link="{link_id}" data-in-use="true"' in listed  # used, its session open: still revocable
            revoked = office.post(f"/office/logins/{link_id}/revoke")
            assert revoked.status_code == 200 and "已撤销" in revoked.text and f'data-link="{link_id}"' not in revoked.text
            assert not logged_in_at(expert, "/expert")
    finally:
        office.__exit__(None, None, None)
