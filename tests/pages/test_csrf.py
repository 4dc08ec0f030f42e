"""CSRF defence of the pages: through the real app (TestClient), and in headless Chromium against a real uvicorn.

Every POST form of every page carries the session-bound token; a post without it, with a wrong one, or with
one from another session is refused with a 403 page in the page's language (Chinese by default); a post whose
Origin (or Referer) is another site is refused even with the right token; a forged login sets no session.
The API, authenticated by its Authorization header and not by a cookie, is not asked for a form token.

In Chromium, a page of another origin (a second local HTTP server, another port of 127.0.0.1: the same site,
so the browser does send the SameSite=Lax session cookie) auto-posts forms to the service: refused, and
nothing is stored; the same form on the service's own page is accepted; a forged login sets no session;
the service's pages cannot be framed. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import func, select

from api.pages.csrf import CSRF_COOKIE, CSRF_FIELD
from scheduler import requests
from scheduler.db import make_engine, session_factory
from scheduler.models import JobRow
from tests.pages.conftest import BASE, COMMUNITY, MONTH
from tests.pages.forms import CSRF_INPUT, PageClient, form_token, log_in
from tests.pages.test_browser import ARTIFACTS, browser, new_page, service  # noqa: F401  (module fixtures: uvicorn, Chromium)
from tests.pages.test_browser import log_in as browser_log_in

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


def test_behind_a_proxy_that_rewrites_host_the_public_origin_of_base_url_is_the_own_one(seeded):
    from api.app import create_app
    from config.settings import Settings

    app = create_app(Settings(database_url=seeded.url, solver_time_limit=2, run_scheduler=False, base_url="https://rota.example.gov.cn"))
    # The Host the proxy sends upstream (https, as uvicorn --proxy-headers sees it: the cookies are Secure).
    with PageClient(app, base_url=f"https://127.0.0.1:8000{BASE}") as proxied:
        log_in(proxied, seeded.township_token)
        public = {"Origin": "https://rota.example.gov.cn"}
        assert proxied.post("/township/requests", data=REQUEST, headers=public, follow_redirects=False).status_code == 303
        assert_refused(proxied.post("/township/requests", data=REQUEST, headers={"Origin": "https://evil.example"}), why="cross_origin")


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


# --- in Chromium: another origin posts forms to the service ----------------------------------------------------


def auto_post(action: str, fields: dict[str, str]) -> str:
    """An attacker's page: a hidden form to `action` that submits itself as soon as the page loads."""
    inputs = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in fields.items())
    return (f'<!doctype html><html><body onload="setTimeout(() => document.forms[0].submit(), 50)"><h1>Cute cats</h1>'
            f'<form method="post" action="{html.escape(action)}">{inputs}</form></body></html>')


@pytest.fixture(scope="module")
def other_origin() -> Iterator[tuple[str, dict[str, str]]]:
    """A second HTTP server on another port of 127.0.0.1 (another origin, the same site) serving the pages the test puts in its dict."""
    pages: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = pages.get(self.path.split("?", 1)[0])
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write((body or "not here").encode())

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", pages
    finally:
        server.shutdown()
        server.server_close()


def count_rows(seeded, model_count) -> int:
    engine = make_engine(seeded.url)
    try:
        with session_factory(engine)() as session:
            return model_count(session)
    finally:
        engine.dispose()


def township_requests(seeded) -> int:
    return count_rows(seeded, lambda session: len(requests.list_requests(session, COMMUNITY)))


def jobs(seeded) -> int:
    return count_rows(seeded, lambda session: session.scalar(select(func.count()).select_from(JobRow)))


def visit_attack(page, url: str):
    """Open the attacker's page and return the answer to the form it posts (with the request as the browser sent it)."""
    with page.expect_response(lambda response: response.request.method == "POST") as posted:
        try:
            page.goto(url)
        except PlaywrightError as error:
            # The page's own submit is a navigation too and may overtake goto's wait: that is the attack going ahead.
            if "interrupted by another navigation" not in str(error):
                raise
    answer = posted.value
    page.wait_for_load_state()
    return answer


