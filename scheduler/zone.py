"""The service's time zone: every county it serves keeps Beijing time.

The one zone used wherever no community's own zone applies: the scheduler's jobs, "this month"
for an event without one, the pages' clocks, and the default for a community (a blank
workbook cell, the template, rendering labels, allowances).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

SERVICE_TIMEZONE = "Asia/Shanghai"
SERVICE_ZONE = ZoneInfo(SERVICE_TIMEZONE)
