"""Funded periods: what the data says about who pays a worker's contributions, and until when.

The Pemkab pays BPJS TK contributions in budget periods set by an SK Bupati (guru ngaji
Oct–Dec 2021, tobacco workers Sep–Dec 2024, the 2025 cohort by the SK of 26 June 2025: DOMAIN.md
§9 [2ND, several]). So the bot never promises payment beyond a period the data knows: a period
applies to a sector's cohort (or to everyone), a worker may carry their own; periods that touch
(the next starts the day after the last ends) count as one span.

``outlook`` answers, for a worker on a day: is the next month known to be funded, until when,
by whom (reference), or is nothing known. Texts decide how to say it (handlers/outbound.py).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from lingkaran_core.coverage import add_months, month_end

__all__ = ["FundingOutlook", "FundingPeriod", "Outlook", "outlook"]


@dataclass(frozen=True, slots=True, kw_only=True)
class FundingPeriod:
    """One budget period: funder, its reference (SK number), first and last day, scope."""

    id: int
    funder: str
    reference: str
    starts_on: date
    ends_on: date
    sector: str | None = None  # None: every sector

    def applies_to(self, sector: str | None) -> bool:
        """Whether the period funds a worker of ``sector``."""
        return self.sector is None or self.sector == sector


class Outlook(enum.StrEnum):
    """What is known about next month's contribution."""

    FUNDED = "funded"  # a known period covers next month too
    ENDING = "ending"  # the known funding ends before next month: no promise beyond it
    UNKNOWN = "unknown"  # no period in the data covers today


@dataclass(frozen=True, slots=True, kw_only=True)
class FundingOutlook:
    """``outlook`` plus the span's end and the period that covers today."""

    outlook: Outlook
    funded_until: date | None = None
    period: FundingPeriod | None = None


def _span_end(periods: Sequence[FundingPeriod], first: FundingPeriod) -> date:
    """The last day of the run of touching periods that starts with ``first``."""
    end = first.ends_on
    changed = True
    while changed:
        changed = False
        for p in periods:
            if p.starts_on <= end + timedelta(days=1) and p.ends_on > end:
                end = p.ends_on
                changed = True
    return end


def outlook(
    periods: Iterable[FundingPeriod],
    *,
    sector: str | None,
    own_period_id: int | None,
    today: date,
) -> FundingOutlook:
    """What the data says about funding for a worker of ``sector`` on ``today``."""
    mine = [
        p
        for p in periods
        if (p.id == own_period_id) or (own_period_id is None and p.applies_to(sector))
    ]
    current = [p for p in mine if p.starts_on <= today <= p.ends_on]
    if not current:
        return FundingOutlook(outlook=Outlook.UNKNOWN)
    first = max(current, key=lambda p: p.ends_on)
    until = _span_end(mine, first)
    next_month_end = month_end(add_months(today.replace(day=1), 1))
    kind = Outlook.FUNDED if until >= next_month_end else Outlook.ENDING
    return FundingOutlook(outlook=kind, funded_until=until, period=first)
