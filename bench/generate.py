"""Seeded generator of realistic `rota.scenario/1` files for benchmarks (counties of 9 to 26 townships).

The shape follows DOMAIN.md and config/examples/quannan.yaml: county departments with staffing
minimums, experts with one to three specialties and a title, leave and half-day absences,
township centres with 1-3 rooms and (often) a ward, party-committee links, and a month of
demand sized to a target share of the capacity the experts can really deliver.

    python -m bench.generate --townships 26 --experts 400 --load 0.9 --seed 1 --month 2027-03 --out FILE
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import random
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from scheduler.calendar import month_calendar_for, month_days
from scheduler.problem_builder import build_problem
from scheduler.scenario.load import dump_scenario
from scheduler.scenario.schema import (
    CalendarSpec,
    Community,
    Department,
    DemandRow,
    Expert,
    Link,
    Scenario,
    Specialty,
    Township,
    Unavailability,
)
from solver.problem import TITLE_RANK, Problem
from scheduler.zone import SERVICE_TIMEZONE

SPECIALTIES: tuple[tuple[str, str], ...] = (
    ("internal_med", "普通内科"),
    ("cardio", "心血管内科"),
    ("resp", "呼吸内科"),
    ("gastro", "消化内科"),
    ("endo", "内分泌科"),
    ("neuro", "神经内科"),
    ("nephro", "肾内科"),
    ("surgery", "普外科"),
    ("ortho", "骨科"),
    ("uro", "泌尿外科"),
    ("obgyn", "妇产科"),
    ("paeds", "儿科"),
    ("ent", "耳鼻喉科"),
    ("ophth", "眼科"),
    ("derm", "皮肤科"),
    ("tcm", "中医科"),
    ("rehab", "康复医学科"),
    ("gp", "全科医学科"),
    ("imaging", "医学影像科"),
)


@dataclass(frozen=True)
class DepartmentProfile:
    """A county department: the specialties its experts hold first, the ones they may add, and its share of staff."""

    code: str
    name: str
    primary: tuple[str, ...]
    extra: tuple[str, ...]
    weight: int


DEPARTMENTS: tuple[DepartmentProfile, ...] = (
    DepartmentProfile("internal", "大内科", ("internal_med",), ("gp", "endo", "gastro"), 11),
    DepartmentProfile("cardio", "心内科", ("cardio",), ("internal_med",), 6),
    DepartmentProfile("resp", "呼吸科", ("resp",), ("internal_med", "gp"), 6),
    DepartmentProfile("gastro", "消化科", ("gastro",), ("internal_med",), 3),
    DepartmentProfile("endo", "内分泌科", ("endo",), ("internal_med",), 2),
    DepartmentProfile("neuro", "神经内科", ("neuro",), ("internal_med", "rehab"), 3),
    DepartmentProfile("nephro", "肾内科", ("nephro",), ("internal_med",), 2),
    DepartmentProfile("surgery", "外科", ("surgery", "uro"), ("ortho",), 6),
    DepartmentProfile("ortho", "骨科", ("ortho",), ("rehab", "surgery"), 4),
    DepartmentProfile("obgyn", "妇产科", ("obgyn",), ("paeds",), 6),
    DepartmentProfile("paeds", "儿科", ("paeds",), ("gp",), 4),
    DepartmentProfile("ent", "耳鼻喉科", ("ent",), ("ophth",), 2),
    DepartmentProfile("ophth", "眼科", ("ophth",), (), 1),
    DepartmentProfile("derm", "皮肤科", ("derm",), (), 1),
    DepartmentProfile("tcm", "中医科", ("tcm",), ("rehab", "gp"), 5),
    DepartmentProfile("rehab", "康复科", ("rehab",), (), 2),
    DepartmentProfile("gp", "全科医学科", ("gp",), ("internal_med",), 2),
    DepartmentProfile("imaging", "影像科", ("imaging",), (), 2),
)
# Non-clinical committee members (party secretary, president) belong here: no specialties, no staffing minimum.
ADMIN_DEPARTMENT = ("admin", "院办")

# Specialties whose experts round on a township ward; eyes, ENT, skin and imaging do not.
WARD_SPECIALTIES = frozenset(
    {"internal_med", "cardio", "resp", "gastro", "endo", "neuro", "nephro", "surgery", "ortho", "uro", "obgyn", "paeds", "tcm", "gp", "rehab"}
)

PLACE_NAMES = (
    "城厢", "大吉山", "陂头", "金龙", "南迳", "龙源坝", "中寨", "社迳", "龙下", "石门", "横岗", "白石",
    "长岭", "黄田", "青山", "双桥", "东坑", "西岭", "高陂", "新村", "上坪", "下坝", "松林", "清溪",
    "梅岭", "枫树", "三江", "河口", "竹山", "凤凰", "莲塘", "桃源",
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈姚卢钟姜崔谭陆汪范廖"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建文辉玲兰萍红海林东斌成友育金树家依烨兴"
LEAVE_REASONS = ("进修", "学术会议", "休假", "外出培训", "援外医疗")
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri")
TEACHING_SHARE = 0.12
WARD_ROUND_SHARE = 0.12


@dataclass(frozen=True)
class CapacityEstimate:
    """Sessions the experts of a scenario can really deliver in a month, in total and per specialty."""

    expert_sessions: float  # after availability and department staffing minimums
    room_sessions: int  # rooms x open half-days over all townships
    by_specialty: dict[str, float]  # each expert's sessions split evenly over their specialties
    senior_by_specialty: dict[str, float]  # the same, counting only experts senior enough to teach

    @property
    def usable_sessions(self) -> float:
        return min(self.expert_sessions, float(self.room_sessions))


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def _department_sizes(clinical_experts: int) -> dict[str, int]:
    """Spread the clinical experts over departments by weight, every department staffed by at least one."""
    total_weight = sum(d.weight for d in DEPARTMENTS)
    floor = 2 if clinical_experts >= 2 * len(DEPARTMENTS) else 1
    shares = {d.code: max(floor, clinical_experts * d.weight / total_weight) for d in DEPARTMENTS}
    sizes = {code: int(share) for code, share in shares.items()}
    by_remainder = sorted(shares, key=lambda code: shares[code] - sizes[code], reverse=True)
    index = 0
    while sum(sizes.values()) < clinical_experts:
        sizes[by_remainder[index % len(by_remainder)]] += 1
        index += 1
    largest_first = sorted(sizes, key=lambda code: sizes[code], reverse=True)
    index = 0
    while sum(sizes.values()) > clinical_experts:
        code = largest_first[index % len(largest_first)]
        if sizes[code] > floor:
            sizes[code] -= 1
        index += 1
    return sizes


def _title(rng: random.Random) -> str:
    draw = rng.random()
    return "chief" if draw < 0.30 else "associate_chief" if draw < 0.65 else "attending"


def _max_sessions(rng: random.Random, title: str) -> int:
    # Chiefs carry more work at the county hospital, so they go down less often.
    low, high = {"chief": (3, 6), "associate_chief": (4, 7), "attending": (4, 8)}[title]
    return rng.randint(low, high)


def _specialties(rng: random.Random, profile: DepartmentProfile) -> list[str]:
    primary = rng.choice(profile.primary)
    others = [code for code in (*profile.primary, *profile.extra) if code != primary]
    wanted = rng.choices((1, 2, 3), weights=(60, 30, 10))[0] - 1
    return [primary, *rng.sample(others, min(wanted, len(others)))]


def _unavailability(rng: random.Random, days: list[dt.date]) -> list[Unavailability]:
    periods: list[Unavailability] = []
    for _ in range(rng.choices((0, 1, 2), weights=(70, 24, 6))[0]):
        length = rng.randint(2, 6)
        start = rng.randrange(0, len(days) - length + 1)
        periods.append(Unavailability(from_=days[start], to=days[start + length - 1], reason=rng.choice(LEAVE_REASONS)))
    for _ in range(rng.choices((0, 1, 2), weights=(62, 26, 12))[0]):
        periods.append(Unavailability(date=rng.choice(days), half_day=rng.choice(("am", "pm"))))
    return sorted(periods, key=lambda period: period.first_day)


def _townships(rng: random.Random, count: int) -> list[Township]:
    names = rng.sample(PLACE_NAMES, count) if count <= len(PLACE_NAMES) else [f"第{n}" for n in range(1, count + 1)]
    townships = []
    for number, place in enumerate(names, start=1):
        preferred = sorted(rng.sample(range(5), rng.choice((1, 2)))) if rng.random() < 0.4 else []
        townships.append(
            Township(
                id=f"t{number:02d}",
                name=f"{place}{'乡' if rng.random() < 0.3 else '镇'}卫生院",
                travel_minutes=rng.randint(15, 110),
                rooms=rng.choices((1, 2, 3), weights=(30, 45, 25))[0],
                inpatient_ward=rng.random() < 0.6,
                preferred_weekdays=[WEEKDAY_NAMES[day] for day in preferred],
            )
        )
    return townships


def _experts(rng: random.Random, count: int, non_clinical: int, days: list[dt.date], township_ids: list[str]) -> list[Expert]:
    sizes = _department_sizes(count - non_clinical)
    profiles = [profile for profile in DEPARTMENTS for _ in range(sizes[profile.code])]
    rng.shuffle(profiles)
    experts = []
    for number, profile in enumerate(profiles, start=1):
        title = _title(rng)
        previous = sorted(rng.sample(township_ids, rng.choice((1, 2)))) if rng.random() < 0.45 else []
        experts.append(
            Expert(
                id=f"E{number:03d}",
                name=_name(rng),
                department=profile.code,
                title=title,
                specialties=_specialties(rng, profile),
                max_sessions=_max_sessions(rng, title),
                avoid_weekdays=[rng.choice(WEEKDAY_NAMES)] if rng.random() < 0.15 else [],
                unavailable=_unavailability(rng, days),
                previous_townships=previous,
            )
        )
    roles = ("党委书记", "院长", "党委副书记")
    for offset in range(non_clinical):
        experts.append(
            Expert(
                id=f"E{len(profiles) + offset + 1:03d}",
                name=roles[offset % len(roles)] + _name(rng),
                department=ADMIN_DEPARTMENT[0],
                title="chief",
                specialties=[],
                max_sessions=4,
                unavailable=_unavailability(rng, days),
            )
        )
    return experts


def _links(rng: random.Random, experts: list[Expert], township_ids: list[str]) -> list[Link]:
    """About one committee member per three townships, each linked to the 2-3 least covered townships."""
    member_count = max(2, round(len(township_ids) / 3))
    non_clinical = [e for e in experts if not e.specialties]
    chiefs = [e for e in experts if e.specialties and e.title == "chief" and e.max_sessions >= 4]
    members = non_clinical + rng.sample(chiefs, min(len(chiefs), member_count - len(non_clinical)))
    rng.shuffle(members)
    coverage = {township_id: 0 for township_id in township_ids}
    links = []
    for member in members:
        wanted = min(rng.choice((2, 3)), len(township_ids))
        chosen = sorted(coverage, key=lambda t: (coverage[t], rng.random()))[:wanted]
        for township_id in chosen:
            coverage[township_id] += 1
        links.append(Link(member=member.id, townships=sorted(chosen)))
    return links


def usable_capacity(problem: Problem) -> CapacityEstimate:
    """What the experts can deliver: each capped by their working half-days, each department by its staffing minimum."""
    available_slots = {e.id: sum(1 for slot in problem.slots if e.available(slot)) for e in problem.experts}
    by_specialty: dict[str, float] = defaultdict(float)
    senior_by_specialty: dict[str, float] = defaultdict(float)
    expert_sessions = 0.0
    teaching_rank = TITLE_RANK[problem.rules.teaching_min_title]
    for department in problem.departments:
        members = [e for e in problem.experts if e.department == department.code and e.max_sessions > 0]
        clinical = [e for e in members if e.specialties]
        wanted = sum(min(e.max_sessions, available_slots[e.id]) for e in clinical)
        if not wanted:
            continue
        # Rule 7 summed over the month: at most (available - min_on_site) of the department away per half-day.
        staffing_room = sum(max(0, sum(1 for e in members if e.available(slot)) - department.min_on_site) for slot in problem.slots)
        scale = min(1.0, staffing_room / wanted)
        for expert in clinical:
            sessions = min(expert.max_sessions, available_slots[expert.id]) * scale
            expert_sessions += sessions
            for code in expert.specialties:
                by_specialty[code] += sessions / len(expert.specialties)
                if TITLE_RANK[expert.title] >= teaching_rank:
                    senior_by_specialty[code] += sessions / len(expert.specialties)
    room_sessions = sum(t.rooms * sum(1 for slot in problem.slots if slot.day not in t.closed_days) for t in problem.townships)
    return CapacityEstimate(expert_sessions, room_sessions, dict(by_specialty), dict(senior_by_specialty))


def _apportion(total: int, weights: dict[str, float]) -> dict[str, int]:
    """Split a whole number over keys in proportion to weights (largest remainder)."""
    weight_sum = sum(weights.values())
    if total <= 0 or weight_sum <= 0:
        return {key: 0 for key in weights}
    exact = {key: total * weight / weight_sum for key, weight in weights.items()}
    shares = {key: math.floor(value) for key, value in exact.items()}
    for key in sorted(exact, key=lambda k: exact[k] - shares[k], reverse=True)[: total - sum(shares.values())]:
        shares[key] += 1
    return shares


def _demand(rng: random.Random, problem: Problem, load: float) -> list[DemandRow]:
    capacity = usable_capacity(problem)
    # When rooms, not experts, are the bottleneck, every specialty shrinks alike.
    room_factor = min(1.0, capacity.room_sessions / capacity.expert_sessions) if capacity.expert_sessions else 0.0
    target = round(load * capacity.usable_sessions)
    per_specialty = _apportion(target, {code: sessions * room_factor for code, sessions in capacity.by_specialty.items() if sessions >= 1})
    open_half_days = {t.id: sum(1 for slot in problem.slots if slot.day not in t.closed_days) for t in problem.townships}
    quota = _apportion(target, {t.id: float(t.rooms * open_half_days[t.id]) for t in problem.townships})
    remaining = {township_id: float(sessions) for township_id, sessions in quota.items()}
    ward_townships = {t.id for t in problem.townships if t.inpatient_ward}
    sessions_by_key: dict[tuple[str, str, str], int] = defaultdict(int)

    def place(session_type: str, specialty: str, total: int, chunk_sizes: tuple[int, ...]) -> None:
        candidates = [t for t in remaining if session_type != "ward_round" or t in ward_townships]
        while total > 0 and candidates:
            chunk = min(total, rng.choice(chunk_sizes))
            # Fill the township furthest below its room-proportional share; a random nudge breaks ties.
            township_id = max(candidates, key=lambda t: (remaining[t] - 3 * ((t, session_type, specialty) in sessions_by_key), rng.random()))
            sessions_by_key[(township_id, session_type, specialty)] += chunk
            remaining[township_id] -= chunk
            total -= chunk

    for specialty in sorted(per_specialty, key=lambda code: per_specialty[code], reverse=True):
        total = per_specialty[specialty]
        teaching = min(round(TEACHING_SHARE * total), math.floor(load * capacity.senior_by_specialty.get(specialty, 0.0)))
        ward_rounds = round(WARD_ROUND_SHARE * total) if specialty in WARD_SPECIALTIES and ward_townships else 0
        place("ward_round", specialty, ward_rounds, (1, 2, 2, 3))
        place("teaching", specialty, teaching, (1, 1, 2))
        place("clinic", specialty, total - teaching - ward_rounds, (1, 2, 2, 3, 3, 4, 4, 5, 6))
    type_order = {"clinic": 0, "teaching": 1, "ward_round": 2}
    return [
        DemandRow(township=township_id, type=session_type, specialty=specialty, sessions=sessions)
        for (township_id, session_type, specialty), sessions in sorted(sessions_by_key.items(), key=lambda item: (item[0][0], type_order[item[0][1]], item[0][2]))
    ]


def generate_scenario(townships: int, experts: int, load: float, seed: int = 1, month: str = "2027-03") -> Scenario:
    """A valid scenario of that size whose demand is `load` (0-1) of the sessions the experts can really deliver."""
    if townships < 2:
        raise ValueError("townships must be at least 2")
    non_clinical = 1 if townships < 15 else 2
    if experts < non_clinical + len(DEPARTMENTS):
        raise ValueError(f"experts must be at least {non_clinical + len(DEPARTMENTS)} (one per department plus the committee)")
    if not 0 < load <= 1.5:
        raise ValueError("load must be a share of capacity in (0, 1.5]")
    rng = random.Random(f"{seed}:{townships}:{experts}:{month}")
    days = month_days(month)
    township_rows = _townships(rng, townships)
    township_ids = [t.id for t in township_rows]
    expert_rows = _experts(rng, experts, non_clinical, days, township_ids)
    department_rows = [
        Department(code=profile.code, name=profile.name, min_on_site=min(rng.choice((0, 0, 1, 1, 2, 3)), sum(1 for e in expert_rows if e.department == profile.code) // 3))
        for profile in DEPARTMENTS
    ] + [Department(code=ADMIN_DEPARTMENT[0], name=ADMIN_DEPARTMENT[1], min_on_site=0)]
    calendar = CalendarSpec(holidays="CN")
    standing = Scenario(
        format="rota.scenario/1",
        community=Community(name=f"示例县总医院（{townships}个乡镇，{experts}名专家）", timezone=SERVICE_TIMEZONE),
        calendar=calendar,
        specialties=[Specialty(code=code, name=name) for code, name in SPECIALTIES],
        departments=department_rows,
        townships=township_rows,
        experts=expert_rows,
        links=_links(rng, expert_rows, township_ids),
    )
    problem = build_problem(standing, month, calendar=month_calendar_for(calendar, month))
    return standing.model_copy(update={"demand": _demand(rng, problem, load)})


def with_leave_in(scenario: Scenario, month: str, seed: int = 1) -> Scenario:
    """The scenario with a month's leave and half-day absences added, drawn for each expert as the generator draws them."""
    rng = random.Random(f"{seed}:leave:{month}")
    days = month_days(month)
    experts = [expert.model_copy(update={"unavailable": [*expert.unavailable, *_unavailability(rng, days)]}) for expert in scenario.experts]
    return scenario.model_copy(update={"experts": experts})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.splitlines()[0])
    parser.add_argument("--townships", type=int, default=9)
    parser.add_argument("--experts", type=int, default=60)
    parser.add_argument("--load", type=float, default=0.6, help="demand as a share of usable capacity (e.g. 0.6, 0.9)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--month", default="2027-03", help="YYYY-MM")
    parser.add_argument("--out", type=Path, help="file to write (default: standard output)")
    args = parser.parse_args(argv)
    try:
        scenario = generate_scenario(args.townships, args.experts, args.load, args.seed, args.month)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    header = (
        f"# Synthetic benchmark scenario: {args.townships} townships, {args.experts} experts, "
        f"demand {args.load:.0%} of usable capacity, month {args.month}, seed {args.seed}.\n"
        f"# python -m bench.generate --townships {args.townships} --experts {args.experts} --load {args.load} "
        f"--seed {args.seed} --month {args.month}\n"
    )
    text = header + dump_scenario(scenario)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
