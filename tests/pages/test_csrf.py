"""CSRF defence of the pages through the real app (TestClient); the same in a real browser: tests/pages/test_csrf_browser.py.

Every POST form of every page carries the session-bound token; a post without it, with a wrong one, or with
one from another session is refused with a 403 page in the page's language (Chinese by default); a post whose
Origin (or Referer) is another site is refused even with the right token; a forged login sets no session.
The API, authenticated by its Authorization header and not by a cookie, is not asked for a form token.
"""

from __future__ import annotations

import re
from pathlib import Path

from api.pages.csrf import CSRF_COOKIE, CSRF_FIELD
from scheduler import requests
from scheduler.db import make_engine, session_factory
from tests.pages.conftest import BASE, COMMUNITY, MONTH
from tests.pages.forms import CSRF_INPUT, PageClient, form_token, log_in

TEMPLATES = Path(__file__).resolve().parents[2] / "api" / "templates"
POST_FORM = re.compile(r'<form method="post"[^>]*>')
REQUEST = {"type": "clinic", "specialty": "internal_med", "sessions": "1", "first_day": "2027-01-18", "last_day": "2027-01-22", "note": "流感"}
HAN = re.compile(r"[\u4e00-\u9fff]")


def stored_requests(seeded) -> int:
    engine = make_engine(seeded.url)
    try:
        with session_factory(engine)() as session:
            return len(requests.list_requests(session, COMMUNITY))
    finally:
        engine.dispose()


def assert_refused(answer, lang: str = "zh-CN", why: str = "token") -> None:
    assert answer.status_code == 403, (answer.status_code, answer.text[:300])
    assert answer.headers["content-type"].startswith("text/html")
    assert f'<html lang="{lang}">' in answer.text
    message = re.search(r'<p id="message">([^<]*)</p>', answer.text).group(1)
    if lang == "zh-CN":
        assert "请求被拒绝" in answer.text and ("其他网站" if why == "cross_origin" else "刷新") in message
    else:
        assert "Request refused" in answer.text and ("another website" if why == "cross_origin" else "reload") in message
        assert not HAN.search(message)
    assert "Traceback" not in answer.text


def test_every_post_form_in_the_templates_carries_the_token_field():
    # A new template's form without the field fails here, before any browser refuses it.
    forms = 0
    for template in sorted(TEMPLATES.glob("*.html")):
        text = template.read_text(encoding="utf-8")
        for form in POST_FORM.finditer(text):
            forms += 1
            follows = text[form.end():form.end() + 80]
            assert follows.startswith(f'<input type="hidden" name="{CSRF_FIELD}" value="{{{{ csrf_token }}}}">'), (template.name, form.group(0))
    assert forms >= 15


def test_every_post_form_of_every_page_carries_the_session_token(client, seeded):
    log_in(client, seeded.township_token)
    assert client.post("/township/requests", data=REQUEST, follow_redirects=False).status_code == 303  # a pending request: cancel, approve, decline forms
    township = client.get("/township").text
    township_token = form_token(township)
    log_in(client, seeded.office_token)
    pages = {"/township": township}
    for path in (f"/office/{MONTH}", "/office/inbox", "/office/closures"):
        pages[path] = client.get(path).text
    log_in(client, seeded.expert_token)
    pages["/expert"] = client.get("/expert").text
    client.post("/logout")
    pages["/login"] = client.get("/login").text
    for path, html in pages.items():
        posts = len(POST_FORM.findall(html))
        tokens = CSRF_INPUT.findall(html)
        assert posts >= 1 and len(tokens) == posts, (path, posts, len(tokens))
        assert len(set(tokens)) == 1 and len(tokens[0]) == 64, path
    # Bound to the session: each login's pages carry another token than the last one's, and than the login form's.
    assert len({form_token(pages[path]) for path in ("/township", f"/office/{MONTH}", "/expert", "/login")}) == 4
    assert township_token == form_token(pages["/township"])


