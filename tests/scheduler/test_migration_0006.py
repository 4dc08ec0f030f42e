"""Migration 0006 on SQLite and PostgreSQL: a single-community database made at revision 0005, with rows in every
table (standing data, versions, assignments, events, notices, contacts, tokens, feed tokens, requests, swaps and
APScheduler's stored jobs), moves into the tenant shape without losing a row, every row with its community; and back.

The 0005 database is filled by SQL (Core inserts on the reflected 0005 tables), as the service of that revision
left it: the models of today no longer describe it.
"""

from __future__ import annotations

import datetime as dt
import pickle
from pathlib import Path

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import MetaData, func, inspect, select, text

from config.settings import Settings
from scheduler import auth, events, jobs, requests, standing, store, swaps
from scheduler.db import make_engine, session_factory
from scheduler.migrate import current_revision, downgrade, head_revision, migrate
from scheduler.notify.contacts import get_contact
from scheduler.notify.outbox import list_notices
from scheduler.scenario import load_scenario
from scheduler.scenario.load import validate_document
from scheduler.store import report_document
from scheduler.subscriptions import render_subscription
from solver.solution import SolveReport

MINIMAL = Path(__file__).parent / "minimal.yaml"
BEFORE = "0005_swaps"
UTC = dt.timezone.utc
NOW = dt.datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
OFFICE_TOKEN, TOWNSHIP_TOKEN, FEED_TOKEN = "rota_office-at-0005", "rota_township-at-0005", "feed-at-0005"
TENANT_TABLES = ("api_tokens", "feed_tokens", "events", "notices", "contacts", "extra_session_requests", "swap_requests")


# Stand-ins with the 0005 job functions' signatures; the stored rows are then pointed at the real names,
# exactly as a 0005 scheduler stored them (APScheduler refuses to add today's functions with yesterday's args).
def draft_job_at_0005() -> None: ...


def reminder_job_at_0005(month: str, assignment_id: str, offset: str, revision: str) -> None: ...


JOBS_AT_0005 = {
    "draft": ("scheduler.jobs:run_draft_job", draft_job_at_0005, CronTrigger(day=20, hour=9, timezone="Asia/Shanghai"), []),
    "digest": ("scheduler.jobs:run_digest_job", draft_job_at_0005, CronTrigger(hour=17, timezone="Asia/Shanghai"), []),
    "sweep": ("scheduler.jobs:run_sweep_job", draft_job_at_0005, IntervalTrigger(seconds=120, timezone="Asia/Shanghai"), []),
    "reminder:2026-10:a-E01:P1D:0123456789": (
        "scheduler.jobs:run_reminder_job", reminder_job_at_0005, DateTrigger(run_date=dt.datetime(2030, 10, 7, 8, 0, tzinfo=UTC)),
        ["2026-10", "a-E01", "P1D", "0123456789"],
    ),
}


def _inserter(connection, tables):
    def insert(table: str, /, **values):
        return connection.execute(tables[table].insert().values(**values)).inserted_primary_key[0]

    return insert


