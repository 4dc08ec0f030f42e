"""Swap requests: both experts agree (and the office, when it must), the event worker applies the exchange."""

from __future__ import annotations

import datetime as dt

import pytest
from event_harness import COMMUNITY, EXPERTS, MINIMAL, MONTH, TOWNSHIPS, expert_address, latest_roster
from sqlalchemy import select

from config.settings import Settings
from scheduler import flows, store, swaps
from scheduler.db import transaction
from scheduler.errors import Conflict, ScenarioError
from scheduler.events import process_pending
from scheduler.notify.contacts import set_contact
from scheduler.notify.models import Notice
from scheduler.scenario import load_scenario
from solver.solution import Assignment, SolveReport, Solution

CARDIO_CLINIC = Assignment(dt.date(2026, 10, 8), "am", "nanjing", "clinic", "cardio", "E01", id="cardio-clinic")
WARD_ROUND = Assignment(dt.date(2026, 10, 26), "am", "nanjing", "ward_round", "internal_med", "E02", id="ward-round")
TEACHING = Assignment(dt.date(2026, 10, 15), "pm", "pitou", "teaching", "internal_med", "E01", id="teaching")


@pytest.fixture
def published(session_factory, robot):
    """The minimal county with contacts, and a hand-made published October (so each test knows its sessions)."""
    with transaction(session_factory) as session:
        community_id = store.import_scenario(session, COMMUNITY, load_scenario(MINIMAL))
        for expert in EXPERTS:
            set_contact(session, community_id, "expert", expert, email=expert_address(expert))
        for township in TOWNSHIPS:
            set_contact(session, community_id, "township", township, webhook_url=robot.url)
        roster = Solution(MONTH, (CARDIO_CLINIC, WARD_ROUND, TEACHING), (), SolveReport("FEASIBLE"))
        version = store.save_roster_version(session, COMMUNITY, roster, status="draft", cause="hand-made")
    return flows.publish(session_factory, COMMUNITY, MONTH, version)


def settings() -> Settings:
    return Settings(database_url="sqlite://", event_max_attempts=3)


def expert_notices(factory) -> set[str]:
    with factory() as session:
        return {n.recipient_id for n in session.scalars(select(Notice).where(Notice.recipient_kind == "expert"))}


def test_an_accepted_swap_hands_the_session_over_with_its_id_and_tells_both(session_factory, published):
    before, version, status = latest_roster(session_factory)
    session_to_give, colleague = WARD_ROUND, "E01"  # E01 holds internal_med and is free on the 26th
    told_before = expert_notices(session_factory)
    with transaction(session_factory) as session:
        swap_id = swaps.propose_swap(session, COMMUNITY, before.month, session_to_give.id, session_to_give.expert, colleague)
    assert process_pending(session_factory, settings=settings()) == 0  # nothing happens before the colleague agrees
    with transaction(session_factory) as session:
        swaps.answer_swap(session, COMMUNITY, swap_id, colleague, accept=True)

    assert process_pending(session_factory, settings=settings()) == 1

    after, new_version, new_status = latest_roster(session_factory)
    assert new_version == version + 1 and new_status == status
    handed = next(a for a in after.assignments if a.id == session_to_give.id)
    assert handed.expert == colleague and handed.slot == session_to_give.slot
    with session_factory() as session:
        row = swaps.get_swap(session, COMMUNITY, swap_id)
        assert (row.state, row.roster_version) == ("applied", new_version)
    told = expert_notices(session_factory) - told_before
    assert {session_to_give.expert, colleague} <= told
    assert told <= {session_to_give.expert, colleague}


def test_a_swap_that_breaks_a_hard_rule_is_declined_with_the_rule_and_changes_nothing(session_factory, published):
    before, _, _ = latest_roster(session_factory)
    cardio = CARDIO_CLINIC  # only E01 holds cardio
    with transaction(session_factory) as session:
        swap_id = swaps.propose_swap(session, COMMUNITY, before.month, cardio.id, cardio.expert, "E02")
        swaps.answer_swap(session, COMMUNITY, swap_id, "E02", accept=True)

    process_pending(session_factory, settings=settings())

    with session_factory() as session:
        row = swaps.get_swap(session, COMMUNITY, swap_id)
        assert row.state == "declined" and "specialty" in row.reason
    after = latest_roster(session_factory)[0]
    assert sorted((a.id, a.content) for a in after.assignments) == sorted((a.id, a.content) for a in before.assignments)


def test_with_approval_required_the_swap_waits_for_the_office(session_factory, published):
    before, version, _ = latest_roster(session_factory)
    session_to_give, colleague = WARD_ROUND, "E01"
    with transaction(session_factory) as session:
        swap_id = swaps.propose_swap(session, COMMUNITY, before.month, session_to_give.id, session_to_give.expert, colleague, needs_approval=True)
        swaps.answer_swap(session, COMMUNITY, swap_id, colleague, accept=True)
    assert process_pending(session_factory, settings=settings()) == 0
    assert latest_roster(session_factory)[1] == version
    with transaction(session_factory) as session:
        swaps.approve_swap(session, COMMUNITY, swap_id, approve=True)

    assert process_pending(session_factory, settings=settings()) == 1
    assert latest_roster(session_factory)[1] == version + 1


def test_only_the_colleague_answers_and_sessions_must_belong_to_their_experts(session_factory, published):
    before, _, _ = latest_roster(session_factory)
    session_to_give, colleague = WARD_ROUND, "E01"
    with transaction(session_factory) as session:
        swap_id = swaps.propose_swap(session, COMMUNITY, before.month, session_to_give.id, session_to_give.expert, colleague)
    with pytest.raises(Conflict):
        with transaction(session_factory) as session:
            swaps.answer_swap(session, COMMUNITY, swap_id, session_to_give.expert, accept=True)
    with pytest.raises(ScenarioError, match="assignment_id"):
        with transaction(session_factory) as session:
            swaps.propose_swap(session, COMMUNITY, before.month, session_to_give.id, colleague, session_to_give.expert)
