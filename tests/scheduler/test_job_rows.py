"""Jobs as rows on both engines: the migration creates `jobs`; a job's state moves queued -> running -> done/failed and a re-run of a finished job is refused."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from scheduler import job_rows, store
from scheduler.db import transaction
from scheduler.errors import ScenarioError
from scheduler.models import Community
from scheduler.scenario import load_scenario


@pytest.fixture
def community_id(session_factory, sample_scenario_path) -> int:
    with transaction(session_factory) as session:
        return store.import_scenario(session, "jobtown", load_scenario(sample_scenario_path))


def test_migration_creates_the_jobs_table(engine):
    columns = {column["name"] for column in inspect(engine).get_columns("jobs")}
    assert {"id", "community_id", "kind", "month", "args", "state", "result_version", "error", "attempts", "worker"} <= columns


def test_job_lifecycle_and_a_second_claim_of_a_done_job(session_factory, community_id):
    with transaction(session_factory) as session:
        community = session.get(Community, community_id)
        job_id = job_rows.create_job(session, community, "generate", "2026-10", {"time_limit": 3}).id
    with transaction(session_factory) as session:
        job = job_rows.claim_job(session, job_id, "worker-1")
        assert job is not None and job.state == "running" and job.attempts == 1
    with transaction(session_factory) as session:  # a worker killed mid-task: the redelivery claims again
        job = job_rows.claim_job(session, job_id, "worker-2")
        assert job.attempts == 2 and job.worker == "worker-2"
        job_rows.finish_job(session, job, 3)
    with transaction(session_factory) as session:
        assert job_rows.claim_job(session, job_id, "worker-3") is None
        job_rows.fail_job(session, job_id, "late failure")  # a done job stays done
    with transaction(session_factory) as session:
        job = job_rows.get_job(session, job_id, session.get(Community, community_id))
        body = job_rows.job_json(job, "jobtown")
        assert (body["state"], body["result_version"], body["attempts"], body["worker"]) == ("done", 3, 2, "worker-2")


def test_failed_job_and_other_community(session_factory, community_id, sample_scenario_path):
    with transaction(session_factory) as session:
        other_id = store.import_scenario(session, "othertown", load_scenario(sample_scenario_path))
        job_id = job_rows.create_job(session, session.get(Community, community_id), "replan", "2026-10").id
    with transaction(session_factory) as session:
        job_rows.fail_job(session, job_id, "infeasible")
    with transaction(session_factory) as session:
        assert job_rows.get_job(session, job_id, session.get(Community, other_id)) is None
        job = job_rows.get_job(session, job_id)
        assert (job.state, job.error, job.result_version) == ("failed", "infeasible", None)


def test_unknown_kind_names_the_field(session_factory, community_id):
    with transaction(session_factory) as session:
        with pytest.raises(ScenarioError) as raised:
            job_rows.create_job(session, session.get(Community, community_id), "publish", "2026-10")
    assert [problem["path"] for problem in raised.value.as_json()] == ["kind"]
