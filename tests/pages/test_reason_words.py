"""Reasons from the solver and the request flow, reworded in Chinese with the community's names."""

from __future__ import annotations

import re

import pytest

from api.pages.reason_words import reason_text
from scheduler.labels import CommunityLabels

LABELS = CommunityLabels(
    community="测试县总医院",
    township_names={"t04": "金龙镇卫生院", "t02": "大吉山镇卫生院"},
    specialty_names={"endo": "内分泌科", "paeds": "儿科", "cardio": "心血管内科"},
    expert_names={"E018": "王芳", "E019": "李海林", "E053": "陈书记"},
)


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        ("no expert holds the specialty 儿科 (paeds)", "没有专家具备儿科专科"),
        (
            "2 内分泌科 (endo) clinic sessions at t04 unfilled: of 1 eligible expert, 1 at their monthly limit (E018)",
            "金龙镇卫生院内分泌科坐诊缺2次：1位符合条件的专家中，1位已达每月上限（王芳）",
        ),
        (
            "1 儿科 (paeds) ward-round session at t02 unfilled: of 7 eligible experts, 2 unavailable on every open day (E018, E019: 进修); "
            "5 with free half-days taken by other sessions, full rooms at t02, or their department's minimum (E053, E018, E019, E020 and 1 more)",
            "大吉山镇卫生院儿科业务查房缺1次：7位符合条件的专家中，2位在所有可排日期均不可用（王芳、李海林：进修）；"
            "5位的空闲半天已被其他安排占用、大吉山镇卫生院诊室已满或受科室最低在岗限制（陈书记、王芳、李海林、E020等5人）",
        ),
        ("t04 has no inpatient ward, so no ward round can be held there", "金龙镇卫生院没有住院病房，无法安排业务查房"),
        ("teaching needs the title associate_chief or above, and none of the 3 experts holding cardio has it", "带教需要副主任医师及以上职称，具备心血管内科专科的3位专家都不符合"),
        ("E053 is unavailable (or their department cannot spare them) on every working day t02 is open", "大吉山镇卫生院开诊的每个工作日，陈书记都不可用（或科室无法抽调）"),
        ("on the 3 days E053 could go (5, 7-8), fewer than 2 other experts could serve t04's demand", "陈书记可以前往的3天（5, 7-8日）里，能为金龙镇卫生院服务的其他专家都不足2位"),
        (
            "no paeds expert is free for a teaching session at t02 within 2027-01-11..2027-01-11 without moving other sessions (0 of 1 could be placed)",
            "2027-01-11至2027-01-11期间，没有空闲的儿科专家能在大吉山镇卫生院承担带教而不调动其他安排（1次中可安排0次）",
        ),
        ("the roster for 2027-02 has not been generated yet; the office will place the request", "2027-02的排班尚未生成，医务科将统一安排"),
    ],
)
def test_known_reasons_read_in_chinese(english, chinese):
    assert reason_text(english, LABELS) == chinese
    assert reason_text(english, LABELS, "en") == english


def test_an_unknown_reason_is_shown_as_written():
    assert reason_text("something new happened", LABELS) == "something new happened"


def test_every_reason_of_a_solved_month_is_reworded(solved_month):
    labels = CommunityLabels.from_scenario(solved_month.scenario)
    reasons = [row["reason"] for row in solved_month.document["unmet"]]
    assert reasons, "the sample month has unmet demand to explain"
    for reason in reasons:
        reworded = reason_text(reason, labels)
        assert reworded != reason and not re.search(r"[A-Za-z]{3,}", reworded), (reason, reworded)
