"""Reasons (a code and parameters, solver/solution.py `Reason`) in words: one table of templates per language.

Every surface that shows why demand went unmet, a link visit was not made, a request waits or the hard rules
clash (the API, pages, .xlsx, notices, the CLI, the roster file's `reason` sentence) renders it here, in the
reader's language, with the community's names for townships, experts and specialties in Chinese. English keeps
the ids (as the `rota.roster/1` example does), so a file reads the same without the community's labels.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from scheduler import i18n
from scheduler.errors import Conflict
from scheduler.labels import CommunityLabels
from solver.solution import Reason, ReasonCode

SHOWN_NAMES = 4  # names listed before "and N more"

# One template per code and language; fields are the reason's parameters as words (see `_fields`):
# a list parameter X also gives X_n (its length), an int parameter X gives X_s ("" or "s", English plurals).
TEMPLATES: dict[str, dict[str, str]] = {
    "en": {
        ReasonCode.NO_INPATIENT_WARD: "{township} has no inpatient ward, so no ward round can be held there",
        ReasonCode.NO_OPEN_HALF_DAY: "{township} has no open working half-day this month for {what} sessions",
        ReasonCode.NO_SPECIALIST: "no expert holds the specialty {specialty}",
        ReasonCode.TITLE_TOO_LOW: "teaching needs the title {title} or above, and none of the {holders} expert{holders_s} holding {specialty} has it",
        ReasonCode.NOT_ROSTERED: "every eligible expert for {specialty} ({experts}) has max_sessions 0",
        ReasonCode.ALL_AT_MONTHLY_LIMIT: "{sessions} {what} session{sessions_s} at {township} unfilled: every eligible expert is at their monthly limit ({experts})",
        ReasonCode.ALL_UNAVAILABLE: "{sessions} {what} session{sessions_s} at {township} unfilled: every eligible expert is unavailable on every open day ({experts}: {why})",
        ReasonCode.DEPARTMENT_MINIMUM: "{sessions} {what} session{sessions_s} at {township} unfilled: every eligible expert is needed at the hospital by the minimum on site of {departments} ({experts})",
        ReasonCode.HALF_DAYS_TAKEN: "{sessions} {what} session{sessions_s} at {township} unfilled: every eligible expert's free half-days are taken by other sessions, full rooms at {township}, or their department's minimum ({experts})",
        ReasonCode.MIXED_SHORTFALL: "{sessions} {what} session{sessions_s} at {township} unfilled: of {eligible} eligible expert{eligible_s}, {parts}",
        ReasonCode.NO_FREE_HALF_DAY: "all {eligible} eligible {specialty} expert{eligible_s} are at their monthly limit, away, or needed on site in the half-days left",
        ReasonCode.NOT_AN_EXPERT: "{member} is not an expert of this county",
        ReasonCode.MEMBER_NOT_ROSTERED: "{member} has max_sessions 0 and is not rostered this month",
        ReasonCode.TOWNSHIP_CLOSED_ALL_MONTH: "{township} is closed on every working day of the month",
        ReasonCode.MEMBER_UNAVAILABLE: "{member} is unavailable (or their department cannot spare them) on every working day {township} is open",
        ReasonCode.MEMBER_AT_MONTHLY_LIMIT: "{member} has used all {limit} session{limit_s} of the month",
        ReasonCode.TEAM_TOO_SMALL: "on the {days_n} day{days_s} {member} could go ({days}), fewer than {team_min} other experts could serve {township}'s demand",
        ReasonCode.TEAM_NOT_FITTED: "a team of {team_min} for {member} at {township} could not be fitted around the rest of the roster (rooms, limits and other visits)",
        ReasonCode.RULES_CLASH: "the hard rules clash: {rules}{kept}",
        ReasonCode.CLASH_NOT_SHOWN: "the hard rules could not be shown to clash within the time limit",
        ReasonCode.DEMAND_OVERFILLED: "the township's demand of this kind is already over-filled",
        ReasonCode.NO_ELIGIBLE_EXPERT: "no expert can serve {type} {specialty} at {township} this month (specialty, title, ward or availability)",
        ReasonCode.NO_FREE_EXPERT: "no {specialty} expert is free for a {type} session at {township} within {first_day}..{last_day} without moving other sessions ({placed} of {sessions} could be placed)",
        ReasonCode.ROSTER_NOT_GENERATED: "the roster for {month} has not been generated yet; the office will place the request",
        ReasonCode.REQUEST_AWAITS_APPROVAL: "the request can be placed; it waits for the office's approval (auto-approve is off)",
        ReasonCode.UNKNOWN_EXPERT: "{at}: there is no expert {expert}",
        ReasonCode.UNKNOWN_TOWNSHIP: "{at}: there is no township {township}",
        ReasonCode.NOT_A_WORKING_HALF_DAY: "{at}: {date} {half_day} is not a working half-day",
        ReasonCode.EXPERT_UNAVAILABLE: "{at}: {expert} is unavailable ({why})",
        ReasonCode.TOWNSHIP_CLOSED: "{at}: {township} is closed that day",
        ReasonCode.NO_WARD_FOR_THE_ROUND: "{at}: a ward round needs an inpatient ward, and {township} has none",
        ReasonCode.WARD_ROUND_HALF_DAY: "{at}: ward rounds are held only in these half-days: {half_days}",
        ReasonCode.LACKS_THE_SPECIALTY: "{at}: {expert} does not hold the specialty {specialty}",
        ReasonCode.TITLE_BELOW_TEACHING: "{at}: teaching needs the title {title} or above ({expert} is {expert_title})",
        ReasonCode.EXPERT_NOT_ROSTERED: "{at}: {expert} is not rostered (max_sessions 0)",
        ReasonCode.SUPERVISION_NOT_A_VISIT: "{at}: a supervision session is only a link member's visit to a linked township",
        ReasonCode.DEPARTMENT_CANNOT_SPARE: "{at}: {department} cannot spare anyone that half-day",
        ReasonCode.SESSION_NEEDS_SPECIALTY: "{at}: a {type} session needs a specialty",
        ReasonCode.NOT_DEMANDED: "{at}: {township} asked for no {what} sessions",
        ReasonCode.BOOKED_TWICE: "{at} appears twice",
        ReasonCode.PIN_LOST: "a pinned session would move ({at}): unpin it first",
        ReasonCode.EDIT_BREAKS_RULE: "the edited roster breaks the rule '{rule}'",
        ReasonCode.LINK_VISITS_LOST: "the edit leaves {visits} more link visit{visits_s} unmade (a member or the team minimum is missing)",
        ReasonCode.SWAP_SESSIONS_CHANGED: "the sessions changed since the swap was proposed (a re-plan or an edit moved them)",
        ReasonCode.SWAP_DECLINED_BY_COLLEAGUE: "declined by {expert}",
        ReasonCode.SWAP_REJECTED_BY_OFFICE: "rejected by the office",
        ReasonCode.BREAKS_RULES: "the change would break hard rules: {rules}",
        ReasonCode.FORCE_NO_ROSTER: "the roster for {month} has not been generated yet: generate it, then force the request",
        ReasonCode.FORCE_DAY_PAST: "{first_day} is not after today ({today}): a past day cannot be changed",
        ReasonCode.FORCE_NO_CANDIDATE: "no roster can hold the request at {township} on {days} of {month}: no {specialty} expert can serve a {type} session there then (specialty, title, ward, working day, closure or leave)",
        ReasonCode.FORCE_CANNOT_PLACE: "the request cannot be placed at {township} on {days} of {month} within every rule, even by moving others ({placed} of {sessions} placed: rooms, experts' limits, one township a day, department staffing or pins)",
        # the session a rule break is about ({at}), and a refused edit with its breaks
        "at": "{expert} at {township} on {date} {half_day} ({what})",
        "rule_break": "{rule}: {reason}",
        "rule_breaks": "the edit breaks a hard rule: {breaks}",
        # clauses of MIXED_SHORTFALL, joined by `part_separator`
        "part_at_limit": "{at_limit_n} at their monthly limit ({at_limit})",
        "part_unavailable": "{unavailable_n} unavailable on every open day ({unavailable}: {why})",
        "part_kept_home": "{kept_home_n} needed at the hospital by their department's minimum on site ({kept_home})",
        "part_busy": "{busy_n} with free half-days taken by other sessions, full rooms at {township}, or their department's minimum ({busy})",
        "part_separator": "; ",
        "list_separator": ", ",
        "more": "{shown} and {more} more",
        "no_why": "leave",
        "no_rule": "(no single rule named)",
        "kept": "; {fixed} fixed assignments are kept as given",
    },
    "zh-CN": {
        ReasonCode.NO_INPATIENT_WARD: "{township}没有住院病房，无法安排业务查房",
        ReasonCode.NO_OPEN_HALF_DAY: "{township}本月没有可安排{what}的工作半天",
        ReasonCode.NO_SPECIALIST: "没有专家具备{specialty}专科",
        ReasonCode.TITLE_TOO_LOW: "带教需要{title}及以上职称，具备{specialty}专科的{holders}位专家都不符合",
        ReasonCode.NOT_ROSTERED: "{specialty}的{experts_n}位符合条件的专家（{experts}）本月均不排班（每月上限为0）",
        ReasonCode.ALL_AT_MONTHLY_LIMIT: "{township}{what}缺{sessions}次：{experts_n}位符合条件的专家均已达每月上限（{experts}）",
        ReasonCode.ALL_UNAVAILABLE: "{township}{what}缺{sessions}次：{experts_n}位符合条件的专家在所有可排日期均不可用（{experts}：{why}）",
        ReasonCode.DEPARTMENT_MINIMUM: "{township}{what}缺{sessions}次：{experts_n}位符合条件的专家均须留院，保证{departments}最低在岗人数（{experts}）",
        ReasonCode.HALF_DAYS_TAKEN: "{township}{what}缺{sessions}次：{experts_n}位符合条件的专家的空闲半天已被其他安排占用、{township}诊室已满或受科室最低在岗限制（{experts}）",
        ReasonCode.MIXED_SHORTFALL: "{township}{what}缺{sessions}次：{eligible}位符合条件的专家中，{parts}",
        ReasonCode.NO_FREE_HALF_DAY: "{eligible}位符合条件的{specialty}专家在剩余半天均已达每月上限、外出或须留院",
        ReasonCode.NOT_AN_EXPERT: "{member}不是本县专家",
        ReasonCode.MEMBER_NOT_ROSTERED: "{member}本月不排班（每月上限为0）",
        ReasonCode.TOWNSHIP_CLOSED_ALL_MONTH: "{township}本月所有工作日均停诊",
        ReasonCode.MEMBER_UNAVAILABLE: "{township}开诊的每个工作日，{member}都不可用（或科室无法抽调）",
        ReasonCode.MEMBER_AT_MONTHLY_LIMIT: "{member}本月{limit}次排班已用完",
        ReasonCode.TEAM_TOO_SMALL: "{member}可以前往的{days_n}天（{days}日）里，能为{township}服务的其他专家都不足{team_min}位",
        ReasonCode.TEAM_NOT_FITTED: "无法在其余安排之外为{member}在{township}凑齐{team_min}人的专家团队（诊室、上限或其他挂点冲突）",
        ReasonCode.RULES_CLASH: "硬性规则相互冲突：{rules}{kept}",
        ReasonCode.CLASH_NOT_SHOWN: "在时限内未能确定是哪些硬性规则相互冲突",
        ReasonCode.DEMAND_OVERFILLED: "该卫生院此类需求已排满",
        ReasonCode.NO_ELIGIBLE_EXPERT: "本月没有专家能在{township}承担{specialty}{type}（专科、职称、病房或时间不符）",
        ReasonCode.NO_FREE_EXPERT: "{first_day}至{last_day}期间，没有空闲的{specialty}专家能在{township}承担{type}而不调动其他安排（{sessions}次中可安排{placed}次）",
        ReasonCode.ROSTER_NOT_GENERATED: "{month}的排班尚未生成，医务科将统一安排",
        ReasonCode.REQUEST_AWAITS_APPROVAL: "可以安排，等待医务科审批",
        ReasonCode.UNKNOWN_EXPERT: "{at}：没有专家{expert}",
        ReasonCode.UNKNOWN_TOWNSHIP: "{at}：没有卫生院{township}",
        ReasonCode.NOT_A_WORKING_HALF_DAY: "{at}：{date}{half_day}不是工作时间",
        ReasonCode.EXPERT_UNAVAILABLE: "{at}：{expert}当时不可出诊（{why}）",
        ReasonCode.TOWNSHIP_CLOSED: "{at}：{township}当天停诊",
        ReasonCode.NO_WARD_FOR_THE_ROUND: "{at}：{township}没有住院病房，无法安排业务查房",
        ReasonCode.WARD_ROUND_HALF_DAY: "{at}：业务查房只能安排在{half_days}",
        ReasonCode.LACKS_THE_SPECIALTY: "{at}：{expert}不具备{specialty}专科",
        ReasonCode.TITLE_BELOW_TEACHING: "{at}：带教需要{title}及以上职称（{expert}为{expert_title}）",
        ReasonCode.EXPERT_NOT_ROSTERED: "{at}：{expert}本月不排班（每月上限为0）",
        ReasonCode.SUPERVISION_NOT_A_VISIT: "{at}：挂点督导只能是挂点领导到所挂乡镇的调研",
        ReasonCode.DEPARTMENT_CANNOT_SPARE: "{at}：{department}该半天已无人可抽调（科室最低在岗人数）",
        ReasonCode.SESSION_NEEDS_SPECIALTY: "{at}：{type}需要指定专科",
        ReasonCode.NOT_DEMANDED: "{at}：{township}没有申请{what}",
        ReasonCode.BOOKED_TWICE: "{at}重复安排",
        ReasonCode.PIN_LOST: "锁定的排班会被挪走（{at}）：请先解除锁定",
        ReasonCode.EDIT_BREAKS_RULE: "改动后的排班违反“{rule}”",
        ReasonCode.LINK_VISITS_LOST: "改动后少了{visits}次挂点调研（挂点领导或随行团队人数不足）",
        ReasonCode.SWAP_SESSIONS_CHANGED: "提出换班后，相关排班已有变动（重新排班或人工调整）",
        ReasonCode.SWAP_DECLINED_BY_COLLEAGUE: "{expert}已拒绝",
        ReasonCode.SWAP_REJECTED_BY_OFFICE: "医务科未批准",
        ReasonCode.BREAKS_RULES: "该改动会违反硬性规则：{rules}",
        ReasonCode.FORCE_NO_ROSTER: "{month}的排班尚未生成：请先生成排班，再强制安排",
        ReasonCode.FORCE_DAY_PAST: "{first_day}不晚于今天（{today}）：已过去的日期不能再改",
        ReasonCode.FORCE_NO_CANDIDATE: "{month}{days}日没有任何排班能容纳该申请：当时没有{specialty}专家能在{township}承担{type}（专科、职称、病房、工作日、停诊或请假）",
        ReasonCode.FORCE_CANNOT_PLACE: "即使调动其他安排，也无法在遵守所有规则的前提下于{month}{days}日在{township}安排该申请（{sessions}次中可安排{placed}次：诊室、专家上限、每天一个乡镇、科室在岗人数或锁定）",
        "at": "{date}{half_day}{expert}在{township}的{what}",
        "rule_break": "{rule}：{reason}",
        "rule_breaks": "改动违反硬性规则：{breaks}",
        "part_at_limit": "{at_limit_n}位已达每月上限（{at_limit}）",
        "part_unavailable": "{unavailable_n}位在所有可排日期均不可用（{unavailable}：{why}）",
        "part_kept_home": "{kept_home_n}位须留院保证科室最低在岗人数（{kept_home}）",
        "part_busy": "{busy_n}位的空闲半天已被其他安排占用、{township}诊室已满或受科室最低在岗限制（{busy}）",
        "part_separator": "；",
        "list_separator": "、",
        "more": "{shown}等{total}人",
        "no_why": "请假",
        "no_rule": "（未能指出具体规则）",
        "kept": "；保留{fixed}条已固定的安排",
    },
}

# The hard rules' names in Chinese: the model's (solver/rules/*, `RosterModel.add(rule, ...)`), the eligibility
# rules' (solver.eligibility NAMED_BREAKS) and the edit check's own (scheduler.roster_rules); English shows them as named.
RULE_NAMES_ZH = {
    "demand cap": "需求上限",
    "department minimum on site": "科室最低在岗人数",
    "monthly session limit": "每月排班上限",
    "one place per half-day": "每半天只在一处",
    "township rooms": "卫生院诊室数",
    "one township per day": "每天只去一个乡镇",
    "supervision only on a visit day": "督导只在挂点报到日",
    "link member present on the visit": "挂点领导须到场",
    "link team minimum": "挂点团队最少人数",
    "link visits per month": "每月挂点次数",
    "pinned assignment": "锁定的排班",
    "forced request": "强制加诊",
    "specialty": "专科相符",
    "teaching title": "带教职称",
    "working days only": "只排工作日",
    "expert available": "专家可出诊",
    "township open": "卫生院开诊",
    "ward rounds": "业务查房须有病房且在规定半天",
    "known expert": "专家须存在",
    "known township": "卫生院须存在",
    "hard rules": "硬性规则",
}

SHORT_TYPE_WORDS = {"ward_round": "ward-round"}
_PARTS = ("at_limit", "unavailable", "kept_home", "busy")


def rule_name(rule: str, lang: str = i18n.DEFAULT_LANG) -> str:
    """A hard rule's name in the language (the model names rules in English)."""
    return RULE_NAMES_ZH.get(rule, rule) if i18n.parse_lang(lang) == "zh-CN" else rule


