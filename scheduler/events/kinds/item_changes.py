"""What the standing-data kinds share: a field's value before and after, found by comparing two scenarios item by item.

Not a kind itself. A standing-data kind (township, expert, department, links, demand, calendar, rules)
names the fields whose change can break a hard rule or let coverage rise; `keyed_changes` finds them
between the stored scenario and the new one, so a whole-file import and a one-item PUT record the same
events for the same change. An item added or removed is the field `exists` going false -> true or
true -> false.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

from scheduler.events.registry import EventKind, Payload, zh


class FieldChange(Payload):
    """One field of one item: its value before the edit and after (JSON values; None when the item did not exist)."""

    before: Any = None
    after: Any = None


class ItemPayload(Payload):
    """An item's changed fields, by their names in the scenario file."""

    changes: dict[str, FieldChange]

    def changed(self, field: str) -> FieldChange | None:
        """The change of one field, or None when it did not change."""
        return self.changes.get(field)

    @property
    def added(self) -> bool:
        exists = self.changes.get("exists")
        return exists is not None and bool(exists.after) and not exists.before

    @property
    def removed(self) -> bool:
        exists = self.changes.get("exists")
        return exists is not None and bool(exists.before) and not exists.after


def keyed_changes(
    before: Iterable[Any], after: Iterable[Any], key: Callable[[Any], str], fields: Mapping[str, Callable[[Any], Any]]
) -> list[tuple[str, dict[str, FieldChange]]]:
    """Per item key, the fields (of `fields`, each read by its function) whose values differ; adds and removals as `exists`."""
    old = {key(item): item for item in before}
    new = {key(item): item for item in after}
    found: list[tuple[str, dict[str, FieldChange]]] = []
    for code in [*old, *(code for code in new if code not in old)]:
        was, now = old.get(code), new.get(code)
        changes: dict[str, FieldChange] = {}
        if (was is None) != (now is None):
            changes["exists"] = FieldChange(before=was is not None, after=now is not None)
        for field, read in fields.items():
            value_before = read(was) if was is not None else None
            value_after = read(now) if now is not None else None
            if value_before != value_after:
                changes[field] = FieldChange(before=value_before, after=value_after)
        if changes:
            found.append((code, changes))
    return found


def _value_text(value: Any, lang: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return ("有" if value else "无") if zh(lang) else ("yes" if value else "no")
    if isinstance(value, list):
        return "、".join(_value_text(item, lang) for item in value) if value else ("无" if zh(lang) else "none")
    if isinstance(value, dict):
        return " ".join(str(part) for part in value.values())
    return str(value)


class ItemKind(EventKind):
    """A standing-data kind about one keyed item (a township, an expert, ...): its summary says field before -> after."""

    field_labels: ClassVar[Mapping[str, Mapping[str, str]]]  # field -> {language: label}

    def item(self, payload: ItemPayload, lang: str) -> str:
        """The item's key, as the summary shows it."""
        raise NotImplementedError

    def summary(self, payload: ItemPayload, lang: str = "zh-CN") -> str:  # type: ignore[override]
        language = "zh-CN" if zh(lang) else "en"
        if payload.added:
            return f"{self.item(payload, lang)}：新增" if zh(lang) else f"{self.item(payload, lang)}: added"
        if payload.removed:
            return f"{self.item(payload, lang)}：删除" if zh(lang) else f"{self.item(payload, lang)}: removed"
        parts = []
        for field, change in payload.changes.items():
            label = self.field_labels.get(field, {}).get(language, field)
            parts.append(f"{label} {_value_text(change.before, lang)}→{_value_text(change.after, lang)}")
        separator = "；" if zh(lang) else "; "
        return f"{self.item(payload, lang)}{'：' if zh(lang) else ': '}{separator.join(parts)}"


def rose(change: FieldChange | None) -> bool:
    """Whether a numeric field went up (or appeared)."""
    if change is None:
        return False
    return (change.before or 0) < (change.after or 0)


def fell(change: FieldChange | None) -> bool:
    """Whether a numeric field went down (or disappeared)."""
    if change is None:
        return False
    return (change.before or 0) > (change.after or 0)


def gained(change: FieldChange | None) -> bool:
    """Whether a list field holds something it did not hold before."""
    if change is None:
        return False
    return bool(set(_hashable(change.after)) - set(_hashable(change.before)))


def lost(change: FieldChange | None) -> bool:
    """Whether a list field lost something it held before."""
    if change is None:
        return False
    return bool(set(_hashable(change.before)) - set(_hashable(change.after)))


def _hashable(values: Any) -> list[Any]:
    return [repr(value) if isinstance(value, (dict, list)) else value for value in (values or [])]
