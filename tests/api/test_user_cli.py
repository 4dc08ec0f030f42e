"""`rota user create / list / disable / enable` through the console entry (tests/console.py): argon2 hashes, one readable line and exit 2 on bad input."""

from __future__ import annotations

import subprocess
from pathlib import Path

from scheduler import audit, auth, office_users
from scheduler.db import transaction
from tests.api.conftest import COMMUNITY
from tests.api.test_cli import county_database
from tests.console import run_rota


def rota(*arguments: str, env: dict[str, str], cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    return run_rota(*arguments, env=env, cwd=cwd, input=stdin)


def test_user_create_list_disable_and_enable(tmp_path: Path):
    engine, factory, env = county_database(tmp_path)

    made = rota("user", "create", "--name", "王医务", "--password-stdin", env=env, cwd=tmp_path, stdin="a long passphrase\n")
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip() == f"user 1 '王医务' of {COMMUNITY} created" and "passphrase" not in made.stdout + made.stderr
    with transaction(factory) as session:
        [row] = session.query(auth.OfficeUser).all()
        assert row.password_hash.startswith("$argon2id$")
        assert office_users.log_in_user(session, COMMUNITY, "王医务", "a long passphrase") is not None
        assert office_users.log_in_user(session, COMMUNITY, "王医务", "a long passphrase\n") is None  # the line's end is not part of it

    for arguments, stdin, line in (
        (("--name", "王医务", "--password-stdin"), "another passphrase\n", "error: the community already has a user named '王医务'"),
        (("--name", "李", "--password-stdin"), "short\n", "error: password: at least 8 characters"),
        (("--name", " ", "--password-stdin"), "a long passphrase\n", "error: name: a user needs a name"),
        (("--name", "李", "--community", "nowhere", "--password-stdin"), "a long passphrase\n", "error: no community 'nowhere'"),
        (("--name", "李"), None, "error: no terminal to ask for the password on: send it with --password-stdin"),
    ):
        refused = rota("user", "create", *arguments, env=env, cwd=tmp_path, stdin=stdin)
        assert refused.returncode == 2 and refused.stderr.strip() == line, (arguments, refused.stderr)
        assert "Traceback" not in refused.stderr

    listed = rota("user", "list", env=env, cwd=tmp_path)
    assert listed.returncode == 0 and listed.stdout.splitlines()[0].split("\t")[1:2] == ["王医务"] and listed.stdout.rstrip().endswith("active")
    disabled = rota("user", "disable", "--name", "王医务", env=env, cwd=tmp_path)
    assert disabled.returncode == 0, disabled.stderr
    assert rota("user", "list", env=env, cwd=tmp_path).stdout.rstrip().endswith("disabled")
    unknown = rota("user", "disable", "--name", "无人", env=env, cwd=tmp_path)
    assert unknown.returncode == 2 and unknown.stderr.strip() == "error: no user named '无人'"
    with factory() as session:
        assert office_users.log_in_user(session, COMMUNITY, "王医务", "a long passphrase") is None

    enabled = rota("user", "enable", "--name", "王医务", env=env, cwd=tmp_path)
    assert enabled.returncode == 0 and enabled.stdout.strip() == "user '王医务' enabled", enabled.stderr
    assert rota("user", "list", env=env, cwd=tmp_path).stdout.rstrip().endswith("active")
    again = rota("user", "enable", "--name", "王医务", env=env, cwd=tmp_path)  # an active user: no change
    assert again.returncode == 0, again.stderr
    for arguments, line in ((("--name", "无人"), "error: no user named '无人'"), (("--name", "王医务", "--community", "nowhere"), "error: no community 'nowhere'")):
        refused = rota("user", "enable", *arguments, env=env, cwd=tmp_path)
        assert refused.returncode == 2 and refused.stderr.strip() == line, (arguments, refused.stderr)
        assert "Traceback" not in refused.stderr
    with factory() as session:
        assert office_users.log_in_user(session, COMMUNITY, "王医务", "a long passphrase") is not None
        entries = [e.subject for e in audit.list_audit(session, COMMUNITY, kind="user")]
    assert entries.count("enable office user 王医务") == 1 and entries[0] == "enable office user 王医务"
    engine.dispose()