class _Words:
    """How one language writes the parameters of a reason: names (zh) or ids (en), lists, days."""

    def __init__(self, lang: str, labels: CommunityLabels | None) -> None:
        self.lang = lang
        self.zh = lang == "zh-CN"
        self.labels = labels or CommunityLabels(community="")
        self.table = TEMPLATES[lang]

    def listed(self, items: Sequence[str]) -> str:
        separator = self.table["list_separator"]
        shown = separator.join(items[:SHOWN_NAMES])
        if len(items) <= SHOWN_NAMES:
            return shown
        return self.table["more"].format(shown=shown, more=len(items) - SHOWN_NAMES, total=len(items))

    def township(self, code: str) -> str:
        return self.labels.township(code) if self.zh else code

    def expert(self, code: str) -> str:
        return self.labels.expert(code) if self.zh else code

    def specialty(self, code: str) -> str:
        return self.labels.specialty(code) if self.zh else code

    def session_type(self, code: str) -> str:
        return i18n.session_type_name(code, "zh-CN") if self.zh else SHORT_TYPE_WORDS.get(code, code)

    def days(self, days: Sequence[str]) -> str:
        """ISO days as day-of-month runs: `10-14, 20` (zh `10-14、20`)."""
        numbers = sorted({int(day[-2:]) for day in days})
        runs: list[tuple[int, int]] = []
        for number in numbers:
            if runs and number == runs[-1][1] + 1:
                runs[-1] = (runs[-1][0], number)
            else:
                runs.append((number, number))
        return self.table["list_separator"].join(f"{a}" if a == b else f"{a}-{b}" for a, b in runs)


