"""User-facing words in zh-CN (the default) and English: session types, half-days, weekdays, titles, labels.

Every module that shows text to a person (calendar feeds, Excel, pages, notices) takes its words from here,
so a term is translated once and reads the same everywhere.
"""

from __future__ import annotations

import datetime as dt

DEFAULT_LANG = "zh-CN"
LANGS = ("zh-CN", "en")

# Accepted spellings of a language (Accept-Language style, any case) and the language they mean.
_LANG_ALIASES = {
    "zh": "zh-CN",
    "zh-cn": "zh-CN",
    "zh-hans": "zh-CN",
    "zh-hans-cn": "zh-CN",
    "zh_cn": "zh-CN",
    "en": "en",
    "en-us": "en",
    "en-gb": "en",
    "en_us": "en",
    "en_gb": "en",
}

SESSION_TYPE_NAMES = {
    "zh-CN": {"clinic": "坐诊", "teaching": "带教", "ward_round": "业务查房", "supervision": "挂点督导"},
    "en": {"clinic": "clinic", "teaching": "teaching", "ward_round": "ward round", "supervision": "link supervision"},
}

HALF_DAY_NAMES = {
    "zh-CN": {"am": "上午", "pm": "下午"},
    "en": {"am": "morning", "pm": "afternoon"},
}

WEEKDAY_NAMES = {
    "zh-CN": ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}

