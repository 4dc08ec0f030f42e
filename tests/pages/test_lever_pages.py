"""The office's lever pages through the real app (TestClient): pin and unpin, restore an earlier version from the versions
list (a clash shown with its rule named, nothing saved), and the audit page, in Chinese by default and English with ?lang=en.
"""

from __future__ import annotations

from scheduler import flows, pins, store
from scheduler.requests import create_request
from scheduler.db import make_engine, session_factory
from scheduler.roster_rules import RuleBroken
from tests.pages.conftest import BASE, COMMUNITY, MONTH
from tests.pages.test_page_routes import log_in
from tests.solver.checker import violations


def factory_of(seeded):
    return session_factory(make_engine(seeded.url))


def test_pins_page_pins_and_unpins(client, seeded, solved_month):
    log_in(client, seeded.office_token)
    page = client.get(f"/office/{MONTH}/pins")
    assert page.status_code == 200 and "锁定排班" in page.text and "本月还没有锁定的排班" in page.text
    assert f'href="/c/{COMMUNITY}/office/{MONTH}/pins"' in client.get(f"/office/{MONTH}").text  # the navigation leads here
    target = next(a for a in solved_month.solution.assignments if a.type != "supervision")

    done = client.post(f"/office/{MONTH}/pins", data={"assignment_id": target.id, "note": "院长要求"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith(f"/office/{MONTH}/pins?done=pinned")
    listed = client.get(f"/office/{MONTH}/pins?done=pinned")
    assert "已锁定该排班" in listed.text and f'class="card pin" data-assignment="{target.id}"' in listed.text and "院长要求" in listed.text
    english = client.get(f"/office/{MONTH}/pins?lang=en")
    assert "Pinned sessions" in english.text and "锁定排班" not in english.text and "Unpin" in english.text
    client.get(f"/office/{MONTH}/pins?lang=zh-CN")
    with factory_of(seeded)() as session:
        assert pins.pinned_ids(session, COMMUNITY, MONTH) == {target.id}

    assert client.post(f"/office/{MONTH}/pins", data={"assignment_id": "nope"}).status_code == 404
    gone = client.post(f"/office/{MONTH}/pins/{target.id}/unpin", follow_redirects=False)
    assert gone.status_code == 303
    assert "已解除锁定" in client.get(f"/office/{MONTH}/pins?done=unpinned").text
    assert client.post(f"/office/{MONTH}/pins/{target.id}/unpin").status_code == 404

    log_in(client, seeded.township_token)
    assert client.get(f"/office/{MONTH}/pins").status_code == 403
    assert client.get("/office/audit").status_code == 403


def test_versions_page_restores_an_earlier_version_and_names_a_clash(client, seeded, solved_month):
    factory = factory_of(seeded)
    removed = None
    for candidate in (a for a in solved_month.solution.assignments if a.type != "supervision" and not a.link_visit):
        try:
            flows.remove_session(factory, COMMUNITY, MONTH, candidate.id)  # v2
        except RuleBroken:
            continue
        removed = candidate
        break
    assert removed is not None
    log_in(client, seeded.office_token)
    versions = client.get(f"/office/{MONTH}/versions")
    assert versions.status_code == 200 and 'id="revert-1"' in versions.text and "恢复此版本" in versions.text
    assert 'id="revert-2"' not in versions.text  # the latest has nothing to restore

    done = client.post(f"/office/{MONTH}/revert", data={"version": "1"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith(f"/office/{MONTH}/versions?reverted=1-3-1")
    shown = client.get(f"/office/{MONTH}/versions?reverted=1-3-1")
    assert "已恢复：第 1 版的排班已另存为第 3 版并发布，改动 1 处" in shown.text and "office（医务科）" in shown.text
    with factory() as session:
        v3, number, status, _ = store.load_roster_version(session, COMMUNITY, MONTH)
        problem, _ = flows.month_problem(session, COMMUNITY, MONTH)
    assert (number, status) == (3, "published") and removed.content in {a.content for a in v3.assignments}
    assert violations(problem, v3) == []

    # Pin the restored session: going back to v2 (without it) is a clash, named, and nothing is saved.
    client.post(f"/office/{MONTH}/pins", data={"assignment_id": removed.id})
    clash = client.post(f"/office/{MONTH}/revert", data={"version": "2"})
    assert clash.status_code == 409 and "无法恢复第 2 版" in clash.text and "锁定的排班会被挪走" in clash.text
    english = client.post(f"/office/{MONTH}/revert?lang=en", data={"version": "2"})
    assert english.status_code == 409 and "a pinned session would move" in english.text and "锁定" not in english.text
    client.get(f"/office/{MONTH}/versions?lang=zh-CN")
    with factory() as session:
        assert store.load_roster_version(session, COMMUNITY, MONTH)[1] == 3
    assert client.post(f"/office/{MONTH}/revert", data={"version": "x"}).status_code == 422

    audit = client.get("/office/audit")
    assert audit.status_code == 200 and "操作记录" in audit.text
    assert "恢复旧版本" in audit.text and "office（医务科）" in audit.text and "第 3 版" in audit.text
    only_pins = client.get("/office/audit", params={"kind": "pin"})
    assert only_pins.text.count('class="card audit-entry"') == 1
    english_audit = client.get("/office/audit?lang=en")
    assert "Audit" in english_audit.text and "office (Medical affairs office)" in english_audit.text and "操作记录" not in english_audit.text


def test_the_inbox_forces_a_request_onto_a_chosen_day(client, seeded, solved_month):
    factory = factory_of(seeded)
    placed = next(a for a in solved_month.solution.assignments if a.type == "clinic" and a.date.day > 10)
    day = placed.date
    with factory() as session:
        # Stored without its event: the request waits for the office (the worker would place it by insertion).
        request_id = create_request(session, COMMUNITY, placed.township, "clinic", placed.specialty, 1, day, day).id
        session.commit()
    log_in(client, seeded.office_token)
    inbox = client.get("/office/inbox")
    assert f'id="force-{request_id}"' in inbox.text and "强制安排到该日" in inbox.text

    assert "指定日期无效" in client.post(f"/office/requests/{request_id}/force", data={"date": "2027-02-30"}).text
    outside = client.post(f"/office/requests/{request_id}/force", data={"date": "2027-02-03"})
    assert outside.status_code == 422 and "无法把该加诊申请安排到所选日期" in outside.text
    with factory() as session:
        problem, _ = flows.month_problem(session, COMMUNITY, MONTH)
    day_off = next(d for d in (day.replace(day=n) for n in range(1, 29)) if all(s.day != d for s in problem.slot_set))
    refused = client.post(f"/office/requests/{request_id}/force", data={"date": day_off.isoformat()})
    assert refused.status_code == 409 and "没有任何排班能容纳该申请" in refused.text, refused.text[-800:]
    with factory() as session:
        from scheduler.requests import get_request

        assert get_request(session, COMMUNITY, request_id).reason_code == "FORCE_NO_CANDIDATE"  # kept as data, shown in the inbox

    done = client.post(f"/office/requests/{request_id}/force", data={"date": day.isoformat()}, follow_redirects=False)
    with factory() as session:
        from scheduler.requests import get_request

        row = get_request(session, COMMUNITY, request_id)
        solution, number, _, _ = store.load_roster_version(session, COMMUNITY, MONTH)
        problem, _ = flows.month_problem(session, COMMUNITY, MONTH)
    assert done.status_code == 303, done.text
    assert row.state == "scheduled" and row.roster_version == number == 2
    before = sum(1 for a in solved_month.solution.assignments if (a.township, a.type, a.specialty, a.date) == (placed.township, "clinic", placed.specialty, day))
    after = sum(1 for a in solution.assignments if (a.township, a.type, a.specialty, a.date) == (placed.township, "clinic", placed.specialty, day))
    assert after == before + 1 and violations(problem, solution) == []


# The same pages in a real browser at 375 px: tests/pages/test_browser_office_levers.py (one server for every lever).
