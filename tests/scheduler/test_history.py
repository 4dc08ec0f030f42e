"""The published history on both engines: the months before one carry their load into fairness and their townships into continuity."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest

from config.settings import get_settings
from scheduler import flows, store
from scheduler.db import transaction
from scheduler.history import published_history, window_months
from scheduler.scenario import load_scenario, parse_scenario
from solver.problem import PriorLoad
from solver.solution import Assignment, Solution, SolveReport

MINIMAL = Path(__file__).parent / "minimal.yaml"
COMMUNITY = "minimal"
MONTH = "2026-10"

# Two internists who could both take pitou's clinic; E01 has served nanjing (the static seed), and
# fairness is off so that only continuity decides who goes.
TWO_INTERNISTS = """
format: rota.scenario/1
community: {name: 历史县总医院, timezone: Asia/Shanghai}
calendar: {holidays: CN}
specialties: [{code: internal_med, name: 普通内科}]
departments: [{code: internal, name: 内科, min_on_site: 0}]
townships:
  - {id: nanjing, name: 南迳镇卫生院, travel_minutes: 40}
  - {id: pitou, name: 陂头镇卫生院, travel_minutes: 25}
experts:
  - {id: E01, name: 李海林, department: internal, title: chief, specialties: [internal_med], max_sessions: 4, previous_townships: [nanjing]}
  - {id: E02, name: 王芳, department: internal, title: chief, specialties: [internal_med], max_sessions: 4}
demand:
  - {township: pitou, type: clinic, specialty: internal_med, sessions: 1}
rules:
  weights: {fairness: 0}
"""


@pytest.fixture
def history_months(monkeypatch):
    """Set ROTA_HISTORY_MONTHS for one test (the settings are read once per process, so the cache is cleared around it)."""

    def choose(months: int) -> None:
        monkeypatch.setenv("ROTA_HISTORY_MONTHS", str(months))
        get_settings.cache_clear()

    yield choose
    monkeypatch.delenv("ROTA_HISTORY_MONTHS", raising=False)
    get_settings.cache_clear()


def _roster(month: str, sessions: dict[str, list[str]], visits: dict[str, str] | None = None) -> Solution:
    """A month's roster: per expert the township of each clinic session (one a day from the 1st), per member a supervision."""
    first = dt.date.fromisoformat(f"{month}-01")
    assignments = [
        Assignment(first + dt.timedelta(days=day), "am", township, "clinic", "internal_med", expert, False)
        for expert, townships in sessions.items()
        for day, township in enumerate(townships)
    ]
    assignments += [Assignment(first, "pm", township, "supervision", None, member, True) for member, township in (visits or {}).items()]
    return Solution(month, tuple(assignments), (), SolveReport("OPTIMAL"))


def _save(factory, community: str, month: str, roster: Solution, publish: bool) -> None:
    with transaction(factory) as session:
        version = store.save_roster_version(session, community, roster, "draft", "test")
        if publish:
            store.publish(session, community, month, version)


def test_window_months_are_the_months_before_nearest_first():
    assert window_months("2027-02", 3) == ["2027-01", "2026-12", "2026-11"]
    assert window_months("2027-02", 0) == []


