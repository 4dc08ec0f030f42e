"""The store on both engines: migrations, scenario import/export, roster versions and their immutability."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import IntegrityError

from scheduler import models, store
from scheduler.db import Base, make_engine, transaction
from scheduler.db import session_factory as make_session_factory
from scheduler.errors import Conflict, NotFound, ScenarioError
from scheduler.migrate import current_revision, head_revision, migrate
from scheduler.scenario import dump_scenario, load_scenario, parse_scenario
from scheduler.scenario.schema import Scenario
from solver.solution import Assignment, Solution, SolveReport, Unmet
from solver.solution import Reason, ReasonCode

MINIMAL = Path(__file__).parent / "minimal.yaml"
COMMUNITY = "minimal"
STORE_TABLES = {table.name for table in models.Base.metadata.sorted_tables if table.name in {
    "communities", "specialties", "departments", "townships", "experts", "expert_specialties", "expert_unavailability",
    "links", "demand_rows", "township_closures", "roster_versions", "roster_assignments", "roster_unmet",
}}


def _changed(scenario: Scenario, **changes) -> Scenario:
    document = scenario.to_document()
    document.update(changes)
    return Scenario.model_validate(document)


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def _solution(month: str = "2026-10", experts: tuple[str, ...] = ("E01", "E02"), ids: bool = True) -> Solution:
    assignments = tuple(
        Assignment(dt.date(2026, 10, 12 + index), "am", "nanjing", "clinic", "cardio", expert, False, f"a-{expert}" if ids else "")
        for index, expert in enumerate(experts)
    ) + (Assignment(dt.date(2026, 10, 15), "pm", "pitou", "supervision", None, "E03", True, "visit-E03" if ids else ""),)
    unmet = (
        Unmet("pitou", "teaching", "internal_med", 1, Reason.of(ReasonCode.TITLE_TOO_LOW, specialty="internal_med", title="associate_chief", holders=2)),
        Unmet("nanjing", "supervision", None, 1, Reason.of(ReasonCode.TEAM_TOO_SMALL, member="E03", township="nanjing", days=["2026-10-05"], team_min=2), "E03"),
    )
    report = SolveReport("OPTIMAL", objective=1234, best_bound=1200, wall_seconds=1.5, workers=2, unmet_sessions=1, objective_terms={"unmet": 1000, "spread": 234})
    return Solution(month, assignments, unmet, report)


# --- migrations --------------------------------------------------------------------------------


def test_migrate_reaches_head_and_is_idempotent(engine):
    assert current_revision(engine) == head_revision()
    migrate(engine)  # a second start must be a no-op, not an error
    assert current_revision(engine) == head_revision()
    assert STORE_TABLES <= set(inspect(engine).get_table_names())


def test_migrations_match_the_models(engine):
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)

    def table_of(diff) -> str | None:
        item = diff[0] if isinstance(diff, list) else diff
        for part in item[1:]:
            name = getattr(part, "name", None) if not isinstance(part, str) else None
            table = getattr(part, "table", None)
            if table is not None:
                return table.name
            if name in STORE_TABLES:
                return name
            if isinstance(part, str) and part in STORE_TABLES:
                return part
        return None

    mine = [diff for diff in differences if table_of(diff) in STORE_TABLES]
    assert mine == []


def test_migrate_accepts_a_url(tmp_path):
    engine = migrate(f"sqlite:///{tmp_path / 'sub' / 'by-url.sqlite3'}")
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


# --- scenario import / export ------------------------------------------------------------------


@pytest.mark.parametrize("path", [MINIMAL, Path("config/examples/quannan.yaml")], ids=["minimal", "quannan"])
def test_round_trip_scenario_store_export_parse(session_factory, path):
    scenario = load_scenario(Path(__file__).parents[2] / path)
    with transaction(session_factory) as session:
        store.import_scenario(session, COMMUNITY, scenario)
    with session_factory() as session:
        exported = store.export_scenario(session, COMMUNITY)
    assert exported == scenario
    for as_json in (False, True):
        assert parse_scenario(dump_scenario(exported, as_json=as_json)) == scenario


def test_import_twice_does_not_duplicate(session_factory):
    scenario = load_scenario(MINIMAL)
    counted = (models.Community, models.Specialty, models.Department, models.Township, models.Expert, models.ExpertSpecialty,
               models.ExpertUnavailability, models.LinkRow, models.DemandRow)
    with transaction(session_factory) as session:
        first = store.import_scenario(session, COMMUNITY, scenario)
    with session_factory() as session:
        before = {model.__tablename__: _count(session, model) for model in counted}
        expert_ids = dict(session.execute(select(models.Expert.code, models.Expert.id)).all())
    with transaction(session_factory) as session:
        second = store.import_scenario(session, COMMUNITY, scenario)
    with session_factory() as session:
        after = {model.__tablename__: _count(session, model) for model in counted}
        assert dict(session.execute(select(models.Expert.code, models.Expert.id)).all()) == expert_ids
        assert store.export_scenario(session, COMMUNITY) == scenario
    assert first == second
    assert before == after
    assert before["demand_rows"] == 4  # two rows for the same key stay two rows
    assert before["links"] == 2


def test_changed_file_updates_and_deletes(session_factory):
    scenario = load_scenario(MINIMAL)
    with transaction(session_factory) as session:
        community_id = store.import_scenario(session, COMMUNITY, scenario)
        session.add(models.TownshipClosure(township=session.scalar(select(models.Township).where(models.Township.code == "pitou")), date=dt.date(2026, 10, 16), reason="flood"))
    document = scenario.to_document()
    document["specialties"] = [{"code": "internal_med", "name": "内科门诊"}, {"code": "paeds", "name": "儿科"}]
    document["departments"].append({"code": "paeds", "name": "儿科", "min_on_site": 0})
    document["townships"] = [{"id": "nanjing", "name": "南迳镇中心卫生院", "travel_minutes": 45, "rooms": 3}]
    document["experts"] = [
        {"id": "E03", "name": "陈书记", "department": "internal", "title": "chief", "specialties": ["internal_med"], "max_sessions": 3,
         "unavailable": [{"date": "2026-10-21"}]},
        {"id": "E04", "name": "赵敏", "department": "paeds", "title": "attending", "specialties": ["paeds", "internal_med"], "max_sessions": 5},
    ]
    document["links"] = [{"member": "E03", "townships": ["nanjing"]}, {"member": "E04", "townships": ["nanjing"]}]
    document["demand"] = [{"township": "nanjing", "type": "clinic", "specialty": "paeds", "sessions": 3}]
    document["calendar"] = {"holidays": "none"}
    document["rules"] = {"link_team_min": 0}
    changed = Scenario.model_validate(document)
    with transaction(session_factory) as session:
        assert store.import_scenario(session, COMMUNITY, changed) == community_id
    with session_factory() as session:
        assert store.export_scenario(session, COMMUNITY) == changed
        assert sorted(session.scalars(select(models.Expert.code))) == ["E03", "E04"]
        assert sorted(session.scalars(select(models.Specialty.code))) == ["internal_med", "paeds"]
        assert session.scalars(select(models.Township.code)).all() == ["nanjing"]
        assert _count(session, models.TownshipClosure) == 0  # its township is gone
        assert _count(session, models.ExpertSpecialty) == 3
        assert _count(session, models.ExpertUnavailability) == 1
        assert _count(session, models.LinkRow) == 2
        assert _count(session, models.DemandRow) == 1
        assert _count(session, models.Community) == 1
    # ... and back again: the original file restores the original state.
    with transaction(session_factory) as session:
        store.import_scenario(session, COMMUNITY, scenario)
    with session_factory() as session:
        assert store.export_scenario(session, COMMUNITY) == scenario


def test_unavailability_from_events_survives_a_reimport(session_factory):
    scenario = load_scenario(MINIMAL)
    with transaction(session_factory) as session:
        store.import_scenario(session, COMMUNITY, scenario)
        expert = session.scalar(select(models.Expert).where(models.Expert.code == "E02"))
        expert.unavailable.append(models.ExpertUnavailability(date=dt.date(2026, 10, 22), half_day="am", reason="leave", source="leave", position=0))
    with transaction(session_factory) as session:
        store.import_scenario(session, COMMUNITY, scenario)
    with session_factory() as session:
        exported = store.export_scenario(session, COMMUNITY)
    e02 = next(e for e in exported.experts if e.id == "E02")
    assert [(p.date, p.half_day, p.reason) for p in e02.unavailable] == [(dt.date(2026, 10, 22), "am", "leave")]


def test_two_communities_live_side_by_side(session_factory):
    first = load_scenario(MINIMAL)
    second = _changed(first, community={"name": "另一个县", "timezone": "Asia/Urumqi"})
    same_name = _changed(first, calendar={"holidays": "none"})
    with transaction(session_factory) as session:
        first_id = store.import_scenario(session, COMMUNITY, first)
        second_id = store.import_scenario(session, "other", second)
        third_id = store.import_scenario(session, "twin", same_name)  # names need not be unique; codes are
    assert len({first_id, second_id, third_id}) == 3
    with session_factory() as session:
        with pytest.raises(Conflict, match="give --community"):
            store.sole_community(session)
        assert store.export_scenario(session, "other") == second
        assert store.export_scenario(session, first_id) == first
        assert store.export_scenario(session, "twin") == same_name
        assert [(c.code, c.name) for c in store.list_communities(session)] == [
            (COMMUNITY, first.community.name), ("other", "另一个县"), ("twin", first.community.name)
        ]
        with pytest.raises(NotFound):
            store.export_scenario(session, "另一个县")  # a name is not an address
        with pytest.raises(NotFound):
            store.export_scenario(session, "no-such-county")


def test_a_community_code_is_letters_digits_dash_and_underscore(session_factory):
    with transaction(session_factory) as session:
        for bad in ("", "全南", "a b", "a/b", "x" * 65):
            with pytest.raises(ScenarioError, match="community code"):
                store.import_scenario(session, bad, load_scenario(MINIMAL))
        assert store.import_scenario(session, "Quan-nan_2", load_scenario(MINIMAL)) > 0


def test_empty_database_has_no_community(session_factory):
    with session_factory() as session:
        with pytest.raises(NotFound, match="no community"):
            store.export_scenario(session, COMMUNITY)
        with pytest.raises(NotFound, match="no community has been imported"):
            store.sole_community(session)


def test_closures_for_month(session_factory):
    with transaction(session_factory) as session:
        store.import_scenario(session, COMMUNITY, load_scenario(MINIMAL))
        nanjing = session.scalar(select(models.Township).where(models.Township.code == "nanjing"))
        for day in (dt.date(2026, 9, 30), dt.date(2026, 10, 16), dt.date(2026, 10, 31), dt.date(2026, 11, 1)):
            session.add(models.TownshipClosure(township=nanjing, date=day, reason="outbreak"))
    with session_factory() as session:
        assert store.closures_for_month(session, COMMUNITY, "2026-10") == {"nanjing": frozenset({dt.date(2026, 10, 16), dt.date(2026, 10, 31)})}
        assert store.closures_for_month(session, COMMUNITY, "2026-12") == {}


# --- roster versions ---------------------------------------------------------------------------


@pytest.fixture
def imported(session_factory):
    with transaction(session_factory) as session:
        return store.import_scenario(session, COMMUNITY, load_scenario(MINIMAL))


def test_save_and_load_versions(session_factory, imported):
    first = _solution()
    second = _solution(experts=("E01",))
    with transaction(session_factory) as session:
        assert store.save_roster_version(session, imported, first, "draft", "generated") == 1
    with transaction(session_factory) as session:
        assert store.save_roster_version(session, COMMUNITY, second, "draft", "leave E02") == 2
        assert store.save_roster_version(session, COMMUNITY, _solution(month="2026-11"), "draft", "generated") == 1
    with session_factory() as session:
        loaded, version, status, created_at = store.load_roster_version(session, COMMUNITY, "2026-10")
        assert (loaded, version, status) == (second, 2, "draft")
        assert created_at.tzinfo is not None and abs(created_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)
        assert store.load_roster_version(session, COMMUNITY, "2026-10", 1)[0] == first
        assert store.load_roster_version(session, COMMUNITY, "2026-11")[1] == 1
        summaries = store.list_versions(session, COMMUNITY, "2026-10")
        assert [(s.version, s.status, s.cause, s.assignments, s.unmet_sessions) for s in summaries] == [
            (1, "draft", "generated", 3, 2),
            (2, "draft", "leave E02", 2, 2),
        ]
        assert store.list_versions(session, COMMUNITY, "2026-12") == []
        with pytest.raises(NotFound):
            store.load_roster_version(session, COMMUNITY, "2026-10", 3)
        with pytest.raises(NotFound):
            store.load_roster_version(session, COMMUNITY, "2026-12")
        with pytest.raises(NotFound):
            store.load_roster_version(session, COMMUNITY, "2026-10", status="published")
        with pytest.raises(ValueError, match="YYYY-MM"):
            store.load_roster_version(session, COMMUNITY, "2026-13")


def test_missing_assignment_ids_are_filled_stably(session_factory, imported):
    duplicated = _solution(ids=False)
    duplicated = Solution(duplicated.month, duplicated.assignments + duplicated.assignments[:1], duplicated.unmet, duplicated.report)
    with transaction(session_factory) as session:
        store.save_roster_version(session, COMMUNITY, duplicated)
        store.save_roster_version(session, COMMUNITY, duplicated)
    with session_factory() as session:
        one = store.load_roster_version(session, COMMUNITY, "2026-10", 1)[0]
        two = store.load_roster_version(session, COMMUNITY, "2026-10", 2)[0]
    ids = [a.id for a in one.assignments]
    assert all(ids) and len(set(ids)) == len(ids) == 4
    assert ids == [a.id for a in two.assignments]  # same content, same ids: calendars see no change
    with transaction(session_factory) as session, pytest.raises(Conflict, match="twice"):
        twice = _solution()
        store.save_roster_version(session, COMMUNITY, Solution(twice.month, twice.assignments * 2, (), twice.report))


def test_publish_records_status_and_creates_nothing(session_factory, imported):
    with transaction(session_factory) as session:
        store.save_roster_version(session, COMMUNITY, _solution())
        store.save_roster_version(session, COMMUNITY, _solution(experts=("E02",)))
    with session_factory() as session:
        assignments_before = _count(session, models.RosterAssignment)
        versions_before = _count(session, models.RosterVersion)
    with transaction(session_factory) as session:
        published_at = store.publish(session, COMMUNITY, "2026-10", 1)
    with transaction(session_factory) as session:
        assert store.publish(session, COMMUNITY, "2026-10", 1) == published_at  # publishing again changes nothing
    with session_factory() as session:
        assert _count(session, models.RosterAssignment) == assignments_before
        assert _count(session, models.RosterVersion) == versions_before
        solution, version, status, _ = store.load_roster_version(session, COMMUNITY, "2026-10", status="published")
        assert (version, status, solution) == (1, "published", _solution())
        assert store.load_roster_version(session, COMMUNITY, "2026-10")[1:3] == (2, "draft")
        assert [s.status for s in store.list_versions(session, COMMUNITY, "2026-10")] == ["published", "draft"]
        assert store.list_versions(session, COMMUNITY, "2026-10")[0].published_at == published_at
    with transaction(session_factory) as session:
        store.publish(session, COMMUNITY, "2026-10", 2)
    with transaction(session_factory) as session:
        assert store.publish(session, COMMUNITY, "2026-10", 1) == published_at  # already published: nothing to do, not a roll-back
    with transaction(session_factory) as session, pytest.raises(NotFound):
        store.publish(session, COMMUNITY, "2026-10", 9)


def test_publishing_an_older_version_after_a_newer_one_is_refused(session_factory, imported):
    with transaction(session_factory) as session:
        store.save_roster_version(session, COMMUNITY, _solution())
        store.save_roster_version(session, COMMUNITY, _solution(experts=("E02",)), status="published", cause="re-plan")
    with transaction(session_factory) as session, pytest.raises(Conflict, match="version 2 of 2026-10 is already published"):
        store.publish(session, COMMUNITY, "2026-10", 1)
    with session_factory() as session:
        assert store.list_versions(session, COMMUNITY, "2026-10")[1].published_at is not None


def test_saved_versions_are_immutable(session_factory, imported):
    with transaction(session_factory) as session:
        store.save_roster_version(session, COMMUNITY, _solution())
    with session_factory() as session:
        row = session.scalar(select(models.RosterAssignment).limit(1))
        row.expert = "E02"
        with pytest.raises(Conflict, match="immutable"):
            session.flush()
        session.rollback()
        version = session.scalar(select(models.RosterVersion))
        version.month = "2026-11"
        with pytest.raises(Conflict, match="month"):
            session.flush()
        session.rollback()
        version = session.scalar(select(models.RosterVersion))
        version.assignments.append(models.RosterAssignment(assignment_id="extra", date=dt.date(2026, 10, 30), half_day="am", township="pitou",
                                                           type="clinic", specialty="cardio", expert="E01", link_visit=False, position=99))
        with pytest.raises(Conflict, match="no new rows"):
            session.flush()
        session.rollback()
        session.delete(session.scalar(select(models.RosterUnmet).limit(1)))
        with pytest.raises(Conflict, match="never deleted"):
            session.flush()
        session.rollback()
        session.delete(session.scalar(select(models.RosterVersion)))
        with pytest.raises(Conflict, match="never deleted"):
            session.flush()
        session.rollback()
    with session_factory() as session:
        assert store.load_roster_version(session, COMMUNITY, "2026-10")[0] == _solution()


def test_version_numbers_are_unique_in_the_database(session_factory, imported):
    with transaction(session_factory) as session:
        store.save_roster_version(session, COMMUNITY, _solution())
    with session_factory() as session:
        session.add(models.RosterVersion(community_id=imported, month="2026-10", version=1, status="draft", solver_report={}, cause="forged"))
        with pytest.raises(IntegrityError):
            session.flush()


def test_bad_status_is_refused(session_factory, imported):
    with transaction(session_factory) as session, pytest.raises(ValueError, match="status"):
        store.save_roster_version(session, COMMUNITY, _solution(), status="final")


def test_concurrent_saves_get_distinct_numbers_on_postgresql(postgres_server_url):
    """Two writers at once: the row lock on the community orders them, neither fails, numbers are 1 and 2."""
    from tests.conftest import _empty_postgres

    _empty_postgres(postgres_server_url)
    engine = migrate(make_engine(postgres_server_url))
    factory = make_session_factory(engine)
    try:
        with transaction(factory) as session:
            store.import_scenario(session, COMMUNITY, load_scenario(MINIMAL))
        numbers: list[int] = []
        holding = threading.Event()
        release = threading.Event()

        def first_writer():
            with transaction(factory) as session:
                numbers.append(store.save_roster_version(session, COMMUNITY, _solution()))
                holding.set()
                release.wait(10)

        def second_writer():
            holding.wait(10)
            with transaction(factory) as session:
                numbers.append(store.save_roster_version(session, COMMUNITY, _solution()))

        threads = [threading.Thread(target=first_writer), threading.Thread(target=second_writer)]
        for thread in threads:
            thread.start()
        holding.wait(10)
        time.sleep(0.5)  # let the second writer reach the lock while the first still holds it
        release.set()
        for thread in threads:
            thread.join(30)
        assert sorted(numbers) == [1, 2]
    finally:
        engine.dispose()
