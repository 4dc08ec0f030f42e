"""The office's users through the API (`/c/{community}/office-users`), on both engines: add, list, a new password, disable, enable.

The same rules and messages as `rota user create` (422 naming the field), 409 for a taken name, 403 for a
township head's or an expert's token, 404 for a user the community does not have; each change is in the
audit trail under the calling token, without the password.
"""

from __future__ import annotations

import json

from scheduler import audit, office_users
from scheduler.db import transaction
from tests.api.conftest import LiveService

PASSWORD = "a long passphrase"


def test_the_office_manages_its_users_through_the_api(service: LiveService):
    office = service.client(service.tokens["office"])
    made = office.post("/office-users", json={"name": " 张医务 ", "password": PASSWORD})
    assert made.status_code == 201, made.text
    user = made.json()
    assert user["name"] == "张医务" and user["disabled"] is False and user["last_login_at"] is None and "password" not in made.text
    assert user["id"] in [row["id"] for row in office.get("/office-users").json()]
    assert office.get(f"/office-users/{user['id']}").json() == user

    taken = office.post("/office-users", json={"name": "张医务", "password": PASSWORD})
    assert taken.status_code == 409 and taken.json()["detail"] == "the community already has a user named '张医务'"
    short = office.post("/office-users", json={"name": "赵医务", "password": "short"})
    assert short.status_code == 422 and short.json()["detail"] == [{"path": "password", "message": "at least 8 characters"}]
    nameless = office.post("/office-users", json={"name": "  ", "password": PASSWORD})
    assert nameless.json()["detail"] == [{"path": "name", "message": "a user needs a name"}]
    assert office.post("/office-users", json={"name": "赵医务"}).status_code == 422
    assert office.get("/office-users/2147483647").status_code == 404

    assert office.put(f"/office-users/{user['id']}/password", json={"password": "another passphrase"}).status_code == 204
    assert office.put(f"/office-users/{user['id']}/password", json={"password": "short"}).status_code == 422
    with transaction(service.factory) as session:
        assert office_users.log_in_user(session, service.community, "张医务", "another passphrase") is not None
        assert office_users.log_in_user(session, service.community, "张医务", PASSWORD) is None

    disabled = office.post(f"/office-users/{user['id']}/disable")
    assert disabled.status_code == 200 and disabled.json()["disabled"] is True and disabled.json()["disabled_at"]
    assert office.post(f"/office-users/{user['id']}/disable").status_code == 200  # again: still disabled, nothing new
    with transaction(service.factory) as session:
        assert office_users.log_in_user(session, service.community, "张医务", "another passphrase") is None

    enabled = office.post(f"/office-users/{user['id']}/enable")
    assert enabled.status_code == 200, enabled.text
    assert enabled.json() == {**disabled.json(), "disabled": False, "disabled_at": None}
    assert office.post(f"/office-users/{user['id']}/enable").json() == enabled.json()  # again: still active, nothing new
    assert office.post("/office-users/2147483647/enable").status_code == 404
    with transaction(service.factory) as session:
        assert office_users.log_in_user(session, service.community, "张医务", "another passphrase") is not None
        entries = [e for e in audit.list_audit(session, service.community, kind="user") if (e.after or {}).get("name") == "张医务"]
    assert [e.subject for e in reversed(entries)] == [
        "add office user 张医务", "new password for office user 张医务", "disable office user 张医务", "enable office user 张医务",
    ]
    assert all(e.actor_role == "office" for e in entries)
    assert "passphrase" not in json.dumps([e.as_json() for e in entries]) and "argon2" not in json.dumps([e.as_json() for e in entries])


def test_only_the_office_reaches_the_users(service: LiveService):
    for token in (service.token("township", township="pitou"), service.token("expert", expert="E01")):
        member = service.client(token)
        assert member.get("/office-users").status_code == 403
        assert member.post("/office-users", json={"name": "越权", "password": PASSWORD}).status_code == 403
        assert member.post("/office-users/1/enable").status_code == 403
    assert service.client().get("/office-users").status_code == 401


def test_the_enable_operation_is_documented_like_disable(service: LiveService):
    paths = service.root_client().get("/openapi.json").json()["paths"]
    disable, enable = (paths[f"/c/{{community}}/office-users/{{user_id}}/{verb}"]["post"] for verb in ("disable", "enable"))
    assert sorted(enable["responses"]) == sorted(disable["responses"]) == ["200", "400", "401", "403", "404", "405", "409", "413", "422", "500"]
    assert enable["responses"]["200"]["content"] == disable["responses"]["200"]["content"]  # the same OfficeUserOut
    assert enable["security"] == disable["security"] == [{"bearer": []}]
