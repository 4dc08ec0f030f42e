"""An expert's monthly limit, specialties, department, title or the file's unavailability changed (or the expert came or went)."""

from __future__ import annotations

from scheduler.events.kinds.item_changes import ItemKind, ItemPayload, gained, keyed_changes, lost, rose
from scheduler.events.registry import Detected, register
from scheduler.scenario.schema import TITLES, Scenario


class ExpertPayload(ItemPayload):
    expert: str


@register
class ExpertChange(ItemKind):
    name = "expert"
    payload_type = ExpertPayload
    labels = {"zh-CN": "专家变更", "en": "expert change"}
    cancellation_reasons = {"zh-CN": "专家信息调整", "en": "the expert's record changed"}
    field_labels = {
        "max_sessions": {"zh-CN": "每月上限", "en": "max sessions"},
        "specialties": {"zh-CN": "专科", "en": "specialties"},
        "department": {"zh-CN": "科室", "en": "department"},
        "title": {"zh-CN": "职称", "en": "title"},
        "unavailable": {"zh-CN": "不可排时段", "en": "unavailability"},
    }

    def item(self, payload: ExpertPayload, lang: str) -> str:  # type: ignore[override]
        return payload.expert

    def may_raise_coverage(self, payload: ExpertPayload) -> bool:  # type: ignore[override]
        title = payload.changed("title")
        promoted = title is not None and TITLES.index(title.after or TITLES[0]) > TITLES.index(title.before or TITLES[0])
        return (
            payload.added
            or rose(payload.changed("max_sessions"))
            or gained(payload.changed("specialties"))
            or promoted
            or payload.changed("department") is not None
            or lost(payload.changed("unavailable"))
        )

    @classmethod
    def detect(cls, before: Scenario, after: Scenario) -> list[Detected]:
        fields = {
            "max_sessions": lambda e: e.max_sessions,
            "specialties": lambda e: list(e.specialties),
            "department": lambda e: e.department,
            "title": lambda e: e.title,
            "unavailable": lambda e: [period.model_dump(mode="json", by_alias=True, exclude_none=True) for period in e.unavailable],
        }
        return [Detected(ExpertPayload(expert=code, changes=changes)) for code, changes in keyed_changes(before.experts, after.experts, lambda e: e.id, fields)]
