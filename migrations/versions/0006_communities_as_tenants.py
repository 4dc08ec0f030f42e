"""Communities as tenants: every community gets a unique `code`; tokens, feed tokens, events, notices and contacts carry their community.

An existing database (one community, as the service kept it up to 0005) moves into the new shape
without losing a row:

* `communities.code`: the setting ROTA_COMMUNITY_CODE if set (it names the oldest community), else
  an ASCII slug of the name ("Quannan County" -> "quannan-county") if the name has ASCII letters or
  digits, else `c<id>` ("全南县总医院" with id 1 -> "c1"); a code already taken gets "-<id>" appended.
  The name stops being unique.
* `api_tokens`, `feed_tokens`, `events`, `notices`, `contacts` get `community_id` (a foreign key,
  indexed), filled with the oldest community (the only one in a single-community database; with
  several, which 0005 could hold but not serve, the oldest). A bureau token has none, so
  `api_tokens.community_id` stays nullable. A database with such rows but no community cannot say
  whose they are: the upgrade stops and says so (API tokens alone are kept, unbound: they answer 401).
* Unique per community: a notice's dedup key (`uq_notices_dedup_key` on community, key) and a
  contact (`uq_contacts_recipient` on community, kind, id); the events' lane index gains the community.
* APScheduler's jobs (`apscheduler_jobs`, if the table exists) are renamed and re-pickled to the
  per-community ids and arguments: `draft` -> `draft:<code>` with args [code], likewise `publish`,
  `digest`, `sweep`; `reminder:<month>:...` -> `reminder:<code>:<month>:...` with the code first.

Downgrade is supported while the database holds at most one community (it drops the columns and
gives the jobs their old ids back; bureau tokens, which 0005 cannot express, are removed); with
several it stops with a message.

Revision ID: 0006_communities
Revises: 0005_swaps
Create Date: 2026-12-07 00:40:00
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from config.settings import Settings

revision: str = "0006_communities"
down_revision: str | None = "0005_swaps"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CODE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
TENANT_TABLES = ("api_tokens", "feed_tokens", "events", "notices", "contacts")
STANDING_JOBS = ("draft", "publish", "digest", "sweep")
JOBS_TABLE = "apscheduler_jobs"


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", (name or "").lower()).strip("-")[:64].strip("-")


def _configured_code() -> str:
    code = Settings().community_code.strip()
    if code and not CODE.match(code):
        raise RuntimeError(f"ROTA_COMMUNITY_CODE={code!r} is not a community code: use 1-64 letters, digits, '-' or '_'")
    return code


def community_codes(rows: list[tuple[int, str]], configured: str = "") -> dict[int, str]:
    """The code of each (id, name), oldest first: the configured code for the oldest, else a slug of the name, else c<id>; unique."""
    codes: dict[int, str] = {}
    taken: set[str] = set()
    for position, (community_id, name) in enumerate(sorted(rows)):
        code = (configured if position == 0 and configured else "") or _slug(name) or f"c{community_id}"
        if code in taken:
            code = f"{code[:60]}-{community_id}"
        taken.add(code)
        codes[community_id] = code
    return codes


def _count(bind, table: str) -> int:
    return bind.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar() or 0


def _rewrite_jobs(bind, rename) -> None:
    """Give every stored APScheduler job the id and args `rename(id, args)` returns (None: leave it)."""
    if not sa.inspect(bind).has_table(JOBS_TABLE):
        return
    jobs = sa.table(JOBS_TABLE, sa.column("id", sa.Unicode(191)), sa.column("job_state", sa.LargeBinary))
    for job_id, job_state in bind.execute(sa.select(jobs.c.id, jobs.c.job_state)).all():
        state = pickle.loads(job_state)
        renamed = rename(job_id, tuple(state.get("args") or ()))
        if renamed is None:
            continue
        new_id, args = renamed
        state["id"], state["args"] = new_id, tuple(args)
        bind.execute(jobs.update().where(jobs.c.id == job_id).values(id=new_id, job_state=pickle.dumps(state, pickle.HIGHEST_PROTOCOL)))


def _to_community_job(code: str):
    def rename(job_id: str, args: tuple):
        if job_id in STANDING_JOBS:
            return f"{job_id}:{code}", (code,)
        if job_id.startswith("reminder:") and len(args) == 4:  # (month, assignment id, offset, revision)
            return f"reminder:{code}:{job_id.removeprefix('reminder:')}", (code, *args)
        return None

    return rename


def _from_community_job(job_id: str, args: tuple):
    kind, _, rest = job_id.partition(":")
    if kind in STANDING_JOBS:
        return kind, ()
    if kind == "reminder" and len(args) == 5:
        return f"reminder:{rest.split(':', 1)[1]}", args[1:]
    return None


def upgrade() -> None:
    bind = op.get_bind()
    communities = [(row[0], row[1]) for row in bind.execute(sa.text("SELECT id, name FROM communities ORDER BY id"))]
    codes = community_codes(communities, _configured_code())
    owner = communities[0][0] if communities else None
    if owner is None:
        orphans = {table: _count(bind, table) for table in TENANT_TABLES if table != "api_tokens"}
        orphans = {table: count for table, count in orphans.items() if count}
        if orphans:
            listed = ", ".join(f"{count} {table}" for table, count in orphans.items())
            raise RuntimeError(f"the database holds {listed} but no community to own them: import the community first (at revision 0005), then upgrade")

    # Communities: a unique code; the name is display text only.
    op.add_column("communities", sa.Column("code", sa.String(length=64), nullable=True))
    communities_t = sa.table("communities", sa.column("id", sa.Integer), sa.column("code", sa.String))
    for community_id, code in codes.items():
        bind.execute(communities_t.update().where(communities_t.c.id == community_id).values(code=code))
    with op.batch_alter_table("communities") as batch:
        batch.drop_constraint("uq_communities_name", type_="unique")
        batch.alter_column("code", existing_type=sa.String(length=64), nullable=False)
        batch.create_unique_constraint(batch.f("uq_communities_code"), ["code"])

    # Every tenant row names its community.
    for table in TENANT_TABLES:
        op.add_column(table, sa.Column("community_id", sa.Integer(), nullable=True))
        if owner is not None:
            bind.execute(sa.text(f"UPDATE {table} SET community_id = :owner"), {"owner": owner})
        with op.batch_alter_table(table) as batch:
            if table != "api_tokens":  # a bureau token belongs to no community
                batch.alter_column("community_id", existing_type=sa.Integer(), nullable=False)
            batch.create_foreign_key(batch.f(f"fk_{table}_community_id_communities"), "communities", ["community_id"], ["id"], ondelete="CASCADE")
            batch.create_index(batch.f(f"ix_{table}_community_id"), ["community_id"], unique=False)
            if table == "notices":
                batch.drop_constraint("uq_notices_dedup_key", type_="unique")
                batch.create_unique_constraint("uq_notices_dedup_key", ["community_id", "dedup_key"])
                batch.drop_index("ix_notices_recipient")
                batch.create_index("ix_notices_recipient", ["community_id", "recipient_kind", "recipient_id"], unique=False)
            elif table == "contacts":
                batch.drop_constraint("uq_contacts_recipient", type_="unique")
                batch.create_unique_constraint("uq_contacts_recipient", ["community_id", "recipient_kind", "ref_id"])
            elif table == "events":
                batch.drop_index("ix_events_month_township")
                batch.create_index("ix_events_lane", ["community_id", "month", "township"], unique=False)

    # Timed jobs: one set per community.
    if owner is not None:
        _rewrite_jobs(bind, _to_community_job(codes[owner]))


def downgrade() -> None:
    bind = op.get_bind()
    held = _count(bind, "communities")
    if held > 1:
        raise RuntimeError(f"the database holds {held} communities; revision 0005 keeps one per database: export them and split the database first")
    _rewrite_jobs(bind, _from_community_job)
    bind.execute(sa.text("DELETE FROM api_tokens WHERE community_id IS NULL AND role = 'bureau'"))
    for table in reversed(TENANT_TABLES):
        with op.batch_alter_table(table) as batch:
            if table == "notices":
                batch.drop_index("ix_notices_recipient")
                batch.create_index("ix_notices_recipient", ["recipient_kind", "recipient_id"], unique=False)
                batch.drop_constraint("uq_notices_dedup_key", type_="unique")
                batch.create_unique_constraint("uq_notices_dedup_key", ["dedup_key"])
            elif table == "contacts":
                batch.drop_constraint("uq_contacts_recipient", type_="unique")
                batch.create_unique_constraint("uq_contacts_recipient", ["recipient_kind", "ref_id"])
            elif table == "events":
                batch.drop_index("ix_events_lane")
                batch.create_index("ix_events_month_township", ["month", "township"], unique=False)
            batch.drop_index(batch.f(f"ix_{table}_community_id"))
            batch.drop_constraint(batch.f(f"fk_{table}_community_id_communities"), type_="foreignkey")
            batch.drop_column("community_id")
    with op.batch_alter_table("communities") as batch:
        batch.drop_constraint(batch.f("uq_communities_code"), type_="unique")
        batch.drop_column("code")
        batch.create_unique_constraint("uq_communities_name", ["name"])