def _fields(reason: Reason, words: _Words) -> dict[str, Any]:
    params = reason.params
    fields: dict[str, Any] = {}
    for name, value in params.items():
        if isinstance(value, tuple):
            fields[f"{name}_n"] = len(value)
            fields[f"{name}_s"] = "" if len(value) == 1 else "s"
        elif isinstance(value, int) and not isinstance(value, bool):
            fields[f"{name}_s"] = "" if value == 1 else "s"
        if name in ("township",):
            fields[name] = words.township(value)
        elif name in ("member", "expert"):
            fields[name] = words.expert(value)
        elif name == "department":
            fields[name] = words.labels.department(value) if words.zh else value
        elif name == "date" and words.zh:
            fields[name] = i18n.date_text(dt.date.fromisoformat(value), "zh-CN")
        elif name == "half_day" and words.zh:
            fields[name] = i18n.half_day_name(value, "zh-CN")
        elif name == "half_days":
            fields[name] = words.table["list_separator"].join(i18n.half_day_name(h, "zh-CN") if words.zh else h for h in value)
        elif name == "rule":
            fields[name] = rule_name(value, words.lang)
        elif name in ("experts", *_PARTS):
            fields[name] = words.listed([words.expert(e) for e in value])
        elif name == "specialty":
            fields[name] = words.specialty(value or "")
        elif name == "type":
            fields[name] = words.session_type(value)
        elif name in ("title", "expert_title"):
            fields[name] = i18n.title_name(value, words.lang)
        elif name in ("first_day", "last_day", "today") and words.zh:
            fields[name] = i18n.date_text(dt.date.fromisoformat(value), "zh-CN")
        elif name == "month" and words.zh:
            fields[name] = f"{value[:4]}年{int(value[5:7])}月"
        elif name == "days":
            fields[name] = words.days(value)
        elif name == "why":
            fields[name] = words.table["list_separator"].join(value) or words.table["no_why"]
        elif name == "departments":
            fields[name] = words.table["list_separator"].join(words.labels.department(d) if words.zh else d for d in value)
        elif name == "rules":
            fields[name] = words.table["list_separator"].join(rule_name(r, words.lang) for r in value) or words.table["no_rule"]
        else:
            fields[name] = value
    if "type" in params:
        specialty = fields.get("specialty", "")
        fields["what"] = f"{specialty}{fields['type']}" if words.zh else " ".join(part for part in (specialty, fields["type"]) if part)
    if "date" in params and "half_day" in params:
        fields["at"] = words.table["at"].format(**fields)
    if reason.code is ReasonCode.MIXED_SHORTFALL:
        fields["parts"] = words.table["part_separator"].join(words.table[f"part_{part}"].format(**fields) for part in _PARTS if params.get(part))
    if reason.code is ReasonCode.RULES_CLASH:
        fields["kept"] = words.table["kept"].format(fixed=params.get("fixed")) if params.get("fixed") else ""
    return fields


