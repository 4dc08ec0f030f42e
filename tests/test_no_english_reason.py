"""No Chinese surface holds an English reason: pages, the .xlsx, the API, notices and the CLI, with a reason of every code on show.

The sample month is solved, a row of every unmet code is added to it, and a request of every request code is
filed; then each Chinese surface is rendered for real (the app over an SQLite file, the workbook it serves, the
notice the request kind enqueues) and its words are grepped for any ASCII word of the English templates. The
same surfaces in English must hold those words, so the grep is seen to find them when they are there.

The rule breaks of a refused edit and the reasons a swap was declined are shown the same way on a month of
their own: an expert's leave under an earlier version makes its revert clash (the API's 409, the versions
page, `rota revert`), edits that break rules are refused (the 409), and swaps are declined by the colleague,
by the office and by a broken rule (the API's swaps).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from config.settings import SAMPLE_SCENARIO, Settings
from scheduler import flows, swaps
from scheduler.db import make_engine, session_factory, transaction
from scheduler.events.kinds.request import RequestPayload
from scheduler.events.notices import community_labels
from scheduler.events.registry import kind_of
from scheduler.notify.models import Notice
from tests.pages.forms import PageClient, log_in
from scheduler.reason_text import english_words
from scheduler.requests import create_request, decline_request
from scheduler.roster_file import roster_json
from scheduler.scenario.load import load_scenario
from scheduler.roster_rules import RuleBroken
from scheduler.store import community_id_of
from solver.solution import Assignment, Reason, ReasonCode, Unmet
from tests.pages.conftest import COMMUNITY, MONTH, SolvedMonth, seed_database
from tests.console import run_rota
from tests.solved import solved_once
from tests.reason_samples import SAMPLE_REASONS

REQUEST_CODES = (
    ReasonCode.DEMAND_OVERFILLED, ReasonCode.NO_ELIGIBLE_EXPERT, ReasonCode.NO_FREE_EXPERT, ReasonCode.ROSTER_NOT_GENERATED, ReasonCode.REQUEST_AWAITS_APPROVAL,
    ReasonCode.FORCE_NO_ROSTER, ReasonCode.FORCE_DAY_PAST, ReasonCode.FORCE_NO_CANDIDATE, ReasonCode.FORCE_CANNOT_PLACE,
)
CLASH_CODES = (ReasonCode.RULES_CLASH, ReasonCode.CLASH_NOT_SHOWN)  # a month with no roster: API and CLI only
# A refused edit's breaks and a declined swap's reasons: shown by the clash tests at the end, never as unmet rows.
EDIT_AND_SWAP_CODES = tuple(ReasonCode(name) for name in (
    "UNKNOWN_EXPERT", "UNKNOWN_TOWNSHIP", "NOT_A_WORKING_HALF_DAY", "EXPERT_UNAVAILABLE", "TOWNSHIP_CLOSED", "NO_WARD_FOR_THE_ROUND",
    "WARD_ROUND_HALF_DAY", "LACKS_THE_SPECIALTY", "TITLE_BELOW_TEACHING", "EXPERT_NOT_ROSTERED", "SUPERVISION_NOT_A_VISIT",
    "DEPARTMENT_CANNOT_SPARE", "SESSION_NEEDS_SPECIALTY", "NOT_DEMANDED", "BOOKED_TWICE", "PIN_LOST", "EDIT_BREAKS_RULE", "LINK_VISITS_LOST",
    "SWAP_SESSIONS_CHANGED", "SWAP_DECLINED_BY_COLLEAGUE", "SWAP_REJECTED_BY_OFFICE", "BREAKS_RULES",
))
TOWNSHIP = "t02"
ENGLISH = english_words()
# The shortest template words ("a", "at", "of", ...) are left to the sentences that hold them: a reason is never
# only those, and a page may carry a short ASCII token of its own (a unit, a file type).
REASON_WORDS = {word for word in ENGLISH if len(word) >= 4}


def ascii_words(text: str) -> set[str]:
    """The English-looking words of a text; dotted or snake_case names (a file's keys, `calendar.closed`) are not words."""
    text = re.sub(r"[A-Za-z_][\w-]*(?:\.[\w-]+)+|\w*_\w*", " ", text)
    return {word.lower() for word in re.findall(r"[A-Za-z][A-Za-z'-]+", text)}


def page_words(page: str) -> set[str]:
    """The ASCII words a reader sees on a page: its text and its title/aria-label/placeholder attributes (no markup, no script)."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)
    attributes = " ".join(re.findall(r'\s(?:title|aria-label|placeholder|alt)="([^"]*)"', page))
    text = re.sub(r"<[^>]+>", " ", page)
    return ascii_words(html.unescape(text + " " + attributes))


def english_reason_words(words: set[str]) -> set[str]:
    return words & REASON_WORDS


def _unmet_rows() -> tuple[Unmet, ...]:
    """A row of every unmet-demand and link code (and a free sentence, as an old file would carry)."""
    rows = []
    for code, reason in SAMPLE_REASONS.items():
        if code in REQUEST_CODES or code in CLASH_CODES or code in EDIT_AND_SWAP_CODES:
            continue
        params = reason.params
        member = params.get("member")
        kind = "supervision" if member else params.get("type", "clinic")
        rows.append(Unmet(params.get("township", TOWNSHIP), kind, None if member else params.get("specialty", "cardio"), 1, reason, member))
    return tuple(rows)


@dataclasses.dataclass(frozen=True)
class Shown:
    url: str
    office_token: str
    township_token: str
    request_ids: tuple[int, ...]


@pytest.fixture(scope="module")
def shown(tmp_path_factory) -> Shown:
    scenario = load_scenario(SAMPLE_SCENARIO)
    solution = solved_once(scenario, MONTH)
    assert solution.unmet, "the sample month has unmet rows of its own"
    solution = dataclasses.replace(solution, unmet=solution.unmet + _unmet_rows())
    document = roster_json(scenario.community.name, solution, version=1, status="published")
    url = f"sqlite:///{tmp_path_factory.mktemp('reasons') / 'reasons.sqlite3'}"
    seeded = seed_database(url, SolvedMonth(scenario, solution, document), TOWNSHIP, solution.assignments[0].expert)
    engine = make_engine(url)
    factory = session_factory(engine)
    ids = []
    with transaction(factory) as session:
        for code in REQUEST_CODES:
            row = create_request(session, COMMUNITY, TOWNSHIP, "clinic", "cardio", 1, dt.date(2027, 1, 18), dt.date(2027, 1, 22), note="加诊")
            row.say_why(SAMPLE_REASONS[code])
            ids.append(row.id)
        declined = create_request(session, COMMUNITY, TOWNSHIP, "clinic", "paeds", 1, dt.date(2027, 1, 25))
        session.flush()
        decline_request(session, COMMUNITY, declined.id, "本月无儿科专家")
    engine.dispose()
    return Shown(url, seeded.office_token, seeded.township_token, tuple(ids))


@pytest.fixture
def client(shown: Shown) -> Iterator:
    from api.app import create_app

    app = create_app(Settings(database_url=shown.url, solver_time_limit=2, run_scheduler=False))  # no worker: the requests keep their reasons
    with PageClient(app, base_url=f"http://testserver/c/{COMMUNITY}") as test_client:
        yield test_client


def _log_in(client, token: str) -> None:
    assert log_in(client, token).status_code == 303


OFFICE_PAGES = (f"/office/{MONTH}", f"/office/{MONTH}/report", f"/office/{MONTH}/report/print", "/office/inbox")
TOWNSHIP_PAGES = (f"/township?month={MONTH}",)


def _pages(client, shown: Shown, lang: str) -> dict[str, str]:
    pages = {}
    for token, paths in ((shown.office_token, OFFICE_PAGES), (shown.township_token, TOWNSHIP_PAGES)):
        _log_in(client, token)
        for path in paths:
            answer = client.get(path + ("&" if "?" in path else "?") + f"lang={lang}")
            assert answer.status_code == 200, (path, answer.text[:300])
            pages[path] = answer.text
    return pages


def test_no_chinese_page_holds_an_english_reason(client, shown):
    chinese = _pages(client, shown, "zh-CN")
    assert "缺1次" in chinese[f"/office/{MONTH}"] and "均已达每月上限" in chinese[f"/office/{MONTH}"]  # the unmet rows are on show
    assert "等待医务科审批" in chinese["/office/inbox"] and "排班尚未生成" in chinese[TOWNSHIP_PAGES[0]]
    for path, page in chinese.items():
        assert not english_reason_words(page_words(page)), (path, sorted(english_reason_words(page_words(page))))
    # The same pages in English do carry the English reasons: the grep finds them when they are there.
    english = _pages(client, shown, "en")
    assert "unfilled" in page_words(english[f"/office/{MONTH}"])
    assert {"approval", "generated"} <= page_words(english["/office/inbox"]) | page_words(english[TOWNSHIP_PAGES[0]])


def _sheet_words(workbook_bytes: bytes, sheet_name: str) -> tuple[set[str], list[str]]:
    sheet = load_workbook(io.BytesIO(workbook_bytes))[sheet_name]
    texts = [str(cell.value) for row in sheet.iter_rows() for cell in row if cell.value is not None]
    return ascii_words(" ".join(texts)), texts


def test_no_chinese_sheet_holds_an_english_reason(client, shown):
    _log_in(client, shown.office_token)
    for path in (f"/office/{MONTH}/roster.xlsx", f"/rosters/{MONTH}.xlsx"):
        headers = {} if path.startswith("/office") else {"Authorization": f"Bearer {shown.office_token}"}
        answer = client.get(path, headers=headers)
        assert answer.status_code == 200, (path, answer.text[:300])
        words, texts = _sheet_words(answer.content, "未满足需求")
        assert len(texts) > len(_unmet_rows()) * 5  # a row per unmet row, six columns each
        assert not english_reason_words(words), (path, sorted(english_reason_words(words)))
    english = client.get(f"/rosters/{MONTH}.xlsx?lang=en", headers={"Authorization": f"Bearer {shown.office_token}"})
    words, _ = _sheet_words(english.content, "Unmet demand")
    assert {"unfilled", "eligible"} <= words


def test_the_api_gives_the_reason_in_the_readers_language_with_its_code(client, shown):
    auth = {"Authorization": f"Bearer {shown.office_token}"}
    roster = client.get(f"/rosters/{MONTH}", headers=auth).json()
    codes = {row.get("reason_code") for row in roster["unmet"]}
    assert {str(code) for code in SAMPLE_REASONS if code not in REQUEST_CODES + CLASH_CODES + EDIT_AND_SWAP_CODES + (ReasonCode.TEXT,)} <= codes
    for row in roster["unmet"]:
        if row.get("reason_code"):
            assert ascii_words(row["reason"]) & ENGLISH  # the format's sentence stays English
            assert not english_reason_words(ascii_words(row["reason_text"])), row
        else:  # a free sentence is shown as written
            assert row["reason"] == row["reason_text"] == "本月无儿科专家"
    english = client.get(f"/rosters/{MONTH}", headers={**auth, "Accept-Language": "en-GB,en;q=0.8"}).json()
    assert all(row["reason_text"] == row["reason"] for row in english["unmet"])
    requests = client.get("/requests", headers=auth).json()
    by_id = {row["id"]: row for row in requests}
    assert [by_id[i]["reason_code"] for i in shown.request_ids] == [str(code) for code in REQUEST_CODES]
    for row in requests:
        assert not english_reason_words(ascii_words(row["reason"])), row
    assert {row["reason"] for row in requests if row["reason_code"] is None} == {"本月无儿科专家"}
    english = client.get("/requests?lang=en", headers=auth).json()
    assert any("approval" in row["reason"] for row in english)
    assert client.get("/requests?lang=fr", headers=auth).status_code == 422


def test_no_chinese_notice_holds_an_english_reason(shown):
    engine = make_engine(shown.url)
    factory = session_factory(engine)
    settings = Settings(database_url=shown.url, webhook_url="https://robot.example.invalid/hook")  # the township's group robot
    kind = kind_of("request")
    with transaction(factory) as session:
        owner = community_id_of(session, COMMUNITY)
        labels = community_labels(session, owner)
        for request_id in shown.request_ids:
            kind.extra_notices(session, owner, RequestPayload(request_id=request_id), {"request_state": "pending"}, settings, dt.datetime.now(dt.timezone.utc), labels)
    with factory() as session:
        notices = session.scalars(select(Notice).where(Notice.kind == "request_update")).all()
    engine.dispose()
    assert len(notices) == len(REQUEST_CODES)
    assert all(notice.language == "zh-CN" for notice in notices)
    bodies = [notice.subject + "\n" + notice.body for notice in notices]
    assert any("等待医务科审批" in body for body in bodies)
    for body in bodies:
        assert not english_reason_words(ascii_words(body)), body


# --- a refused edit's rule breaks and a declined swap's reasons -------------------------------------------


@dataclasses.dataclass(frozen=True)
class Clashed:
    url: str
    office_token: str
    on_leave: Assignment  # removed in version 2, its expert on leave since: version 1 now clashes
    swap_codes: frozenset[str]


def _swap_partner(scenario, solution, exclude: str) -> tuple[Assignment, str]:
    """A session and an expert who does not hold its specialty: the swap would break rule 1."""
    for a in solution.assignments:
        if a.type != "clinic" or a.link_visit or a.expert == exclude:
            continue
        for expert in scenario.experts:
            if a.specialty not in expert.specialties and expert.id not in (a.expert, exclude) and expert.max_sessions > 0:
                return a, expert.id
    raise AssertionError("the sample month has no clinic session to swap")


def _removable(factory, a: Assignment) -> bool:
    """Remove the session if that breaks no rule (a visit's team may need it); whether it was removed."""
    try:
        flows.remove_session(factory, COMMUNITY, MONTH, a.id)
    except RuleBroken:
        return False
    return True


@pytest.fixture(scope="module")
def clashed(tmp_path_factory) -> Clashed:
    scenario = load_scenario(SAMPLE_SCENARIO)
    solution = solved_once(scenario, MONTH)
    document = roster_json(scenario.community.name, solution, version=1, status="published")
    url = f"sqlite:///{tmp_path_factory.mktemp('clashes') / 'clashes.sqlite3'}"
    seeded = seed_database(url, SolvedMonth(scenario, solution, document), TOWNSHIP, solution.assignments[0].expert)
    engine = make_engine(url)
    factory = session_factory(engine)
    gone = next(a for a in solution.assignments if a.type == "clinic" and not a.link_visit and _removable(factory, a))  # version 2
    with transaction(factory) as session:
        flows.file_leave(session, COMMUNITY, gone.expert, gone.date, reason="进修")
    given, taker = _swap_partner(scenario, solution, gone.expert)
    with transaction(factory) as session:
        broken = swaps.propose_swap(session, COMMUNITY, MONTH, given.id, given.expert, taker)
        swaps.answer_swap(session, COMMUNITY, broken, taker, accept=True)
        refused = swaps.propose_swap(session, COMMUNITY, MONTH, given.id, given.expert, taker)
        swaps.answer_swap(session, COMMUNITY, refused, taker, accept=False)
        rejected = swaps.propose_swap(session, COMMUNITY, MONTH, given.id, given.expert, taker, needs_approval=True)
        swaps.answer_swap(session, COMMUNITY, rejected, taker, accept=True)
        swaps.approve_swap(session, COMMUNITY, rejected, approve=False)
    assert flows.apply_swap(factory, COMMUNITY, broken) == "declined"
    with factory() as session:
        codes = frozenset(row.reason_code for row in swaps.list_swaps(session, COMMUNITY))
    engine.dispose()
    return Clashed(url, seeded.office_token, gone, codes)


@pytest.fixture
def clash_client(clashed: Clashed) -> Iterator:
    from api.app import create_app

    app = create_app(Settings(database_url=clashed.url, solver_time_limit=2, run_scheduler=False))  # no worker: the leave waits, v1 clashes
    with PageClient(app, base_url=f"http://testserver/c/{COMMUNITY}") as test_client:
        yield test_client


def _refused_words(answer) -> set[str]:
    assert answer.status_code == 409, answer.text
    body = answer.json()
    assert body["rules"] and all(rule["reason_code"] for rule in body["rules"]), body
    return ascii_words(" ".join([body["detail"], *(rule["message"] + " " + rule["rule_text"] for rule in body["rules"])]))


def test_no_chinese_refused_edit_holds_an_english_reason(clash_client, clashed):
    auth = {"Authorization": f"Bearer {clashed.office_token}"}
    gone = clashed.on_leave
    place = {"date": gone.date.isoformat(), "half_day": gone.half_day, "township": gone.township, "type": gone.type, "specialty": gone.specialty}
    saturday = next(dt.date(2027, 1, day) for day in range(2, 31) if dt.date(2027, 1, day).weekday() == 5)
    refusals = {
        "revert": lambda headers: clash_client.post(f"/rosters/{MONTH}/revert", json={"version": 1}, headers=headers),
        "on leave": lambda headers: clash_client.post(f"/rosters/{MONTH}/assignments", json={**place, "expert": gone.expert}, headers=headers),
        "no such expert": lambda headers: clash_client.post(f"/rosters/{MONTH}/assignments", json={**place, "expert": "E999"}, headers=headers),
        "a Saturday": lambda headers: clash_client.post(
            f"/rosters/{MONTH}/assignments", json={**place, "expert": gone.expert, "date": saturday.isoformat()}, headers=headers
        ),
    }
    english_seen: set[str] = set()
    for what, refuse in refusals.items():
        chinese = refuse(auth)
        assert not english_reason_words(_refused_words(chinese)), (what, chinese.json())
        english_seen |= _refused_words(refuse({**auth, "Accept-Language": "en"}))
    assert "进修" in clash_client.post(f"/rosters/{MONTH}/revert", json={"version": 1}, headers=auth).json()["detail"]
    assert {"unavailable", "expert", "working"} <= english_seen  # the grep finds the English words when they are there


def test_no_chinese_clash_page_holds_an_english_reason(clash_client, clashed):
    _log_in(clash_client, clashed.office_token)
    clash_client.get(f"/office/{MONTH}/versions?lang=zh-CN")  # the form's page (its CSRF token)
    chinese = clash_client.post(f"/office/{MONTH}/revert?lang=zh-CN", data={"version": "1"})
    assert chinese.status_code == 409 and "不可出诊" in chinese.text and "进修" in chinese.text, chinese.text[:500]
    assert not english_reason_words(page_words(chinese.text)), sorted(english_reason_words(page_words(chinese.text)))
    clash_client.get(f"/office/{MONTH}/versions?lang=en")
    english = clash_client.post(f"/office/{MONTH}/revert?lang=en", data={"version": "1"})
    assert english.status_code == 409 and "unavailable" in page_words(english.text)


def test_no_chinese_swap_reason_holds_an_english_word(clash_client, clashed):
    assert {"SWAP_DECLINED_BY_COLLEAGUE", "SWAP_REJECTED_BY_OFFICE", "LACKS_THE_SPECIALTY"} <= clashed.swap_codes
    auth = {"Authorization": f"Bearer {clashed.office_token}"}
    chinese = clash_client.get("/swaps", headers=auth).json()
    declined = [row for row in chinese if row["state"] == "declined"]
    assert len(declined) == 3 and all(row["reason"] and row["reason_code"] for row in declined), declined
    for row in declined:
        assert not english_reason_words(ascii_words(row["reason"])), row
    english = ascii_words(" ".join(row["reason"] for row in clash_client.get("/swaps?lang=en", headers=auth).json()))
    assert {"declined", "rejected", "office", "specialty"} <= english, english


def test_no_chinese_cli_clash_holds_an_english_reason(clashed, tmp_path):
    def revert(*extra: str):
        return run_rota("revert", "--month", MONTH, "--version", "1", "--community", COMMUNITY, *extra,
                        env={"ROTA_DATABASE_URL": clashed.url, "ROTA_LANGUAGE": "zh-CN"}, cwd=tmp_path)

    chinese = revert()
    assert chinese.returncode == 3 and chinese.stderr.startswith("错误：") and "进修" in chinese.stderr, chinese.stderr
    assert not english_reason_words(ascii_words(chinese.stderr)), chinese.stderr
    english = revert("--lang", "en")
    assert english.returncode == 3 and "unavailable" in ascii_words(english.stderr), english.stderr
    assert revert("--lang", "fr").returncode == 2
