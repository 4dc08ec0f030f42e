"""A department's minimum on site changed (or the department came or went): rule 7 may now be broken, or loosen."""

from __future__ import annotations

from scheduler.events.kinds.item_changes import ItemKind, ItemPayload, fell, keyed_changes
from scheduler.events.registry import Detected, register
from scheduler.scenario.schema import Scenario


class DepartmentPayload(ItemPayload):
    department: str


@register
class DepartmentChange(ItemKind):
    name = "department"
    payload_type = DepartmentPayload
    labels = {"zh-CN": "科室留守人数变更", "en": "department minimum change"}
    cancellation_reasons = {"zh-CN": "科室留守人数调整", "en": "the department's minimum on site changed"}
    field_labels = {"min_on_site": {"zh-CN": "最少留守", "en": "min on site"}}

    def item(self, payload: DepartmentPayload, lang: str) -> str:  # type: ignore[override]
        return payload.department

    def may_raise_coverage(self, payload: DepartmentPayload) -> bool:  # type: ignore[override]
        return payload.added or fell(payload.changed("min_on_site"))

    @classmethod
    def detect(cls, before: Scenario, after: Scenario) -> list[Detected]:
        fields = {"min_on_site": lambda d: d.min_on_site}
        return [
            Detected(DepartmentPayload(department=code, changes=changes))
            for code, changes in keyed_changes(before.departments, after.departments, lambda d: d.code, fields)
        ]
