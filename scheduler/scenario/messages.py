"""Every problem the scenario validator finds in a document, as a code with parameters, in English and Chinese.

The validator reports a `CodedFieldError`: a `FieldError` whose `message` is the English text (what the CLI
and the API have always shown) and which also carries the code and the parameters, so another surface can say
the same thing in zh-CN (the workbook import: `专家!E5（专科）：未知专科“cardo”`). Parameters named `*_path`
are document paths, which such a surface may render as its own locations (a sheet's cell).

Problems of a file as a whole (its size, encoding, YAML syntax, alias budget) are plain FieldErrors in English:
they concern the file, which a workbook never is.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from pydantic_core import PydanticCustomError

from scheduler.errors import FieldError
from scheduler.i18n import with_article
from scheduler.scenario.shown import shown

LANGS = ("en", "zh-CN")

# code -> (English, Chinese). The English texts are the validator's messages as the CLI prints them.
CATALOGUE: dict[str, tuple[str, str]] = {
    # structure (pydantic's own checks)
    "missing": ("required field is missing", "必须填写"),
    "unknown_field": ("unknown field", "未知字段"),
    "one_of": ("must be one of {expected} (got {got})", "必须是{expected}之一（现为{got}）"),
    "whole_number": ("must be a whole number (got {got})", "必须是整数（现为{got}）"),
    "text": ("must be a text string (got {got})", "必须是文字（现为{got}）"),
    "true_or_false": ("must be true or false (got {got})", "必须是“是”或“否”（现为{got}）"),
    "list": ("must be a list (got {got})", "必须是列表（现为{got}）"),
    "mapping": ("must be a mapping of fields (got {got})", "必须是若干字段（现为{got}）"),
    "at_least": ("must be at least {ge} (got {got})", "不能小于{ge}（现为{got}）"),
    "at_most": ("must be at most {le} (got {got})", "不能大于{le}（现为{got}）"),
    "not_empty": ("must not be empty", "不能为空"),
    "invalid": ("{detail} (got {got})", "格式不正确（现为{got}）"),
    # the document as a whole
    "empty": ("{source} is empty", "{source}为空"),
    "not_a_mapping": ("{source} must be a mapping at the top level (got {kind})", "{source}的顶层必须是若干字段（现为{kind}）"),
    "unsupported_format": ("unsupported format {got}: expected 'rota.scenario/1'", "不支持的格式{got}：应为“rota.scenario/1”"),
    "duplicate_key_lines": ("duplicate key {got} (lines {first} and {second}): a key may appear once in a mapping",
                            "键{got}重复（第{first}行和第{second}行）：同一处每个键只能出现一次"),
    "duplicate_key": ("duplicate key {got} (given twice): a key may appear once in a mapping", "键{got}重复：同一处每个键只能出现一次"),
    # field types (fields.py, schema.py)
    "id_too_long": ("must be at most {max} characters (got {length})", "不能超过{max}个字符（现为{length}个）"),
    "id_character": ("must hold only letters, digits, '-' and '_' (found {character} at character {position})",
                     "只能包含字母、数字、“-”和“_”（第{position}个字符是{character}）"),
    "id_start": ("must start with a letter or a digit (got {got})", "必须以字母或数字开头（现为{got}）"),
    "id_compatibility": ("must not use full-width or other compatibility characters (write {fixed}, not {got})",
                         "不能使用全角等兼容字符（应写作{fixed}，而不是{got}）"),
    "date_range": ("must be a date from {first} to {last} (got {got})", "日期必须在{first}至{last}之间（现为{got}）"),
    "month_range": ("month must be YYYY-MM from {first} to {last} (got {got})", "月份必须是年-月，在{first}至{last}之间（现为{got}）"),
    "date_and_time": ("must be a date YYYY-MM-DD, not a date and time ({got})", "必须是日期（年-月-日），不能带时间（现为{got}）"),
    "date_not_real": ("{got} is not a real date", "{got}不是真实存在的日期"),
    "date_format": ("must be a date YYYY-MM-DD (got {got})", "必须是日期（年-月-日）（现为{got}）"),
    "clock": ("must be a time HH:MM in quotes (got {got})", "必须是时间 时:分，如 08:30（现为{got}）"),
    "nul": ("must not contain a NUL character", "不能包含 NUL 字符"),
    "time_zone": ("unknown IANA time zone {got}", "未知的 IANA 时区{got}"),
    "closed_and_worked": ("{day} is both closed ({closed_path}) and an extra workday ({extra_path}): a date is either closed or worked",
                          "{day}既是停诊日（{closed_path}）又是调休上班日（{extra_path}）：一天只能是其中之一"),
    "year_range": ("the year must be from {first} to {last} (got {got})", "年份必须在{first}至{last}之间（现为{got}）"),
    "date_not_in_year": ("{day} is not in {year}", "{day}不在{year}年内"),
    "off_and_worked": ("{day} is both a day off ({off_path}) and a make-up working day", "{day}既是放假日（{off_path}）又是调休上班日"),
    "start_after_end": ("start {start} must be before end {end}", "开始时间{start}必须早于结束时间{end}"),
    "morning_after_afternoon": ("the morning must end ({am_end}) before the afternoon starts ({pm_start})",
                                "上午结束（{am_end}）不能晚于下午开始（{pm_start}）"),
    "range_and_date": ("give either from/to (a range) or date (one day), not both", "请填写日期范围或单日，不能两者都填"),
    "range_needs_both": ("a range needs both 'from' and 'to'", "日期范围需要开始日期和结束日期"),
    "half_day_with_range": ("half_day goes with date, not with a from/to range", "半天只能用于单日，不能用于日期范围"),
    "from_after_to": ("'from' {start} is after 'to' {end}", "开始日期{start}晚于结束日期{end}"),
    "needs_a_date": ("needs either from/to (a range) or date", "需要日期范围或单日日期"),
    # references between lists (references.py)
    "duplicate_id": ("duplicate {field} {got} (also {also_path})", "{field}{got}重复（与{also_path}相同）"),
    "unknown_reference": ("unknown {what} {got}", "未知{what}{got}"),
    "listed_twice": ("{what} {got} is listed twice", "{what}{got}重复列出"),
    "already_linked": ("{member} is already linked to {township} at {at_path}", "{member}已在{at_path}挂点{township}"),
}

TERMS: dict[str, dict[str, str]] = {
    "en": {"specialty": "specialty", "department": "department", "township": "township", "expert": "expert",
           "weekday": "weekday", "id": "id", "code": "code"},
    "zh-CN": {"specialty": "专科", "department": "科室", "township": "乡镇", "expert": "专家",
              "weekday": "星期", "id": "编号", "code": "代码"},
}
_CHARACTER_KINDS = {
    "en": {"space": "space ", "control": "control character ", "invisible": "invisible character ", "other": ""},
    "zh-CN": {"space": "空格 ", "control": "控制字符 ", "invisible": "不可见字符 ", "other": "字符 "},
}
_QUOTED = {"got", "fixed", "member", "township"}
_LITERAL = re.compile(r"'((?:[^'\\]|\\.)*)'")


class Shown(str):
    """A parameter already rendered by `fields.shown` (a long or odd value): shown as it is in every language."""


def brief(value: Any) -> Any:
    """`value` itself when it is small and plain, else its bounded rendering: what a parameter may hold."""
    if value is None or isinstance(value, (bool, float, dt.date, dt.time)):
        return value
    if isinstance(value, int):
        return value if value.bit_length() <= 64 else Shown(shown(value))
    if isinstance(value, str) and len(value) <= 60 and not isinstance(value, Shown):
        return value
    if isinstance(value, tuple) and len(value) <= 8 and all(isinstance(item, str) and len(item) <= 80 for item in value):
        return value  # a few words that render together (a character's kind, code point and name)
    return value if isinstance(value, Shown) else Shown(shown(value))


def quoted(value: Any, lang: str) -> str:
    """A value inside a sentence: 'text' in English (as Python writes it), “text” in Chinese; dates and numbers bare."""
    if isinstance(value, Shown):
        return str(value)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, str):
        if lang == "zh-CN":
            # An invisible or control character is written as its escape, as repr does in English: never raw
            # (a right-to-left override would turn the rest of the sentence around).
            return f"“{value}”" if value.isprintable() else f"“{repr(value)[1:-1]}”"
        return repr(value)
    return repr(value) if lang == "en" else str(value)


@dataclass(frozen=True)
class CodedFieldError(FieldError):
    """A FieldError that also says what it is as data (`code`, `params`), so it can be rendered in zh-CN."""

    code: str = ""
    params: tuple[tuple[str, Any], ...] = field(default=(), compare=False)

    def message_in(self, lang: str, place: Callable[[str], str | None] | None = None) -> str:
        """The message in `lang`, with document paths in the parameters rendered by `place` where it knows them."""
        return render(self.code, dict(self.params), lang, place)


def coded(path: str, code: str, **params: Any) -> CodedFieldError:
    """The problem `code` at `path`, its English message rendered now."""
    prepared = {name: brief(value) for name, value in params.items()}
    return CodedFieldError(path, render(code, prepared, "en"), code, tuple(prepared.items()))


def custom_error(code: str, **params: Any) -> PydanticCustomError:
    """A pydantic error carrying `code` and its parameters, for a validator to raise."""
    prepared = {name: brief(value) for name, value in params.items()}
    # The template is the rendered English, so pydantic's own `msg` (what an API request model shows) reads right.
    return PydanticCustomError(code, render(code, prepared, "en"), prepared)


def render(code: str, params: Mapping[str, Any], lang: str, place: Callable[[str], str | None] | None = None) -> str:
    """The sentence for `code` in `lang` (en or zh-CN) with its parameters filled in."""
    english, chinese = CATALOGUE[code]
    template = chinese if lang == "zh-CN" else english
    return template.format(**{name: _parameter(name, value, lang, place) for name, value in params.items()})


def _parameter(name: str, value: Any, lang: str, place: Callable[[str], str | None] | None) -> str:
    if name.endswith("_path"):
        return (place(value) if place else None) or str(value)
    if name == "kind" and lang != "zh-CN":
        return with_article(str(value))  # a type name: "got an int"
    if name in ("what", "field"):
        return TERMS.get(lang, TERMS["en"]).get(value, str(value))
    if name == "expected":
        return _choices(value, lang)
    if name == "character":
        kind, code, unicode_name, character = value
        if lang == "zh-CN":
            return f"{_CHARACTER_KINDS[lang][kind]}{code}" + (f"（{character}）" if kind == "other" else "")
        return "a space" if kind == "space" and code == "U+0020" else f"{_CHARACTER_KINDS['en'][kind]}{code}" + (f" {unicode_name}" if unicode_name else "")
    if name in _QUOTED:
        return quoted(value, lang)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def _choices(expected: Any, lang: str) -> str:
    # pydantic's literal_error gives "'a', 'b' or 'c'"; the values are codes, joined in the reader's language.
    values = _LITERAL.findall(expected) if isinstance(expected, str) else list(expected)
    if not values:
        return str(expected)
    if lang == "zh-CN":
        marked = [f"“{v}”" for v in values]
        return marked[0] if len(marked) == 1 else "、".join(marked[:-1]) + "或" + marked[-1]
    marked = [repr(v) for v in values]
    return marked[0] if len(marked) == 1 else ", ".join(marked[:-1]) + " or " + marked[-1]