def test_in_chromium_a_form_auto_posted_from_another_origin_is_refused_and_the_own_page_is_accepted(service, browser, other_origin):
    base, seeded = service
    evil, pages = other_origin
    pages["/request.html"] = auto_post(f"{base}{BASE}/township/requests", REQUEST)
    page = new_page(browser, base)
    browser_log_in(page, seeded.township_token)
    assert page.url.endswith(f"{BASE}/township")
    own_token = page.locator(f'#request-form input[name="{CSRF_FIELD}"]').get_attribute("value")
    assert own_token and len(own_token) == 64
    before = township_requests(seeded)

    answer = visit_attack(page, evil + "/request.html")
    sent = answer.request.all_headers()
    assert "rota_session=" in sent.get("cookie", "")  # the browser did send the session cookie (same site)...
    assert sent.get("origin") == evil
    assert answer.status == 403  # ...and the service refused the post
    assert "请求被拒绝" in page.locator("h1").inner_text() and "其他网站" in page.locator("#message").inner_text()
    page.screenshot(path=str(ARTIFACTS / "csrf-cross-origin-refused.png"), full_page=True)

    # Even with the victim's own token (were it ever leaked), another origin is refused.
    pages["/request-with-token.html"] = auto_post(f"{base}{BASE}/township/requests", {**REQUEST, CSRF_FIELD: own_token})
    assert visit_attack(page, evil + "/request-with-token.html").status == 403
    # In English the refusal says it in English.
    pages["/request-en.html"] = auto_post(f"{base}{BASE}/township/requests?lang=en", REQUEST)
    assert visit_attack(page, evil + "/request-en.html").status == 403
    assert "Request refused" in page.locator("h1").inner_text() and "another website" in page.locator("#message").inner_text()
    assert township_requests(seeded) == before

    # The same form on the service's own page: accepted.
    page.goto(f"{BASE}/township?lang=zh-CN")
    page.select_option("#type", REQUEST["type"])
    page.select_option("#specialty", REQUEST["specialty"])
    page.fill("#sessions", REQUEST["sessions"])
    page.fill("#first_day", REQUEST["first_day"])
    page.fill("#last_day", REQUEST["last_day"])
    with page.expect_response(lambda response: response.request.method == "POST") as posted:
        page.click("#submit-request")
    assert posted.value.status == 303 and posted.value.request.all_headers().get("origin") == base
    page.wait_for_load_state()
    assert page.url.split("?")[0].endswith(f"{BASE}/township")
    assert township_requests(seeded) == before + 1
    page.context.close()


def test_in_chromium_the_office_generate_form_from_another_origin_starts_no_job(service, browser, other_origin):
    base, seeded = service
    evil, pages = other_origin
    pages["/generate.html"] = auto_post(f"{base}{BASE}/office/2027-03/generate", {})
    pages["/publish.html"] = auto_post(f"{base}{BASE}/office/2027-03/publish", {"version": "1"})
    page = new_page(browser, base)
    browser_log_in(page, seeded.office_token)
    before = jobs(seeded)
    for attack in ("/generate.html", "/publish.html"):
        answer = visit_attack(page, evil + attack)
        assert "rota_session=" in answer.request.all_headers().get("cookie", "") and answer.status == 403, attack
    assert jobs(seeded) == before
    page.context.close()


def test_in_chromium_a_forged_login_sets_no_session(service, browser, other_origin):
    base, seeded = service
    evil, pages = other_origin
    # The attacker posts the login form with the attacker's own token, to have the visitor work in the attacker's account.
    pages["/login.html"] = auto_post(f"{base}/login", {"token": seeded.office_token})
    page = new_page(browser, base)
    page.goto("/login")  # the visitor has been to the service before: it has its CSRF cookie
    answer = visit_attack(page, evil + "/login.html")
    assert answer.status == 403 and "rota_session" not in answer.headers.get("set-cookie", "")
    assert not [cookie for cookie in page.context.cookies() if cookie["name"] == "rota_session"]
    # A new tab of the same browser: the refused page's own navigations (it may still be settling) cannot interrupt it.
    check = page.context.new_page()
    check.goto(f"{BASE}/office/inbox")
    assert check.url.split("?")[0].endswith(f"{BASE}/login")  # nobody is logged in
    page.context.close()


def test_in_chromium_another_origin_cannot_frame_the_pages(service, browser, other_origin):
    base, seeded = service
    evil, pages = other_origin
    pages["/frame.html"] = f'<!doctype html><html><body><iframe id="victim" src="{base}{BASE}/township" width="600" height="400"></iframe></body></html>'
    page = new_page(browser, base)
    browser_log_in(page, seeded.township_token)
    with page.expect_response(lambda response: response.url.startswith(f"{base}{BASE}/township")) as framed:
        page.goto(evil + "/frame.html")
    assert framed.value.headers["x-frame-options"] == "DENY"
    page.wait_for_timeout(500)
    frame = next(f for f in page.frames if f != page.main_frame)
    assert frame.locator("#request-form").count() == 0  # Chromium showed its error page instead of the service's
    page.context.close()
