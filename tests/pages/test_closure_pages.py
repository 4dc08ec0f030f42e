"""The office's closure page through the real app (TestClient): the form closes a township through the event path,
problems are named in the page's language, the closed days are listed and reopened, and the month page shows
what each change did.
"""

from __future__ import annotations

import time

from scheduler import closures, events, store
from scheduler.db import make_engine, session_factory
from tests.pages.conftest import COMMUNITY, MONTH
from tests.pages.forms import log_in


def factory_of(seeded):
    return session_factory(make_engine(seeded.url))


def wait_until_done(factory, seconds: float = 60) -> list:
    deadline = time.monotonic() + seconds
    while True:
        with factory() as session:
            found = events.list_events(session, COMMUNITY)
        if found and all(e.status in ("done", "failed") for e in found):
            return found
        assert time.monotonic() < deadline, [(e.kind, e.status) for e in found]
        time.sleep(0.3)


def test_the_closure_form_goes_through_the_event_path(client, seeded, solved_month):
    log_in(client, seeded.office_token)
    page = client.get("/office/closures")
    assert page.status_code == 200 and "卫生院停诊" in page.text and 'name="from"' in page.text and 'name="reason"' in page.text
    assert "本月及以后没有停诊日" in page.text
    assert 'href="/c/quannan/office/closures"' in client.get(f"/office/{MONTH}").text  # the office's navigation leads here

    # Problems are named in the page language, and nothing is stored.
    wrong = client.post("/office/closures", data={"township": "t01", "from": "2027-01-20", "to": "2027-01-10"})
    assert wrong.status_code == 422 and "结束日期无效" in wrong.text and 'value="2027-01-20"' in wrong.text
    assert client.post("/office/closures", data={"township": "nowhere", "from": "2027-01-20"}).status_code == 422
    assert "开始日期无效" in client.post("/office/closures", data={"township": "t01", "from": "2027-13-01"}).text
    english = client.post("/office/closures?lang=en", data={"township": "t01", "from": "0001-01-01"})
    assert english.status_code == 422 and "The first day is not a valid date" in english.text and "开始日期" not in english.text
    client.get("/office/closures?lang=zh-CN")  # ?lang= is remembered in a cookie: back to Chinese
    factory = factory_of(seeded)
    with factory() as session:
        assert events.list_events(session, COMMUNITY) == []

    target = next(a for a in solved_month.solution.assignments if a.township == "t01" and a.type != "supervision")
    day = target.date.isoformat()
    done = client.post("/office/closures", data={"township": "t01", "from": day, "reason": "洪水"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith("/office/closures?filed=closed")
    listed = client.get("/office/closures?filed=closed")
    assert "停诊已登记" in listed.text and f'data-township="t01" data-date="{day}"' in listed.text

    (event,) = wait_until_done(factory)
    assert event.kind == "closure" and event.status == "done", event.last_error
    with factory() as session:
        after, version, status, _ = store.load_roster_version(session, COMMUNITY, MONTH)
    assert version == 2 and status == "published"
    assert not [a for a in after.assignments if a.township == "t01" and a.date == target.date]
    month_page = client.get(f"/office/{MONTH}")
    assert f'data-event="{event.id}" data-kind="closure" data-status="done"' in month_page.text
    assert f"t01 停诊 {day}（洪水）" in month_page.text and "第2版（已发布）" in month_page.text
    english_page = client.get(f"/office/{MONTH}?lang=en")
    assert f"t01 closed {day} (洪水)" in english_page.text and "version 2 (published)" in english_page.text
    client.get(f"/office/{MONTH}?lang=zh-CN")

    with factory() as session:
        (closed,) = closures.list_closures(session, COMMUNITY)
    reopened = client.post(f"/office/closures/{closed.id}/reopen", follow_redirects=False)
    assert reopened.status_code == 303
    assert "本月及以后没有停诊日" in client.get("/office/closures").text
    assert client.post("/office/closures/reopen", data={"township": "t01", "from": day}).status_code == 404
    kinds = [e.kind for e in wait_until_done(factory)]
    assert kinds == ["reopen", "closure"]