def reason_text(reason: Reason | None, lang: str = i18n.DEFAULT_LANG, labels: CommunityLabels | None = None) -> str:
    """A reason as a sentence in the language (`zh-CN` by default); a TEXT reason (a free sentence) is shown as written."""
    if reason is None:
        return ""
    if reason.code is ReasonCode.TEXT:
        return str(reason.params.get("text", ""))
    words = _Words(i18n.parse_lang(lang), labels)
    return words.table[reason.code].format(**_fields(reason, words))


def rule_break_text(rule: str, reason: Reason, lang: str = i18n.DEFAULT_LANG, labels: CommunityLabels | None = None) -> str:
    """One broken hard rule as a line: the rule's name and why (`每月排班上限：……` / `monthly session limit: ...`)."""
    table = TEMPLATES[i18n.parse_lang(lang)]
    return table["rule_break"].format(rule=rule_name(rule, lang), reason=reason_text(reason, lang, labels))


def rule_breaks_text(breaks: Sequence[Any], lang: str = i18n.DEFAULT_LANG, labels: CommunityLabels | None = None) -> str:
    """A refused edit in one sentence: every break (anything with `rule` and `reason`) after the headline."""
    table = TEMPLATES[i18n.parse_lang(lang)]
    lines = table["part_separator"].join(rule_break_text(b.rule, b.reason, lang, labels) for b in breaks)
    return table["rule_breaks"].format(breaks=lines)