def test_the_builder_reads_the_latest_published_versions_of_the_window_only(session_factory, history_months):
    with transaction(session_factory) as session:
        store.import_scenario(session, COMMUNITY, load_scenario(MINIMAL))
        store.import_scenario(session, "other", load_scenario(MINIMAL))
    # September: version 1 published, version 2 a draft (drafts never count, even the latest)
    _save(session_factory, COMMUNITY, "2026-09", _roster("2026-09", {"E01": ["pitou"]}), publish=True)
    _save(session_factory, COMMUNITY, "2026-09", _roster("2026-09", {"E01": ["pitou"] * 5}), publish=False)
    # August: versions 1 and 2 both published: the latest counts
    _save(session_factory, COMMUNITY, "2026-08", _roster("2026-08", {"E02": ["nanjing"] * 3}), publish=True)
    _save(session_factory, COMMUNITY, "2026-08", _roster("2026-08", {"E02": ["pitou"] * 2}, visits={"E03": "nanjing"}), publish=True)
    # July: a draft only, so the month counts for nothing (no load, no capacity)
    _save(session_factory, COMMUNITY, "2026-07", _roster("2026-07", {"E01": ["nanjing"] * 6}), publish=False)
    # June is outside a window of three months; another community's September is not this one's
    _save(session_factory, COMMUNITY, "2026-06", _roster("2026-06", {"E02": ["nanjing"] * 4}), publish=True)
    _save(session_factory, "other", "2026-09", _roster("2026-09", {"E02": ["nanjing"] * 4}), publish=True)
    # October itself is the month being built: its own versions are not history
    _save(session_factory, COMMUNITY, MONTH, _roster(MONTH, {"E02": ["nanjing"] * 2}), publish=True)

    history_months(3)
    with session_factory() as session:
        assert [m.month for m in published_history(session, COMMUNITY, MONTH, 3)] == ["2026-08", "2026-09"]
        problem, _ = flows.month_problem(session, COMMUNITY, MONTH)
    # no leave in August or September: each month's capacity is max_sessions (E01 6, E02 4, E03 2)
    assert dict(problem.prior_loads) == {"E01": PriorLoad(1, 12), "E02": PriorLoad(2, 8), "E03": PriorLoad(1, 4)}
    previous = {e.id: e.previous_townships for e in problem.experts}
    assert previous == {"E01": {"nanjing", "pitou"}, "E02": {"pitou"}, "E03": frozenset()}  # seed kept; supervisions are no service

    history_months(1)
    with session_factory() as session:
        problem, _ = flows.month_problem(session, COMMUNITY, MONTH)
    assert dict(problem.prior_loads) == {"E01": PriorLoad(1, 6), "E02": PriorLoad(0, 4), "E03": PriorLoad(0, 2)}

    history_months(0)
    with session_factory() as session:
        problem, _ = flows.month_problem(session, COMMUNITY, MONTH)
    assert dict(problem.prior_loads) == {}
    assert {e.id: e.previous_townships for e in problem.experts}["E01"] == {"nanjing"}


def test_leave_in_a_published_month_pro_rates_its_capacity(session_factory, history_months):
    with transaction(session_factory) as session:
        store.import_scenario(session, COMMUNITY, load_scenario(MINIMAL))  # E01 (6 sessions) is away 3.5 of October's 21 working days
    _save(session_factory, COMMUNITY, MONTH, _roster(MONTH, {"E01": ["nanjing"] * 2}), publish=True)
    history_months(3)
    with session_factory() as session:
        problem, _ = flows.month_problem(session, COMMUNITY, "2026-11")
        working_half_days = 2 * len(flows.month_problem(session, COMMUNITY, MONTH)[0].days)
    assert problem.prior_loads["E01"] == PriorLoad(2, round(6 * (working_half_days - 7) / working_half_days))
    assert problem.prior_loads["E02"] == PriorLoad(0, 4)


def test_continuity_learns_who_served_where_from_the_published_history(session_factory, history_months):
    with transaction(session_factory) as session:
        store.import_scenario(session, "twins", parse_scenario(TWO_INTERNISTS))
    history_months(3)
    # no history: E02 has served nowhere yet, so only E01 (seeded at nanjing) is new at pitou
    first = flows.generate(session_factory, "twins", MONTH, time_limit=5)
    with session_factory() as session:
        alone = store.load_roster_version(session, "twins", MONTH, first)[0]
    assert Counter(a.expert for a in alone.assignments) == {"E02": 1}

    # September published: E01 served pitou, E02 nanjing. Now E01 returns to pitou and E02 would be new there.
    _save(session_factory, "twins", "2026-09", _roster("2026-09", {"E01": ["pitou"], "E02": ["nanjing"]}), publish=True)
    second = flows.generate(session_factory, "twins", MONTH, time_limit=5)
    with session_factory() as session:
        learned = store.load_roster_version(session, "twins", MONTH, second)[0]
        problem, _ = flows.month_problem(session, "twins", MONTH)
    assert Counter(a.expert for a in learned.assignments) == {"E01": 1}
    assert {e.id: e.previous_townships for e in problem.experts} == {"E01": {"nanjing", "pitou"}, "E02": {"nanjing"}}
