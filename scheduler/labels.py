"""The display facts a rendering needs about a community: names of townships, specialties, experts, and times."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from scheduler.scenario.schema import Scenario
from scheduler.zone import SERVICE_TIMEZONE

DEFAULT_HALF_DAY_WINDOWS = {"am": ("08:30", "11:30"), "pm": ("14:30", "17:00")}


def _frozen(mapping: Mapping | None) -> Mapping:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class CommunityLabels:
    """Names and clock times for rendering a roster (feeds, Excel); a missing name falls back to the id."""

    community: str
    timezone: str = SERVICE_TIMEZONE
    half_day_windows: Mapping[str, tuple[str, str]] = field(default_factory=lambda: _frozen(DEFAULT_HALF_DAY_WINDOWS))
    township_names: Mapping[str, str] = field(default_factory=dict)
    travel_minutes: Mapping[str, int] = field(default_factory=dict)
    specialty_names: Mapping[str, str] = field(default_factory=dict)
    expert_names: Mapping[str, str] = field(default_factory=dict)
    department_names: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Read-only views, so a shared labels object cannot be changed under another rendering.
        for name in ("half_day_windows", "township_names", "travel_minutes", "specialty_names", "expert_names", "department_names"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> "CommunityLabels":
        """The labels of a parsed scenario file."""
        return cls(
            community=scenario.community.name,
            timezone=scenario.community.timezone,
            half_day_windows={
                "am": (scenario.half_days.am.start, scenario.half_days.am.end),
                "pm": (scenario.half_days.pm.start, scenario.half_days.pm.end),
            },
            township_names={t.id: t.name for t in scenario.townships},
            travel_minutes={t.id: t.travel_minutes for t in scenario.townships},
            specialty_names={s.code: s.name for s in scenario.specialties},
            expert_names={e.id: e.name for e in scenario.experts},
            department_names={d.code: d.name for d in scenario.departments},
        )

    def township(self, township_id: str) -> str:
        return self.township_names.get(township_id, township_id)

    def specialty(self, code: str | None) -> str:
        if code is None:
            return ""
        return self.specialty_names.get(code, code)

    def expert(self, expert_id: str) -> str:
        return self.expert_names.get(expert_id, expert_id)

    def department(self, code: str) -> str:
        return self.department_names.get(code, code)

    def window(self, half_day: str) -> tuple[dt.time, dt.time]:
        """Start and end clock times of a half-day session."""
        start, end = self.half_day_windows[half_day]
        return dt.time.fromisoformat(start), dt.time.fromisoformat(end)