def _fill_standing_data(connection, tables) -> None:
    """The minimal scenario's standing data as rows of the 0005 tables (the store of that revision wrote the same)."""
    scenario = load_scenario(MINIMAL)
    insert = _inserter(connection, tables)
    community = insert(
        "communities", name=scenario.community.name, timezone=scenario.community.timezone, holidays=scenario.calendar.holidays,
        closed_dates=[d.isoformat() for d in scenario.calendar.closed], extra_workdays=[d.isoformat() for d in scenario.calendar.extra_workdays],
        half_days=scenario.half_days.model_dump(mode="json"), rules=scenario.rules.model_dump(mode="json"), updated_at=NOW,
    )
    specialties = {s.code: insert("specialties", community_id=community, code=s.code, name=s.name, position=i) for i, s in enumerate(scenario.specialties)}
    departments = {
        d.code: insert("departments", community_id=community, code=d.code, name=d.name, min_on_site=d.min_on_site, position=i)
        for i, d in enumerate(scenario.departments)
    }
    townships = {
        t.id: insert(
            "townships", community_id=community, code=t.id, name=t.name, travel_minutes=t.travel_minutes, rooms=t.rooms,
            inpatient_ward=t.inpatient_ward, preferred_weekdays=list(t.preferred_weekdays), position=i,
        )
        for i, t in enumerate(scenario.townships)
    }
    experts = {}
    for i, e in enumerate(scenario.experts):
        experts[e.id] = insert(
            "experts", community_id=community, code=e.id, name=e.name, department_id=departments[e.department], title=e.title,
            max_sessions=e.max_sessions, avoid_weekdays=list(e.avoid_weekdays), previous_townships=list(e.previous_townships), position=i,
        )
        for position, code in enumerate(e.specialties):
            connection.execute(tables["expert_specialties"].insert().values(expert_id=experts[e.id], specialty_id=specialties[code], position=position))
        for position, p in enumerate(e.unavailable):
            insert("expert_unavailability", expert_id=experts[e.id], from_date=p.from_, to_date=p.to, date=p.date, half_day=p.half_day,
                   reason=p.reason, source="scenario", position=position)
    insert("expert_unavailability", expert_id=experts["E02"], from_date=dt.date(2026, 10, 22), to_date=dt.date(2026, 10, 22), source="leave", position=0)
    for link_position, link in enumerate(scenario.links):
        for position, code in enumerate(link.townships):
            insert("links", community_id=community, member_id=experts[link.member], township_id=townships[code], link_position=link_position, position=position)
    for i, d in enumerate(scenario.demand):
        insert("demand_rows", community_id=community, township_id=townships[d.township], type=d.type, specialty_id=specialties[d.specialty], sessions=d.sessions, position=i)
    insert("township_closures", township_id=townships["pitou"], date=dt.date(2026, 10, 16), reason="洪水", created_at=NOW)


def _fill_the_rest(connection, tables) -> None:
    insert = _inserter(connection, tables)
    report = report_document(SolveReport("OPTIMAL", objective=10, best_bound=10, wall_seconds=1.0, workers=2, unmet_sessions=1))
    version = insert("roster_versions", community_id=1, month="2026-10", version=1, status="published", created_at=NOW, published_at=NOW, solver_report=report, cause="generated")
    insert("roster_assignments", version_id=version, assignment_id="a-E01", date=dt.date(2026, 10, 8), half_day="am", township="nanjing", type="clinic",
           specialty="cardio", expert="E01", link_visit=False, position=0)
    insert("roster_assignments", version_id=version, assignment_id="a-E03", date=dt.date(2026, 10, 8), half_day="am", township="nanjing", type="supervision",
           specialty=None, expert="E03", link_visit=True, position=1)
    insert("roster_unmet", version_id=version, township="pitou", type="teaching", specialty="internal_med", member=None, sessions=1, reason="no senior internist free", position=0)
    insert("events", kind="leave", payload={"expert": "E02", "first_day": "2026-10-22", "last_day": "2026-10-22", "months": ["2026-10"]}, month="2026-10",
           township=None, status="done", attempts=1, created_at=NOW, processed_at=NOW, next_attempt_at=NOW, base_versions={"2026-10": 1}, outcome={"replanned": {"2026-10": None}})
    insert("events", kind="request", payload={"request_id": 1}, month="2026-10", township="pitou", status="failed", attempts=5, last_error="boom",
           created_at=NOW, next_attempt_at=NOW)
    for kind, ref, address in (("expert", "E01", "e01@hospital.example"), ("township", "nanjing", None)):
        insert("contacts", recipient_kind=kind, ref_id=ref, email=address, webhook_url=None if address else "https://robot.example/send", language="zh-CN")
    for number, status in enumerate(("sent", "queued")):
        insert("notices", dedup_key=f"assignment:expert:E01:a-E01:v{number + 1}:email", recipient_kind="expert", recipient_id="E01", channel="email",
               address="e01@hospital.example", kind="assignment", language="zh-CN", subject="【下沉排班】", body="您好", status=status, attempts=number,
               next_attempt_at=NOW, interrupted=0, created_at=NOW, sent_at=NOW if status == "sent" else None)
    office = insert("api_tokens", token_sha256=auth.token_digest(OFFICE_TOKEN), role="office", township=None, expert=None, label="office", created_at=NOW)
    insert("api_tokens", token_sha256=auth.token_digest(TOWNSHIP_TOKEN), role="township", township="nanjing", expert=None, label="院长", created_at=NOW)
    insert("feed_tokens", token_sha256=auth.token_digest(FEED_TOKEN), scope="expert", scope_key="E01", created_by=office, created_at=NOW)
    insert("feed_tokens", token_sha256=auth.token_digest("feed-revoked"), scope="community", scope_key="", created_by=office, created_at=NOW, revoked_at=NOW)
    insert("extra_session_requests", community_id=1, township="pitou", type="clinic", specialty="cardio", sessions=1, first_day=dt.date(2026, 10, 19),
           last_day=dt.date(2026, 10, 23), month="2026-10", note="流感", state="pending", reason="", assignment_ids=[], created_at=NOW, updated_at=NOW)
    insert("swap_requests", community_id=1, month="2026-10", assignment_id="a-E01", from_expert="E01", to_expert="E02", give_back_id=None, state="proposed",
           needs_approval=False, reason="", created_at=NOW, updated_at=NOW)


