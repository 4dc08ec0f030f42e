"""Reasons (a code and parameters) in words: every code has a Chinese and an English template, and neither leaks into the other."""

from __future__ import annotations

import re

import pytest

from scheduler.labels import CommunityLabels
from scheduler.reason_text import TEMPLATES, english_words, reason_fields, reason_from_row, reason_text, rule_name
from solver.solution import Reason, ReasonCode
from tests.reason_samples import LABELS, SAMPLE_REASONS

CODED = [code for code in ReasonCode if code is not ReasonCode.TEXT]
ENGLISH = english_words()


def ascii_words(text: str) -> set[str]:
    return {word.lower() for word in re.findall(r"[A-Za-z][A-Za-z'-]+", text)}


def test_every_code_has_a_sample_and_a_template_in_each_language():
    assert set(SAMPLE_REASONS) == set(ReasonCode)
    for lang in ("zh-CN", "en"):
        assert set(CODED) <= set(TEMPLATES[lang]), lang
    assert set(TEMPLATES["zh-CN"]) == set(TEMPLATES["en"])


@pytest.mark.parametrize("code", CODED, ids=str)
def test_chinese_has_no_english_word_and_english_no_chinese(code):
    reason = SAMPLE_REASONS[code]
    chinese = reason_text(reason, "zh-CN", LABELS)
    english = reason_text(reason, "en", LABELS)
    assert chinese and english
    assert not ascii_words(chinese) & ENGLISH, chinese
    assert not re.search(r"[A-Za-z]{2,}", chinese), chinese  # not even an id: names stand for them
    assert not re.search(r"[\u4e00-\u9fff]", english.replace("进修", "")), english
    assert "{" not in chinese + english


@pytest.mark.parametrize(
    ("code", "chinese", "english"),
    [
        (ReasonCode.NO_SPECIALIST, "没有专家具备儿科专科", "no expert holds the specialty paeds"),
        (ReasonCode.ALL_AT_MONTHLY_LIMIT, "大吉山镇卫生院心血管内科坐诊缺2次：1位符合条件的专家均已达每月上限（姚东烨）",
         "2 cardio clinic sessions at t02 unfilled: every eligible expert is at their monthly limit (E001)"),
        (ReasonCode.HALF_DAYS_TAKEN,
         "大吉山镇卫生院心血管内科坐诊缺3次：5位符合条件的专家的空闲半天已被其他安排占用、大吉山镇卫生院诊室已满或受科室最低在岗限制（姚东烨、邵静兴、闫斌成、余育友等5人）",
         "3 cardio clinic sessions at t02 unfilled: every eligible expert's free half-days are taken by other sessions, full rooms at t02, "
         "or their department's minimum (E001, E002, E003, E004 and 1 more)"),
        (ReasonCode.MIXED_SHORTFALL,
         "大吉山镇卫生院儿科业务查房缺1次：4位符合条件的专家中，1位已达每月上限（姚东烨）；1位在所有可排日期均不可用（邵静兴：请假）；"
         "1位须留院保证科室最低在岗人数（闫斌成）；1位的空闲半天已被其他安排占用、大吉山镇卫生院诊室已满或受科室最低在岗限制（余育友）",
         "1 paeds ward-round session at t02 unfilled: of 4 eligible experts, 1 at their monthly limit (E001); 1 unavailable on every open day (E002: leave); "
         "1 needed at the hospital by their department's minimum on site (E003); 1 with free half-days taken by other sessions, full rooms at t02, "
         "or their department's minimum (E004)"),
        (ReasonCode.TITLE_TOO_LOW, "带教需要副主任医师及以上职称，具备心血管内科专科的3位专家都不符合",
         "teaching needs the title associate chief physician or above, and none of the 3 experts holding cardio has it"),
        (ReasonCode.TEAM_TOO_SMALL, "陈书记可以前往的3天（5、7-8日）里，能为大吉山镇卫生院服务的其他专家都不足2位",
         "on the 3 days E040 could go (5, 7-8), fewer than 2 other experts could serve t02's demand"),
        (ReasonCode.RULES_CLASH, "硬性规则相互冲突：卫生院诊室数、每月排班上限；保留2条已固定的安排",
         "the hard rules clash: township rooms, monthly session limit; 2 fixed assignments are kept as given"),
        (ReasonCode.NO_FREE_EXPERT, "2027年1月11日至2027年1月15日期间，没有空闲的儿科专家能在大吉山镇卫生院承担带教而不调动其他安排（1次中可安排0次）",
         "no paeds expert is free for a teaching session at t02 within 2027-01-11..2027-01-15 without moving other sessions (0 of 1 could be placed)"),
        (ReasonCode.ROSTER_NOT_GENERATED, "2027年2月的排班尚未生成，医务科将统一安排",
         "the roster for 2027-02 has not been generated yet; the office will place the request"),
        (ReasonCode.REQUEST_AWAITS_APPROVAL, "可以安排，等待医务科审批", "the request can be placed; it waits for the office's approval (auto-approve is off)"),
    ],
    ids=lambda value: str(value) if isinstance(value, ReasonCode) else "",
)
def test_known_reasons_read_as_written(code, chinese, english):
    assert reason_text(SAMPLE_REASONS[code], "zh-CN", LABELS) == chinese
    assert reason_text(SAMPLE_REASONS[code], "en", LABELS) == english
    assert reason_text(SAMPLE_REASONS[code], "zh", LABELS) == chinese  # any spelling of the language


