"""Office users on SQLite and PostgreSQL: add, list, disable, enable again, a new password; each change audited with its actor, no secret kept.

What the office users page and the `/office-users` API call (scheduler.office_users): the rules for names and
passwords (their English and Chinese words), a user of one community invisible from another, a disabled user
logged out at once and refused at the next login, an enabled one let in again with the old password (their
ended sessions staying ended), a new password ending the user's other sessions.
"""

from __future__ import annotations

import json

import pytest
from event_harness import COMMUNITY, MINIMAL

from scheduler import audit, office_users, store
from scheduler.actors import Actor, acting_as
from scheduler.auth import OfficeUser, PageSession, open_page_session, page_session_caller
from scheduler.db import transaction
from scheduler.errors import NotFound, ScenarioError
from scheduler.scenario import load_scenario

OTHER = "other"  # a second community
PASSWORD = "a long passphrase"
OFFICE = Actor("医务科赵六", "office")


@pytest.fixture
def factory(session_factory):
    with transaction(session_factory) as session:
        store.import_scenario(session, COMMUNITY, load_scenario(MINIMAL))
        store.import_scenario(session, OTHER, load_scenario(MINIMAL))
    return session_factory


def add(factory, name: str = "王医务", password: str = PASSWORD, community: str = COMMUNITY) -> int:
    with transaction(factory) as session, acting_as(OFFICE):
        return office_users.create_user(session, community, name, password)


def user_entries(factory, community: str = COMMUNITY) -> list[audit.AuditView]:
    with factory() as session:
        return list(reversed(audit.list_audit(session, community, kind="user")))


def test_a_user_is_added_listed_and_audited_without_the_password(factory):
    user_id = add(factory)
    with factory() as session:
        [listed] = office_users.list_users(session, COMMUNITY)
        assert (listed.id, listed.name, listed.disabled, listed.last_login_at) == (user_id, "王医务", False, None)
        assert office_users.get_user(session, COMMUNITY, user_id) == listed
        assert session.get(OfficeUser, user_id).password_hash.startswith("$argon2id$")
    [entry] = user_entries(factory)
    assert (entry.actor, entry.actor_role, entry.before, entry.after) == ("医务科赵六", "office", None, {"name": "王医务", "disabled": False})
    assert PASSWORD not in json.dumps(entry.as_json(), ensure_ascii=False) and "argon2" not in json.dumps(entry.as_json())


def test_the_last_login_is_the_newest_page_session(factory):
    user_id = add(factory)
    with transaction(factory) as session:
        open_page_session(session, user_id=user_id)
        open_page_session(session, user_id=user_id)
    with factory() as session:
        [listed] = office_users.list_users(session, COMMUNITY)
        newest = max(row.created_at for row in session.query(PageSession).filter_by(user_id=user_id))
    assert listed.last_login_at == newest.isoformat()


def test_disabling_ends_the_sessions_refuses_the_login_and_is_audited_once(factory):
    user_id = add(factory)
    with transaction(factory) as session:
        caller = office_users.log_in_user(session, COMMUNITY, "王医务", PASSWORD)
        assert caller is not None and caller.user_id == user_id
        raw = open_page_session(session, user_id=user_id)
    with transaction(factory) as session, acting_as(OFFICE):
        office_users.disable_user(session, COMMUNITY, "王医务")
    with transaction(factory) as session, acting_as(OFFICE):
        office_users.disable_user(session, COMMUNITY, "王医务")  # again: no change, no entry
    with transaction(factory) as session:
        assert page_session_caller(session, raw) is None
        assert all(row.revoked_at is not None for row in session.query(PageSession).filter_by(user_id=user_id))
        assert office_users.log_in_user(session, COMMUNITY, "王医务", PASSWORD) is None
        assert office_users.get_user(session, COMMUNITY, user_id).disabled
    _, disabled = user_entries(factory)
    assert (disabled.before, disabled.after, disabled.actor) == ({"name": "王医务", "disabled": False}, {"name": "王医务", "disabled": True}, "医务科赵六")


def test_enabling_lets_a_disabled_user_log_in_again_and_is_audited_once(factory):
    user_id = add(factory)
    with transaction(factory) as session:
        raw = open_page_session(session, user_id=user_id)
    with transaction(factory) as session, acting_as(OFFICE):
        office_users.enable_user(session, COMMUNITY, "王医务")  # an active user: no change, no entry
    assert len(user_entries(factory)) == 1
    with transaction(factory) as session, acting_as(OFFICE):
        office_users.disable_user(session, COMMUNITY, "王医务")
    with transaction(factory) as session, acting_as(OFFICE):
        office_users.enable_user(session, COMMUNITY, " 王医务 ")
    with transaction(factory) as session, acting_as(OFFICE):
        office_users.enable_user(session, COMMUNITY, "王医务")  # again: no change, no entry
    with transaction(factory) as session:
        listed = office_users.get_user(session, COMMUNITY, user_id)
        assert (listed.disabled, listed.disabled_at) == (False, None)
        caller = office_users.log_in_user(session, COMMUNITY, "王医务", PASSWORD)
        assert caller is not None and caller.user_id == user_id
        assert page_session_caller(session, raw) is None  # the session the disabling ended stays ended
        with pytest.raises(NotFound, match="no user named '无人'"):
            office_users.enable_user(session, COMMUNITY, "无人")
    _, disabled, enabled = user_entries(factory)
    assert disabled.subject == "disable office user 王医务" and enabled.subject == "enable office user 王医务"
    assert (enabled.before, enabled.after, enabled.actor) == ({"name": "王医务", "disabled": True}, {"name": "王医务", "disabled": False}, "医务科赵六")
    with transaction(factory) as session:
        office_users.disable_user(session, COMMUNITY, "王医务")
    with transaction(factory) as session:
        assert office_users.log_in_user(session, COMMUNITY, "王医务", PASSWORD) is None  # enabled, then disabled again: refused again


