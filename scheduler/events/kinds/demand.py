"""Demand rows changed: a township asks for more or fewer sessions of a kind (rule 9's cap may now be broken, or coverage can rise)."""

from __future__ import annotations

from collections import Counter

from scheduler.events.registry import Detected, EventKind, Payload, register, zh
from scheduler.i18n import session_type_name
from scheduler.scenario.schema import Scenario


class DemandChange(Payload):
    """The sessions a township asks for of one type and specialty, summed over its rows, before and after."""

    type: str
    specialty: str
    before: int
    after: int


class DemandPayload(Payload):
    township: str | None = None
    changes: list[DemandChange] = []
    month: str | None = None  # a change of one month only; None = every month from the current one


@register
class Demand(EventKind):
    name = "demand"
    payload_type = DemandPayload
    labels = {"zh-CN": "需求变更", "en": "demand change"}
    cancellation_reasons = {"zh-CN": "需求调整", "en": "demand changed"}

    def months(self, payload: DemandPayload) -> list[str] | None:  # type: ignore[override]
        return [payload.month] if payload.month else None

    def township(self, payload: DemandPayload) -> str | None:  # type: ignore[override]
        return payload.township

    def may_raise_coverage(self, payload: DemandPayload) -> bool:  # type: ignore[override]
        # A change recorded without its rows (a whole changed scenario) may have raised any of them.
        return not payload.changes or any(change.after > change.before for change in payload.changes)

    def summary(self, payload: DemandPayload, lang: str = "zh-CN") -> str:  # type: ignore[override]
        parts = [
            f"{change.specialty} {session_type_name(change.type, lang)} {change.before}→{change.after}"
            for change in payload.changes
        ]
        where = payload.township or ""
        if not parts:
            return where
        return f"{where}{'：' if zh(lang) else ': '}{('；' if zh(lang) else '; ').join(parts)}"

    @classmethod
    def detect(cls, before: Scenario, after: Scenario) -> list[Detected]:
        def totals(scenario: Scenario) -> Counter:
            counted: Counter = Counter()
            for row in scenario.demand:
                counted[(row.township, row.type, row.specialty)] += row.sessions
            return counted

        old, new = totals(before), totals(after)
        by_township: dict[str, list[DemandChange]] = {}
        for key in [*old, *(key for key in new if key not in old)]:
            if old[key] != new[key]:
                township, type_, specialty = key
                by_township.setdefault(township, []).append(DemandChange(type=type_, specialty=specialty, before=old[key], after=new[key]))
        return [Detected(DemandPayload(township=township, changes=changes), township=township) for township, changes in by_township.items()]
