"""The office's contact book and notices pages through the real app (TestClient)."""

from __future__ import annotations

from sqlalchemy import update

from scheduler import store
from scheduler.db import make_engine, session_factory, transaction
from scheduler.notify import get_contact, notify_recipient
from scheduler.notify.messages import NoticeText
from scheduler.notify.models import Notice
from tests.pages.conftest import BASE, COMMUNITY
from tests.pages.test_page_routes import log_in


def test_the_office_enters_a_contact_on_its_page(client, seeded):
    log_in(client, seeded.office_token)
    factory = session_factory(make_engine(seeded.url))
    book = client.get("/office/contacts")
    assert book.status_code == 200 and "联系人" in book.text and 'data-kind="township" data-id="t01"' in book.text
    assert "没有联系人" in book.text and f'href="{BASE}/office/contacts"' in book.text
    form = client.get("/office/contacts/expert/E010")
    assert form.status_code == 200 and 'name="webhook_url"' in form.text

    wrong = client.post("/office/contacts/expert/E010", data={"email": "not an address", "language": "zh-CN"})
    assert wrong.status_code == 422 and "邮箱格式不正确" in wrong.text and 'value="not an address"' in wrong.text
    english = client.post("/office/contacts/expert/E010?lang=en", data={"webhook_url": "ftp://x", "language": "en"})
    assert english.status_code == 422 and "must start with http:// or https://" in english.text
    client.get("/office/contacts?lang=zh-CN")
    with factory() as session:
        community = store.community_id_of(session, COMMUNITY)
        assert get_contact(session, community, "expert", "E010") is None

    saved = client.post("/office/contacts/expert/E010", data={"email": "e010@hospital.example", "language": "en"}, follow_redirects=False)
    assert saved.status_code == 303
    assert "联系人已保存" in client.get("/office/contacts?saved=1").text
    with factory() as session:
        contact = get_contact(session, community, "expert", "E010")
    assert contact.email == "e010@hospital.example" and contact.language == "en"
    assert client.get("/office/contacts/expert/NOBODY").status_code == 404
    assert client.post("/office/contacts/expert/E010/delete", follow_redirects=False).status_code == 303
    with factory() as session:
        assert get_contact(session, community, "expert", "E010") is None


def test_the_office_sees_a_failed_notice_and_sends_it_again(client, seeded):
    log_in(client, seeded.office_token)
    factory = session_factory(make_engine(seeded.url))
    client.post("/office/contacts/township/t01", data={"webhook_url": "http://127.0.0.1:9/robot", "language": "zh-CN"})
    with transaction(factory) as session:
        community = store.community_id_of(session, COMMUNITY)
        [key] = notify_recipient(session, community_id=community, recipient_kind="township", recipient_id="t01", kind="change",
                                 about="page-test", version=1, text_for=lambda lang: NoticeText("下月排班有变", "请查看。"))
        session.execute(update(Notice).where(Notice.dedup_key == key).values(status="failed", last_error="connection refused"))
        notice_id = session.scalar(Notice.__table__.select().with_only_columns(Notice.id).where(Notice.dedup_key == key))
    page = client.get("/office/notices?status=failed")
    assert page.status_code == 200 and "下月排班有变" in page.text and "connection refused" in page.text and "发送失败" in page.text
    retried = client.post(f"/office/notices/{notice_id}/retry", follow_redirects=False)
    assert retried.status_code == 303 and "retried=1" in retried.headers["location"]
    assert "已重新排队" in client.get("/office/notices?retried=1").text
    log_in(client, seeded.expert_token)
    assert client.get("/office/notices").status_code == 403