def test_a_form_without_the_token_or_with_a_wrong_one_is_refused_in_the_page_language(client, seeded):
    log_in(client, seeded.township_token)
    before = stored_requests(seeded)
    assert_refused(client.post("/township/requests", data={**REQUEST, CSRF_FIELD: ""}))
    assert_refused(client.post("/township/requests?lang=en", data={**REQUEST, CSRF_FIELD: ""}), lang="en")
    client.get("/township?lang=zh-CN")  # ?lang= is remembered by a cookie: back to Chinese
    assert_refused(client.post("/township/requests", data={**REQUEST, CSRF_FIELD: "0" * 64}))
    assert_refused(client.post("/township/requests", content=b'{"type": "clinic"}', headers={"Content-Type": "application/json"}))
    # A token of another session (the login form's, before this login) opens nothing either.
    with PageClient(client.app, base_url=f"http://testserver{BASE}") as other:
        stranger = form_token(other.get("/login").text)
    assert_refused(client.post("/township/requests", data={**REQUEST, CSRF_FIELD: stranger}))
    # The right token, without the secret cookie it was made from, is refused too.
    client.cookies.delete(CSRF_COOKIE)
    assert_refused(client.post("/township/requests", data=REQUEST))
    assert stored_requests(seeded) == before
    # As the refusal page says: reload the page (the browser has a new secret by now) and send it again: accepted.
    client.get("/township")
    assert client.post("/township/requests", data=REQUEST, follow_redirects=False).status_code == 303
    assert stored_requests(seeded) == before + 1
    # Logout is a form as well.
    assert_refused(client.post("/logout", data={CSRF_FIELD: ""}))
    assert client.get("/township", follow_redirects=False).status_code == 200


def test_a_post_from_another_origin_is_refused_even_with_the_right_token(client, seeded):
    log_in(client, seeded.office_token)
    before = stored_requests(seeded)
    log_in(client, seeded.township_token)
    for headers in ({"Origin": "http://evil.example"}, {"Origin": "http://testserver.evil.example"}, {"Origin": "null"},
                    {"Origin": "http://testserver:8080"}, {"Referer": "http://evil.example/page.html"}):
        answer = client.post("/township/requests", data=REQUEST, headers=headers)
        assert_refused(answer, why="cross_origin")
    assert_refused(client.post("/township/requests?lang=en", data=REQUEST, headers={"Origin": "http://evil.example"}), lang="en", why="cross_origin")
    client.get("/township?lang=zh-CN")
    assert stored_requests(seeded) == before
    # The service's own origin (the browser sends it on its own forms too), or its own page as the referrer: accepted.
    assert client.post("/township/requests", data=REQUEST, headers={"Origin": "http://testserver"}, follow_redirects=False).status_code == 303
    assert client.post("/township/requests", data=REQUEST, headers={"Referer": f"http://testserver{BASE}/township"}, follow_redirects=False).status_code == 303
    assert stored_requests(seeded) == before + 2


def test_a_forged_login_sets_no_session(client, seeded):
    # Another site posts the login form with ITS token, to log the visitor in as someone else.
    for answer in (
        client.post("/login", data={"token": seeded.office_token}, follow_redirects=False),  # no token at all
        client.post("/login", data={"token": seeded.office_token, CSRF_FIELD: form_token(client.get("/login").text)},
                    headers={"Origin": "http://evil.example"}, follow_redirects=False),  # even with a good one, from elsewhere
    ):
        assert_refused(answer, why="cross_origin" if answer.request.headers.get("origin") else "token")
        assert "rota_session" not in answer.headers.get("set-cookie", "")
    assert client.get("/office/inbox", follow_redirects=False).status_code == 303  # still nobody
    assert log_in(client, seeded.office_token).status_code == 303  # the login page's own form works


def test_the_api_is_not_asked_for_a_form_token(client, seeded):
    # The API authenticates by the Authorization header, which another site cannot make a browser send.
    answer = client.post("/tokens", json={"role": "expert", "expert": seeded.expert},
                         headers={"Authorization": f"Bearer {seeded.office_token}", "Origin": "http://evil.example"})
    assert answer.status_code == 201, answer.text


def test_the_refusal_and_the_login_page_may_not_be_framed(client, seeded):
    first = client.get("/login")
    secret = next(h for h in first.headers.get_list("set-cookie") if h.startswith(f"{CSRF_COOKIE}="))
    assert "HttpOnly" in secret and "samesite=lax" in secret.lower()
    for answer in (client.post("/login", data={"token": "x", CSRF_FIELD: ""}), first):
        assert answer.headers["x-frame-options"] == "DENY"
        policy = answer.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "form-action 'self'" in policy and "default-src 'self'" in policy
