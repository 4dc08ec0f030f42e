"""A table's reason as data: the columns that keep why a row stands where it does, and how it reads them back.

A row keeps its reason's English sentence in `reason` (what a row from before codes holds, and what a reader
of the raw table sees), and its code and parameters in `reason_code` / `reason_params`; a TEXT reason (the
office's own words) has no code. Every surface renders `why` in its reader's language (scheduler.reason_text).
"""

from __future__ import annotations

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.reason_text import reason_from_row, reason_text
from solver.solution import Reason, ReasonCode


class ReasonColumns:
    """Mixin of a mapped table with a reason (extra-session requests, swaps)."""

    reason: Mapped[str] = mapped_column(Text, default="")
    reason_code: Mapped[str | None] = mapped_column(String(40))  # NULL: `reason` is free text (the office's own words)
    reason_params: Mapped[dict | None] = mapped_column(JSON)

    @property
    def why(self) -> Reason:
        """The reason as data (a TEXT reason for free words or a row from before codes)."""
        if not self.reason_code:
            return Reason.text(self.reason or "")
        return reason_from_row({"reason": self.reason, "reason_code": self.reason_code, "reason_params": self.reason_params})

    def say_why(self, reason: Reason | None) -> None:
        """Keep the reason: its English sentence in `reason`, and its code and parameters (none for free text)."""
        if reason is None or reason.code is ReasonCode.TEXT:
            self.reason = "" if reason is None else reason_text(reason, "en")
            self.reason_code = self.reason_params = None
        else:
            self.reason, self.reason_code, self.reason_params = reason_text(reason, "en"), str(reason.code), reason.params_json()
