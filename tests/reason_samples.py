"""One reason of every code, with the names of the sample county (config/examples/quannan.yaml), for the reason tests."""

from __future__ import annotations

from scheduler.labels import CommunityLabels
from solver.solution import Reason, ReasonCode

LABELS = CommunityLabels(
    community="测试县总医院",
    township_names={"t01": "城厢镇卫生院", "t02": "大吉山镇卫生院"},
    specialty_names={"cardio": "心血管内科", "paeds": "儿科"},
    expert_names={"E001": "姚东烨", "E002": "邵静兴", "E003": "闫斌成", "E004": "余育友", "E005": "王芳", "E040": "陈书记"},
    department_names={"cardio": "心内科"},
)
WHERE = {"township": "t02", "type": "clinic", "specialty": "cardio"}
AT = {"expert": "E001", "township": "t02", "date": "2027-01-12", "half_day": "am", "type": "clinic", "specialty": "cardio"}  # a session a rule break is about

# One reason of every code, with ids of the labels above (and of the sample county, config/examples/quannan.yaml).
SAMPLE_REASONS: dict[ReasonCode, Reason] = {
    ReasonCode.NO_INPATIENT_WARD: Reason.of(ReasonCode.NO_INPATIENT_WARD, township="t01"),
    ReasonCode.NO_OPEN_HALF_DAY: Reason.of(ReasonCode.NO_OPEN_HALF_DAY, **WHERE),
    ReasonCode.NO_SPECIALIST: Reason.of(ReasonCode.NO_SPECIALIST, specialty="paeds"),
    ReasonCode.TITLE_TOO_LOW: Reason.of(ReasonCode.TITLE_TOO_LOW, specialty="cardio", title="associate_chief", holders=3),
    ReasonCode.NOT_ROSTERED: Reason.of(ReasonCode.NOT_ROSTERED, specialty="cardio", experts=["E001", "E002"]),
    ReasonCode.ALL_AT_MONTHLY_LIMIT: Reason.of(ReasonCode.ALL_AT_MONTHLY_LIMIT, **WHERE, sessions=2, experts=["E001"]),
    ReasonCode.ALL_UNAVAILABLE: Reason.of(ReasonCode.ALL_UNAVAILABLE, **WHERE, sessions=1, experts=["E001", "E002"], why=["进修"]),
    ReasonCode.DEPARTMENT_MINIMUM: Reason.of(ReasonCode.DEPARTMENT_MINIMUM, **WHERE, sessions=1, experts=["E003"], departments=["cardio"]),
    ReasonCode.HALF_DAYS_TAKEN: Reason.of(ReasonCode.HALF_DAYS_TAKEN, **WHERE, sessions=3, experts=["E001", "E002", "E003", "E004", "E005"]),
    ReasonCode.MIXED_SHORTFALL: Reason.of(
        ReasonCode.MIXED_SHORTFALL, township="t02", type="ward_round", specialty="paeds", sessions=1, eligible=4,
        at_limit=["E001"], unavailable=["E002"], why=[], kept_home=["E003"], departments=["cardio"], busy=["E004"],
    ),
    ReasonCode.NO_FREE_HALF_DAY: Reason.of(ReasonCode.NO_FREE_HALF_DAY, specialty="cardio", eligible=2),
    ReasonCode.NOT_AN_EXPERT: Reason.of(ReasonCode.NOT_AN_EXPERT, member="E999"),
    ReasonCode.MEMBER_NOT_ROSTERED: Reason.of(ReasonCode.MEMBER_NOT_ROSTERED, member="E040"),
    ReasonCode.TOWNSHIP_CLOSED_ALL_MONTH: Reason.of(ReasonCode.TOWNSHIP_CLOSED_ALL_MONTH, township="t02"),
    ReasonCode.MEMBER_UNAVAILABLE: Reason.of(ReasonCode.MEMBER_UNAVAILABLE, member="E040", township="t02"),
    ReasonCode.MEMBER_AT_MONTHLY_LIMIT: Reason.of(ReasonCode.MEMBER_AT_MONTHLY_LIMIT, member="E040", limit=2),
    ReasonCode.TEAM_TOO_SMALL: Reason.of(ReasonCode.TEAM_TOO_SMALL, member="E040", township="t02", days=["2027-01-05", "2027-01-07", "2027-01-08"], team_min=2),
    ReasonCode.TEAM_NOT_FITTED: Reason.of(ReasonCode.TEAM_NOT_FITTED, member="E040", township="t02", team_min=2),
    ReasonCode.RULES_CLASH: Reason.of(ReasonCode.RULES_CLASH, rules=["township rooms", "monthly session limit"], fixed=2),
    ReasonCode.CLASH_NOT_SHOWN: Reason.of(ReasonCode.CLASH_NOT_SHOWN),
    ReasonCode.DEMAND_OVERFILLED: Reason.of(ReasonCode.DEMAND_OVERFILLED),
    ReasonCode.NO_ELIGIBLE_EXPERT: Reason.of(ReasonCode.NO_ELIGIBLE_EXPERT, township="t02", type="teaching", specialty="paeds"),
    ReasonCode.NO_FREE_EXPERT: Reason.of(
        ReasonCode.NO_FREE_EXPERT, township="t02", type="teaching", specialty="paeds", first_day="2027-01-11", last_day="2027-01-15", placed=0, sessions=1
    ),
    ReasonCode.ROSTER_NOT_GENERATED: Reason.of(ReasonCode.ROSTER_NOT_GENERATED, month="2027-02"),
    ReasonCode.REQUEST_AWAITS_APPROVAL: Reason.of(ReasonCode.REQUEST_AWAITS_APPROVAL),
    ReasonCode.UNKNOWN_EXPERT: Reason.of(ReasonCode.UNKNOWN_EXPERT, **AT),
    ReasonCode.UNKNOWN_TOWNSHIP: Reason.of(ReasonCode.UNKNOWN_TOWNSHIP, **AT),
    ReasonCode.NOT_A_WORKING_HALF_DAY: Reason.of(ReasonCode.NOT_A_WORKING_HALF_DAY, **AT),
    ReasonCode.EXPERT_UNAVAILABLE: Reason.of(ReasonCode.EXPERT_UNAVAILABLE, **AT, why=["进修"]),
    ReasonCode.TOWNSHIP_CLOSED: Reason.of(ReasonCode.TOWNSHIP_CLOSED, **AT),
    ReasonCode.NO_WARD_FOR_THE_ROUND: Reason.of(ReasonCode.NO_WARD_FOR_THE_ROUND, **{**AT, "type": "ward_round"}),
    ReasonCode.WARD_ROUND_HALF_DAY: Reason.of(ReasonCode.WARD_ROUND_HALF_DAY, **{**AT, "type": "ward_round", "half_day": "pm"}, half_days=["am"]),
    ReasonCode.LACKS_THE_SPECIALTY: Reason.of(ReasonCode.LACKS_THE_SPECIALTY, **{**AT, "specialty": "paeds"}),
    ReasonCode.TITLE_BELOW_TEACHING: Reason.of(
        ReasonCode.TITLE_BELOW_TEACHING, **{**AT, "type": "teaching"}, title="associate_chief", expert_title="attending"
    ),
    ReasonCode.EXPERT_NOT_ROSTERED: Reason.of(ReasonCode.EXPERT_NOT_ROSTERED, **AT),
    ReasonCode.SUPERVISION_NOT_A_VISIT: Reason.of(ReasonCode.SUPERVISION_NOT_A_VISIT, **{**AT, "type": "supervision", "specialty": None}),
    ReasonCode.DEPARTMENT_CANNOT_SPARE: Reason.of(ReasonCode.DEPARTMENT_CANNOT_SPARE, **AT, department="cardio"),
    ReasonCode.SESSION_NEEDS_SPECIALTY: Reason.of(ReasonCode.SESSION_NEEDS_SPECIALTY, **{**AT, "specialty": None}),
    ReasonCode.NOT_DEMANDED: Reason.of(ReasonCode.NOT_DEMANDED, **AT),
    ReasonCode.BOOKED_TWICE: Reason.of(ReasonCode.BOOKED_TWICE, **AT),
    ReasonCode.PIN_LOST: Reason.of(ReasonCode.PIN_LOST, **AT),
    ReasonCode.EDIT_BREAKS_RULE: Reason.of(ReasonCode.EDIT_BREAKS_RULE, rule="one township per day"),
    ReasonCode.LINK_VISITS_LOST: Reason.of(ReasonCode.LINK_VISITS_LOST, visits=1),
    ReasonCode.SWAP_SESSIONS_CHANGED: Reason.of(ReasonCode.SWAP_SESSIONS_CHANGED),
    ReasonCode.SWAP_DECLINED_BY_COLLEAGUE: Reason.of(ReasonCode.SWAP_DECLINED_BY_COLLEAGUE, expert="E002"),
    ReasonCode.SWAP_REJECTED_BY_OFFICE: Reason.of(ReasonCode.SWAP_REJECTED_BY_OFFICE),
    ReasonCode.BREAKS_RULES: Reason.of(ReasonCode.BREAKS_RULES, rules=["monthly session limit", "one township per day"]),
    ReasonCode.FORCE_NO_ROSTER: Reason.of(ReasonCode.FORCE_NO_ROSTER, month="2027-02"),
    ReasonCode.FORCE_DAY_PAST: Reason.of(ReasonCode.FORCE_DAY_PAST, first_day="2026-12-01", today="2026-12-07"),
    ReasonCode.FORCE_NO_CANDIDATE: Reason.of(
        ReasonCode.FORCE_NO_CANDIDATE, township="t02", type="teaching", specialty="paeds", month="2027-01", days=["2027-01-11", "2027-01-12"]
    ),
    ReasonCode.FORCE_CANNOT_PLACE: Reason.of(
        ReasonCode.FORCE_CANNOT_PLACE, township="t02", type="clinic", specialty="cardio", month="2027-01", days=["2027-01-11"], placed=0, sessions=1
    ),
    ReasonCode.TEXT: Reason.text("本月无儿科专家"),
}
