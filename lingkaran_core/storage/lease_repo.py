"""Leases: at most one holder of a name until it lapses (see migration 017)."""

from __future__ import annotations

from datetime import UTC, datetime

from lingkaran_core.storage.db import Tx

__all__ = ["holder_of", "release", "try_acquire"]


async def try_acquire(tx: Tx, name: str, holder: str, *, now: datetime, until: datetime) -> bool:
    """Take or renew ``name`` for ``holder`` until ``until``; False while another holds it."""
    got = await tx.scalar(
        "INSERT INTO leases (name, holder, until, taken_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until, "
        "taken_at = CASE WHEN leases.holder = excluded.holder THEN leases.taken_at "
        "ELSE excluded.taken_at END "
        "WHERE leases.holder = excluded.holder OR leases.until <= ? RETURNING holder",
        (name, holder, _utc(until), _utc(now), _utc(now)),
    )
    return bool(got == holder)


async def release(tx: Tx, name: str, holder: str) -> None:
    """Give ``name`` up (only if ``holder`` has it)."""
    await tx.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))


async def holder_of(tx: Tx, name: str, *, now: datetime) -> str | None:
    """Who holds ``name`` now, or None."""
    found = await tx.scalar(
        "SELECT holder FROM leases WHERE name = ? AND until > ?", (name, _utc(now))
    )
    return None if found is None else str(found)


def _utc(when: datetime) -> str:
    """ISO text in UTC: instants from clocks in other zones compare correctly as text."""
    return when.astimezone(UTC).isoformat()
