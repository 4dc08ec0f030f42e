"""One community's allowance (下沉补助) for a month, read from the store: the surfaces' (API, page, CLI) single entry.

`scheduler/allowance.py` holds what counts as served and what it pays; this module only gathers its inputs —
the month's published versions with their publication times, the experts with their titles and
departments, the township names, the community's time zone — and the rate table the settings name
(`ROTA_ALLOWANCE_RATES`, a YAML or JSON file; the placeholder defaults without it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from sqlalchemy.orm import Session

from scheduler import store
from scheduler.allowance import DEFAULT_RATES, AllowanceRates, AllowanceRow, PublishedVersion, allowance_csv, allowance_rows, allowance_xlsx, experts_of, load_rates
from scheduler.scenario.fields import parse_month


@dataclass(frozen=True)
class MonthAllowance:
    """A month's allowance rows and what the sheets need to label them."""

    community: str
    month: str
    rows: tuple[AllowanceRow, ...]
    rates: AllowanceRates
    township_names: dict[str, str]
    published_versions: tuple[int, ...]

    @property
    def total(self) -> Decimal:
        return sum((row.amount for row in self.rows), Decimal(0))

    def xlsx(self, lang: str) -> bytes:
        return allowance_xlsx(self.rows, community=self.community, month=self.month, rates=self.rates, lang=lang, township_names=self.township_names)

    def csv(self, lang: str) -> str:
        return allowance_csv(self.rows, lang, self.township_names)


@lru_cache(maxsize=8)
def _rates_from_file(path: str, modified: float) -> AllowanceRates:
    return load_rates(path)


def configured_rates(path: str) -> AllowanceRates:
    """The rate table of `ROTA_ALLOWANCE_RATES` (re-read when the file changes), or the defaults when unset."""
    if not path:
        return DEFAULT_RATES
    try:
        modified = Path(path).stat().st_mtime
    except OSError:
        return load_rates(path)  # the error names the file and why it cannot be read
    return _rates_from_file(path, modified)


def month_allowance(
    session: Session, community: store.CommunityRef, month: str, rates: AllowanceRates = DEFAULT_RATES, *, include_idle: bool = False
) -> MonthAllowance:
    """The month's allowance from its published versions (none published: no rows); drafts never count."""
    parse_month(month)
    owner = store.get_community(session, community)
    scenario = store.export_scenario(session, owner.id)
    versions = []
    for summary in store.list_versions(session, owner.id, month):
        if summary.status != "published" or summary.published_at is None:
            continue
        solution, number, _, _ = store.load_roster_version(session, owner.id, month, summary.version)
        versions.append(PublishedVersion(summary.published_at, solution, number))
    versions.sort(key=lambda version: version.published_at or dt.datetime.min.replace(tzinfo=dt.timezone.utc))
    rows = allowance_rows(versions, experts_of(scenario), rates, timezone=scenario.community.timezone, include_idle=include_idle)
    return MonthAllowance(
        community=scenario.community.name,
        month=month,
        rows=tuple(rows),
        rates=rates,
        township_names={township.id: township.name for township in scenario.townships},
        published_versions=tuple(version.version for version in versions),
    )