def _store_jobs_as_at_0005(engine) -> None:
    scheduler = jobs.build_scheduler(Settings(database_url=str(engine.url)), engine)
    scheduler.start(paused=True)
    try:
        for job_id, (_, stand_in, trigger, args) in JOBS_AT_0005.items():
            scheduler.add_job(stand_in, trigger, id=job_id, args=args, name=job_id)
    finally:
        jobs.close_job_store(scheduler)
    with engine.begin() as connection:
        for job_id, job_state in connection.execute(text("SELECT id, job_state FROM apscheduler_jobs")).all():
            state = pickle.loads(job_state)
            state["func"] = JOBS_AT_0005[job_id][0]
            connection.execute(text("UPDATE apscheduler_jobs SET job_state = :state WHERE id = :id"), {"state": pickle.dumps(state), "id": job_id})


LATER_TABLES = ("jobs", "roster_pins", "audit_entries", "page_sessions", "office_users", "login_links")  # created empty after 0006 (0007_jobs, 0008_levers, 0009_page_sessions, 0011_users): not rows 0006 could lose


def _counts(engine) -> dict[str, int]:
    tables = MetaData()
    tables.reflect(engine)
    with engine.connect() as connection:
        return {name: connection.scalar(select(func.count()).select_from(table)) for name, table in tables.tables.items() if name != "alembic_version" and name not in LATER_TABLES}


def _database_at_0005(database_url: str):
    engine = make_engine(database_url)
    migrate(engine, BEFORE)
    assert current_revision(engine) == BEFORE
    tables = MetaData()
    tables.reflect(engine)
    with engine.begin() as connection:
        _fill_standing_data(connection, tables.tables)
        _fill_the_rest(connection, tables.tables)
    _store_jobs_as_at_0005(engine)
    return engine


