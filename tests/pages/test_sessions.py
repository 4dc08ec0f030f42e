"""The login cookie is a page session, not the API token, on SQLite and PostgreSQL.

Logging in with a token opens a session row (random id, stored hashed, with an expiry); the cookie holds the
id, HttpOnly, SameSite=Lax, Secure over https. Logging out revokes the row: a copy of the old cookie opens
nothing afterwards. Revoking the API token, or the session's end, logs out too; an id the browser brought
along is never kept (a planted session id logs nobody in), and the raw token in a cookie opens nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from http.cookies import SimpleCookie

import pytest
from sqlalchemy import select, update

from api.app import create_app
from config.settings import Settings
from scheduler import auth
from scheduler.db import make_engine, session_factory, transaction
from tests.pages.conftest import BASE, ServiceDatabase, seed_database
from tests.pages.forms import PageClient, form_token, log_in

EXPERT = "E010"


@pytest.fixture
def seeded_db(database_url: str, engine) -> ServiceDatabase:  # `engine`: the database migrated and empty (tests/conftest.py)
    return seed_database(database_url, None, "t01", EXPERT)


def page_client(seeded: ServiceDatabase, scheme: str = "http") -> PageClient:
    app = create_app(Settings(database_url=seeded.url, solver_time_limit=2, run_scheduler=False))
    return PageClient(app, base_url=f"{scheme}://testserver{BASE}")


@pytest.fixture
def client(seeded_db: ServiceDatabase) -> Iterator[PageClient]:
    with page_client(seeded_db) as test_client:
        yield test_client


@pytest.fixture
def factory(seeded_db: ServiceDatabase):
    engine = make_engine(seeded_db.url)
    yield session_factory(engine)
    engine.dispose()


def session_cookie(answer) -> SimpleCookie:
    cookies = SimpleCookie()
    for header in answer.headers.get_list("set-cookie"):
        cookies.load(header)
    return cookies


def rows(factory) -> list[auth.PageSession]:
    with factory() as session:
        return list(session.scalars(select(auth.PageSession).order_by(auth.PageSession.id)))


def is_logged_in(client: PageClient, path: str = "/township") -> bool:
    answer = client.get(path, follow_redirects=False)
    assert answer.status_code in (200, 303), answer.status_code
    return answer.status_code == 200


def test_the_cookie_holds_a_session_id_stored_hashed_not_the_token(client, seeded_db, factory):
    answer = log_in(client, seeded_db.township_token)
    assert answer.status_code == 303
    morsel = session_cookie(answer)["rota_session"]
    session_id = morsel.value
    assert seeded_db.township_token not in answer.headers.get("set-cookie", "") and session_id != seeded_db.township_token
    assert len(session_id) >= 43  # 32 random bytes
    assert morsel["httponly"] and morsel["samesite"].lower() == "lax" and not morsel["secure"] and morsel["path"] == "/"
    assert 0 < int(morsel["max-age"]) <= 24 * 3600  # a working day, not the 30 days the token cookie lived
    [row] = rows(factory)
    assert row.session_sha256 == auth.token_digest(session_id) and session_id not in {row.session_sha256}
    assert row.revoked_at is None and row.expires_at > dt.datetime.now(dt.UTC)
    with factory() as session:
        token_row = session.scalar(select(auth.ApiToken).where(auth.ApiToken.token_sha256 == auth.token_digest(seeded_db.township_token)))
    assert row.api_token_id == token_row.id
    assert is_logged_in(client)


def test_over_https_the_cookie_is_secure(seeded_db):
    with page_client(seeded_db, "https") as client:
        answer = log_in(client, seeded_db.office_token)
        assert answer.status_code == 303
        assert session_cookie(answer)["rota_session"]["secure"]
        assert is_logged_in(client, "/office/inbox")


def test_behind_an_https_proxy_the_cookies_are_secure(seeded_db):
    # TLS ends at the proxy: the app sees http, but the public ROTA_BASE_URL says https.
    app = create_app(Settings(database_url=seeded_db.url, solver_time_limit=2, run_scheduler=False, base_url="https://rota.example.gov.cn"))
    with PageClient(app, base_url=f"http://testserver{BASE}") as client:
        first = client.get("/login")
        secret = session_cookie(first)["rota_csrf"]
        assert secret["secure"] and secret["httponly"]
        # The client keeps Secure cookies off plain http, as a browser would: send the secret as the https proxy would.
        answer = client.post("/login", data={"token": seeded_db.office_token, "csrf_token": form_token(first.text)},
                             headers={"Cookie": f"rota_csrf={secret.value}"}, follow_redirects=False)
        assert answer.status_code == 303 and session_cookie(answer)["rota_session"]["secure"]


def test_logout_ends_the_session_on_the_server_and_the_old_cookie_opens_nothing(client, seeded_db, factory):
    log_in(client, seeded_db.township_token)
    old = client.cookies.get("rota_session")
    assert is_logged_in(client)
    out = client.post("/logout", follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == f"{BASE}/login"
    assert 'rota_session=""' in out.headers.get("set-cookie", "") or "rota_session=;" in out.headers.get("set-cookie", "")
    [row] = rows(factory)
    assert row.revoked_at is not None
    # Someone who copied the cookie before the logout: the same id, sent again, is a stranger now.
    with page_client(seeded_db) as thief:
        thief.cookies.set("rota_session", old)
        assert not is_logged_in(thief)
        assert thief.get("/township", follow_redirects=False).headers["location"] == f"{BASE}/login"
    # Logging in again opens a new session with a new id; the old one stays dead.
    log_in(client, seeded_db.township_token)
    assert client.cookies.get("rota_session") != old and is_logged_in(client)
    assert [r.revoked_at is None for r in rows(factory)] == [False, True]


def test_revoking_the_api_token_ends_its_page_sessions(client, seeded_db, factory):
    log_in(client, seeded_db.expert_token)
    assert is_logged_in(client, "/expert")
    with transaction(factory) as session:
        token_id = session.scalar(select(auth.ApiToken.id).where(auth.ApiToken.token_sha256 == auth.token_digest(seeded_db.expert_token)))
        auth.revoke_api_token(session, token_id)
    assert not is_logged_in(client, "/expert")


def test_an_expired_session_is_logged_out(client, seeded_db, factory):
    log_in(client, seeded_db.township_token)
    assert is_logged_in(client)
    with transaction(factory) as session:
        session.execute(update(auth.PageSession).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    assert not is_logged_in(client)


def test_the_raw_token_in_a_cookie_opens_nothing(seeded_db):
    with page_client(seeded_db) as client:
        client.cookies.set("rota_token", seeded_db.office_token)  # the old cookie
        assert not is_logged_in(client, "/office/inbox")
        client.cookies.clear()
        client.cookies.set("rota_session", seeded_db.office_token)  # the token where the session id goes
        assert not is_logged_in(client, "/office/inbox")


def test_a_planted_session_id_is_replaced_at_login(client, seeded_db, factory):
    client.cookies.set("rota_session", "planted-by-someone-else-0123456789abcdefghijklmnop")
    answer = log_in(client, seeded_db.township_token)
    issued = session_cookie(answer)["rota_session"].value
    assert issued != "planted-by-someone-else-0123456789abcdefghijklmnop"
    assert [row.session_sha256 for row in rows(factory)] == [auth.token_digest(issued)]


def test_logging_in_clears_the_old_token_cookie(client, seeded_db):
    client.cookies.set("rota_token", seeded_db.office_token)
    answer = log_in(client, seeded_db.office_token)
    assert 'rota_token=""' in answer.headers.get("set-cookie", "") and "Max-Age=0" in answer.headers.get("set-cookie", "")
