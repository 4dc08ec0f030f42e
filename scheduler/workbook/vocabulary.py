"""The words of the workbook's cells: how a cell is read into a scenario value and written back, in zh-CN or en.

A reader accepts every spelling the office is likely to type (Chinese words, the scenario's codes, English
names; Excel's own numbers, dates, times and TRUE/FALSE); a writer writes one spelling per language, so an
exported workbook reads back to the same scenario and exports to the same cells again.

Each reader returns the scenario value or raises `CellProblem` with a message in the caller's language.
Whether a value is allowed (a range, a known code, a real date in range) is the scenario validator's
business, not this module's: here only "what did the cell say".
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from scheduler import i18n
from scheduler.scenario.messages import quoted
from scheduler.scenario.schema import SESSION_TYPES, TITLES, WEEKDAYS

LIST_SEPARATORS = "、,，;；\n"  # one cell holding several items: 心血管内科、普通内科 / mon, thu
_SPLIT = re.compile(f"[{re.escape(LIST_SEPARATORS)}]")
_WRITTEN_SEPARATOR = {"zh-CN": "、", "en": ", "}
# Outer blanks Excel users leave behind: spaces, no-break spaces, the ideographic space. Invisible characters
# inside a value (a zero-width space) are kept, so the validator can refuse them where they matter (ids).
_BLANKS = " \t\r\n\u00a0\u3000"
_CLOCK = re.compile(r"^([0-9]{1,2}):([0-9]{2})(?::00)?$")
_DATE_FORMS = (
    re.compile(r"^(?P<y>[0-9]{4})-(?P<m>[0-9]{1,2})-(?P<d>[0-9]{1,2})$"),
    re.compile(r"^(?P<y>[0-9]{4})/(?P<m>[0-9]{1,2})/(?P<d>[0-9]{1,2})$"),
    re.compile(r"^(?P<y>[0-9]{4})\.(?P<m>[0-9]{1,2})\.(?P<d>[0-9]{1,2})$"),
    re.compile(r"^(?P<y>[0-9]{4})年(?P<m>[0-9]{1,2})月(?P<d>[0-9]{1,2})日$"),
)


class CellProblem(Exception):
    """A cell that does not say a value of its column's kind; `message` is in the reader's language."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _quoted(value: Any, lang: str) -> str:
    """A cell's text inside a message, as the scenario's messages quote values (“…” / '...'), at most 40 characters."""
    text = str(value)
    return quoted(text if len(text) <= 40 else text[:37] + "...", lang)


def _say(lang: str, zh: str, en: str, **fields: Any) -> str:
    return (zh if lang == "zh-CN" else en).format(**fields)


def blank(value: Any) -> bool:
    """True for a cell that says nothing: empty, or only spaces."""
    return value is None or (isinstance(value, str) and not value.strip(_BLANKS))


def _text_of(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 1001.0 from a number cell is the id 1001
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value).strip(_BLANKS)


# ---- kinds of cell -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Words:
    """A closed set of codes with the words that mean each one, and the word written per language."""

    name_zh: str  # what the words are, for messages: 职称
    name_en: str
    written: dict[str, dict[str, str]]  # lang -> code -> the word written
    also: dict[str, str]  # more accepted spellings (lower case) -> code

    def __post_init__(self) -> None:
        table = {code.lower(): code for code in self.written["en"]}
        for words in self.written.values():
            table.update({word.lower(): code for code, word in words.items()})
        table.update(self.also)
        object.__setattr__(self, "_lookup", table)  # every accepted spelling (lower case) -> code, built once

    def read(self, value: Any, lang: str) -> str:
        word = _text_of(value)
        code = self._lookup.get(word.lower())  # type: ignore[attr-defined]
        if code is None:
            choices = "、".join(self.written["zh-CN"].values()) if lang == "zh-CN" else ", ".join(self.written["en"].values())
            raise CellProblem(_say(lang, "未知{what}{word}（可填：{choices}）", "unknown {what} {word} (use one of: {choices})",
                                   what=self.name_zh if lang == "zh-CN" else self.name_en, word=_quoted(word, lang), choices=choices))
        return code

    def write(self, code: str, lang: str) -> str:
        return self.written[lang].get(code, code)


def _by_lang(table: dict[str, dict[str, str]], codes: tuple[str, ...]) -> dict[str, dict[str, str]]:
    return {lang: {code: table[lang][code] for code in codes} for lang in i18n.LANGS}


TITLE_WORDS = Words("职称", "title", _by_lang(i18n.TITLE_NAMES, tuple(reversed(TITLES))),
                    {"associate chief": "associate_chief", "associate chief physician": "associate_chief"})
SESSION_TYPE_WORDS = Words(
    "类型", "session type",
    _by_lang(i18n.SESSION_TYPE_NAMES, (*SESSION_TYPES, "supervision")),  # supervision is read so the validator can say it is never demanded
    {"查房": "ward_round", "门诊": "clinic", "专家门诊": "clinic", "ward round": "ward_round", "督导": "supervision"},
)
HALF_DAY_WORDS = Words("半天", "half-day", {"zh-CN": dict(i18n.HALF_DAY_NAMES["zh-CN"]), "en": {"am": "am", "pm": "pm"}},
                       {"morning": "am", "afternoon": "pm", "上": "am", "下": "pm"})
_WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
WEEKDAY_WORDS = Words(
    "星期", "weekday",
    {"zh-CN": dict(zip(WEEKDAYS, _WEEKDAYS_ZH)), "en": {code: code for code in WEEKDAYS}},
    {
        **{name.lower(): code for code, name in zip(WEEKDAYS, i18n.WEEKDAY_NAMES["zh-CN"])},  # 星期一
        **{name.lower(): code for code, name in zip(WEEKDAYS, i18n.WEEKDAY_NAMES["en"])},  # Monday
        "周天": "sun", "星期天": "sun", "礼拜天": "sun", "礼拜日": "sun",
        **{f"礼拜{short}": code for code, short in zip(WEEKDAYS[:6], "一二三四五六")},
    },
)
BOOLEAN_WORDS = Words("取值", "yes/no value", {"zh-CN": {"true": "是", "false": "否"}, "en": {"true": "yes", "false": "no"}},
                      {"有": "true", "无": "false", "没有": "false", "y": "true", "n": "false", "1": "true", "0": "false",
                       "√": "true", "×": "false", "✓": "true"})
HOLIDAY_WORDS = Words("节假日安排", "holiday calendar",
                      {"zh-CN": {"CN": "中国法定节假日", "none": "仅周末"}, "en": {"CN": "China statutory holidays", "none": "weekends only"}},
                      {"cn": "CN", "中国": "CN", "法定节假日": "CN", "无": "none", "周末": "none"})
CALENDAR_DAY_WORDS = Words("日期类型", "kind of day",
                           {"zh-CN": {"closed": "停诊", "extra_workday": "调休上班"}, "en": {"closed": "closed", "extra_workday": "extra workday"}},
                           {"调休": "extra_workday", "补班": "extra_workday", "上班": "extra_workday", "休息": "closed", "停止": "closed",
                            "extra_workdays": "extra_workday"})


def read_text(value: Any, lang: str) -> str:
    """A cell as text: numbers without a trailing .0, dates as ISO, outer blanks removed."""
    return _text_of(value)


def read_whole(value: Any, lang: str) -> int:
    """A whole number: an integer cell, a number cell like 4.0, or digits in a text cell (full-width too)."""
    if isinstance(value, bool):
        raise CellProblem(_say(lang, "必须是整数（现为{got}）", "must be a whole number (got {got})", got=_quoted(_text_of(value), lang)))
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = _text_of(value)
    if re.fullmatch(r"[+-]?\d{1,12}", text):
        return int(text)
    raise CellProblem(_say(lang, "必须是整数（现为{got}）", "must be a whole number (got {got})", got=_quoted(text, lang)))


def read_date(value: Any, lang: str) -> str:
    """A date as ISO text: a date cell, or text 2027-01-29, 2027/1/29, 2027.1.29, 2027年1月29日."""
    if isinstance(value, dt.datetime):
        if value.time() != dt.time():
            raise CellProblem(_say(lang, "必须是日期，不能带时间（现为{got}）", "must be a date, not a date and time (got {got})", got=_quoted(_text_of(value), lang)))
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = _text_of(value)
    for form in _DATE_FORMS:
        found = form.match(text)
        if found:
            try:
                return dt.date(int(found["y"]), int(found["m"]), int(found["d"])).isoformat()
            except ValueError:
                raise CellProblem(_say(lang, "{got}不是真实存在的日期", "{got} is not a real date", got=_quoted(text, lang))) from None
    raise CellProblem(_say(lang, "必须是日期，如 2027-01-29（现为{got}）", "must be a date such as 2027-01-29 (got {got})", got=_quoted(text, lang)))


def read_clock(value: Any, lang: str) -> str:
    """A time of day as HH:MM: a time cell, or text 8:30 / 08:30."""
    if isinstance(value, dt.datetime):
        value = value.time()
    if isinstance(value, dt.time):
        if value.second or value.microsecond:
            raise CellProblem(_say(lang, "时间只到分钟（现为{got}）", "a time has no seconds (got {got})", got=_quoted(value.isoformat(), lang)))
        return f"{value.hour:02d}:{value.minute:02d}"
    text = _text_of(value).replace("：", ":")
    found = _CLOCK.match(text)
    if not found:
        raise CellProblem(_say(lang, "必须是时间 时:分，如 08:30（现为{got}）", "must be a time HH:MM such as 08:30 (got {got})", got=_quoted(text, lang)))
    return f"{int(found[1]):02d}:{found[2]}"


def read_items(value: Any) -> list[str]:
    """The items of a list cell, split at any of LIST_SEPARATORS; empty items dropped."""
    if value is None:
        return []
    return [item.strip(_BLANKS) for item in _SPLIT.split(_text_of(value)) if item.strip(_BLANKS)]


def join_items(items: list[str], lang: str) -> str:
    """Items written into one cell, with the language's separator."""
    return _WRITTEN_SEPARATOR[lang].join(items)


def read_boolean(value: Any, lang: str) -> bool:
    """Yes or no: an Excel TRUE/FALSE cell, 是/否, 有/无, yes/no, 1/0."""
    if isinstance(value, bool):
        return value
    return BOOLEAN_WORDS.read(value, lang) == "true"
