"""Report charts: well-formed, scalable SVG whose labels carry the report's own figures."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from scheduler.labels import CommunityLabels
from scheduler.report_charts import all_charts
from scheduler.reports import month_report
from scheduler.roster_file import roster_json
from scheduler.scenario.load import load_scenario
from solver.solution import Assignment, SolveReport, Solution, Unmet
from solver.solution import Reason, ReasonCode

MINIMAL = Path(__file__).parent / "minimal.yaml"
SVG = "{http://www.w3.org/2000/svg}"


def small_report():
    scenario = load_scenario(MINIMAL)
    assignments = (
        Assignment(dt.date(2026, 10, 15), "am", "nanjing", "clinic", "cardio", "E01", False, "a1"),
        Assignment(dt.date(2026, 10, 15), "am", "nanjing", "supervision", None, "E03", True, "a2"),
        Assignment(dt.date(2026, 10, 16), "am", "pitou", "teaching", "internal_med", "E01", False, "a3"),
    )
    document = roster_json("测试县总医院", Solution("2026-10", assignments, (Unmet("nanjing", "clinic", "cardio", 2, Reason.of(ReasonCode.NO_SPECIALIST, specialty="cardio")),), SolveReport("OPTIMAL")))
    return scenario, month_report(document, scenario)


def texts(svg: str) -> list[str]:
    root = ElementTree.fromstring(svg)
    return ["".join(node.itertext()).strip() for node in root.iter(f"{SVG}text")]


def test_charts_are_scalable_svg_with_chinese_text_and_the_report_figures():
    scenario, report = small_report()
    charts = all_charts(report, CommunityLabels.from_scenario(scenario))
    assert set(charts) == {"coverage", "links", "load", "trips"}
    for svg in charts.values():
        root = ElementTree.fromstring(svg)
        assert root.get("viewBox") and root.get("width") is None  # scales with the page
    coverage = texts(charts["coverage"])
    assert "各卫生院需求满足情况（次）" in coverage and "南迳镇卫生院" in coverage
    assert "1/4" in coverage and "1/1" in coverage  # nanjing met 1 of 4 (3 clinic + 1 ward round), pitou 1 of 1
    assert "1/2" in texts(charts["links"])  # the member visited 1 of 2 linked townships with a team
    assert "3/12" in texts(charts["load"])  # internal: 3 sessions against 6 + 4 + 2
    trips = texts(charts["trips"])
    assert "陂头镇卫生院" in trips and "1" in trips


def test_english_charts_have_english_titles():
    scenario, report = small_report()
    charts = all_charts(report, CommunityLabels.from_scenario(scenario), "en")
    assert "Demand met per township (sessions)" in texts(charts["coverage"])
    assert "Trips per township (one car per day)" in texts(charts["trips"])