WEEKDAY_SHORT_NAMES = {
    "zh-CN": ("一", "二", "三", "四", "五", "六", "日"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}

TITLE_NAMES = {
    "zh-CN": {"chief": "主任医师", "associate_chief": "副主任医师", "attending": "主治医师"},
    "en": {"chief": "chief physician", "associate_chief": "associate chief physician", "attending": "attending physician"},
}

# Sentences and labels with {named} fields, filled by `text(key, lang, **fields)`.
MESSAGES: dict[str, dict[str, str]] = {
    "zh-CN": {
        "link_visit_mark": "挂点",
        "summary": "{township} · {specialty} {session_type}",
        "summary_supervision": "{township} · {session_type}",
        "summary_link_visit": "{summary}（{mark}）",
        "summary_with_expert": "{summary} · {expert}",
        "summary_cancelled": "已取消：{summary}",
        "when": "{date}（{weekday}）{half_day} {start}–{end}",
        "date": "{year}年{month}月{day}日",
        "link_visit_note": "本次为挂点报到，带领专家团队下沉。",
        "companions_intro": "当天同去{township}：",
        "companion": "{expert}（{what}，{half_day}）",
        "companion_separator": "、",
        "alone": "当天仅您一人前往{township}。",
        "shared_car": "同车前往，单程约{minutes}分钟。",
        "own_car": "单程约{minutes}分钟。",
        "cancelled_note": "此安排已取消。",
        "alarm": "明天：{summary}",
        "alarm_minutes": "{minutes}分钟后：{summary}",
        "calendar_expert": "{expert} · 专家下沉排班",
        "calendar_township": "{township} · 专家下沉排班",
        "calendar_department": "{department} · 专家下沉排班",
        "calendar_community": "{community} · 专家下沉排班",
        "calendar_description": "{community}专家下沉排班（已发布版本）",
        # Excel workbook
        "sheet_roster": "排班表",
        "sheet_unmet": "未满足需求",
        "workbook_title": "{community} {year}年{month}月 专家下沉排班（第{version}版，{status}）",
        "status_draft": "草稿",
        "status_published": "已发布",
        "header_township": "乡镇卫生院",
        "header_type": "类型",
        "header_specialty": "专科",
        "header_member": "挂点党委成员",
        "header_sessions": "缺口（次）",
        "header_reason": "原因",
        "day_header": "{month}月{day}日\n{weekday}",
        "holiday_closed": "停诊",
        "legend": "★ 挂点报到；灰色：周末/节假日/停诊，不排班",
        "no_unmet": "所有需求均已排满。",
    },
    "en": {
        "link_visit_mark": "link visit",
        "summary": "{township} · {specialty} {session_type}",
        "summary_supervision": "{township} · {session_type}",
        "summary_link_visit": "{summary} ({mark})",
        "summary_with_expert": "{summary} · {expert}",
        "summary_cancelled": "Cancelled: {summary}",
        "when": "{weekday} {date}, {half_day} {start}–{end}",
        "date": "{year}-{month:02d}-{day:02d}",
        "link_visit_note": "This is the party-committee link visit: you lead the expert team.",
        "companions_intro": "Also at {township} that day: ",
        "companion": "{expert} ({what}, {half_day})",
        "companion_separator": "; ",
        "alone": "Nobody else goes to {township} that day.",
        "shared_car": "You share the car; about {minutes} minutes each way.",
        "own_car": "About {minutes} minutes each way.",
        "cancelled_note": "This session has been cancelled.",
        "alarm": "Tomorrow: {summary}",
        "alarm_minutes": "In {minutes} minutes: {summary}",
        "calendar_expert": "{expert} · township rota",
        "calendar_township": "{township} · township rota",
        "calendar_department": "{department} · township rota",
        "calendar_community": "{community} · township rota",
        "calendar_description": "{community} specialist rota to the townships (published versions)",
        "sheet_roster": "Roster",
        "sheet_unmet": "Unmet demand",
        "workbook_title": "{community} {year}-{month:02d} township rota (version {version}, {status})",
        "status_draft": "draft",
        "status_published": "published",
        "header_township": "Township",
        "header_type": "Type",
        "header_specialty": "Specialty",
        "header_member": "Link member",
        "header_sessions": "Sessions short",
        "header_reason": "Reason",
        "day_header": "{month}/{day}\n{weekday}",
        "holiday_closed": "closed",
        "legend": "★ link visit; grey: weekend, holiday or closed day, no sessions",
        "no_unmet": "All demand is met.",
    },
}


def parse_lang(value: str | None) -> str:
    """The supported language a caller asked for (`zh`, `zh-CN`, `en`, `en-US`, ...), or ValueError naming the choices."""
    if value is None or value == "":
        return DEFAULT_LANG
    found = _LANG_ALIASES.get(value.strip().lower())
    if found is None:
        raise ValueError(f"unsupported language '{value}' (use one of: {', '.join(LANGS)})")
    return found


def _table(tables: dict[str, dict], lang: str) -> dict:
    return tables[parse_lang(lang)]


def session_type_name(session_type: str, lang: str = DEFAULT_LANG) -> str:
    """The display name of a session type (clinic -> 坐诊), or the code itself if it is not known."""
    return _table(SESSION_TYPE_NAMES, lang).get(session_type, session_type)


def half_day_name(half_day: str, lang: str = DEFAULT_LANG) -> str:
    """The display name of a half-day (am -> 上午)."""
    return _table(HALF_DAY_NAMES, lang).get(half_day, half_day)


def weekday_name(day: dt.date, lang: str = DEFAULT_LANG) -> str:
    """The full weekday name of a date (星期二 / Tuesday)."""
    return _table(WEEKDAY_NAMES, lang)[day.weekday()]


def weekday_short_name(day: dt.date, lang: str = DEFAULT_LANG) -> str:
    """The short weekday name of a date (二 / Tue), for table headers."""
    return _table(WEEKDAY_SHORT_NAMES, lang)[day.weekday()]


def title_name(title: str, lang: str = DEFAULT_LANG) -> str:
    """The display name of an expert's professional title (chief -> 主任医师)."""
    return _table(TITLE_NAMES, lang).get(title, title)


def date_text(day: dt.date, lang: str = DEFAULT_LANG) -> str:
    """A date as people write it in the language (2027年1月5日 / 2027-01-05)."""
    return text("date", lang, year=day.year, month=day.month, day=day.day)


def with_article(noun: str) -> str:
    """An English noun with its indefinite article (`an expert event`, `a township`), for the service's English messages."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def text(key: str, lang: str = DEFAULT_LANG, **fields: object) -> str:
    """The message `key` in the language with its {fields} filled in; KeyError for a key nobody defined."""
    return _table(MESSAGES, lang)[key].format(**fields)
