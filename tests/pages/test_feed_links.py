"""Feed links on the township head's and the expert's page: a new link shown once, the live links listed, each revocable.

A revoked link's feed answers 404 (the phone's calendar stops updating); the other links keep working; nobody
revokes a link that is not their own (another expert's, a township's, another community's: a 404 page).
"""

from __future__ import annotations

import re

import pytest

from scheduler import auth
from scheduler.db import make_engine, session_factory, transaction
from tests.pages.conftest import BASE, COMMUNITY
from tests.pages.forms import log_in

FEED_URL = re.compile(r'id="feed-url">([^<]+)<')
LISTED = re.compile(r'<li data-feed="(\d+)">')


def live_links(html: str) -> list[int]:
    return [int(number) for number in LISTED.findall(html)]


def make_link(client, role: str) -> str:
    answer = client.post(f"/{role}/feed")
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    return FEED_URL.search(answer.text).group(1)


def feed_status(client, url: str) -> int:
    return client.get(url).status_code


@pytest.mark.parametrize("role", ["expert", "township"])
def test_a_person_makes_links_sees_them_and_revokes_an_old_one(client, seeded, role):
    log_in(client, seeded.expert_token if role == "expert" else seeded.township_token)
    page = client.get(f"/{role}")
    assert 'id="feed"' in page.text and "日历订阅" in page.text and live_links(page.text) == []
    old, new = make_link(client, role), make_link(client, role)
    assert old != new and old.startswith(f"http://testserver{BASE}/feeds/") and old.endswith(".ics")
    for url in (old, new):
        feed = client.get(url)
        assert feed.status_code == 200 and "BEGIN:VCALENDAR" in feed.text
    page = client.get(f"/{role}")
    listed = live_links(page.text)
    assert len(listed) == 2 and "我的订阅链接" in page.text and page.text.count('class="secondary revoke-feed"') == 2
    assert old not in page.text and new not in page.text  # a link is shown once, when it is made
    revoked = client.post(f"/{role}/feeds/{listed[0]}/revoke", follow_redirects=False)
    assert revoked.status_code == 303 and revoked.headers["location"] == f"{BASE}/{role}?revoked=1"
    after = client.get(revoked.headers["location"].removeprefix(BASE))
    assert "订阅链接已撤销" in after.text and live_links(after.text) == listed[1:]
    assert feed_status(client, old) == 404 and feed_status(client, new) == 200
    # Revoking it again changes nothing; a number that is no link is a 404 page.
    assert client.post(f"/{role}/feeds/{listed[0]}/revoke", follow_redirects=False).status_code == 303
    assert client.post(f"/{role}/feeds/999999/revoke").status_code == 404
    assert feed_status(client, new) == 200
    english = client.get(f"/{role}?lang=en")
    assert "My feed links" in english.text and "Revoke" in english.text and "订阅" not in english.text


def test_nobody_revokes_a_link_that_is_not_their_own(client, seeded):
    engine = make_engine(seeded.url)
    try:
        with transaction(session_factory(engine)) as session:
            other_expert, _ = auth.create_feed_token(session, COMMUNITY, "expert", "E001" if seeded.expert != "E001" else "E002")
            own_township, _ = auth.create_feed_token(session, COMMUNITY, "township", seeded.township)
            community_wide, _ = auth.create_feed_token(session, COMMUNITY, "community")
    finally:
        engine.dispose()
    log_in(client, seeded.expert_token)
    for feed_id in (other_expert, own_township, community_wide):
        assert client.post(f"/expert/feeds/{feed_id}/revoke").status_code == 404
    assert live_links(client.get("/expert").text) == []  # another's links are not listed either
    log_in(client, seeded.township_token)
    assert live_links(client.get("/township").text) == [own_township]
    assert client.post(f"/township/feeds/{other_expert}/revoke").status_code == 404
    assert client.post(f"/expert/feeds/{own_township}/revoke").status_code == 403  # a township head has no expert page
    engine = make_engine(seeded.url)
    try:
        with session_factory(engine)() as session:
            assert all(auth.get_feed_token(session, COMMUNITY, i).revoked_at is None for i in (other_expert, own_township, community_wide))
    finally:
        engine.dispose()
