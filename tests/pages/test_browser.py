"""The pages in a real browser: headless Chromium (Debian's package) driven by Playwright against a real uvicorn.

The office logs in, generates, publishes and sees the grid; a township head files a request and sees it
scheduled; an expert files leave and sees the session move; every page fits a 375 px phone; the text is
Chinese by default. Screenshots go to tests/artifacts/ (gitignored).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from api.pages.words import PAGE_WORDS
from scheduler import store
from scheduler.db import make_engine, session_factory
from tests.pages.conftest import BASE, COMMUNITY, MONTH, ServiceDatabase, seed_database

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
REPO_ROOT = Path(__file__).resolve().parent.parent.parent
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"]
TOWNSHIP = "t01"


def ensure_chromium() -> None:
    """Install Debian's chromium when it is missing (the test set-up); fail, never skip, if that does not work."""
    if CHROMIUM.exists():
        return
    apt = shutil.which("apt-get")
    if apt is None:
        pytest.fail("chromium is missing and apt-get is not available to install it")
    result = subprocess.run([apt, "install", "-y", "--no-install-recommends", "chromium", "fonts-noto-cjk"], capture_output=True, text=True, timeout=600)
    if result.returncode != 0 or not CHROMIUM.exists():
        pytest.fail(f"could not install chromium with apt-get: {result.stderr[-2000:]}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, ServiceDatabase]]:
    """A real uvicorn serving the app on an SQLite file holding the sample county (no roster yet) and three tokens."""
    folder = tmp_path_factory.mktemp("browser")
    expert = "E010"
    seeded = seed_database(f"sqlite:///{folder / 'service.sqlite3'}", None, TOWNSHIP, expert)
    port = free_port()
    environment = {
        **os.environ,
        "ROTA_DATABASE_URL": seeded.url,
        "ROTA_SOLVER_TIME_LIMIT": "3",
        "ROTA_RUN_SCHEDULER": "true",  # this process leads: it runs the event worker that settles requests and leave
        "ROTA_HOST": "127.0.0.1",
        "ROTA_PORT": str(port),
    }
    log = open(folder / "uvicorn.log", "wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=folder, env=environment, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"uvicorn did not start: {(folder / 'uvicorn.log').read_text(errors='replace')[-3000:]}")
            time.sleep(0.2)
        yield base, seeded
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator:
    ensure_chromium()
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True)
        yield launched
        launched.close()


def new_page(browser, base: str, width: int = 1280, height: int = 900):
    context = browser.new_context(viewport={"width": width, "height": height}, base_url=base, locale="zh-CN")
    context.set_default_timeout(15000)
    return context.new_page()


def log_in(page, token: str) -> None:
    page.goto(BASE + "/login")
    page.fill("#token", token)
    page.click("#token-login-button")  # the token form, below the office's name-and-password form
    page.wait_for_load_state()


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def reload_until(page, url: str, ready, seconds: float = 60) -> None:
    """Reload a page until `ready(page)` holds (a background event or job finishes); fail with the last text otherwise."""
    deadline = time.monotonic() + seconds
    while True:
        page.goto(url)
        if ready(page):
            return
        if time.monotonic() > deadline:
            pytest.fail(f"{url} did not reach the expected state in {seconds} s: {page.inner_text('main')[:1500]}")
        time.sleep(0.5)


def office_generates_and_publishes(browser, base: str, seeded: ServiceDatabase, screenshots: bool = False) -> None:
    page = new_page(browser, base)
    log_in(page, seeded.office_token)
    page.goto(f"{BASE}/office/{MONTH}")
    if page.locator("#version-line").get_attribute("data-version") == "0":
        page.click("#generate")
        # The page refreshes itself (no script needed) until the job is done.
        # A locator assertion, not wait_for_function: the page's Content-Security-Policy forbids eval'd test scripts.
        expect(page.locator("#version-line")).not_to_have_attribute("data-version", "0", timeout=90000)
        if screenshots:
            shot(page, "office-generated")
    if page.locator("#version-line").get_attribute("data-status") != "published":
        page.click("#publish")
        page.wait_for_load_state()
    assert page.locator("#version-line").get_attribute("data-status") == "published"
    page.context.close()


def published_assignments(seeded: ServiceDatabase):
    engine = make_engine(seeded.url)
    try:
        with session_factory(engine)() as session:
            solution, version, status, _ = store.load_roster_version(session, COMMUNITY, MONTH, status="published")
    finally:
        engine.dispose()
    return solution.assignments, version


@pytest.fixture(scope="module")
def published(service, browser) -> tuple[str, ServiceDatabase]:
    base, seeded = service
    office_generates_and_publishes(browser, base, seeded)
    return base, seeded


def test_office_logs_in_generates_publishes_and_sees_the_grid(service, browser):
    base, seeded = service
    office_generates_and_publishes(browser, base, seeded, screenshots=True)
    page = new_page(browser, base)
    log_in(page, seeded.office_token)
    assert page.url.endswith("/office/" + dt.date.today().strftime("%Y-%m")) or "/office/" in page.url
    page.goto(f"{BASE}/office/{MONTH}")
    assignments, version = published_assignments(seeded)
    assert page.locator("#version-line").get_attribute("data-version") == str(version)
    assert page.locator("#roster-grid .slot").count() == len(assignments)
    assert page.locator("#roster-grid .slot.link-visit").count() == sum(1 for a in assignments if a.link_visit)
    # New Year's Day and the closed 4th are shaded in every row.
    first_row = page.locator("#roster-grid tbody tr").first
    assert "off" in first_row.locator('td[data-date="2027-01-01"]').get_attribute("class")
    assert "off" in first_row.locator('td[data-date="2027-01-04"]').get_attribute("class")
    assert page.locator("#unmet h2").inner_text() == "未满足的需求"
    shot(page, "office-grid")
    page.select_option("select[name=township]", "t02")
    page.click(".filters button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#roster-grid tbody tr").count() == 1
    assert page.locator("#roster-grid .slot").count() == sum(1 for a in assignments if a.township == "t02")
    with page.expect_download() as download:
        page.click("#download-xlsx")
    assert download.value.suggested_filename == f"roster-{MONTH}-v{version}.xlsx"
    page.goto(f"{BASE}/office/{MONTH}/versions")
    assert page.locator("#versions tbody tr").count() >= 1
    page.goto(f"{BASE}/office/{MONTH}/report")
    assert page.locator("#coverage svg").count() == 1
    shot(page, "office-report")
    page.goto(f"{BASE}/office/{MONTH}/report/print")
    page.emulate_media(media="print")
    shot(page, "office-report-print")
    # The committee hand-out: the printable page fits one A4 sheet.
    pdf = page.pdf(format="A4", print_background=True)
    (ARTIFACTS / "office-report.pdf").write_bytes(pdf)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1
    page.context.close()


def test_township_head_files_a_request_and_sees_it_scheduled(published, browser):
    base, seeded = published
    before, _ = published_assignments(seeded)
    page = new_page(browser, base, 390, 844)
    log_in(page, seeded.township_token)
    page.goto(f"{BASE}/township?month={MONTH}")
    coming = page.locator(f"#coming-{MONTH} li.session").count()
    assert coming == sum(1 for a in before if a.township == TOWNSHIP)
    page.select_option("#type", "clinic")
    page.select_option("#specialty", "internal_med")
    page.fill("#sessions", "1")
    page.fill("#first_day", "2027-01-18")
    page.fill("#last_day", "2027-01-29")
    page.fill("#note", "流感高发，门诊量大")
    page.click("#submit-request")
    page.wait_for_load_state()
    assert "申请已提交" in page.inner_text("main")
    reload_until(page, f"{BASE}/township?month={MONTH}", lambda p: p.locator('#my-requests [data-state="scheduled"]').count() == 1)
    assert "已排班" in page.locator("#my-requests").inner_text()
    assert page.locator(f"#coming-{MONTH} li.session").count() == coming + 1
    shot(page, "township-request-scheduled")
    page.context.close()


def test_expert_files_leave_and_sees_the_session_move(published, browser):
    base, seeded = published
    assignments, version = published_assignments(seeded)
    mine = sorted((a for a in assignments if a.expert == seeded.expert and a.type != "supervision"), key=lambda a: a.date)
    assert mine, "the sample expert has sessions in the published roster"
    leave_day = mine[0].date
    page = new_page(browser, base, 390, 844)
    log_in(page, seeded.expert_token)
    page.goto(f"{BASE}/expert?month={MONTH}")
    on_that_day = page.locator(f'#sessions-{MONTH} li.session[data-date="{leave_day.isoformat()}"]')
    assert on_that_day.count() >= 1
    shot(page, "expert-before-leave")
    page.fill("#first_day", leave_day.isoformat())
    page.fill("#reason", "外出学习")
    page.click("#submit-leave")
    page.wait_for_load_state()
    assert "请假已登记" in page.inner_text("main")
    reload_until(page, f"{BASE}/expert?month={MONTH}", lambda p: p.locator(f'#sessions-{MONTH} li.session[data-date="{leave_day.isoformat()}"]').count() == 0, seconds=90)
    after, new_version = published_assignments(seeded)
    assert new_version > version
    assert not [a for a in after if a.expert == seeded.expert and a.date == leave_day], "nothing left on the day of leave"
    # The session itself moved: to another expert, or (same id) to another day.
    kept = [a for a in after if a.id == mine[0].id]
    assert all((a.expert, a.date) != (seeded.expert, leave_day) for a in kept)
    page.click("#create-feed")
    page.wait_for_load_state()
    assert page.locator("#feed svg").count() == 1 and page.locator("#feed-url").inner_text().endswith(".ics")
    shot(page, "expert-after-leave")
    page.context.close()


OVERFLOW_SCRIPT = """
() => {
  const width = document.documentElement.clientWidth;
  const scrolls = (el) => { for (let p = el.parentElement; p; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll' || o === 'hidden') return true; } return false; };
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if ((box.right > width + 1 || box.left < -1) && !scrolls(el)) out.push(el.tagName + (el.id ? '#' + el.id : '') + '.' + el.className + ' ' + Math.round(box.left) + '..' + Math.round(box.right));
  }
  return {width, scrollWidth: document.documentElement.scrollWidth, out: out.slice(0, 10)};
}
"""


def test_no_page_overflows_a_375_px_phone(published, browser):
    base, seeded = published
    pages = {
        seeded.office_token: [
            f"/office/{MONTH}", f"/office/{MONTH}/versions", "/office/inbox", "/office/closures", f"/office/{MONTH}/report", f"/office/{MONTH}/report/print",
            "/office/users",
        ],
        seeded.township_token: [f"/township?month={MONTH}"],
        seeded.expert_token: [f"/expert?month={MONTH}"],
    }
    page = new_page(browser, base, 375, 812)
    page.goto(BASE + "/login")
    problems = {}
    for token, paths in pages.items():
        log_in(page, token)
        for path in ["/login", *paths] if token == seeded.office_token else paths:
            page.goto(BASE + path)
            found = page.evaluate(OVERFLOW_SCRIPT)
            if found["scrollWidth"] > found["width"] or found["out"]:
                problems[path] = found
            shot(page, "phone-" + re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-"))
    page.context.close()
    assert not problems, problems


ENGLISH_WORDS = sorted({word for value in PAGE_WORDS["en"].values() for word in re.findall(r"[A-Za-z]{4,}", value)} - {word for value in PAGE_WORDS["zh-CN"].values() for word in re.findall(r"[A-Za-z]{4,}", value)})


def test_pages_are_in_chinese_by_default(published, browser):
    base, seeded = published
    page = new_page(browser, base)
    checks = {
        seeded.office_token: [f"/office/{MONTH}", "/office/inbox", "/office/closures", f"/office/{MONTH}/report", "/office/users"],
        seeded.township_token: ["/township"],
        seeded.expert_token: ["/expert"],
    }
    page.goto(BASE + "/login")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    for token, paths in checks.items():
        log_in(page, token)
        for path in paths:
            page.goto(BASE + path)
            assert page.locator("html").get_attribute("lang") == "zh-CN"
            # The language switch is deliberately English; option lists carry ids; charts are checked on their own.
            text = page.evaluate("() => { const c = document.body.cloneNode(true); c.querySelectorAll('[lang=en], select, svg').forEach(e => e.remove()); return c.innerText; }")
            chinese = len(re.findall(r"[\u4e00-\u9fff]", text))
            stray = [word for word in ENGLISH_WORDS if re.search(rf"\b{word}\b", text)]
            assert chinese > 20 and not stray, (path, stray)
            # Nor any other English sentence: the solver's reasons are reworded too.
            assert not re.search(r"[A-Za-z]{3,} [A-Za-z]{3,} [A-Za-z]{3,}", text), (path, re.findall(r"[^\n]*[A-Za-z]{3,} [A-Za-z]{3,} [A-Za-z]{3,}[^\n]*", text)[:3])
    log_in(page, seeded.office_token)
    page.goto(f"{BASE}/office/{MONTH}?lang=en")
    assert page.locator("html").get_attribute("lang") == "en" and "Unmet demand" in page.inner_text("main")
    page.context.close()