def test_an_office_user_cannot_disable_themselves(factory):
    user_id = add(factory)
    with pytest.raises(office_users.DisablingOneself), transaction(factory) as session:
        office_users.disable_user(session, COMMUNITY, "王医务", acting_user_id=user_id)
    other = add(factory, "李医务")
    with transaction(factory) as session:
        office_users.disable_user(session, COMMUNITY, "王医务", acting_user_id=other)
    with factory() as session:
        assert office_users.get_user(session, COMMUNITY, user_id).disabled


def test_a_new_password_replaces_the_old_and_ends_the_other_sessions(factory):
    user_id = add(factory)
    with transaction(factory) as session:
        kept = open_page_session(session, user_id=user_id)
        ended = open_page_session(session, user_id=user_id)
    with transaction(factory) as session, acting_as(OFFICE):
        office_users.set_password(session, COMMUNITY, "王医务", "another passphrase", keep_session=kept)
    with transaction(factory) as session:
        assert office_users.log_in_user(session, COMMUNITY, "王医务", PASSWORD) is None
        assert office_users.log_in_user(session, COMMUNITY, "王医务", "another passphrase") is not None
        assert page_session_caller(session, kept) is not None and page_session_caller(session, ended) is None
    _, changed = user_entries(factory)
    assert changed.after == {"name": "王医务", "disabled": False, "password": "changed"} and changed.actor == "医务科赵六"
    assert "another passphrase" not in json.dumps(changed.as_json()) and "argon2" not in json.dumps(changed.as_json())
    with pytest.raises(ScenarioError) as refused, transaction(factory) as session:
        office_users.set_password(session, COMMUNITY, "王医务", "short")
    assert str(refused.value) == "password: at least 8 characters"
    assert len(user_entries(factory)) == 2  # the refused one left no entry


@pytest.mark.parametrize(("name", "password", "path", "english", "chinese"), [
    ("", PASSWORD, "name", "a user needs a name", "请填写用户名。"),
    ("x" * 65, PASSWORD, "name", "at most 64 characters (got 65)", "用户名最多 64 个字符（现为 65 个）。"),
    ("李\x07", PASSWORD, "name", "a name holds no control characters", "用户名不能含控制字符。"),
    ("李", "short", "password", "at least 8 characters", "密码至少 8 个字符。"),
    ("李", "x" * 1025, "password", "at most 1024 characters", "密码最多 1024 个字符。"),
    ("李", "bad \ud800 surrogate", "password", "a password is text (it holds an unpaired surrogate)", "密码含有无法识别的字符。"),
])
def test_names_and_passwords_are_refused_in_both_languages(factory, name, password, path, english, chinese):
    with pytest.raises(ScenarioError) as refused, transaction(factory) as session:
        office_users.create_user(session, COMMUNITY, name, password)
    [problem] = refused.value.problems
    assert (problem.path, problem.message, problem.message_in("en"), problem.message_in("zh-CN")) == (path, english, english, chinese)
    assert user_entries(factory) == []


def test_a_taken_name_is_refused_and_names_are_per_community(factory):
    add(factory)
    with pytest.raises(office_users.NameTaken, match="already has a user named '王医务'"), transaction(factory) as session:
        office_users.create_user(session, COMMUNITY, " 王医务 ", PASSWORD)
    other_id = add(factory, community=OTHER)  # the same name in another community is another user
    with factory() as session:
        assert [u.name for u in office_users.list_users(session, OTHER)] == ["王医务"]
        with pytest.raises(NotFound):
            office_users.get_user(session, COMMUNITY, other_id)  # not reachable from the first community
        with pytest.raises(NotFound):
            office_users.get_user(session, COMMUNITY, 2**40)
    with transaction(factory) as session:
        office_users.disable_user(session, OTHER, "王医务")
    with transaction(factory) as session:
        assert office_users.log_in_user(session, COMMUNITY, "王医务", PASSWORD) is not None  # the first community's user is untouched
        assert office_users.log_in_user(session, OTHER, "王医务", PASSWORD) is None
    assert len(user_entries(factory, COMMUNITY)) == 1 and len(user_entries(factory, OTHER)) == 2  # each community's trail its own