def test_free_text_is_shown_as_written_in_every_language():
    reason = Reason.text("本月无儿科专家")
    assert reason_text(reason, "zh-CN") == reason_text(reason, "en") == "本月无儿科专家"
    assert reason_fields(reason, "en") == {"reason": "本月无儿科专家", "reason_code": None, "reason_params": {}}
    assert reason_text(None) == ""


def test_a_row_round_trips_and_a_broken_code_falls_back_to_its_sentence():
    reason = SAMPLE_REASONS[ReasonCode.TEAM_TOO_SMALL]
    row = reason_fields(reason, "en")
    assert row["reason_code"] == "TEAM_TOO_SMALL" and row["reason_params"]["days"] == ["2027-01-05", "2027-01-07", "2027-01-08"]
    assert reason_from_row(row) == reason
    # a code nobody knows, parameters that are not a mapping, or missing parameters: the sentence, as written
    assert reason_from_row({"reason": "old words", "reason_code": "GONE"}) == Reason.text("old words")
    assert reason_from_row({"reason": "old words", "reason_code": "TEAM_TOO_SMALL", "reason_params": [1, 2]}) == Reason.text("old words")
    assert reason_from_row({"reason": "old words", "reason_code": "TEAM_TOO_SMALL", "reason_params": {"member": "E1"}}) == Reason.text("old words")
    assert reason_from_row({"reason": "old words", "reason_code": "NO_SPECIALIST", "reason_params": {"specialty": {"a": 1}}}) == Reason.text("old words")


def test_every_rule_of_the_model_has_a_chinese_name():
    import inspect

    import solver.rules as rules_package
    from solver.rules import availability, coverage, links, staffing, travel

    named = set()
    for module in (availability, coverage, links, staffing, travel, rules_package):
        named |= set(re.findall(r'\.add\(\s*"([^"]+)"', inspect.getsource(module)))
    assert named, "the rules name themselves in RosterModel.add"
    for rule in named:
        assert rule_name(rule, "zh-CN") != rule, rule
        assert rule_name(rule, "en") == rule


def test_the_reasons_of_a_solved_month_read_in_chinese():
    from config.settings import SAMPLE_SCENARIO
    from scheduler.roster_file import roster_json
    from scheduler.scenario.load import load_scenario
    from tests.solved import solved_once

    scenario = load_scenario(SAMPLE_SCENARIO)
    solution = solved_once(scenario, "2027-01")
    assert solution.unmet, "the sample month has unmet demand to explain"
    labels = CommunityLabels.from_scenario(scenario)
    for row in roster_json(scenario.community.name, solution)["unmet"]:
        reason = reason_from_row(row)
        assert reason.code is not ReasonCode.TEXT and row["reason"] == reason_text(reason, "en")
        chinese = reason_text(reason, "zh-CN", labels)
        assert not ascii_words(chinese) & ENGLISH, chinese


def test_the_roster_file_and_the_stored_report_keep_codes_and_parameters():
    from scheduler.roster_file import parse_roster, roster_json
    from scheduler.store import report_document, report_from_document
    from solver.solution import SolveReport, Solution, Unmet

    unmet = tuple(Unmet("t02", "clinic", "cardio", 1, reason) for code, reason in SAMPLE_REASONS.items())
    clash = SAMPLE_REASONS[ReasonCode.RULES_CLASH]
    solution = Solution("2027-01", (), unmet, SolveReport("INFEASIBLE", clash=clash))
    document = roster_json("测试县总医院", solution)
    assert document["solver"]["explanation"] == "the hard rules clash: township rooms, monthly session limit; 2 fixed assignments are kept as given"
    assert document["solver"]["explanation_code"] == "RULES_CLASH"
    text_row = next(row for row in document["unmet"] if row["reason"] == "本月无儿科专家")
    assert "reason_code" not in text_row  # a free sentence stays what the format promises, no more
    parsed, _, _ = parse_roster(document)
    assert parsed.unmet == unmet and parsed.report.clash == clash
    assert report_from_document(report_document(solution.report)) == solution.report