def test_a_single_community_database_moves_into_the_tenant_shape_without_losing_a_row_and_back(database_url, monkeypatch):
    engine = _database_at_0005(database_url)
    try:
        before = _counts(engine)
        assert all(count > 0 for count in before.values()), before  # every table has something to lose
        assert len(before) == 21  # the 20 tables of 0005 and APScheduler's

        monkeypatch.setenv("ROTA_COMMUNITY_CODE", "quannan")
        migrate(engine)
        assert current_revision(engine) == head_revision()
        assert _counts(engine) == before  # not a row lost, none invented (an SQLite table rebuild cascades if done carelessly)

        with engine.connect() as connection:
            assert connection.execute(text("SELECT id, code, name FROM communities")).all() == [(1, "quannan", "测试县总医院")]
            for table in TENANT_TABLES:
                owners = connection.execute(text(f"SELECT DISTINCT community_id FROM {table}")).scalars().all()
                assert owners == [1], (table, owners)
        factory = session_factory(engine)
        with factory() as session:
            # The file's standing data as imported, and the leave filed since, kept apart from it.
            assert validate_document(standing.scenario_document(session, "quannan")) == load_scenario(MINIMAL)
            assert [(p.source, p.from_date) for p in standing.expert_unavailability(session, "quannan", "E02")] == [("leave", dt.date(2026, 10, 22))]
            solution, version, status, _ = store.load_roster_version(session, "quannan", "2026-10")
            assert (version, status, [a.id for a in solution.assignments]) == (1, "published", ["a-E01", "a-E03"])
            office = auth.authenticate(session, OFFICE_TOKEN)
            assert (office.role, office.community_id, office.community) == ("office", 1, "quannan")
            assert auth.authenticate(session, TOWNSHIP_TOKEN).township == "nanjing"
            assert render_subscription(session, "quannan", FEED_TOKEN, now=NOW) is not None  # the feed link still opens, at its community
            assert [t.scope for t in auth.list_feed_tokens(session, "quannan")] == ["expert", "community"]
            assert [e.kind for e in events.list_events(session, "quannan")] == ["request", "leave"]
            assert get_contact(session, 1, "expert", "E01").email == "e01@hospital.example"
            assert [n.dedup_key for n in list_notices(session, community_id=1)] == [
                "assignment:expert:E01:a-E01:v2:email", "assignment:expert:E01:a-E01:v1:email",
            ]
            assert [r.note for r in requests.list_requests(session, "quannan")] == ["流感"]
            assert [s.to_expert for s in swaps.list_swaps(session, "quannan")] == ["E02"]

        store_of_jobs = jobs.open_job_store(Settings(database_url=database_url))
        try:
            stored = {job.id: job for job in store_of_jobs.get_jobs()}
        finally:
            jobs.close_job_store(store_of_jobs)
        assert set(stored) == {"draft:quannan", "digest:quannan", "sweep:quannan", "reminder:quannan:2026-10:a-E01:P1D:0123456789"}
        assert stored["draft:quannan"].func is jobs.run_draft_job and stored["draft:quannan"].args == ("quannan",)
        reminder = stored["reminder:quannan:2026-10:a-E01:P1D:0123456789"]
        assert reminder.func is jobs.run_reminder_job and reminder.args == ("quannan", "2026-10", "a-E01", "P1D", "0123456789")
        assert reminder.next_run_time == dt.datetime(2030, 10, 7, 8, 0, tzinfo=UTC)

        downgrade(engine, BEFORE)
        assert current_revision(engine) == BEFORE
        assert _counts(engine) == before
        columns = {column["name"] for column in inspect(engine).get_columns("communities")}
        assert "code" not in columns
        with engine.connect() as connection:
            assert set(connection.execute(text("SELECT id FROM apscheduler_jobs")).scalars()) == set(JOBS_AT_0005)
        migrate(engine)  # and up again
        assert _counts(engine) == before
    finally:
        engine.dispose()


def test_the_code_comes_from_the_setting_else_the_name_else_the_id(database_url, monkeypatch):
    engine = make_engine(database_url)
    try:
        migrate(engine, BEFORE)
        with engine.begin() as connection:
            for name in ("Quannan County Hospital", "全南县总医院", "Quannan county hospital!"):
                connection.execute(
                    text("INSERT INTO communities (name, timezone, holidays, closed_dates, extra_workdays, half_days, rules, updated_at) "
                         "VALUES (:name, 'Asia/Shanghai', 'CN', '[]', '[]', '{}', '{}', :now)"),
                    {"name": name, "now": NOW},
                )
        monkeypatch.delenv("ROTA_COMMUNITY_CODE", raising=False)
        migrate(engine)
        with engine.connect() as connection:
            codes = connection.execute(text("SELECT id, code FROM communities ORDER BY id")).all()
        # A slug of an ASCII name; c<id> for a name with none; a taken code gets its id appended.
        assert codes == [(1, "quannan-county-hospital"), (2, "c2"), (3, "quannan-county-hospital-3")]
    finally:
        engine.dispose()


def test_a_bad_configured_code_stops_the_upgrade_with_a_message(tmp_path, monkeypatch):
    engine = make_engine(f"sqlite:///{tmp_path / 'bad-code.sqlite3'}")
    try:
        migrate(engine, BEFORE)
        monkeypatch.setenv("ROTA_COMMUNITY_CODE", "全南")
        with pytest.raises(RuntimeError, match="ROTA_COMMUNITY_CODE='全南' is not a community code"):
            migrate(engine)
        assert current_revision(engine) == BEFORE
    finally:
        engine.dispose()


def test_a_database_of_several_communities_is_not_downgraded(database_url):
    engine = migrate(make_engine(database_url))
    try:
        with session_factory(engine)() as session, session.begin():
            store.import_scenario(session, "a", load_scenario(MINIMAL))
            store.import_scenario(session, "b", load_scenario(MINIMAL))
        with pytest.raises(RuntimeError, match="holds 2 communities"):
            downgrade(engine, BEFORE)
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()
