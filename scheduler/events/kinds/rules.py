"""The community's rules changed (teaching title, ward-round half-days, link visits and team, weights): any month may be re-planned."""

from __future__ import annotations

from scheduler.events.kinds.item_changes import FieldChange, ItemKind, ItemPayload
from scheduler.events.registry import Detected, register, zh
from scheduler.scenario.schema import Scenario


class RulesPayload(ItemPayload):
    pass


@register
class RulesChange(ItemKind):
    name = "rules"
    payload_type = RulesPayload
    labels = {"zh-CN": "排班规则变更", "en": "rules change"}
    cancellation_reasons = {"zh-CN": "排班规则调整", "en": "the rostering rules changed"}
    field_labels = {
        "teaching_min_title": {"zh-CN": "带教最低职称", "en": "teaching minimum title"},
        "ward_round_half_days": {"zh-CN": "查房时段", "en": "ward-round half-days"},
        "link_visits_per_month": {"zh-CN": "每月挂点次数", "en": "link visits a month"},
        "link_team_min": {"zh-CN": "挂点随行人数", "en": "link team minimum"},
        "weights": {"zh-CN": "权重", "en": "weights"},
    }

    def item(self, payload: RulesPayload, lang: str) -> str:  # type: ignore[override]
        return "规则" if zh(lang) else "rules"

    def may_raise_coverage(self, payload: RulesPayload) -> bool:  # type: ignore[override]
        return True  # a looser rule or new weights can move anything

    @classmethod
    def detect(cls, before: Scenario, after: Scenario) -> list[Detected]:
        old, new = before.rules.model_dump(mode="json"), after.rules.model_dump(mode="json")
        changes = {field: FieldChange(before=old[field], after=new[field]) for field in old if old[field] != new[field]}
        return [Detected(RulesPayload(changes=changes))] if changes else []
