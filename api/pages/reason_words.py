"""Chinese wording of the reasons the solver and the request flow give (they write English for the CLI and the API).

Each known sentence shape (solver/reasons.py, scheduler/flows.py) is matched whole and reworded with the
community's names for townships, experts and specialties; a sentence no pattern knows is shown as written,
so a new wording upstream degrades to English rather than to a wrong translation.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from scheduler import i18n
from scheduler.labels import CommunityLabels

Rewording = Callable[[re.Match, CommunityLabels], str]
TYPE_WORDS = {"clinic": "clinic", "teaching": "teaching", "ward-round": "ward_round", "ward_round": "ward_round"}
_MORE = re.compile(r"^(?P<shown>.*?)(?: and (?P<more>\d+) more)?$")


def _experts(names: str, labels: CommunityLabels) -> str:
    """`E018, E019 and 3 more` -> `王芳、李海林等5人`."""
    found = _MORE.match(names.strip())
    assert found is not None  # the pattern matches any text
    shown = [labels.expert(name.strip()) for name in found["shown"].split(",") if name.strip()]
    text = "、".join(shown)
    if found["more"]:
        text += f"等{len(shown) + int(found['more'])}人"
    return text


def _what(text: str, labels: CommunityLabels) -> str:
    """`内分泌科 (endo) clinic` -> `内分泌科坐诊`."""
    found = re.fullmatch(r"(?P<name>.+?) \((?P<code>[^)]+)\) (?P<type>clinic|teaching|ward-round)", text)
    if found is None:
        return text
    return labels.specialty(found["code"]) + i18n.session_type_name(TYPE_WORDS[found["type"]], "zh-CN")


def _part(text: str, labels: CommunityLabels) -> str:
    """One clause of an unfilled-demand reason, about a group of eligible experts."""
    patterns: list[tuple[str, Rewording]] = [
        (r"(?P<k>\d+) at their monthly limit \((?P<names>[^)]*)\)", lambda m, l: f"{m['k']}位已达每月上限（{_experts(m['names'], l)}）"),
        (
            r"(?P<k>\d+) unavailable on every open day \((?P<names>[^:]*): (?P<why>.*)\)",
            lambda m, l: f"{m['k']}位在所有可排日期均不可用（{_experts(m['names'], l)}：{m['why']}）",
        ),
        (
            r"(?P<k>\d+) needed at the hospital by their department's minimum on site \((?P<names>[^)]*)\)",
            lambda m, l: f"{m['k']}位须留院保证科室最低在岗人数（{_experts(m['names'], l)}）",
        ),
        (
            r"(?P<k>\d+) with free half-days taken by other sessions, full rooms at (?P<t>\S+), or their department's minimum \((?P<names>[^)]*)\)",
            lambda m, l: f"{m['k']}位的空闲半天已被其他安排占用、{l.township(m['t'])}诊室已满或受科室最低在岗限制（{_experts(m['names'], l)}）",
        ),
    ]
    for pattern, reword in patterns:
        found = re.fullmatch(pattern, text)
        if found:
            return reword(found, labels)
    return text


def _unfilled(found: re.Match, labels: CommunityLabels) -> str:
    parts = "；".join(_part(part, labels) for part in found["parts"].split("; "))
    return f"{labels.township(found['t'])}{_what(found['what'], labels)}缺{found['missing']}次：{found['n']}位符合条件的专家中，{parts}"


REASONS: list[tuple[str, Rewording]] = [
    # solver/reasons.py: unmet demand
    (r"(?P<t>\S+) has no inpatient ward, so no ward round can be held there", lambda m, l: f"{l.township(m['t'])}没有住院病房，无法安排业务查房"),
    (r"(?P<t>\S+) has no open working half-day this month for (?P<what>.+) sessions", lambda m, l: f"{l.township(m['t'])}本月没有可安排{_what(m['what'], l)}的工作半天"),
    (r"no expert holds the specialty (?P<name>.+) \((?P<code>[^)]+)\)", lambda m, l: f"没有专家具备{l.specialty(m['code'])}专科"),
    (
        r"teaching needs the title (?P<title>\S+) or above, and none of the (?P<n>\d+) experts? holding (?P<code>\S+) has it",
        lambda m, l: f"带教需要{i18n.title_name(m['title'])}及以上职称，具备{l.specialty(m['code'])}专科的{m['n']}位专家都不符合",
    ),
    (
        r"all (?P<n>\d+) eligible experts? \((?P<names>[^)]*)\) have max_sessions 0",
        lambda m, l: f"{m['n']}位符合条件的专家（{_experts(m['names'], l)}）本月均不排班（每月上限为0）",
    ),
    (r"(?P<missing>\d+) (?P<what>.+?) sessions? at (?P<t>\S+) unfilled: of (?P<n>\d+) eligible experts?, (?P<parts>.+)", _unfilled),
    # solver/reasons.py: link visits
    (r"(?P<m>\S+) is not an expert of this county", lambda m, l: f"{m['m']}不是本县专家"),
    (r"(?P<m>\S+) has max_sessions 0 and is not rostered this month", lambda m, l: f"{l.expert(m['m'])}本月不排班（每月上限为0）"),
    (r"(?P<t>\S+) is closed on every working day of the month", lambda m, l: f"{l.township(m['t'])}本月所有工作日均停诊"),
    (
        r"(?P<m>\S+) is unavailable \(or their department cannot spare them\) on every working day (?P<t>\S+) is open",
        lambda m, l: f"{l.township(m['t'])}开诊的每个工作日，{l.expert(m['m'])}都不可用（或科室无法抽调）",
    ),
    (
        r"on the (?P<n>\d+) days? (?P<m>\S+) could go \((?P<days>[^)]*)\), fewer than (?P<k>\d+) other experts could serve (?P<t>\S+)'s demand",
        lambda m, l: f"{l.expert(m['m'])}可以前往的{m['n']}天（{m['days']}日）里，能为{l.township(m['t'])}服务的其他专家都不足{m['k']}位",
    ),
    (
        r"a team of (?P<k>\d+) for (?P<m>\S+) at (?P<t>\S+) could not be fitted around the rest of the roster \(rooms, limits and other visits\)",
        lambda m, l: f"无法在其余安排之外为{l.expert(m['m'])}在{l.township(m['t'])}凑齐{m['k']}人的专家团队（诊室、上限或其他挂点冲突）",
    ),
    # scheduler/flows.py: extra-session requests
    (r"the township's demand of this kind is already over-filled", lambda m, l: "该卫生院此类需求已排满"),
    (
        r"no expert can serve (?P<type>\S+) (?P<code>\S+) at (?P<t>\S+) this month \(specialty, title, ward or availability\)",
        lambda m, l: f"本月没有专家能在{l.township(m['t'])}承担{l.specialty(m['code'])}{i18n.session_type_name(m['type'])}（专科、职称、病房或时间不符）",
    ),
    (
        r"no (?P<code>\S+) expert is free for a (?P<type>\S+) session at (?P<t>\S+) within (?P<first>[\d-]+)\.\.(?P<last>[\d-]+) without moving other sessions \((?P<k>\d+) of (?P<n>\d+) could be placed\)",
        lambda m, l: (
            f"{m['first']}至{m['last']}期间，没有空闲的{l.specialty(m['code'])}专家能在{l.township(m['t'])}"
            f"承担{i18n.session_type_name(m['type'])}而不调动其他安排（{m['n']}次中可安排{m['k']}次）"
        ),
    ),
    (r"the roster for (?P<month>\d{4}-\d{2}) has not been generated yet; the office will place the request", lambda m, l: f"{m['month']}的排班尚未生成，医务科将统一安排"),
    (r"the request can be placed; it waits for the office's approval \(auto-approve is off\)", lambda m, l: "可以安排，等待医务科审批"),
]
_COMPILED = [(re.compile(pattern), reword) for pattern, reword in REASONS]


def reason_text(reason: str, labels: CommunityLabels, lang: str = i18n.DEFAULT_LANG) -> str:
    """A reason in the page language: reworded in Chinese when its shape is known, else as written."""
    if i18n.parse_lang(lang) != "zh-CN" or not reason:
        return reason
    for pattern, reword in _COMPILED:
        found = pattern.fullmatch(reason.strip())
        if found:
            return reword(found, labels)
    return reason
