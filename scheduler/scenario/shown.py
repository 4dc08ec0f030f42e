"""`shown(value)`: a short one-line rendering of any decoded value for an error message.

It is built from at most a few items and characters of the value, never as the repr of the whole value cut
afterwards: a value may be a YAML alias bomb (10^9 items sharing one list) or a megabyte of text.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from scheduler.i18n import with_article

SHOWN_LENGTH = 60
_SHOWN_ITEMS = 4
_SHOWN_DEPTH = 2


def shown(value: Any, limit: int = SHOWN_LENGTH) -> str:
    """A one-line rendering of `value` of at most `limit` characters, built from a bounded part of it."""
    text = _brief(value, limit, 0)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _brief(value: Any, limit: int, depth: int) -> str:
    if isinstance(value, (str, bytes)):
        head = repr(value[:limit])
        return head + "..." if len(value) > limit else head
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        if value.bit_length() > 64:  # str() of a huge int is slow, and refused past 4300 digits
            return f"a whole number of about {int(value.bit_length() * 0.30103) + 1} digits"
        return repr(value)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dict):
        if depth >= _SHOWN_DEPTH:
            return "{...}"
        items = [f"{_brief(k, limit, depth + 1)}: {_brief(v, limit, depth + 1)}" for k, v in _first(value.items())]
        return "{" + ", ".join(items) + (", ..." if len(value) > _SHOWN_ITEMS else "") + "}"
    if isinstance(value, (list, tuple, set, frozenset)):
        if depth >= _SHOWN_DEPTH:
            return "[...]"
        items = [_brief(item, limit, depth + 1) for item in _first(value)]
        return "[" + ", ".join(items) + (", ..." if len(value) > _SHOWN_ITEMS else "") + "]"
    return with_article(type(value).__name__)


def _first(items: Any) -> list[Any]:
    first = []
    for item in items:
        if len(first) == _SHOWN_ITEMS:
            break
        first.append(item)
    return first
