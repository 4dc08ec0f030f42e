"""The office's contact book and notices through the API, on both engines."""

from __future__ import annotations

from sqlalchemy import update

from scheduler import store
from scheduler.db import transaction
from scheduler.notify import notify_recipient
from scheduler.notify.messages import NoticeText
from scheduler.notify.models import Notice
from tests.api.conftest import LiveService


def test_the_office_keeps_its_contact_book(service: LiveService):
    office = service.client(service.tokens["office"])
    book = office.get("/contacts")
    assert book.status_code == 200, book.text
    kinds = {(row["kind"], row["id"]) for row in book.json()}
    assert ("office", "office") in kinds and ("expert", "E01") in kinds and ("township", "pitou") in kinds
    assert all(row["language"] is None for row in book.json() if row["id"] == "E02")  # nothing entered yet

    saved = office.put("/contacts/expert/E02", json={"email": "wang@hospital.example", "language": "en"})
    assert saved.status_code == 200 and saved.json()["email"] == "wang@hospital.example" and saved.json()["language"] == "en"
    robot = office.put("/contacts/township/pitou", json={"webhook_url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"})
    assert robot.status_code == 200 and robot.json()["language"] == "zh-CN"
    assert office.get("/contacts/expert/E02").json()["email"] == "wang@hospital.example"

    bad = office.put("/contacts/expert/E02", json={"email": "not an address"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["path"] == "email"
    assert office.put("/contacts/expert/E02", json={"webhook_url": "ftp://x"}).json()["detail"][0]["path"] == "webhook_url"
    assert office.put("/contacts/expert/E02", json={"language": "fr"}).status_code == 422
    assert office.put("/contacts/expert/NOBODY", json={"email": "a@b.cn"}).status_code == 404
    assert office.put("/contacts/doctor/E02", json={"email": "a@b.cn"}).status_code == 422
    assert office.delete("/contacts/township/pitou").status_code == 204
    assert office.delete("/contacts/township/pitou").status_code == 404
    township = service.client(service.token("township", township="pitou"))
    assert township.get("/contacts").status_code == 403 and township.get("/notices").status_code == 403


def test_the_office_sees_its_notices_and_retries_a_failed_one(service: LiveService):
    office = service.client(service.tokens["office"])
    office.put("/contacts/expert/E03", json={"email": "chen@hospital.example"})
    with transaction(service.factory) as session:
        community = store.community_id_of(session, service.community)
        [key] = notify_recipient(session, community_id=community, recipient_kind="expert", recipient_id="E03", kind="change",
                                 about="test-contacts", version=1, text_for=lambda lang: NoticeText("排班变动", "您的排班有变动。"))
        session.execute(update(Notice).where(Notice.dedup_key == key).values(status="failed", last_error="550 mailbox unavailable"))
    listed = office.get("/notices", params={"recipient_id": "E03"})
    assert listed.status_code == 200, listed.text
    [notice] = [n for n in listed.json() if n["subject"] == "排班变动"]
    assert notice["status"] == "failed" and notice["address"] == "chen@hospital.example" and notice["channel"] == "email"
    assert notice["id"] in {n["id"] for n in office.get("/notices", params={"status": "failed"}).json()}
    retried = office.post(f"/notices/{notice['id']}/retry")
    assert retried.status_code == 200 and retried.json()["status"] == "queued" and retried.json()["attempts"] == 0
    assert office.post("/notices/999999999/retry").status_code == 404
    assert office.get("/notices", params={"status": "lost"}).status_code == 422
