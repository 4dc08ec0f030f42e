"""A committee member's link townships (挂点) changed: supervision at a township no longer linked breaks rule 8's visit rule."""

from __future__ import annotations

from scheduler.events.kinds.item_changes import ItemKind, ItemPayload, gained, keyed_changes
from scheduler.events.registry import Detected, register
from scheduler.scenario.schema import Scenario


class LinksPayload(ItemPayload):
    member: str


@register
class LinksChange(ItemKind):
    name = "links"
    payload_type = LinksPayload
    labels = {"zh-CN": "挂点变更", "en": "link change"}
    cancellation_reasons = {"zh-CN": "挂点调整", "en": "the link townships changed"}
    field_labels = {"townships": {"zh-CN": "挂点卫生院", "en": "linked townships"}}

    def item(self, payload: LinksPayload, lang: str) -> str:  # type: ignore[override]
        return payload.member

    def may_raise_coverage(self, payload: LinksPayload) -> bool:  # type: ignore[override]
        return gained(payload.changed("townships"))

    @classmethod
    def detect(cls, before: Scenario, after: Scenario) -> list[Detected]:
        fields = {"townships": lambda link: list(link.townships)}
        found = keyed_changes(before.links, after.links, lambda link: link.member, fields)
        # A member without links is not an item of its own: their townships simply become none.
        return [
            Detected(LinksPayload(member=code, changes={"townships": changes["townships"]}))
            for code, changes in found
            if "townships" in changes
        ]