def rule_break_fields(rule: str, reason: Reason, lang: str = i18n.DEFAULT_LANG, labels: CommunityLabels | None = None) -> dict[str, Any]:
    """The wire form of one break: the rule (its id and its name in the language) and the reason with its code and parameters."""
    return {"rule": rule, "rule_text": rule_name(rule, lang), "message": reason_text(reason, lang, labels),
            "reason_code": str(reason.code), "reason_params": reason.params_json()}


def reason_fields(reason: Reason | None, lang: str = i18n.DEFAULT_LANG, labels: CommunityLabels | None = None) -> dict[str, Any]:
    """The wire form of a reason: `reason` (the sentence in the language), `reason_code` and `reason_params` (null and {} for free text)."""
    if reason is None or reason.code is ReasonCode.TEXT:
        return {"reason": reason_text(reason, lang, labels), "reason_code": None, "reason_params": {}}
    return {"reason": reason_text(reason, lang, labels), "reason_code": str(reason.code), "reason_params": reason.params_json()}


def reason_from_row(row: Mapping[str, Any], code_key: str = "reason_code", params_key: str = "reason_params", text_key: str = "reason") -> Reason:
    """The reason of a stored or exported row (its code and parameters; else, or when they do not render, its sentence)."""
    sentence = str(row.get(text_key) or "")
    params = row.get(params_key)
    if not isinstance(params, Mapping):
        params = {}
    try:
        reason = Reason.from_json(row.get(code_key), params, sentence)
        hash(reason)
        for lang in i18n.LANGS:
            reason_text(reason, lang)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError):
        return Reason.text(sentence)
    return reason


