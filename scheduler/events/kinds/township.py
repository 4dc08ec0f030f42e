"""A township's rooms or inpatient ward changed (or the township was added or removed): rules 5 and 6 may now be broken."""

from __future__ import annotations

from scheduler.events.kinds.item_changes import ItemKind, ItemPayload, keyed_changes, rose
from scheduler.events.registry import Detected, register
from scheduler.scenario.schema import Scenario


class TownshipPayload(ItemPayload):
    township: str


@register
class TownshipChange(ItemKind):
    name = "township"
    payload_type = TownshipPayload
    labels = {"zh-CN": "卫生院变更", "en": "township change"}
    cancellation_reasons = {"zh-CN": "卫生院诊室或病房调整", "en": "the centre's rooms or ward changed"}
    field_labels = {"rooms": {"zh-CN": "诊室", "en": "rooms"}, "inpatient_ward": {"zh-CN": "住院病房", "en": "inpatient ward"}}

    def item(self, payload: TownshipPayload, lang: str) -> str:  # type: ignore[override]
        return payload.township

    def township(self, payload: TownshipPayload) -> str:  # type: ignore[override]
        return payload.township

    def may_raise_coverage(self, payload: TownshipPayload) -> bool:  # type: ignore[override]
        ward = payload.changed("inpatient_ward")
        return rose(payload.changed("rooms")) or (ward is not None and bool(ward.after))

    @classmethod
    def detect(cls, before: Scenario, after: Scenario) -> list[Detected]:
        fields = {"rooms": lambda t: t.rooms, "inpatient_ward": lambda t: t.inpatient_ward}
        return [
            Detected(TownshipPayload(township=code, changes=changes), township=code)
            for code, changes in keyed_changes(before.townships, after.townships, lambda t: t.id, fields)
        ]
