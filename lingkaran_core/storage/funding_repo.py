"""Funded periods (``lingkaran_core.funding``): stored, listed, assigned."""

from __future__ import annotations

from datetime import date, datetime

from lingkaran_core.funding import FundingPeriod
from lingkaran_core.storage.db import Database, Tx

__all__ = ["add_period", "all_periods", "load_periods"]


def _period(row: object) -> FundingPeriod:
    r: dict[str, object] = dict(row)  # type: ignore[call-overload]
    return FundingPeriod(
        id=int(str(r["id"])),
        funder=str(r["funder"]),
        reference=str(r["reference"]),
        starts_on=date.fromisoformat(str(r["starts_on"])),
        ends_on=date.fromisoformat(str(r["ends_on"])),
        sector=None if r["sector"] is None else str(r["sector"]),
    )


async def all_periods(tx: Tx) -> list[FundingPeriod]:
    """Every funded period, oldest first."""
    rows = await tx.all(
        "SELECT id, funder, reference, starts_on, ends_on, sector FROM funding_periods "
        "ORDER BY starts_on, id"
    )
    return [_period(r) for r in rows]


async def load_periods(db: Database) -> list[FundingPeriod]:
    """Every funded period (for a sweep)."""
    async with db.read() as r:
        return await all_periods(r)


async def add_period(
    tx: Tx,
    *,
    funder: str,
    reference: str,
    starts_on: date,
    ends_on: date,
    sector: str | None,
    now: datetime,
) -> int:
    """Record a funded period; its id."""
    return await tx.execute(
        "INSERT INTO funding_periods (funder, reference, starts_on, ends_on, sector, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (funder, reference, starts_on.isoformat(), ends_on.isoformat(), sector, now.isoformat()),
    )