def english_words() -> set[str]:
    """Every ASCII word of the English templates (for tests that a Chinese surface holds none of them)."""
    import re

    found: set[str] = set()
    for template in TEMPLATES["en"].values():
        found.update(word.lower() for word in re.findall(r"[A-Za-z][A-Za-z'-]+", re.sub(r"\{[^}]*\}", " ", template)))
    return found


def with_reason_text(document: dict[str, Any], lang: str, labels: CommunityLabels | None) -> dict[str, Any]:
    """A `rota.roster/1` document with `reason_text` on each unmet row (and `explanation_text`): the reason in the reader's language.

    `reason` stays the English sentence the format promises; the code and parameters are already on the row.
    """
    for row in document.get("unmet") or []:
        if isinstance(row, dict):
            row["reason_text"] = reason_text(reason_from_row(row), lang, labels)
    solver = document.get("solver")
    if isinstance(solver, dict) and solver.get("explanation_code"):
        solver["explanation_text"] = reason_text(reason_from_row(solver, "explanation_code", "explanation_params", "explanation"), lang, labels)
    return document


class Refused(Conflict):
    """A change the current state does not allow, whose why is a reason (a code and parameters) each surface renders.

    `str()` is the English sentence (logs); the API, the pages and the rows that keep it use `reason`."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason_text(reason, "en"))
        self.reason = reason
